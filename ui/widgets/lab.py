"""The embedding lab's widgets: what every page after the gallery opens with (the gallery, the
section's encoder and the gallery's vectors, or a hint back to the gallery when it is too small),
the gallery page's own (the samples picker, the uploader, the editable table, the exports) and the
map page's (UMAP's controls, the photo to place on the map)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from lessons import lesson
from ui import gallery, session
from ui.cached import lab as cached
from ui.session import Choice
from ui.widgets import native_words
from ui.widgets.encoder import choose_encoder, encoder_title
from ui.widgets.photo_source import photo_source
from vision_core import samples
from vision_core.embeddings import projection
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import AUGMENT_KINDS, GalleryItem, item_from_bytes
from vision_core.engine import encoders
from vision_core.engine.preprocess import ImageError


def lab_encoder(random_key: str = "lab_random") -> Choice:
    """The sidebar's encoder for this section, with the random-weights toggle."""
    return choose_encoder("embeddings", allow_random_toggle=True, key=random_key)


def too_few_photos(items: list[GalleryItem], min_photos: int) -> None:
    """Stop the page with a hint when the gallery has fewer than ``min_photos`` photos."""
    if len(items) < min_photos:
        text = lesson("emb_common", session.lang())
        st.warning(text("too_few", n=min_photos))
        st.page_link("pages/emb_gallery.py", label=text("to_gallery"), icon=":material/photo_library:")
        st.stop()


def gallery_and_vectors(
    min_photos: int = 4, random_key: str = "lab_random"
) -> tuple[list[GalleryItem], Choice, np.ndarray]:
    """The gallery, the encoder and the (N, D) vectors, with the status line under the encoder."""
    text = lesson("emb_common", session.lang())
    choice = lab_encoder(random_key)
    items = for_encoder(gallery.current_gallery(), choice)
    st.caption(
        text(
            "status_full",
            photos=len(items),
            labels=len({it.label for it in items}),
            model=encoder_title(choice),
        )
    )
    too_few_photos(items, min_photos)
    return items, choice, cached.vectors(items, choice)


def for_encoder(items: list[GalleryItem], choice: Choice) -> list[GalleryItem]:
    """The gallery's photos ``choice`` can give vectors to, saying which photos of a vectors file
    are left out (their vectors were made by another encoder, and there is no photo to embed)."""
    kept, left_out = gallery.for_encoder(items, choice)
    text = lesson("emb_gallery", session.lang())
    for model, n in left_out.items():
        shown = {"file_model": encoders.get(model).title, "model": encoder_title(choice)}
        st.info(text("file_left_out", n=n, **shown), icon=":material/visibility_off:")
    return kept


def photos_only(items: list[GalleryItem]) -> list[GalleryItem]:
    """The gallery without the photos of vectors files (for pages that run several encoders)."""
    kept = [it for it in items if gallery.file_model(it) is None]
    if len(kept) < len(items):
        text = lesson("emb_gallery", session.lang())
        st.info(text("file_photos_only", n=len(items) - len(kept)), icon=":material/visibility_off:")
    return kept


# --- the gallery page's widgets -----------------------------------------------------------------


def spec_picker() -> gallery.GallerySpec:
    """The samples, how many variants each gets and of which kinds, and how they are labelled."""
    text = lesson("emb_gallery", session.lang())
    spec = gallery.spec()
    titles = {s.id: session.sample_title(s.id) for s in samples.list_samples()}
    kind_names = {k: text(f"kind_{k}") for k in AUGMENT_KINDS}
    left, mid, right = st.columns([4, 1, 2])
    ids = left.multiselect(
        text("samples_label"),
        list(titles),
        default=[i for i in spec.sample_ids if i in titles],
        format_func=titles.get,
        key="lab_samples",
        placeholder=text("samples_placeholder"),
    )
    variants = mid.number_input(text("variants_label"), 0, 8, spec.variants, key="lab_variants")
    kinds = right.multiselect(
        text("kinds_label"),
        list(AUGMENT_KINDS),
        default=list(spec.kinds),
        format_func=kind_names.get,
        key=f"lab_kinds_{session.lang()}",
        placeholder=text("kinds_placeholder"),
    )
    by_names = {"photo": text("label_by_photo"), "kind": text("label_by_kind")}
    label_by = session.remembered_choice(
        st.radio,
        "lab_label_by",
        list(by_names),
        spec.label_by,
        label=text("label_by"),
        format_func=by_names.get,
        horizontal=True,
    )
    new = gallery.GallerySpec(tuple(ids), int(variants), tuple(kinds), spec.seed, label_by)
    gallery.set_spec(new)
    return new


def upload_box() -> None:
    """The uploader of many photos or zips, and what the last batch added, skipped or noted."""
    text = lesson("emb_gallery", session.lang())
    files = native_words.file_uploader(
        text("upload_label"),
        types=gallery.UPLOAD_TYPES,
        accept_multiple_files=True,
        key="lab_upload",
        max_mb=gallery.UPLOAD_MB,
        help=text("upload_help"),
    )
    files, lab = files or [], gallery.lab_session()
    before = set(lab.seen_files)
    added = gallery.add_uploads([f for f in files if not gallery.is_vector_file(f.name)])
    vector_files = [f for f in files if gallery.is_vector_file(f.name)]
    added += gallery.add_vector_files(vector_files, keep_report=lab.seen_files != before)
    if added:
        st.success(text("upload_added", n=added))
    if lab.skipped:
        lines = "\n".join(text("skipped_line", name=s.name, reason=s.reason) for s in lab.skipped)
        st.warning(
            text("upload_skipped_list", n=len(lab.skipped), lines=lines), icon=":material/broken_image:"
        )
    if lab.duplicates:
        st.info(text("upload_duplicates", n=len(lab.duplicates), names=", ".join(lab.duplicates)))
    for note in lab.notes:
        st.info(note)


