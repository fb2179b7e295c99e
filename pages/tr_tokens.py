"""Transformer 2 · CLS token and positions: the sequence with the CLS token in front, the learned
position embeddings and how alike they are (the 2-D structure training gives them), and CLIP's
extra LayerNorm ``ln_pre`` where the encoder has it."""

import streamlit as st

from ui import session
from ui.cached import core
from ui.cached import transformer as cached
from ui.charts import curves, vectors
from ui.charts.layout import draw
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder, keep_aspect_toggle, untrained_note
from ui.widgets.header import page_header
from ui.widgets.pickers import position_picker
from vision_core import figures
from vision_core.cnn.stages import format_shape
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders
from vision_core.transformer import attention, tokens

SHOW_TOKENS, SHOW_DIMS = 8, 32
text = page_header("tr_tokens")
choice = choose_encoder("transformer")
spec = choice.encoder
subject = session.subject(choice, keep_aspect=keep_aspect_toggle("tr_tokens_keep_aspect"))
tr = cached.token_trace(subject)
rows, cols = attention.grid_shape(tr)
n, dim = tr["patch_embed.tokens"].shape[1:]
names = tokens.token_names(SHOW_TOKENS, cols)
says = {"model": spec.title, "n": n, "dim": dim, "tokens": n + 1, "rows": rows, "cols": cols}

# --- the sequence ---------------------------------------------------------------------------
step(text("sequence_heading"))
learned = tokens.learned_grid(core.model(choice))
table = {"lr": learned[0], "lc": learned[1], "table": 1 + learned[0] * learned[1]}
why = "q_tokens_why" if (rows, cols) == learned else "q_tokens_why_stretched"
q = tokens.sequence_length_question(tr, learned)
question.ask("tokens", text("q_tokens", **says), q, text(why, **table, **says), format_func=text.num)
steps = [s for s in ("patch_embed.tokens", "cls_prepended", "pos_added", "norm_pre") if s in tr]
chain = " → ".join(f"`{s}` {format_shape(tr[s].shape[1:])}" for s in steps)
st.markdown(text("sequence_text", chain=chain, **says))
heatmaps = (
    ("patch_embed.tokens", slice(0, SHOW_TOKENS - 1), names[1:], "tr_tokens_patches", "heat_patches"),
    ("cls_prepended", slice(0, SHOW_TOKENS), names, "tr_tokens_cls", "heat_cls"),
    ("pos_added", slice(0, SHOW_TOKENS), names, "tr_tokens_pos_added", "heat_pos"),
)
for column, (name, shown, labels, key, title) in zip(st.columns(3), heatmaps, strict=True):
    values = tr.array(name)[0, shown, :SHOW_DIMS]
    draw(column, vectors.token_heatmap(values, labels, text(title), text("dims_axis")), key)
st.caption(text("heat_caption", dims=SHOW_DIMS, total=n + 1, **{**says, "tokens": SHOW_TOKENS}))

cls = tr.array("cls_prepended")[0, 0]
first = ", ".join(text.num(v, ".3g") for v in cls[:4])
patch_length = embeddings.describe_vector(tr.array("patch_embed.tokens")[0, 0]).length
lengths = {"cls_length": embeddings.vector_length(cls), "patch_length": patch_length}
st.markdown(text("cls_text", first=first, **lengths, **says))

# --- position embeddings --------------------------------------------------------------------
step(text("pos_heading"))
learned_mosaic, near, learned = cached.positions(choice)
says |= {"lr": learned[0], "lc": learned[1], "near": near.neighbours, "far": near.far, "all": near.all_pairs}
st.markdown(text("pos_text", diff=tokens.position_difference(core.model(choice), tr), **says))
if (rows, cols) != learned:
    stretched = cached.stretched_positions(choice, (rows, cols))
    more = {"stretched_near": stretched.neighbours, "stretched_far": stretched.far}
    st.info(text("pos_resampled", **more, **says), icon=":material/open_in_full:")

left, right = st.columns([3, 2])
with left:
    st.subheader(text("mosaic_heading", **says))
    picture = figures.colorize_mosaic(figures.normalize(learned_mosaic, vmin=-1, vmax=1), "RdBu_r")
    st.image(figures.enlarge(picture, max(1, 640 // picture.shape[1])), width="stretch")
    st.caption(text("mosaic_caption", **says))
with right:
    st.subheader(text("one_pos_heading"))
    r, c = (
        st.session_state.get(f"tr_tokens_pos_{k}", d)
        for k, d in (("row", learned[0] // 2), ("col", learned[1] // 2))
    )
    one = cached.position_map(choice, min(int(r), learned[0] - 1), min(int(c), learned[1] - 1))
    r, c = position_picker(
        figures.colorize(one, "RdBu_r", vmin=-1, vmax=1),
        learned,
        "tr_tokens_pos",
        labels=(text("row"), text("col")),
        height=320,
    )
    st.caption(text("one_pos_caption", row=r, col=c))
st.markdown(text("pos_trained" if choice.trained else "pos_random", **says))

# --- CLIP's ln_pre --------------------------------------------------------------------------
step(text("ln_heading"))
if "norm_pre" not in tr:
    clip = encoders.get("clip_vit_b32").title
    st.info(text("ln_absent", clip=clip, **says), icon=":material/info:")
else:
    ln = cached.norm_breakdown(subject, "norm_pre")
    numbers = {"mean": ln.mean, "std": ln.std, "eps": ln.eps, "diff": ln.max_difference}
    st.markdown(text("ln_text", **numbers, **says))
    columns = ("number", "before", "normalised", "gamma", "beta", "after", "recorded")
    table = [range(6), ln.before, ln.normalised, ln.gamma, ln.beta, ln.after, ln.recorded]
    table = {text(f"col_{c}"): list(v[:6]) for c, v in zip(columns, table, strict=True)}
    st.dataframe(table, hide_index=True, key="tr_tokens_ln_table")
    names = (text("std_before"), text("std_after"))
    fig = curves.spread_lines(ln.std_before, ln.std_after, names, text("token_axis"), text("std_axis"), False)
    draw(st, fig, "tr_tokens_ln_std")
    st.markdown(text("ln_caption"))
untrained_note(choice)
