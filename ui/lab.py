"""The embedding lab's shared state, cached calls and views (pages ``emb_*``).

The gallery lives in ``st.session_state`` — this browser session only, in this server's memory,
never on disk.  It is the samples the learner ticked (with their augmented variants, shared by
every session through ``st.cache_data``: they are not private), plus the learner's uploads, plus
their label edits and removals.  The embedding of each photo is cached per (photo SHA-256,
encoder, weights) with ``st.cache_data``; only the photos not cached yet are embedded, in
batches, with a progress bar.  Maps are ``st.cache_resource`` entries: a fitted UMAP is kept as
the object itself, so a new photo can be placed on it later.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import qualitative

from lessons import lesson
from ui import show, state, warmup
from ui.cache import PHOTO_TTL
from vision_core import samples
from vision_core.embeddings import gallery, neighbours, projection
from vision_core.embeddings import vectors as embeddings
from vision_core.embeddings.gallery import GalleryItem, Skipped
from vision_core.engine import encoders

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "avif", "zip"]
UPLOAD_MB = 100  # per file: a class's zip may be bigger than one photo (each photo inside ≤ 25 MB)
THUMBS_IN_TABLE = 400  # beyond this many photos the table shows no thumbnails (they are sent each run)
PALETTE = qualitative.Dark24 + qualitative.Light24
MAX_LEGEND = 30  # groups a map's legend lists
MEMO_ENTRIES = 6  # galleries × encoders whose assembled matrix a session keeps at hand


# --- the gallery ------------------------------------------------------------------------------


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
    uploads: list[GalleryItem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # photo key → the learner's label
    removed: set[str] = field(default_factory=set)
    seen_files: set[str] = field(default_factory=set)  # uploader file ids already read
    skipped: list[Skipped] = field(default_factory=list)  # the last batch's bad files
    notes: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # the last batch's photos already in the gallery


def session() -> LabSession:
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
    return gallery.sample_items(sample_ids, variants, kinds, seed, dict(labels))


def sample_labels(s: GallerySpec) -> tuple[tuple[str, str], ...]:
    """(sample id, label) pairs: the title, or the kind of picture in the learner's language."""
    if s.label_by != "kind":
        return ()
    text = lesson("emb_common", state.lang())
    return tuple((sid, text(f"kind_{samples.get_sample(sid).kind}")) for sid in s.sample_ids)


def current_gallery() -> list[GalleryItem]:
    """The samples of :func:`spec`, then the uploads, with the learner's labels and removals."""
    s, lab = spec(), session()
    items = sample_gallery(s.sample_ids, s.variants, s.kinds, s.seed, sample_labels(s)) + lab.uploads
    return [it.relabel(lab.labels.get(it.key, it.label)) for it in items if it.key not in lab.removed]


def add_uploads(files) -> int:
    """Read the uploader's files that are new since the last run; returns how many photos joined."""
    lab = session()
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
    text = lesson("emb_common", state.lang())
    n_labels = len({it.label for it in items})
    return text("status", photos=len(items), labels=n_labels)