def gallery_table(items: list[GalleryItem]) -> None:
    """The gallery as a table whose labels the learner edits and whose rows they delete, with a
    button bringing deleted photos back."""
    text = lesson("emb_gallery", session.lang())
    show_thumbs = len(items) <= gallery.THUMBS_IN_TABLE
    table = pd.DataFrame(
        {
            "photo": [cached.thumbnail_uri(it) if show_thumbs else None for it in items],
            "name": [it.name for it in items],
            "label": [it.label for it in items],
            "source": [
                text("source_file" if gallery.file_model(it) else f"source_{it.source}") for it in items
            ],
            "made": [it.augmentation.describe() if it.augmentation else "" for it in items],
        }
    )
    columns = {
        "photo": st.column_config.ImageColumn(text("col_photo"), width="small"),
        "name": st.column_config.TextColumn(text("col_name"), disabled=True),
        "label": st.column_config.TextColumn(text("col_label"), required=True, help=text("col_label_help")),
        "source": st.column_config.TextColumn(text("col_source"), disabled=True),
        "made": st.column_config.TextColumn(text("col_made"), disabled=True),
    }
    st.data_editor(
        table,
        key="lab_table",
        column_config=columns,
        hide_index=True,
        num_rows="delete",
        on_change=gallery.apply_table_edits,
        args=("lab_table", items),
        height=min(420, 38 + 35 * max(len(items), 1)),
        row_height=34 if show_thumbs else None,
    )
    st.caption(text("table_note"))
    lab = gallery.lab_session()
    if lab.removed and st.button(
        text("restore", n=len(lab.removed)), key="lab_restore", icon=":material/restore:"
    ):
        lab.removed.clear()
        st.rerun()


def export_buttons(vectors: np.ndarray, items: list[GalleryItem], choice: Choice) -> None:
    """Download the vectors with their labels and names as CSV or NPY."""
    text = lesson("emb_gallery", session.lang())
    labels, names = [it.label for it in items], [it.name for it in items]
    exports = (
        ("csv", embeddings.export_csv, "text/csv", ":material/table:"),
        ("npy", embeddings.export_npy, "application/octet-stream", ":material/data_array:"),
    )
    for col, (kind, export, mime, icon) in zip(st.columns(2), exports, strict=True):
        col.download_button(
            text(f"download_{kind}"),
            lambda export=export: export(vectors, labels, names),
            file_name=f"embeddings_{choice.name}.{kind}",
            mime=mime,
            key=f"lab_{kind}",
            on_click="ignore",
            icon=icon,
        )
    st.caption(text("download_note"))


# --- the map page's widgets ---------------------------------------------------------------------


class MapControls(NamedTuple):
    dims: int
    n_neighbors: int
    min_dist: float
    metric: str
    clusters: int | None  # colour by k-means with this many clusters; None: colour by label


def map_controls(n: int, n_labels: int) -> MapControls:
    """UMAP's controls for a gallery of ``n`` photos carrying ``n_labels`` labels, and how to colour
    the points."""
    text = lesson("emb_map", session.lang())
    cols = st.columns([1, 2, 2, 1, 2])
    dims = cols[0].radio(text("dims_label"), [2, 3], format_func=lambda d: f"{d}-D", key="lab_dims")
    n_neighbors = cols[1].slider(
        text("neighbors_label"),
        2,
        max(3, min(100, n - 1)),
        min(15, n - 1),
        key="lab_neighbors",
        help=text("neighbors_help"),
    )
    min_dist = cols[2].slider(
        text("min_dist_label"), 0.0, 0.99, 0.1, 0.01, key="lab_min_dist", help=text("min_dist_help")
    )
    metric = cols[3].selectbox(text("metric_label"), list(projection.METRICS), key="lab_metric")
    colour_by = session.remembered_choice(
        cols[4].radio,
        "lab_colour",
        ["label", "cluster"],
        "label",
        label=text("colour_by"),
        format_func=lambda c: text(f"colour_opt_{c}"),
        horizontal=True,
    )
    k = None
    if colour_by == "cluster":
        k = st.number_input(
            text("k_label"), 2, max(2, min(30, n - 1)), min(max(2, n_labels), n - 1), key="lab_map_k"
        )
    return MapControls(dims, n_neighbors, min_dist, metric, None if k is None else int(k))


def photo_to_place() -> GalleryItem | None:
    """The photo to place on a map: the sidebar's, or an upload (explained when it cannot be read)."""
    text = lesson("emb_map", session.lang())
    wording = {
        "source_current": text("place_sidebar"),
        "source_upload": text("place_upload"),
        "upload_label": text("place_upload_label"),
    }
    photo, source_id = photo_source(
        "lab_place_source",
        sources=("current", "upload"),
        label=text("place_source"),
        wording=wording,
        upload_key="lab_place_upload",
    )
    if photo is None:
        return None
    try:
        return item_from_bytes(photo.data, photo.label, photo.label)
    except ImageError as error:
        shown = {"message": error.message, "hint": error.hint}
        if source_id.startswith("current:"):
            st.error(text("place_error", **shown))
        else:
            st.error(text("place_bad_full", name=photo.label, **shown))
        return None
