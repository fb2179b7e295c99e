"""Embeddings 2 · The map: UMAP in 2-D or 3-D with its controls, PCA and t-SNE beside it, the photo
behind any point, and "where does my photo land?" — a new photo placed without refitting."""

import streamlit as st

from ui import gallery, warmup
from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.scatter import scatter
from ui.presenter import step
from ui.widgets import lab as widgets
from ui.widgets import lab_questions
from ui.widgets.header import page_header
from ui.widgets.lab_map import umap_and_focus
from vision_core.embeddings import neighbours, projection

warmup.start()
text = page_header("emb_map")
items, choice, vectors = widgets.gallery_and_vectors()
n, labels, hover = len(items), [it.label for it in items], charts.hover_names(items)
key = gallery.digest(items, choice.name, choice.trained)

# --- UMAP and its controls --------------------------------------------------------------------
step(text("umap_heading"))
st.markdown(text("umap_intro"))
controls = widgets.map_controls(n, len(set(labels)))
if controls.clusters is None:
    groups = labels
else:
    groups = [text("cluster_name", c=c + 1) for c in neighbours.kmeans(vectors, controls.clusters)]
dims, metric = controls.dims, controls.metric

if not projection.is_warm():
    st.info(text("warming"), icon=":material/hourglass_top:")
with st.spinner(text("umap_spinner")):
    umap = cached.umap_projection(key, vectors, dims, controls.n_neighbors, controls.min_dist, metric)
lab_questions.tightest(items, umap.coords, vectors.shape[1])

umap_and_focus(text, items, vectors, umap, groups, hover, dims)

# --- PCA and t-SNE beside it ------------------------------------------------------------------
step(text("others_heading"))
st.markdown(text("others_intro"))
pca_col, tsne_col = st.columns(2)
with pca_col:
    pca = cached.pca_projection(key, vectors, 2)
    st.subheader("PCA")
    scatter(pca.coords, groups, hover, key="lab_pca_map", height=380, clickable=False, legend=False)
    share = pca.params["variance"]
    st.caption(text("pca_numbers", pc1=share[0], pc2=share[1], both=share[0] + share[1]))
with tsne_col:
    st.subheader("t-SNE")
    perplexity = st.slider(
        text("perplexity_label"), 2, 50, min(30, max(2, (n - 1) // 3)), key="lab_perplexity"
    )
    if st.toggle(text("tsne_toggle"), value=False, key="lab_tsne"):  # on request: UMAP and PCA first
        with st.spinner(text("tsne_spinner")):
            tsne = cached.tsne_projection(key, vectors, 2, float(perplexity), metric)
        scatter(tsne.coords, groups, hover, key="lab_tsne_map", height=380, clickable=False, legend=False)
        st.caption(text("tsne_numbers", perplexity=tsne.params["perplexity"], seconds=tsne.seconds))
    else:
        st.caption(text("tsne_off", photos=n))
st.markdown(text("others_compare"))

# --- where does my photo land? ----------------------------------------------------------------
step(text("place_heading"))
st.markdown(text("place_intro"))
new_item = widgets.photo_to_place()
if new_item is not None:
    new_vector = cached.vectors([new_item], choice, progress=False)
    landed = umap.place(new_vector)
    nearest = neighbours.nearest(vectors, new_vector[0], 5)
    photo_col, map_col = st.columns([1, 3])
    photo_col.image(cached.thumbnail(new_item, 300), caption=new_item.name, width="stretch")
    with map_col:
        placed = {"placed": landed, "placed_name": text("your_photo")}
        scatter(umap.coords, groups, hover, key="lab_place_map", height=440, clickable=False, **placed)
    first = items[nearest[0].index]
    step, span = projection.landing(umap.coords, landed, nearest[0].index)
    st.markdown(
        text(
            "place_result",
            name=first.name,
            label=first.label,
            cos=nearest[0].similarity,
            step=step,
            span=span,
        )
    )
    near = neighbours.closeness(vectors, nearest[0].similarity)
    how = {"median": near.median, "lowest": near.lowest, "share": near.share_below, "cos": near.best}
    if near.stranger:
        st.warning(text("place_stranger", **how), icon=":material/explore_off:")
    else:
        st.markdown(text("place_typical", **how))
    in_gallery = next((it for it in items if it.key == new_item.key), None)
    if in_gallery is not None:
        st.info(text("place_already", name=in_gallery.name))
    charts.neighbour_thumbs(items, nearest, text, cols=5, side=140)
    st.caption(text("place_note"))
