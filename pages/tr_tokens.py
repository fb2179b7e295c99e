"""Transformer 2 · CLS token and positions: the sequence with the CLS token in front, the learned
position embeddings and how alike they are (the 2-D structure training gives them), and CLIP's
extra LayerNorm ``ln_pre`` where the encoder has it."""

import plotly.graph_objects as go
import streamlit as st

from lessons import lesson
from ui import show, state, transformer
from ui.feature_views import draw
from vision_core import figures
from vision_core.cnn.stages import format_shape
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.transformer import attention, tokens

SHOW_TOKENS, SHOW_DIMS = 8, 32
text = lesson("tr_tokens", state.lang())
photo = state.current_photo()
st.title(text("title"))
show.photo_error_banner()
st.markdown(text("intro"))

choice = show.choose_model("transformer")
spec = encoders.get(choice.name)
model = show.load(choice)
keep_aspect = transformer.keep_aspect_toggle("tr_tokens_keep_aspect")
tr = transformer.token_trace(photo.key, photo.data, choice.name, choice.weights, keep_aspect)
rows, cols = attention.grid_shape(tr)
n, dim = tr["patch_embed.tokens"].shape[1:]
names = tokens.token_names(SHOW_TOKENS, cols)

# --- the sequence ---------------------------------------------------------------------------
st.header(text("sequence_heading"))
chain = [
    ("patch_embed.tokens", tr["patch_embed.tokens"].shape),
    ("cls_prepended", tr["cls_prepended"].shape),
    ("pos_added", tr["pos_added"].shape),
]
if "norm_pre" in tr:
    chain.append(("norm_pre", tr["norm_pre"].shape))
st.markdown(
    text(
        "sequence_text",
        n=n,
        dim=dim,
        tokens=n + 1,
        rows=rows,
        cols=cols,
        chain=" → ".join(f"`{name}` {format_shape(shape[1:])}" for name, shape in chain),
    )
)


def token_heatmap(values, labels, key: str, title: str) -> None:
    fig = go.Figure(
        go.Heatmap(
            z=values,
            y=labels,
            colorscale="RdBu_r",
            zmid=0,
            showscale=False,
            hovertemplate="%{y}, number %{x}: %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(
        height=260, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title=title, xaxis_title=text("dims_axis")
    )
    draw(st, fig, key)


a, b, c = st.columns(3)
with a:
    token_heatmap(
        tr.array("patch_embed.tokens")[0, : SHOW_TOKENS - 1, :SHOW_DIMS],
        names[1:],
        "tr_tokens_patches",
        text("heat_patches"),
    )
with b:
    token_heatmap(
        tr.array("cls_prepended")[0, :SHOW_TOKENS, :SHOW_DIMS], names, "tr_tokens_cls", text("heat_cls")
    )
with c:
    token_heatmap(
        tr.array("pos_added")[0, :SHOW_TOKENS, :SHOW_DIMS], names, "tr_tokens_pos_added", text("heat_pos")
    )
st.caption(text("heat_caption", tokens=SHOW_TOKENS, dims=SHOW_DIMS, dim=dim, total=n + 1))

cls = tr.array("cls_prepended")[0, 0]
patch_lengths = embeddings.describe_vector(tr.array("patch_embed.tokens")[0, 0])
st.markdown(
    text(
        "cls_text",
        dim=dim,
        first=", ".join(f"{v:.3g}" for v in cls[:4]),
        cls_length=embeddings.vector_length(cls),
        patch_length=patch_lengths.length,
    )
)

# --- position embeddings --------------------------------------------------------------------
st.header(text("pos_heading"))
learned_mosaic, near, learned = transformer.positions(choice.name, choice.weights)
st.markdown(
    text(
        "pos_text",
        tokens=n + 1,
        dim=dim,
        diff=tokens.position_difference(model, tr),
        lr=learned[0],
        lc=learned[1],
    )
)
if (rows, cols) != learned:
    st.info(
        text("pos_resampled", lr=learned[0], lc=learned[1], rows=rows, cols=cols),
        icon=":material/open_in_full:",
    )

left, right = st.columns([3, 2])
with left:
    st.subheader(text("mosaic_heading", lr=learned[0], lc=learned[1]))
    picture = figures.colorize_mosaic(figures.normalize(learned_mosaic, vmin=-1, vmax=1), "RdBu_r")
    st.image(figures.enlarge(picture, max(1, 640 // picture.shape[1])), width="stretch")
    st.caption(text("mosaic_caption", lr=learned[0], lc=learned[1]))
with right:
    st.subheader(text("one_pos_heading"))
    r, c = (
        st.session_state.get(f"tr_tokens_pos_{k}", d)
        for k, d in (("row", learned[0] // 2), ("col", learned[1] // 2))
    )
    one = transformer.position_map(
        choice.name, choice.weights, min(int(r), learned[0] - 1), min(int(c), learned[1] - 1)
    )
    r, c = show.position_picker(
        figures.colorize(one, "RdBu_r", vmin=-1, vmax=1),
        learned,
        "tr_tokens_pos",
        labels=(text("row"), text("col")),
        height=320,
    )
    st.caption(text("one_pos_caption", row=r, col=c))
key = "pos_trained" if choice.trained else "pos_random"
st.markdown(text(key, near=near.neighbours, far=near.far, all=near.all_pairs))

# --- CLIP's ln_pre --------------------------------------------------------------------------
st.header(text("ln_heading"))
if "norm_pre" not in tr:
    st.info(
        text("ln_absent", model=spec.title, clip=encoders.get("clip_vit_b32").title), icon=":material/info:"
    )
else:
    ln = transformer.norm_breakdown(
        photo.key, photo.data, choice.name, choice.weights, keep_aspect, "norm_pre"
    )
    st.markdown(
        text(
            "ln_text", model=spec.title, dim=dim, mean=ln.mean, std=ln.std, eps=ln.eps, diff=ln.max_difference
        )
    )
    st.dataframe(
        {
            text("col_number"): list(range(6)),
            text("col_before"): ln.before[:6],
            text("col_normalised"): ln.normalised[:6],
            text("col_gamma"): ln.gamma[:6],
            text("col_beta"): ln.beta[:6],
            text("col_after"): ln.after[:6],
            text("col_recorded"): ln.recorded[:6],
        },
        hide_index=True,
        key="tr_tokens_ln_table",
    )
    transformer.ln_spread_chart(ln, text, "tr_tokens_ln_std")
    st.caption(text("ln_caption"))
transformer.untrained_note(choice)
