"""The learner's gallery for the embedding lab (pages ``emb_*``), kept in their session.

The gallery lives in ``st.session_state`` — this browser session only, in this server's memory,
never on disk.  It is the samples the learner ticked (with their augmented variants, shared by
every session through ``st.cache_data``: they are not private), plus the learner's uploads, plus
their label edits and removals.  Its embeddings and maps are cached in ``ui.cached.lab``.

A vectors file made by ``encoder-lens embed`` (Parquet) also joins the gallery: its photos come
as vectors, labels and names without pictures (a grey tile stands in), so they are usable only
under the encoder that made them (:func:`for_encoder`); their vectors are served by
:func:`file_vectors` and never recomputed from the tile.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from lessons import lesson
from ui import session
from vision_core import samples
from vision_core.batch import store
from vision_core.embeddings import gallery
from vision_core.embeddings.gallery import GalleryItem, Skipped
from vision_core.engine import budget
from vision_core.engine.preprocess import DEFAULT_MAX_BYTES

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "avif", "zip", "parquet"]
UPLOAD_MB = 100  # per file: a class's zip may be bigger than one photo (each photo inside ≤ 25 MB)
THUMBS_IN_TABLE = 400  # beyond this many photos the table shows no thumbnails (they are sent each run)
# memory a batch needs beyond its files' bytes while it is read: one photo at a time is unpacked
# (≤ 25 MB) and decoded (JPEGs in draft mode, near the stored size; other formats in full)
READ_WORKING = 4 * DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class GallerySpec:
    """Which samples are in the gallery and how many augmented variants each one gets."""

    sample_ids: tuple[str, ...]
    variants: int = 4
    kinds: tuple[str, ...] = gallery.AUGMENT_KINDS
    seed: int = 0
    label_by: str = "photo"  # "photo": each sample its own label; "kind": photograph, texture, ...


def default_spec() -> GallerySpec:
    return GallerySpec(tuple(s.id for s in samples.list_samples("photo")))


@dataclass
class LabSession:
    """What the learner added to and changed in the gallery."""

    uploads: list[GalleryItem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # photo key → the learner's label
    removed: set[str] = field(default_factory=set)
    seen_files: set[str] = field(default_factory=set)  # uploader file ids already read
    skipped: list[Skipped] = field(default_factory=list)  # the last batch's bad files
    notes: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # the last batch's photos already in the gallery
    from_files: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)  # key → (model, vector)


def lab_session() -> LabSession:
    if "lab" not in st.session_state:
        st.session_state["lab"] = LabSession()
    return st.session_state["lab"]


def spec() -> GallerySpec:
    return st.session_state.get("lab_spec") or default_spec()


def set_spec(new: GallerySpec) -> None:
    st.session_state["lab_spec"] = new


@st.cache_data(show_spinner=False, max_entries=16)
def sample_gallery(
    sample_ids: tuple[str, ...],
    variants: int,
    kinds: tuple[str, ...],
    seed: int,
    labels: tuple[tuple[str, str], ...],
) -> list[GalleryItem]:
    """The samples and their variants: the same for every session, so shared by all."""
    return gallery.sample_items(sample_ids, variants, kinds, seed, dict(labels))


def sample_labels(s: GallerySpec) -> tuple[tuple[str, str], ...]:
    """(sample id, label) pairs: the title, or the kind of picture in the learner's language."""
    if s.label_by != "kind":
        return ()
    text = lesson("emb_common", session.lang())
    return tuple((sid, text(f"kind_{samples.get_sample(sid).kind}")) for sid in s.sample_ids)


def current_gallery() -> list[GalleryItem]:
    """The samples of :func:`spec`, then the uploads, with the learner's labels and removals."""
    s, lab = spec(), lab_session()
    items = sample_gallery(s.sample_ids, s.variants, s.kinds, s.seed, sample_labels(s)) + lab.uploads
    return [it.relabel(lab.labels.get(it.key, it.label)) for it in items if it.key not in lab.removed]


def add_uploads(files) -> int:
    """Read the uploader's files that are new since the last run; returns how many photos joined.

    The batch reads under the server's memory budget: its files' bytes and :data:`READ_WORKING`
    while they are read, then the stored copies the gallery keeps, held by the session.  When the
    budget cannot take them, nothing is read, the learner is told the server is busy, and the
    same files are tried again on the next run."""
    lab = lab_session()
    new = [f for f in files if f.file_id not in lab.seen_files]
    if not new:
        return 0
    from ui.cached import core  # imported here: the cache imports torch

    known = {it.key for it in current_gallery()}
    server = budget.server_budget()
    try:
        with server.reserve(sum(f.size for f in new) + READ_WORKING, "gallery upload"):
            report = gallery.load_files(
                ((f.name, f.getvalue()) for f in new), capacity=gallery.MAX_ITEMS - len(known), known=known
            )
        kept = sum(len(it.data) for it in [*lab.uploads, *report.items])
        server.hold(core.session_owner(), "gallery", kept)
    except budget.ServerBusy:
        text = lesson("server", session.lang())
        st.error(f"{text('busy')} {text('busy_hint')}", icon=":material/hourglass_top:")
        return 0
    lab.seen_files.update(f.file_id for f in new)
    lab.uploads += report.items
    lab.removed -= {it.key for it in report.items}
    lab.skipped, lab.notes, lab.duplicates = report.skipped, report.notes, report.duplicates
    return len(report.items)


