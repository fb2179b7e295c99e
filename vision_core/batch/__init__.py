"""Embedding a whole collection of photos outside the app: ``encoder-lens embed``.

``cli`` (the console command), ``pipeline`` (the steps, and the local engine), ``ray_engine``
(the same steps on Ray Data, on a local Ray or a cluster), ``store`` (the Parquet vectors file:
chunked writing for resuming, and the checked reader the embedding lab opens uploads with).
"""
