"""``python -m vision_core.weights prepare DIR [names…]``: a folder of checked weights for a classroom.

Run it once on a computer with internet access.  It downloads the official weights files of the
named encoders (default: every encoder whose weights are not embedded) into ``DIR``, checks each
one (the publisher's SHA-256, or -- DINO publishes none -- its size, its tensors and the network's
keys and shapes, then pins its SHA-256 in ``DIR/encoder-lens-pins.json``), and prints what it got.
A file already in ``DIR`` and valid is not downloaded again.  On the classroom machine, point
``ENCODER_LENS_WEIGHTS`` at ``DIR`` (a USB stick) and Encoder Lens works with no network.  The
exit code is 1 if any file could not be had.  All the work is in
:func:`vision_core.engine.weights_status.prepare`; this module only reads the command line.
"""

from __future__ import annotations

import argparse
import sys

from vision_core.engine import encoders
from vision_core.engine.weights_status import prepare


def main(argv: list[str] | None = None) -> int:
    downloadable = [n for n in encoders.names() if not encoders.get(n).weights.embedded]
    parser = argparse.ArgumentParser(prog="python -m vision_core.weights", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("prepare", help="fetch official weights files, checked, into DIR")
    cmd.add_argument("dir", metavar="DIR", help="the folder to fill (created if needed)")
    cmd.add_argument("names", nargs="*", metavar="NAME", help=f"encoders (default: all of {downloadable})")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in encoders.ENCODERS]
    if unknown:
        parser.error(f"unknown encoder(s) {', '.join(unknown)}; choose from {', '.join(downloadable)}")
    embedded = [n for n in args.names if n not in downloadable]
    if embedded:
        parser.error(f"{', '.join(embedded)}: embedded in a pip package, works offline; nothing to prepare")
    files = [(n, encoders.get(n).weights, encoders.layout_check(n)) for n in args.names or downloadable]
    results = prepare(args.dir, files, progress_bar=not args.no_progress)
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
