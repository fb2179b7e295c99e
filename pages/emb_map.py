"""Embeddings 2 · The map: UMAP in 2-D or 3-D with its controls, PCA and t-SNE beside it, the photo
behind any point, and "where does my photo land?" — a new photo placed without refitting."""

import numpy as np
import streamlit as st

from lessons import lesson
from ui import lab, state
from ui.widgets import photo_source as sidebar_ui
from vision_core.embeddings import gallery, neighbours, projection
from vision_core.engine.preprocess import ImageError

text = lesson("emb_map", state.lang())
lab.start_warm_up()
st.title(text("title"))
st.markdown(text("intro"))
items, choice, vectors = lab.gallery_and_vectors()
n = len(items)
labels = [it.label for it in items]
hover = [f"{it.name} — {it.label}" for it in items]
key = lab.digest(items, choice.name, choice.weights)

# --- UMAP and its controls --------------------------------------------------------------------
st.header(text("umap_heading"))
st.markdown(text("umap_intro"))
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
colour_by = state.remembered_choice(
    cols[4].radio,
    "lab_colour",
    ["label", "cluster"],
    "label",
    label=text("colour_by"),
    format_func=lambda c: text(f"colour_opt_{c}"),
    horizontal=True,
)
if colour_by == "cluster":
    k = st.number_input(
        text("k_label"), 2, max(2, min(30, n - 1)), min(max(2, len(set(labels))), n - 1), key="lab_map_k"
    )
    groups = [text("cluster_name", c=c + 1) for c in neighbours.kmeans(vectors, int(k))]
else:
    groups = labels

if not projection.is_warm():
    st.info(text("warming"), icon=":material/hourglass_top:")
with st.spinner(text("umap_spinner")):
    umap = lab.umap_projection(key, vectors, dims, n_neighbors, min_dist, metric)

focus = int(st.session_state.get("lab_focus", 0)) if st.session_state.get("lab_focus", 0) < n else 0
near = neighbours.nearest(vectors, focus, 5)
map_col, panel = st.columns([3, 2])
with map_col:
    clicked = lab.scatter(
        umap.coords, groups, hover, key="lab_umap_map", selected=focus, links=[nb.index for nb in near]
    )
    st.caption(
        text(
            "umap_numbers",
            photos=n,
            dim=vectors.shape[1],
            pca=umap.reduced.data.shape[1],
            kept=umap.reduced.kept_variance,
            k=umap.params["n_neighbors"],
            seconds=umap.seconds,
        )
    )
with panel:
    chosen = lab.focus_picker(items, "lab_focus", text("focus_label"), clicked)
    if chosen != focus:
        st.rerun()
    item = items[focus]
    st.image(lab.thumbnail(item.key, item.data, 360), caption=f"{item.name} — {item.label}", width="stretch")
    st.markdown(text("focus_neighbours", n=len(near)))
    lab.thumbs(
        items,
        [nb.index for nb in near],
        [f"{nb.similarity:.3f} · {items[nb.index].label}" for nb in near],
        cols=len(near) or 1,
        side=120,
    )
    st.caption(text("click_hint") if dims == 2 else text("click_hint_3d"))

# --- PCA and t-SNE beside it ------------------------------------------------------------------
st.header(text("others_heading"))
st.markdown(text("others_intro"))
pca_col, tsne_col = st.columns(2)
with pca_col:
    pca = lab.pca_projection(key, vectors, 2)
    st.subheader("PCA")
    lab.scatter(pca.coords, groups, hover, key="lab_pca_map", height=380, clickable=False, legend=False)
    share = pca.params["variance"]
    st.caption(text("pca_numbers", pc1=share[0], pc2=share[1], both=share[0] + share[1]))
with tsne_col:
    st.subheader("t-SNE")
    perplexity = st.slider(
        text("perplexity_label"), 2, 50, min(30, max(2, (n - 1) // 3)), key="lab_perplexity"
    )
    if st.toggle(text("tsne_toggle"), value=n <= 300, key="lab_tsne"):
        with st.spinner(text("tsne_spinner")):
            tsne = lab.tsne_projection(key, vectors, 2, float(perplexity), metric)
        lab.scatter(tsne.coords, groups, hover, key="lab_tsne_map", height=380, clickable=False, legend=False)
        st.caption(text("tsne_numbers", perplexity=tsne.params["perplexity"], seconds=tsne.seconds))
    else:
        st.caption(text("tsne_off", photos=n))
st.markdown(text("others_compare"))

# --- where does my photo land? ----------------------------------------------------------------
st.header(text("place_heading"))
st.markdown(text("place_intro"))
sources = {"sidebar": text("place_sidebar"), "upload": text("place_upload")}
source = state.remembered_choice(
    st.radio,
    "lab_place_source",
    list(sources),
    "sidebar",
    label=text("place_source"),
    format_func=sources.get,
    horizontal=True,
)
new_item = None
if source == "sidebar":
    photo = state.current_photo()
    try:
        new_item = gallery.item_from_bytes(photo.data, photo.label, photo.label)
    except ImageError as error:
        st.error(f"{error.message} {error.hint}")
else:
    upload = st.file_uploader(
        text("place_upload_label"), type=sidebar_ui.UPLOAD_TYPES, key="lab_place_upload"
    )
    if upload is not None:
        try:
            new_item = gallery.item_from_bytes(upload.getvalue(), upload.name, upload.name)
        except ImageError as error:
            st.error(text("place_bad", name=upload.name) + f" {error.message} {error.hint}")
if new_item is not None:
    new_vector = lab.vectors([new_item], choice, progress=False)
    landed = umap.place(new_vector)
    nearest = neighbours.nearest(vectors, new_vector[0], 5)
    in_gallery = next((i for i, it in enumerate(items) if it.key == new_item.key), None)
    photo_col, map_col = st.columns([1, 3])
    photo_col.image(lab.thumbnail(new_item.key, new_item.data, 300), caption=new_item.name, width="stretch")
    with map_col:
        lab.scatter(
            umap.coords,
            groups,
            hover,
            key="lab_place_map",
            placed=landed,
            placed_name=text("your_photo"),
            height=440,
            clickable=False,
        )
    first = nearest[0]
    step = float(np.linalg.norm(landed[0] - umap.coords[first.index]))
    span = float(np.linalg.norm(np.ptp(umap.coords, axis=0)))
    st.markdown(
        text(
            "place_result",
            name=items[first.index].name,
            label=items[first.index].label,
            cos=first.similarity,
            step=step,
            span=span,
        )
    )
    if in_gallery is not None:
        st.info(text("place_already", name=items[in_gallery].name))
    lab.thumbs(
        items,
        [nb.index for nb in nearest],
        [f"{nb.similarity:.3f} · {items[nb.index].label}" for nb in nearest],
        cols=5,
        side=140,
    )
    st.caption(text("place_note"))
