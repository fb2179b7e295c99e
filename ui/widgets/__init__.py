"""The widgets the pages share.

``sidebar`` and ``nav`` (the app's frame), ``header`` (a page's title, photo error and intro),
``encoder`` (the encoder a page runs, its fallbacks, and every sentence about its weights),
``photo_source`` (the one photo-source picker), ``pickers`` (a map cell or a gallery photo that a click
also sets), ``captions`` (attention-spread captions), and one file of control groups per section:
``grid_editor`` and ``cnn`` (CNN lessons), ``lab`` (the embedding lab), ``training`` (Train it
yourself)."""
