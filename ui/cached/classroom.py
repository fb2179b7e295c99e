"""The class map's cached calls: the store, the map of a class's photos, the photos drawn on it,
and one learner's photo embedded by the class's encoder.

The store is opened once per process and per place (``$ENCODER_LENS_DATABASE_URL``, else the
SQLite file in ``$ENCODER_LENS_DATA_DIR``): every learner's session reads and writes the same one.
A map is made once per set of photos — keyed on the class's code and the ids of its entries — so
every session in a class sees the same map, and a refresh that finds nothing new costs nothing.
"""

from __future__ import annotations

import base64
import io
import os
import time

import numpy as np
import streamlit as st
from PIL import Image

from ui.cached import lab
from ui.session import Choice, Photo
from vision_core.classroom import Store, make_thumbnail, open_store
from vision_core.classroom.map import ClassMap, class_map
from vision_core.classroom.store import DATA_DIR_ENV, DATABASE_URL_ENV
from vision_core.embeddings.gallery import item_from_bytes

MAP_PICTURE_SIDE = 96  # px: a photo on the map is drawn about this big, so it is sent this big


@st.cache_resource(show_spinner=False)
def _store(url: str, data_dir: str) -> Store:
    return open_store(url or None, data_dir or None)


PURGE_SECONDS = 60  # expired classes are deleted at most this long after their end
_purged = {"at": 0.0}


def store() -> Store:
    """The class map's one store for where the environment points (a test's folder, a server's
    database). Classes past their end are deleted — photos' thumbnails and vectors with them —
    within :data:`PURGE_SECONDS`, whether or not anyone starts a new class."""
    opened = _store(os.environ.get(DATABASE_URL_ENV, "").strip(), os.environ.get(DATA_DIR_ENV, ""))
    if time.monotonic() - _purged["at"] > PURGE_SECONDS:
        _purged["at"] = time.monotonic()
        if opened.purge_expired():
            forget_pictures()
    return opened


def forget_pictures() -> None:
    """Drop every map and map picture this server made: called when a photo leaves a class or a
    class ends, so that nothing of it stays in memory after it left the store."""
    the_map.clear()
    map_picture.clear()


@st.cache_resource(show_spinner=False, max_entries=64, ttl=900)
def the_map(code: str, entry_ids: tuple[int, ...], _vectors: np.ndarray) -> ClassMap:
    """The map of class ``code`` holding exactly the entries ``entry_ids`` (their vectors in order)."""
    return class_map(_vectors)


@st.cache_data(show_spinner=False, max_entries=4000, ttl=900)
def map_picture(thumbnail: bytes) -> str:
    """A stored thumbnail as a small JPEG ``data:`` URI, for drawing on the map (sent every
    refresh, so kept small)."""
    with Image.open(io.BytesIO(thumbnail)) as image:
        small = image.convert("RGB")
    small.thumbnail((MAP_PICTURE_SIDE, MAP_PICTURE_SIDE))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def embedded_photo(photo: Photo, choice: Choice) -> tuple[np.ndarray, bytes]:
    """The photo's embedding by ``choice`` (the embedding lab's cached call) and its thumbnail
    (``make_thumbnail``: at most 128 px).  Raises ``ImageError`` for a photo that cannot be read."""
    item = item_from_bytes(photo.data, photo.label, photo.label)
    vector = lab.vectors([item], choice, progress=False)[0]
    return np.asarray(vector, dtype=np.float32), make_thumbnail(item.image())
