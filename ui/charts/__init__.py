"""Pictures for the pages; they only draw arrays a page got from vision_core, no number is made here.

``layout`` is the one house layout for Plotly figures and ``palette`` the one palette; ``grids``
draws number grids, ``overlays`` maps and pictures over the photo, ``scatter`` the embedding maps.
One file per kind of figure holds the rest: ``cnn`` and ``feature_maps`` (CNN lessons), ``curves``,
``vectors`` and ``attention`` (Transformer lessons), ``tables``, ``lab`` (the embedding lab) and
``training`` (Train it yourself)."""
