"""Embeddings 1 · Your gallery: samples with augmented variants, uploads (many files or a zip whose
folders are the labels), labels to edit — then every photo through the encoder, exportable."""

import streamlit as st

from ui import gallery, warmup
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import lab as widgets
from ui.widgets import lab_questions
from ui.widgets.encoder import encoder_title
from ui.widgets.header import page_header
from vision_core.embeddings import neighbours
from vision_core.embeddings.gallery import MAX_ITEMS, first_family

warmup.start()
text = page_header("emb_gallery")

# --- the samples and their variants -----------------------------------------------------------
step(text("samples_heading"))
st.markdown(text("samples_intro"))
widgets.spec_picker()

# --- the learner's photos ---------------------------------------------------------------------
step(text("upload_heading"))
st.markdown(text("upload_intro", limit=MAX_ITEMS, mb=gallery.UPLOAD_MB))
widgets.upload_box()

# --- the gallery as a table with editable labels ----------------------------------------------
items = gallery.current_gallery()
step(text("table_heading"))
st.markdown(text("table_intro", photos=len(items), labels=len({it.label for it in items})))
widgets.gallery_table(items)

family = first_family(items)
if len(family) > 1:
    st.subheader(text("family_heading"))
    st.markdown(text("family_intro", name=items[family[0]].name, n=len(family) - 1))
    captions = [text("original")] + [items[i].augmentation.describe() for i in family[1:]]
    charts.thumbs(items, family, captions, cols=min(len(family), 6))

# --- every photo through the encoder ----------------------------------------------------------
step(text("embed_heading"))
if len(items) == 0:
    st.info(text("empty"))
    st.stop()
choice = widgets.lab_encoder()
items = widgets.for_encoder(items, choice)  # a vectors file's photos only under the encoder that made them
if not items:
    st.stop()
vectors = cached.vectors(items, choice)
n, dim = vectors.shape
st.markdown(text("embed_text", photos=n, dim=dim, model=encoder_title(choice), values=vectors.size))
shown = min(dim, 64)
order = neighbours.label_order([it.label for it in items])
groups = neighbours.label_groups([items[i].label for i in order])
names = charts.photo_names(items, order)
heat = charts.vectors_heatmap(vectors[order, :shown], names, groups, text("heat_x", shown=shown, dim=dim))
draw(st, heat, "lab_heat")
st.markdown(text("heat_note"))
lab_questions.cosine(items, choice, vectors)  # predicted before a later page says how alike they are
widgets.export_buttons(vectors, items, choice)
st.page_link("pages/emb_map.py", label=text("next"), icon=":material/arrow_forward:")
