"""Embeddings 1 · Your gallery: samples with augmented variants, uploads (many files or a zip whose
folders are the labels), labels to edit — then every photo through the encoder, exportable."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import lab, state
from vision_core import samples
from vision_core.embeddings import gallery
from vision_core.embeddings import vectors as embeddings

text = lesson("emb_gallery", state.lang())
lab.start_warm_up()
st.title(text("title"))
st.markdown(text("intro"))

# --- the samples and their variants -----------------------------------------------------------
st.header(text("samples_heading"))
st.markdown(text("samples_intro"))
spec = lab.spec()
titles = {s.id: s.title for s in samples.list_samples()}
kind_names = {k: text(f"kind_{k}") for k in gallery.AUGMENT_KINDS}
left, mid, right = st.columns([4, 1, 2])
ids = left.multiselect(
    text("samples_label"),
    list(titles),
    default=[i for i in spec.sample_ids if i in titles],
    format_func=titles.get,
    key="lab_samples",
)
variants = mid.number_input(text("variants_label"), 0, 8, spec.variants, key="lab_variants")
kinds = right.multiselect(
    text("kinds_label"),
    list(gallery.AUGMENT_KINDS),
    default=list(spec.kinds),
    format_func=kind_names.get,
    key=f"lab_kinds_{state.lang()}",
)
by_names = {"photo": text("label_by_photo"), "kind": text("label_by_kind")}
label_by = state.remembered_choice(
    st.radio,
    "lab_label_by",
    list(by_names),
    spec.label_by,
    label=text("label_by"),
    format_func=by_names.get,
    horizontal=True,
)
lab.set_spec(lab.GallerySpec(tuple(ids), int(variants), tuple(kinds), spec.seed, label_by))

# --- the learner's photos ---------------------------------------------------------------------
st.header(text("upload_heading"))
st.markdown(text("upload_intro", limit=gallery.MAX_ITEMS, mb=lab.UPLOAD_MB))
files = st.file_uploader(
    text("upload_label"),
    type=lab.UPLOAD_TYPES,
    accept_multiple_files=True,
    key="lab_upload",
    max_upload_size=lab.UPLOAD_MB,
    help=text("upload_help"),
)
added = lab.add_uploads(files or [])
session = lab.session()
if added:
    st.success(text("upload_added", n=added))
if session.skipped:
    lines = "\n".join(f"- **{s.name}**: {s.reason}" for s in session.skipped)
    st.warning(
        text("upload_skipped", n=len(session.skipped)) + "\n\n" + lines, icon=":material/broken_image:"
    )
if session.duplicates:
    st.info(text("upload_duplicates", n=len(session.duplicates), names=", ".join(session.duplicates)))
for note in session.notes:
    st.info(note)

# --- the gallery as a table with editable labels ----------------------------------------------
items = lab.current_gallery()
st.header(text("table_heading"))
st.markdown(text("table_intro", photos=len(items), labels=len({it.label for it in items})))
sources = {
    "sample": text("source_sample"),
    "variant": text("source_variant"),
    "upload": text("source_upload"),
}


def apply_edits(shown: list) -> None:
    changes = st.session_state["lab_table"]
    lab_session = lab.session()
    for row, edit in changes.get("edited_rows", {}).items():
        if "label" in edit and str(edit["label"]).strip():
            lab_session.labels[shown[int(row)].key] = str(edit["label"]).strip()
    for row in changes.get("deleted_rows", []):
        lab_session.removed.add(shown[int(row)].key)


show_thumbs = len(items) <= lab.THUMBS_IN_TABLE
table = pd.DataFrame(
    {
        "photo": [lab.thumbnail_uri(it.key, it.data) if show_thumbs else None for it in items],
        "name": [it.name for it in items],
        "label": [it.label for it in items],
        "source": [sources[it.source] for it in items],
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
    on_change=apply_edits,
    args=(items,),
    height=min(420, 38 + 35 * max(len(items), 1)),
    row_height=34 if show_thumbs else None,
)
st.caption(text("table_note"))
if session.removed and st.button(
    text("restore", n=len(session.removed)), key="lab_restore", icon=":material/restore:"
):
    session.removed.clear()
    st.rerun()

first = next((i for i, it in enumerate(items) if it.source != "variant"), None)
family = [] if first is None else [first] + [i for i, it in enumerate(items) if it.parent == items[first].key]
if len(family) > 1:
    st.subheader(text("family_heading"))
    st.markdown(text("family_intro", name=items[first].name, n=len(family) - 1))
    captions = [text("original")] + [items[i].augmentation.describe() for i in family[1:]]
    lab.thumbs(items, family, captions, cols=min(len(family), 6))

# --- every photo through the encoder ----------------------------------------------------------
st.header(text("embed_heading"))
if len(items) == 0:
    st.info(text("empty"))
    st.stop()
choice = lab.choose_encoder()
vectors = lab.vectors(items, choice)
n, dim = vectors.shape
st.markdown(text("embed_text", photos=n, dim=dim, model=lab.encoder_title(choice), values=n * dim))
shown_dims = min(dim, 64)
order = sorted(range(n), key=lambda i: items[i].label)
heat = go.Figure(
    go.Heatmap(
        z=vectors[order, :shown_dims],
        colorscale="Viridis",
        y=[f"{items[i].label} · {items[i].name}" for i in order],
        hovertemplate="%{y}<br>v%{x} = %{z:.3f}<extra></extra>",
        colorbar={"thickness": 10},
    )
)
heat.update_layout(
    height=min(700, 140 + 9 * n),
    margin={"l": 0, "r": 0, "t": 10, "b": 0},
    yaxis={"showticklabels": n <= 60, "autorange": "reversed"},
    xaxis={"title": text("heat_x", shown=shown_dims, dim=dim)},
)
st.plotly_chart(heat, key="lab_heat", config={"displayModeBar": False})
st.caption(text("heat_note"))

labels = [it.label for it in items]
names = [it.name for it in items]
left, right = st.columns(2)
left.download_button(
    text("download_csv"),
    lambda: embeddings.export_csv(vectors, labels, names),
    file_name=f"embeddings_{choice.name}.csv",
    mime="text/csv",
    key="lab_csv",
    on_click="ignore",
    icon=":material/table:",
)
right.download_button(
    text("download_npy"),
    lambda: embeddings.export_npy(vectors, labels, names),
    file_name=f"embeddings_{choice.name}.npy",
    mime="application/octet-stream",
    key="lab_npy",
    icon=":material/data_array:",
    on_click="ignore",
)
st.caption(text("download_note"))
st.page_link("pages/emb_map.py", label=text("next"), icon=":material/arrow_forward:")
