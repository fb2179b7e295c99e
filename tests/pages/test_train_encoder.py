"""Train it yourself 1 · Train an encoder, driven like a learner: Train runs one epoch per run and
shows the engine's own numbers for the same seed and settings, Stop stops, Continue goes on, a
picked digit is read by the run's network, and the page runs in Russian."""

from __future__ import annotations

import numpy as np
from conftest import assert_ok, open_page, plain

from vision_core.training import data, views
from vision_core.training.trainer import Trainer

PAGE = "pages/train_encoder.py"
KEY = "train_encoder"


def _start(at, epochs: int, model: str = "vit", objective: str = "classification", lang: str = "en"):
    """Set the settings as a learner does, press Train and run the page once."""
    at.radio(key=f"{KEY}_model__{lang}").set_value(model)
    at.radio(key=f"{KEY}_objective__{lang}").set_value(objective)
    at.run()
    at.slider(key=f"{KEY}_epochs_{model}_{objective}_digits").set_value(epochs)
    at.button(key=f"{KEY}_train").click()
    return at.run()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_train_runs_an_epoch_with_the_engines_numbers():
    at = _start(open_page(PAGE), epochs=2)
    assert_ok(at)
    run = at.session_state[f"{KEY}_run"]
    assert run.epochs_done == 1 and run.running
    engine = Trainer("vit", "classification", "digits", seed=0, epochs=2)
    expected = engine.step_epoch()
    got = next(iter(run.trainers.values())).history[-1]
    assert got.loss == expected.loss and got.accuracy == expected.accuracy  # the same seed: the same run
    assert np.array_equal(got.embeddings, expected.embeddings)
    shown = _metrics(at)
    assert shown["Loss (training)"] == f"{expected.loss:.3f}"
    assert shown["Held-out accuracy (its classifier)"] == f"{expected.accuracy:.1%}"
    assert shown["Nearest-neighbour vote (held out)"] == f"{expected.knn_accuracy:.1%}"
    # the held-out digit the page opens on (the first 0) is read by the run's network as it is now
    digits = data.load_dataset("digits")
    probe = digits.test_images[views.held_out_of_digit(digits, 0)[0]]
    reading = views.read_digit(engine, probe)
    text = " ".join(plain(m.value) for m in at.markdown)
    assert f"It reads a **{reading.digit}**: its classifier gives that digit {reading.share:.0%}." in text
    share = views.attention_on_ink(engine, probe)
    assert f"{share.on_ink:.0%} of its attention lands on patches that hold ink" in text
    image_captions = [c for el in at.get("image") for c in el.captions]
    assert any(c.startswith("Where the CLS token looks") for c in image_captions)

    at.run()  # the next run of the live part: the second and last epoch
    assert_ok(at)
    second = engine.step_epoch()
    assert run.done and not run.running
    assert _metrics(at)["Loss (training)"] == f"{second.loss:.3f}"
    captions = " ".join(c.value for c in at.caption)
    assert "Finished: 2 epochs in" in captions and f"{views.cpu_threads()} CPU threads" in captions


def test_stop_stops_and_continue_goes_on():
    at = _start(open_page(PAGE), epochs=3, model="cnn")
    run = at.session_state[f"{KEY}_run"]
    assert run.epochs_done == 1 and run.running
    at.button(key=f"{KEY}_stop").click()
    at.run()
    assert_ok(at)
    assert not run.running and run.epochs_done == 1
    at.run()
    assert run.epochs_done == 1, "a stopped run trains no more"
    assert "Stopped after 1 of 3 epochs" in " ".join(c.value for c in at.caption)
    assert at.button(key=f"{KEY}_stop").disabled and not at.button(key=f"{KEY}_resume").disabled
    at.button(key=f"{KEY}_resume").click()
    at.run()
    assert run.epochs_done == 2 and run.running


def test_pocket_cnn_metric_run_reports_a_linear_probe():
    at = _start(open_page(PAGE), epochs=1, model="cnn", objective="metric")
    assert_ok(at)
    expected = Trainer("cnn", "metric", "digits", seed=0, epochs=1).step_epoch()
    assert expected.accuracy_source == "linear probe"
    assert _metrics(at)["Held-out accuracy (linear probe)"] == f"{expected.accuracy:.1%}"
    assert any("no CLS token" in plain(m.value) for m in at.markdown)
    at.radio(key=f"{KEY}_probe__en").set_value("draw")  # the drawing canvas, still empty
    at.run()
    assert_ok(at)
    assert any(i.value.startswith("Draw a digit") for i in at.info)


def test_russian_page_runs():
    at = _start(open_page(PAGE, lang="ru"), epochs=1, model="cnn", lang="ru")
    assert_ok(at)
    assert at.title[0].value == "Обучите энкодер сами"
    assert at.session_state[f"{KEY}_run"].done
    assert "Готово" in " ".join(c.value for c in at.caption)


def test_the_question_reveals_the_runs_most_misread_digit():
    from conftest import wrong_then_right

    at = _start(open_page(PAGE), epochs=2, model="cnn")
    assert not any(str(r.key).startswith("q_train_encoder_misread") for r in at.radio)  # not while it runs
    at.run()  # the second and last epoch
    assert_ok(at)
    engine = Trainer("cnn", "classification", "digits", seed=0, epochs=2)
    engine.run()
    m = views.misreads(engine)  # the same seed: the same run, pictures read the same way
    q = views.misread_question(m)
    assert q is not None and m.total_wrong == round(
        (1 - engine.history[-1].accuracy) * len(engine.test_labels)
    )
    said = wrong_then_right(at, "train_encoder_misread", q, str(q.correct))
    assert f"reads {m.wrong[q.correct]} of its {m.pictures[q.correct]} held-out pictures" in said
    assert f"In all, {m.total_wrong} pictures are misread" in said


def test_the_question_in_russian():
    from conftest import assert_russian, wrong_then_right

    at = _start(open_page(PAGE, lang="ru"), epochs=1, model="cnn", lang="ru")
    engine = Trainer("cnn", "classification", "digits", seed=0, epochs=1)
    engine.run()
    q = views.misread_question(views.misreads(engine))
    assert q is not None
    wrong_then_right(at, "train_encoder_misread", q, str(q.correct), "ru")
    assert_russian(at)
