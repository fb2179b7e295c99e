"""Embeddings 4 · Clusters: k-means and DBSCAN on the vectors, how well the clusters match the
labels (purity, adjusted Rand, NMI), the contingency table, and each cluster's photos."""

import pandas as pd
import streamlit as st

from ui.cached import lab as cached
from ui.charts import lab as charts
from ui.charts.layout import draw
from ui.charts.scatter import scatter
from ui.widgets import lab_questions
from ui.widgets.header import page_header
from ui.widgets.lab import gallery_and_vectors
from vision_core.embeddings import neighbours, projection

text = page_header("emb_clusters")
items, choice, vectors = gallery_and_vectors()
n = len(items)
labels = [it.label for it in items]
n_labels = len(set(labels))

algorithms = {"kmeans": "k-means", "dbscan": "DBSCAN"}
algo = st.radio(
    text("algo_label"), list(algorithms), format_func=algorithms.get, horizontal=True, key="lab_cluster_algo"
)
if algo == "kmeans":
    st.markdown(text("kmeans_intro"))
    left, right = st.columns([3, 2])
    k = left.slider(text("k_label"), 2, max(2, min(30, n - 1)), min(max(2, n_labels), n - 1), key="lab_k")
    runs = cached.kmeans_stability(items, choice, vectors, k)
    seed_names = [text("seed_name", seed=s) for s in runs.seeds]
    options = {"format_func": seed_names.__getitem__, "horizontal": True, "help": text("seed_help")}
    pick = right.radio(text("seed_label"), range(len(runs.seeds)), key="lab_kmeans_seed", **options)
    clusters = runs.clusterings[pick]
else:
    st.markdown(text("dbscan_intro"))
    left, right = st.columns(2)
    eps = left.slider(text("eps_label"), 0.02, 0.8, 0.25, 0.01, key="lab_eps", help=text("eps_help"))
    min_samples = right.slider(text("min_samples_label"), 2, 10, 3, key="lab_min_samples")
    clusters = neighbours.dbscan(vectors, eps, min_samples)

scores = neighbours.cluster_scores(clusters, labels)
lab_questions.pure_clusters(clusters, labels, scores.purity)
cols = st.columns(4)
cols[0].metric(text("m_clusters"), scores.found)
cols[1].metric(text("m_purity"), text.num(scores.purity, ".1%"))
cols[2].metric(text("m_ari"), text.num(scores.adjusted_rand, ".3f"))
cols[3].metric(text("m_nmi"), text.num(scores.nmi, ".3f"))
st.markdown(
    text("scores", purity=scores.purity, ari=scores.adjusted_rand, labels=n_labels, clusters=scores.found)
)
if algo == "dbscan":
    st.markdown(text("noise", noise=scores.noise, photos=n))
else:  # the same photos, another random start
    st.subheader(text("seeds_heading"))
    shown = [text.num(v, ".1%") for v in runs.purity]
    bars = charts.seed_bars(runs.purity, runs.seeds, runs.seeds[pick], seed_names, shown, text("m_purity"))
    draw(st, bars, "lab_seed_bars")
    says = {"seeds": len(runs.seeds), "k": k, "distinct": runs.distinct, "low": float(runs.purity.min())}
    says |= {"high": float(runs.purity.max()), "mean": runs.mean_agreement, "lowest": runs.lowest_agreement}
    st.markdown(text(f"seeds_{runs.verdict}", **says))


def cluster_name(c: int) -> str:
    return text("noise_name") if c == neighbours.NOISE else text("cluster_name", c=c + 1)


st.subheader(text("table_heading"))
table = pd.DataFrame(
    scores.table, index=[cluster_name(c) for c in scores.clusters], columns=list(scores.labels)
)
st.dataframe(table, key="lab_cluster_table")
st.caption(text("table_note"))

st.subheader(text("map_heading"))
umap = cached.overview_map(items, choice, vectors)
outlines = {cluster_name(c): ring for c, ring in projection.cluster_outlines(umap.coords, clusters).items()}
hover = charts.hover_names(items, [cluster_name(c) for c in clusters])
look = {"height": 480, "clickable": False, "outlines": outlines, "outline_name": text("outline_legend")}
scatter(umap.coords, labels, hover, key="lab_cluster_map", **look)
st.caption(text("map_note", clusters=len(outlines)))

st.subheader(text("photos_heading"))
for cluster in neighbours.cluster_contents(clusters, labels):
    line = text(
        "cluster_line",
        name=cluster_name(cluster.cluster),
        n=len(cluster.members),
        label=cluster.label,
        share=cluster.share,
    )
    with st.expander(line):
        shown = list(cluster.members[:18])
        charts.thumbs(items, shown, [labels[i] for i in shown], cols=6, side=120)
