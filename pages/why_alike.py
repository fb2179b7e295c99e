"""Why 4 · Why these two look alike: two photos' cosine similarity and where it comes from — for a
CNN, each cell of the last feature map against the other photo's pooled vector, and the exact
per-cell contributions to the similarity (GAP is linear); for a ViT, each patch's best-matching
patch in the other photo."""

import streamlit as st

from ui import session
from ui.cached import why_alike as cached
from ui.charts.layout import draw
from ui.charts.tables import lesson_table
from ui.charts.why_alike import matches_figure, pair_over_photos
from ui.presenter import step
from ui.widgets import question
from ui.widgets.encoder import choose_encoder
from ui.widgets.header import page_header
from ui.widgets.photo_source import second_photo
from vision_core.cnn.stages import format_shape
from vision_core.why import alike

TOP = 5  # cells listed
text = page_header("why_alike")
choice = choose_encoder("why")
subject, spec = session.subject(choice), choice.encoder

# --- the second photo -----------------------------------------------------------------------
step(text("second_heading"))
second = second_photo(text, "why_alike")
if second is None:
    st.stop()
other = subject.replace(photo=second)
pictures = (cached.pixels(subject), cached.pixels(other))
names = (
    text("photo_a", label=session.photo_name(subject.photo)),
    text("photo_b", label=session.photo_name(second)),
)
cos = cached.embedding_cosine(subject, other)
a_col, b_col, number_col = st.columns(3)
for column, picture, name in zip((a_col, b_col), pictures, names, strict=True):
    column.image(picture, caption=name, width="stretch")
number_col.metric(text("cosine_label"), text.num(cos, ".3f"))
number_col.markdown(text("cosine_text", cos=cos, model=spec.title))

if spec.family != "vit":
    # --- CNN: every cell against the other photo's pooled vector ------------------------------
    cs, grid = cached.cells(subject, other), cached.last_grid(subject)
    rows, cols = cs.to_pooled[0].shape
    step(text("cells_heading"))
    st.markdown(text("cells_text", step=grid.name, shape=format_shape(grid.shape[1:]), rows=rows, cols=cols))
    titles = (text("to_pooled_a"), text("to_pooled_b"))
    pair_over_photos(st.columns(2), pictures, cs.to_pooled, titles, text("cos_scale"), "why_alike_cells")
    (ra, ca, va), (rb, cb, vb) = (alike.strongest_cell(m) for m in cs.to_pooled)
    st.markdown(text("cells_reading", ra=ra, ca=ca, va=va, rb=rb, cb=cb, vb=vb))
    if not cached.embedding_is_pooled(subject):
        st.info(text("not_pooled", model=spec.title, gap_cos=cs.cosine, cos=cos))

    step(text("contrib_heading"))
    st.markdown(text("contrib_text"))
    said = alike.share_numbers(cs.contributions[0], TOP)
    q = alike.top_share_question(cs.contributions[0], TOP)
    question.ask(
        "top_share", text("q_share", **said), q, text("q_share_why", **said),
        format_func=lambda v: text.num(v, ".0%"),
    )  # fmt: skip
    titles = (text("contrib_a"), text("contrib_b"))
    pair_over_photos(
        st.columns(2), pictures, cs.contributions, titles, text("contrib_scale"), "why_alike_contrib"
    )
    (sum_a, sum_b), (neg_a, neg_b) = cs.sums, cs.negative
    st.markdown(text("contrib_sum", n=rows * cols, sum_a=sum_a, sum_b=sum_b, cos=cs.cosine))
    if neg_a or neg_b:
        st.markdown(text("contrib_negative", neg_a=neg_a, neg_b=neg_b))
    share = alike.top_share(cs.contributions[0], TOP)
    st.markdown(text("contrib_top", k=TOP, n=rows * cols, share=share))
    table = [
        {"photo": name, "cell": text("cell", row=c.row, col=c.col), "value": text.num(c.value, ".4f"),
         "share": text.num(c.share, ".1%")}
        for name, contributions in zip(names, cs.contributions, strict=True)
        for c in alike.top_cells(contributions, TOP)
    ]  # fmt: skip
    lesson_table(table, text, "why_alike_top_cells")
else:
    # --- ViT: patch to patch ------------------------------------------------------------------
    m = cached.matches(subject, other)
    n = m.grid_a[0] * m.grid_a[1]
    step(text("matches_heading"))
    st.markdown(text("matches_text", rows=m.grid_a[0], cols=m.grid_a[1], n=n, mutual=m.mutual_count))
    k = st.slider(text("lines_label"), 1, min(40, n), min(12, n), key="why_alike_lines")
    top = alike.top_matches(m, k)
    legend = (text("mutual_name"), text("one_way_name"))
    draw(
        st,
        matches_figure(*pictures, top, (m.grid_a, m.grid_b), legend, text("lines_title", k=k)),
        "why_alike_lines_fig",
    )
    titles = (text("score_a"), text("score_b"))
    pair_over_photos(st.columns(2), pictures, m.score_map(), titles, text("cos_scale"), "why_alike_scores")
    table = [
        {"a": text("cell", row=t.a[0], col=t.a[1]), "b": text("cell", row=t.b[0], col=t.b[1]),
         "score": text.num(t.score, ".3f"), "mutual": text("yes" if t.mutual else "no")}
        for t in top
    ]  # fmt: skip
    lesson_table(table, text, "why_alike_top_matches")
    st.caption(text("matches_note"))
