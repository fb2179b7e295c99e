"""``python -m vision_core.batch embed ...``: the same as the ``encoder-lens`` command."""

import sys

from vision_core.batch.cli import main

sys.exit(main())
