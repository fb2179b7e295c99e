"""Pictures for the pages: one house layout for Plotly (``layout``), number grids (``grids``), maps
and pictures over the photo (``overlays``), the embedding lab's scatter maps (``scatter``) and one
palette (``palette``).  They only draw arrays a page got from vision_core; no number is made here."""