# --- embeddings -------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=20_000, ttl=PHOTO_TTL)
def _vector(
    photo_key: str, name: str, weights: str, _fresh: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """One photo's embedding.  Called with no ``_fresh`` it raises ``LookupError`` on a miss — an
    exception is never cached — so that the caller can embed all the misses in one batched run
    and then store each of them here."""
    if _fresh is None or photo_key not in _fresh:
        raise LookupError(photo_key)
    return _fresh[photo_key]


def vectors(items: Sequence[GalleryItem], choice: show.ModelChoice, *, progress: bool = True) -> np.ndarray:
    """The (N, D) embeddings of ``items`` under ``choice``: cached ones looked up, the rest embedded
    in batches (with a progress bar) and cached."""
    memo_key = digest(items, choice.name, choice.weights)
    memo: dict[str, np.ndarray] = st.session_state.setdefault("lab_vectors_memo", {})
    if memo_key in memo:
        return memo[memo_key]
    found: dict[str, np.ndarray] = {}
    missing: list[GalleryItem] = []
    for it in items:
        try:
            found[it.key] = _vector(it.key, choice.name, choice.weights)
        except LookupError:
            missing.append(it)
    if missing:
        text = lesson("emb_common", state.lang())
        model = show.load(choice)
        bar = (
            st.progress(0.0, text=text("embedding_progress", done=0, total=len(missing)))
            if progress
            else None
        )

        def report(done: int, total: int) -> None:
            if bar is not None:
                bar.progress(done / total, text=text("embedding_progress", done=done, total=total))

        new = embeddings.embed(
            model, (it.image() for it in missing), choice.name, total=len(missing), on_progress=report
        )
        fresh = {it.key: v for it, v in zip(missing, new, strict=True)}
        for it in missing:
            found[it.key] = _vector(it.key, choice.name, choice.weights, fresh)
        if bar is not None:
            bar.empty()
    matrix = np.stack([found[it.key] for it in items]) if items else np.zeros((0, 1), np.float32)
    while len(memo) >= MEMO_ENTRIES:  # the oldest first: dicts keep insertion order
        memo.pop(next(iter(memo)))
    memo[memo_key] = matrix
    return matrix


def offline_choice(name: str, random: bool = False) -> show.ModelChoice:
    """``name`` with its trained weights when they are on this machine, else with random ones."""
    trained = not random and encoders.available_offline(name)
    return show.ModelChoice(name, "pretrained" if trained else "random")


def choose_encoder(key: str = "lab_random") -> show.ModelChoice:
    """The sidebar's encoder for this section, with the same fallbacks as every page."""
    return show.choose_model("embeddings", allow_random_toggle=True, key=key)


def encoder_title(choice: show.ModelChoice) -> str:
    text = lesson("emb_common", state.lang())
    title = encoders.get(choice.name).title
    return title if choice.trained else text("untrained_title", model=title)


def gallery_and_vectors(min_photos: int = 4, random_key: str = "lab_random"):
    """What every lab page after the first starts with: the gallery, the encoder and the vectors;
    stops the page with a hint when the gallery is too small."""
    text = lesson("emb_common", state.lang())
    items = current_gallery()
    choice = choose_encoder(random_key)
    st.caption(
        text(
            "status_full",
            photos=len(items),
            labels=len({it.label for it in items}),
            model=encoder_title(choice),
        )
    )
    if len(items) < min_photos:
        st.warning(text("too_few", n=min_photos))
        st.page_link("pages/emb_gallery.py", label=text("to_gallery"), icon=":material/photo_library:")
        st.stop()
    return items, choice, vectors(items, choice)


# --- maps -------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def umap_projection(
    key: str, _vectors: np.ndarray, dims: int, n_neighbors: int, min_dist: float, metric: str
) -> projection.Projection:
    return projection.umap_map(_vectors, dims, n_neighbors, min_dist, metric)  # type: ignore[arg-type]


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def pca_projection(key: str, _vectors: np.ndarray, dims: int) -> projection.Projection:
    return projection.pca_map(_vectors, dims)


@st.cache_resource(show_spinner=False, max_entries=24, ttl=PHOTO_TTL)
def tsne_projection(
    key: str, _vectors: np.ndarray, dims: int, perplexity: float, metric: str
) -> projection.Projection:
    return projection.tsne_map(_vectors, dims, perplexity, metric)  # type: ignore[arg-type]


def start_warm_up() -> threading.Thread:
    """Compile UMAP's numba code in the background, once per server process (``app.py`` starts it
    at launch; the lab's pages make sure)."""
    return warmup.start()


def colours(values: Sequence[str]) -> dict[str, str]:
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(dict.fromkeys(values))}


