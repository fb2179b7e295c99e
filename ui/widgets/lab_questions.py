"""The embedding lab's predict-then-reveal questions, one per page (issue 14).

Each function asks its page's question with ``ui.widgets.question.ask``: the options and the right
answer come from ``vision_core.embeddings.questions`` (on the gallery, vectors, map, clusters,
probe or scores the page itself shows), the words from the page's own lesson (sections ``q_*``).
A page calls its question right under the heading whose figure would give the answer away.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lessons import Lesson, lesson
from ui import session
from ui.charts import lab as charts
from ui.session import Choice
from ui.widgets import question
from vision_core.embeddings import neighbours, questions
from vision_core.embeddings.gallery import GalleryItem
from vision_core.embeddings.neighbours import Agreement, Probe
from vision_core.embeddings.outliers import OutlierReport


def _text(page_id: str) -> Lesson:
    return lesson(page_id, session.lang())


def _photo_name(items: Sequence[GalleryItem]):
    return lambda i: f"{items[i].name} — {items[i].label}"


def _options_shown(items: Sequence[GalleryItem], options: Sequence[int]) -> None:
    """The photos a question offers, as thumbnails, so that a learner can judge them by eye."""
    charts.thumbs(items, list(options), charts.hover_names([items[i] for i in options]), cols=6, side=120)


def cosine(items: Sequence[GalleryItem], choice: Choice, vectors: np.ndarray) -> None:
    """Page 1: which band the cosine similarity of two shown photos falls in (the first photo and
    the first of another label), with the first photo's closest same-label photo in the why."""
    labels = [it.label for it in items]
    pair = questions.cosine_pair(labels)
    if pair is None:
        return
    text = _text("emb_gallery")
    a, b = items[pair[0]], items[pair[1]]
    charts.thumbs(items, list(pair), charts.hover_names([a, b]), cols=4, side=160)
    cos = neighbours.cosine_parts(vectors[pair[0]], vectors[pair[1]]).cosine
    why = [text("q_cos_why", a=a.name, b=b.name, cos=cos, dim=vectors.shape[1])]
    partner = questions.nearest_of_label(vectors, labels, pair[0])
    if partner is not None and partner.index != pair[1]:
        why.append(text("q_cos_partner", a=a.name, c=items[partner.index].name, cos=partner.similarity))
    why.append(text("q_cos_trained" if choice.trained else "q_cos_random"))
    question.ask(
        "gallery_cosine",
        text("q_cos", a=a.name, b=b.name),
        questions.cosine_band_question(vectors, *pair),
        "\n\n".join(why),
        format_func=lambda band: text(f"q_band_{questions.band_kind(band)}", lo=band[0], hi=band[1]),
    )


def tightest(items: Sequence[GalleryItem], coords: np.ndarray, dim: int) -> None:
    """Page 2: which label's photos lie closest together on the map."""
    labels = [it.label for it in items]
    q = questions.tightest_question(coords, labels)
    if q is None:
        return
    text = _text("emb_map")
    spreads = questions.label_spreads(coords, labels)
    (label, spread), (runner, runner_spread) = list(spreads.items())[:2]
    loosest, loosest_spread = list(spreads.items())[-1]
    why = text(
        "q_tight_why",
        label=label,
        spread=spread,
        runner=runner,
        runner_spread=runner_spread,
        loosest=loosest,
        loosest_spread=loosest_spread,
        dim=dim,
    )
    question.ask("map_tightest", text("q_tight"), q, why, format_func=str)


def nearest(items: Sequence[GalleryItem], vectors: np.ndarray, query: int) -> None:
    """Page 3: which of four photos is the query's nearest neighbour."""
    q = questions.nearest_question(vectors, [it.label for it in items], query)
    if q is None:
        return
    text = _text("emb_similar")
    _options_shown(items, q.options)
    ranking = ", ".join(
        f"**{items[h.index].name}** {text.num(h.similarity, '.3f')}"
        for h in questions.ranked_options(vectors, query, q)
    )
    why = text("q_near_why", query=items[query].name, ranking=ranking, dim=vectors.shape[1])
    question.ask(
        "similar_nearest", text("q_near", query=items[query].name), q, why, format_func=_photo_name(items)
    )


def pure_clusters(clusters: Sequence[int], labels: Sequence[str], purity: float) -> None:
    """Page 4: how many of the clusters hold photos of one label only."""
    text = _text("emb_clusters")
    pure, found = questions.pure_clusters(clusters, labels)
    why = text("q_pure_why", pure=pure, found=found, purity=purity)
    q = questions.pure_clusters_question(clusters, labels)
    question.ask("clusters_pure", text("q_pure"), q, why, format_func=text.num)


def probe_accuracy(probe: Probe, dim: int) -> None:
    """Page 5: what cross-validated accuracy the probe reaches."""
    text = _text("emb_probe")
    photos = int(probe.used.sum())
    why = text(
        "q_acc_why",
        right=photos - len(probe.misclassified),
        photos=photos,
        accuracy=probe.accuracy,
        chance=probe.chance,
        dim=dim,
    )
    q = questions.probe_accuracy_question(probe)
    prompt = text("q_acc", photos=photos, classes=len(probe.classes), folds=probe.folds)
    question.ask("probe_accuracy", prompt, q, why, format_func=lambda v: text.num(v, ".1%"))


def most_unusual(items: Sequence[GalleryItem], report: OutlierReport) -> None:
    """Page 6: which of four photos scores as the most unusual."""
    q = questions.most_unusual_question(report)
    if q is None:
        return
    text = _text("emb_outliers")
    _options_shown(items, q.options)
    top = q.correct
    runner = min((i for i in q.options if i != top), key=lambda i: report.ranks[i])
    why = text(
        "q_odd_why",
        name=items[top].name,
        label=items[top].label,
        score=float(report.scores[top]),
        runner=items[runner].name,
        runner_score=float(report.scores[runner]),
    )
    question.ask("outliers_top", text("q_odd"), q, why, format_func=_photo_name(items))


def agreement(ab: Agreement, n: int, others: Sequence[float]) -> None:
    """Page 7: what share of their neighbour lists encoders A and B have in common."""
    text = _text("emb_compare")
    chance = neighbours.chance_agreement(n, ab.k)
    why = text("q_agree_why", ab=ab.mean, k=ab.k, identical=ab.identical, chance=chance, photos=n)
    q = questions.agreement_question(ab, n, others)
    question.ask(
        "compare_agreement", text("q_agree", k=ab.k), q, why, format_func=lambda v: text.num(v, ".1%")
    )
