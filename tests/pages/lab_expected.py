"""What the embedding lab's pages should show, computed straight from vision_core for a small gallery
(four samples with three variants each), so that the AppTests compare page numbers with the engine."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from conftest import plain
from PIL import Image

from ui.gallery import GallerySpec
from vision_core.embeddings import gallery
from vision_core.embeddings import vectors as embeddings
from vision_core.engine import encoders

SPEC = GallerySpec(("chelsea", "coffee", "astronaut", "rocket"), 3)


def session(**extra) -> dict:
    """Session state that opens a lab page on the small gallery."""
    return {"lab_spec": SPEC, **extra}


@cache
def items() -> tuple[gallery.GalleryItem, ...]:
    return tuple(gallery.sample_items(SPEC.sample_ids, SPEC.variants, SPEC.kinds, SPEC.seed))


@cache
def vectors(name: str = "efficientnet_lite0", weights: str = "pretrained") -> np.ndarray:
    model = encoders.load_model(name) if weights == "pretrained" else encoders.seeded_model(name, seed=0)
    return embeddings.embed(model, (it.image() for it in items()), name, total=len(items()))


def labels() -> list[str]:
    return [it.label for it in items()]


def png(color=(200, 30, 30), size=(96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def markdown(at) -> str:
    return "\n".join(plain(m.value) for m in [*at.markdown, *at.caption])


def quiz(at, key: str, q, shown, *, lang: str = "en") -> str:
    """Drive the page's question ``key`` as a learner would and check it against ``q``, the
    question vision_core makes for this gallery (options shown by ``shown``): nothing is revealed
    before an answer; in English a wrong answer first (the verdict and the right answer shown),
    then "ask again" and the right one; in Russian the right one. Returns what the reveal says."""
    from conftest import answer_question

    radio = next(r for r in at.radio if str(r.key).startswith(f"q_{key}__"))
    assert list(radio.options) == [shown(o) for o in q.options]
    before = " ".join(str(e.value).lower() for e in (*at.success, *at.warning, *at.info))
    assert "model in use gives" not in before and "модель, выбранная сейчас" not in before
    if lang == "en":
        wrong = next(i for i, o in enumerate(q.options) if o != q.correct)
        _, said = answer_question(at, key, wrong)
        assert f"**Not this time.** You said {shown(q.options[wrong])}" in said
        assert f"the model in use gives **{shown(q.correct)}**" in said
        at.button(key=f"q_{key}_again").click().run()
        _, said = answer_question(at, key, q.answer)
        assert f"**Right.** The model in use gives **{shown(q.correct)}**" in said
    else:
        _, said = answer_question(at, key, q.answer)
        assert f"**Верно.** Модель, выбранная сейчас, даёт **{shown(q.correct)}**" in said
    return said


def ru(value, spec: str = "") -> str:
    """A number as the Russian pages write it."""
    from lessons import localize

    return localize(format(value, spec), value, "ru")