def scatter(
    coords: np.ndarray,
    groups: Sequence[str],
    hover: Sequence[str],
    *,
    key: str,
    selected: int | None = None,
    links: Sequence[int] = (),
    placed: np.ndarray | None = None,
    placed_name: str = "",
    height: int = 520,
    title: str | None = None,
    clickable: bool = True,
    legend: bool = True,
) -> int | None:
    """A 2-D or 3-D scatter of the photos, one colour per group; the selected photo ringed, lines
    to ``links`` (its nearest neighbours in the embedding), a star at ``placed``.  Returns the
    index of a photo clicked on this run (2-D only; plotly reports no clicks in 3-D)."""
    dims = coords.shape[1]
    kind = "scatter3d" if dims == 3 else "scatter"

    def xyz(points: np.ndarray) -> dict:
        return dict(zip("xyz", np.asarray(points, dtype=np.float64).T, strict=False))

    # traces and layout as plain dicts, validated once when the figure is made (add_trace and
    # update_* calls are each validated on their own, several times slower)
    data: list[dict] = []
    groups = list(groups)
    palette = colours(groups)
    idx = np.arange(len(coords))
    for g, colour in palette.items():
        members = idx[np.array([x == g for x in groups])]
        marker = (
            {"size": 4, "color": colour}
            if dims == 3
            else {"size": 9, "color": colour, "line": {"width": 0.5, "color": "white"}}
        )
        data.append(
            {
                "type": kind,
                **xyz(coords[members]),
                "name": g,
                "mode": "markers",
                "marker": marker,
                "customdata": members.tolist(),  # plain ints: a clicked point hands back its index
                "text": [hover[i] for i in members],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    quiet = {"hoverinfo": "skip", "showlegend": False}
    if selected is not None:
        line = {"color": "rgba(40,40,40,0.55)", "width": 1.5}
        for j in links:
            data.append({"type": kind, **xyz(coords[[selected, j]]), "mode": "lines", "line": line, **quiet})
        ring = {
            "size": 18 if dims == 2 else 9,
            "color": "rgba(0,0,0,0)",
            "line": {"width": 3, "color": "#ff2d55"},
        }
        data.append({"type": kind, **xyz(coords[[selected]]), "mode": "markers", "marker": ring, **quiet})
    if placed is not None:
        star = {
            "size": 22 if dims == 2 else 10,
            "color": "#ffcc00",
            "symbol": "star" if dims == 2 else "diamond",
            "line": {"width": 1.5, "color": "black"},
        }
        data.append(
            {
                "type": kind,
                **xyz(np.atleast_2d(placed)),
                "mode": "markers",
                "marker": star,
                "name": placed_name,
                "hovertemplate": f"{placed_name}<extra></extra>",
            }
        )
    plain_axis = {"showticklabels": False, "title": {"text": ""}, "zeroline": False}
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "title": {"text": title} if title else {},
        # below the map, so that the map keeps the width; too many groups to list: hover instead
        "showlegend": legend and len(palette) <= MAX_LEGEND,
        "legend": {"itemsizing": "constant", "orientation": "h", "yanchor": "top", "y": -0.02, "x": 0},
        "clickmode": "event+select",
    }
    if dims == 2:
        layout.update(dragmode="pan", xaxis=plain_axis, yaxis=plain_axis)
    else:
        layout["scene"] = {f"{a}axis": {"showticklabels": False, "title": {"text": ""}} for a in "xyz"}
    fig = go.Figure({"data": data, "layout": layout})
    if not clickable or dims == 3:
        st.plotly_chart(fig, key=key, config={"displayModeBar": dims == 3})
        return None
    event = st.plotly_chart(
        fig,
        key=key,
        on_select="rerun",
        selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": True},
    )
    for point in event["selection"]["points"] if event else []:
        data = point.get("customdata")
        if data is not None:
            return int(data[0] if isinstance(data, (list, tuple)) else data)
    return None


def focus_picker(items: Sequence[GalleryItem], key: str, label: str, clicked: int | None = None) -> int:
    """A select box of the gallery's photos that a click on a map also sets; returns the index."""
    n = len(items)
    if key not in st.session_state or not 0 <= st.session_state[key] < n:
        st.session_state[key] = 0
    last = f"{key}_last_click"
    if clicked is not None and clicked != st.session_state.get(last):
        st.session_state[last] = clicked
        st.session_state[key] = clicked
    return st.selectbox(label, range(n), format_func=lambda i: f"{items[i].name} — {items[i].label}", key=key)


def thumbs(
    items: Sequence[GalleryItem],
    indices: Sequence[int],
    captions: Sequence[str],
    cols: int = 6,
    side: int = 160,
) -> None:
    """Thumbnails in a grid of ``cols`` columns."""
    for start in range(0, len(indices), cols):
        row = st.columns(cols)
        for col, i, caption in zip(
            row, indices[start : start + cols], captions[start : start + cols], strict=False
        ):
            col.image(thumbnail(items[i].key, items[i].data, side), caption=caption, width="stretch")


@st.cache_data(show_spinner=False, max_entries=4000, ttl=PHOTO_TTL)
def thumbnail(photo_key: str, _data: bytes, side: int = 160):
    im = GalleryItem(photo_key, "", "", "upload", _data).thumbnail(side)
    return im


@st.cache_data(show_spinner=False, max_entries=4000, ttl=PHOTO_TTL)
def thumbnail_uri(photo_key: str, _data: bytes, side: int = 72) -> str:
    import base64
    import io

    im = thumbnail(photo_key, _data, side)
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- analyses worth caching -------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64, ttl=PHOTO_TTL)
def probe(key: str, _vectors: np.ndarray, _labels: tuple[str, ...], folds: int, c: float) -> neighbours.Probe:
    """The cross-validated linear probe (``key`` names the gallery, its labels and the encoder)."""
    return neighbours.linear_probe(_vectors, _labels, folds=folds, c=c)
