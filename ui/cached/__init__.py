"""Cached calls into vision_core — the middle of the path page → cached call → vision_core → model.

``core`` holds what every section shares (models, the photo, its preparation, its trace); one
file per section holds what that section derives from a trace (``cnn``, ``transformer``, ``lab``,
``training``).
Every photo-derived call takes a :class:`ui.session.Subject` and is keyed on its photo's hash.
"""
