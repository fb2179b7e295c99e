"""Train it yourself 2 · Three objectives: Train runs the three side by side, one epoch of one of them
per run, and shows the engine's own scores for the same seed — 5-NN and the linear probe on each
one's embeddings; Stop stops; the Russian page runs."""

from __future__ import annotations

from conftest import assert_ok, open_page, plain

from vision_core.training import views
from vision_core.training.objectives import OBJECTIVES
from vision_core.training.trainer import Trainer

PAGE = "pages/train_objectives.py"
KEY = "train_objectives"


def _start(lang: str = "en", epochs: int = 1):
    at = open_page(PAGE, lang=lang)
    at.slider(key=f"{KEY}_epochs_cnn_classification_digits").set_value(epochs)
    at.button(key=f"{KEY}_train").click()
    return at.run()


def test_three_objectives_side_by_side_with_the_engines_scores():
    at = _start()
    assert_ok(at)
    run = at.session_state[f"{KEY}_run"]
    assert run.epochs_done == 1 and list(run.scores) == ["classification"]
    at.run()
    at.run()
    assert_ok(at)
    assert run.done and list(run.scores) == list(OBJECTIVES)
    shown = [m.value for m in at.metric]
    expected = []
    for objective in OBJECTIVES:
        engine = Trainer("cnn", objective, "digits", seed=0, epochs=1)
        scores = views.objective_scores(engine, engine.step_epoch())
        assert scores == run.scores[objective]  # the same seed: the same run, number for number
        expected += [f"{scores.knn_accuracy:.1%}", f"{scores.probe_accuracy:.1%}"]
    assert shown == expected
    unsupervised = run.scores["self_supervised"]
    text = " ".join(plain(m.value) for m in at.markdown)
    assert f"its embedding's vote gets {unsupervised.knn_accuracy:.0%} of the held-out digits right" in text
    assert len(at.get("plotly_chart")) == 3  # one map per objective


def test_stop_stops_the_three():
    at = _start(epochs=2)
    run = at.session_state[f"{KEY}_run"]
    at.button(key=f"{KEY}_stop").click()
    at.run()
    assert_ok(at)
    at.run()
    assert not run.running and run.epochs_done == 1 and list(run.scores) == ["classification"]
    assert any("Waits for its first epoch." in c.value for c in at.caption)


def test_russian_page_runs():
    at = _start(lang="ru")
    assert_ok(at)
    assert at.title[0].value == "Три способа обучить энкодер"
    assert at.session_state[f"{KEY}_run"].epochs_done == 1


def test_the_question_reveals_what_the_self_supervised_vote_misreads():
    from conftest import wrong_then_right

    at = _start()
    at.run()
    at.run()
    assert_ok(at)
    assert at.session_state[f"{KEY}_run"].done
    engine = Trainer("cnn", "self_supervised", "digits", seed=0, epochs=1)
    report = engine.step_epoch()
    m = views.misreads(engine, vote=True)
    assert m.total_wrong == round((1 - report.knn_accuracy) * len(engine.test_labels))
    q = views.misread_question(m)
    assert q is not None
    said = wrong_then_right(at, "train_objectives_misread", q, str(q.correct))
    assert f"the vote reads {m.wrong[q.correct]} of its {m.pictures[q.correct]} held-out pictures" in said


def test_the_question_in_russian():
    from conftest import assert_russian, wrong_then_right

    at = _start(lang="ru")
    at.run()
    at.run()
    engine = Trainer("cnn", "self_supervised", "digits", seed=0, epochs=1)
    engine.step_epoch()
    q = views.misread_question(views.misreads(engine, vote=True))
    assert q is not None
    wrong_then_right(at, "train_objectives_misread", q, str(q.correct), "ru")
    assert_russian(at)
