"""The learner's gallery for the embedding lab (pages ``emb_*``), kept in their session.

The gallery lives in ``st.session_state`` — this browser session only, in this server's memory,
never on disk.  It is the samples the learner ticked (with their augmented variants, shared by
every session through ``st.cache_data``: they are not private), plus the learner's uploads, plus
their label edits and removals.  Its embeddings and maps are cached in ``ui.cached.lab``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import streamlit as st

from lessons import lesson
from ui import session
from vision_core import samples
from vision_core.embeddings import gallery
from vision_core.embeddings.gallery import GalleryItem, Skipped

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "avif", "zip"]
UPLOAD_MB = 100  # per file: a class's zip may be bigger than one photo (each photo inside ≤ 25 MB)
THUMBS_IN_TABLE = 400  # beyond this many photos the table shows no thumbnails (they are sent each run)


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
    """Read the uploader's files that are new since the last run; returns how many photos joined."""
    lab = lab_session()
    new = [f for f in files if f.file_id not in lab.seen_files]
    if not new:
        return 0
    known = {it.key for it in current_gallery()}
    report = gallery.load_files(
        ((f.name, f.getvalue()) for f in new), capacity=gallery.MAX_ITEMS - len(known), known=known
    )
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