def apply_table_edits(table_key: str, shown: Sequence[GalleryItem]) -> None:
    """Keep the label edits and row deletions the learner made in the gallery's table."""
    changes, lab = st.session_state[table_key], lab_session()
    for row, edit in changes.get("edited_rows", {}).items():
        if "label" in edit and str(edit["label"]).strip():
            lab.labels[shown[int(row)].key] = str(edit["label"]).strip()
    for row in changes.get("deleted_rows", []):
        lab.removed.add(shown[int(row)].key)


def digest(items: Sequence[GalleryItem], *extra: object, labels: bool = False) -> str:
    """A short key for a gallery's photos (and labels, when they matter) and ``extra`` values."""
    h = hashlib.sha256()
    for it in items:
        h.update(it.key.encode())
        if labels:
            h.update(b"\x00" + it.label.encode())
    h.update(repr(extra).encode())
    return h.hexdigest()[:32]


def status_line(items: Sequence[GalleryItem]) -> str:
    text = lesson("emb_common", session.lang())
    return text("status", photos=len(items), labels=len({it.label for it in items}))


# --- vectors files (encoder-lens embed) ---------------------------------------------------------


def is_vector_file(name: str) -> bool:
    return name.lower().endswith(".parquet")


@cache
def no_photo() -> bytes:
    """The tile that stands in for a photo a vectors file has no picture of: grey, crossed out."""
    tile = Image.new("RGB", (160, 160), (232, 232, 232))
    draw = ImageDraw.Draw(tile)
    draw.rectangle((8, 8, 151, 151), outline=(170, 170, 170), width=3)
    draw.line((8, 8, 151, 151), fill=(190, 190, 190), width=3)
    draw.line((8, 151, 151, 8), fill=(190, 190, 190), width=3)
    buffer = io.BytesIO()
    tile.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def add_vector_files(files, *, keep_report: bool = False) -> int:
    """Read the uploaded vectors files that are new since the last run into the gallery; returns
    how many photos joined.  ``keep_report``: add to the batch report instead of replacing it
    (photos were read in the same run)."""
    lab = lab_session()
    new = [f for f in files if f.file_id not in lab.seen_files]
    if not new:
        return 0
    text = lesson("emb_gallery", session.lang())
    known = {it.key for it in current_gallery()}
    report = gallery.LoadReport()
    for f in new:
        try:
            found = store.read_vectors(
                f.getvalue(), max_rows=max(0, gallery.MAX_ITEMS - len(known)), max_bytes=UPLOAD_MB * 2**20
            )
        except store.VectorFileError as error:
            report.skipped.append(Skipped(f.name, f"{error.message} {error.hint}".strip()))
            continue
        if found.rows_in_file > len(found.names):
            report.notes.append(text("file_cut", name=f.name, n=len(found.names), rows=found.rows_in_file))
        for key, name, label, vector in zip(
            found.sha256, found.names, found.labels, found.vectors, strict=True
        ):
            if key in known:
                report.duplicates.append(name)
                continue
            known.add(key)
            label = label or gallery.label_from_filename(name)
            report.items.append(GalleryItem(key, name, label, "upload", no_photo()))
            lab.from_files[key] = (found.model, vector)
    lab.seen_files.update(f.file_id for f in new)
    lab.uploads += report.items
    lab.removed -= {it.key for it in report.items}
    if keep_report:
        lab.skipped, lab.notes = lab.skipped + report.skipped, lab.notes + report.notes
        lab.duplicates = lab.duplicates + report.duplicates
    else:
        lab.skipped, lab.notes, lab.duplicates = report.skipped, report.notes, report.duplicates
    return len(report.items)


def file_model(item: GalleryItem) -> str | None:
    """The encoder that made ``item``'s vector, when it came from a vectors file (no photo)."""
    entry = lab_session().from_files.get(item.key)
    return None if entry is None else entry[0]


def for_encoder(
    items: Sequence[GalleryItem], choice: session.Choice
) -> tuple[list[GalleryItem], dict[str, int]]:
    """The items ``choice`` can give a vector: every photo, and a file's vectors only under the
    encoder (with its trained weights) that made them; and how many were left out, per encoder."""
    kept: list[GalleryItem] = []
    left_out: dict[str, int] = {}
    for it in items:
        model = file_model(it)
        if model is None or (model == choice.name and choice.trained):
            kept.append(it)
        else:
            left_out[model] = left_out.get(model, 0) + 1
    return kept, left_out


def file_vectors(items: Sequence[GalleryItem], choice: session.Choice) -> dict[str, np.ndarray]:
    """The vectors of those of ``items`` that came from a vectors file (photo key → vector).
    Such an item has no photo to embed, so one made by another encoder is an error here: pages
    leave them out first (:func:`for_encoder`)."""
    found = {}
    for it in items:
        entry = lab_session().from_files.get(it.key)
        if entry is None:
            continue
        model, vector = entry
        if model != choice.name or not choice.trained:
            raise ValueError(f"{it.name} has only {model}'s vector (from a vectors file), no photo to embed")
        found[it.key] = vector
    return found
