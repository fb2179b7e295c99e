"""What the "Train it yourself" pages show of a run (vision_core.training.views), and the trained tiny
ViT as an encoder of the registry: read from our own package, its head naming digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vision_core.engine import encoders, weights
from vision_core.predictions import class_names, top_k
from vision_core.training import data, recipe, views
from vision_core.training.trainer import Trainer, linear_probe


@pytest.fixture(scope="module")
def digits():
    return data.load_dataset("digits")


def test_tiny_vit_digits_is_the_committed_file_read_from_our_package(digits):
    entry = encoders.get("tiny_vit_digits")
    assert entry.weights.embedded and entry.weights.sha256 == recipe.WEIGHTS_SHA256
    assert weights.locate(entry.weights).samefile(recipe.WEIGHTS_FILE)
    assert entry.weights.size_bytes == recipe.WEIGHTS_FILE.stat().st_size
    model = encoders.load_model("tiny_vit_digits", allow_download=False)
    x = data.to_input(digits.test_images[:8])
    with torch.no_grad():
        assert torch.equal(model(x), recipe.tiny_vit_digits()(x))
    assert (entry.patch, entry.embedding_dim, entry.preprocessing) == (4, 64, recipe.PREPROCESSING)


def test_top_k_names_digits_for_the_digit_head(digits):
    model = recipe.tiny_vit_digits()
    with torch.no_grad():
        probs = torch.softmax(model(data.to_input(digits.test_images[:1])), -1)[0].numpy()
    best = top_k(probs, 3, encoders.get("tiny_vit_digits").labels)
    assert [p.label for p in best] == [str(p.index) for p in best]
    assert best[0].label == str(digits.test_labels[0])  # the committed model reads this digit right
    assert class_names("digits") == [str(d) for d in range(10)]
    with pytest.raises(ValueError, match="expected 1000"):
        top_k(probs, 3)  # ImageNet names for a 10-way head are refused, not made up


def test_filter_mosaic_puts_each_filter_on_its_own_scale():
    filters = np.stack([np.full((3, 3), 2.0), -np.eye(3) * 0.01, np.zeros((3, 3))])
    mosaic = views.filter_mosaic(filters, per_row=2)
    assert mosaic.shape == (7, 7)
    assert np.all(mosaic[:3, :3] == 1.0) and np.allclose(mosaic[:3, 4:], -np.eye(3))
    assert np.all(mosaic[4:, :3] == 0.0) and np.isnan(mosaic[4:, 4:]).all() and np.isnan(mosaic[3]).all()


def test_live_run_takes_turns_stops_and_resumes(monkeypatch):
    clock = [100.0]  # a clock the test moves by hand: what is counted, not how fast anything runs
    monkeypatch.setattr(views.time, "perf_counter", lambda: clock[0])
    trainers = [Trainer("cnn", o, seed=0, epochs=2) for o in ("classification", "metric")]
    run = views.LiveRun(trainers, score=True)
    assert run.step().epoch == 1 and run.step().epoch == 1  # the one behind goes next
    assert run.epochs_done == 2 and set(run.scores) == {"classification", "metric"}
    clock[0] += 7.0
    assert run.elapsed == 7.0
    run.stop()
    assert run.step() is None and run.epochs_done == 2 and not run.running
    clock[0] += 50.0
    assert run.elapsed == 7.0  # time spent stopped is not counted
    run.resume()
    clock[0] += 3.0
    assert run.elapsed == 10.0
    run.step(), run.step()
    assert run.done and not run.running and run.epochs_done == run.epochs_planned == 4
    clock[0] += 20.0
    assert run.elapsed == 10.0  # a finished run's time stands still


def test_scores_are_the_engines_and_the_probe_is_fitted_for_cross_entropy(digits):
    trainer = Trainer("cnn", "classification", seed=0, epochs=1)
    report = trainer.step_epoch()
    scores = views.objective_scores(trainer, report)
    train = trainer.embed(digits.train_images)
    expected = linear_probe(train, digits.train_labels, report.embeddings, digits.test_labels)
    assert scores.knn_accuracy == report.knn_accuracy and scores.probe_accuracy == expected
    c = views.curves(trainer.history)
    assert c.loss.tolist() == [report.loss] and c.projected(3) == pytest.approx(3 * c.seconds)


def test_read_digit_and_ink_share(digits):
    picture = digits.test_images[0]
    trainer = Trainer("vit", "classification", seed=0, epochs=1)
    trainer.model.load_state_dict(recipe.tiny_vit_digits().state_dict())  # the trained weights
    reading = views.read_digit(trainer, picture)
    assert (reading.digit, reading.source) == (digits.test_labels[0], "classifier") and reading.share > 0.5
    ink = views.attention_on_ink(trainer, picture)
    assert ink.on_ink == pytest.approx(recipe.attention_on_ink(trainer.model, picture[None])[0])
    assert ink.ink_patches == recipe.ink_patches(picture[None]).mean()
    metric = Trainer("cnn", "metric", seed=0, epochs=1)
    metric.step_epoch()
    neighbours = views.read_digit(metric, picture)
    assert neighbours.source == "neighbours" and neighbours.share in {0.2, 0.4, 0.6, 0.8, 1.0}


def test_digit_pixels_are_the_models_input_as_grey(digits):
    pixels = views.digit_pixels(digits.test_images[0])
    x = data.to_input(digits.test_images[0])[0, 0].numpy()  # −1..1
    assert pixels.shape == (32, 32, 3)
    assert np.abs(pixels[..., 0] / 255 - (x + 1) / 2).max() <= 0.5 / 255 + 1e-6


def test_an_opaque_canvas_gives_a_clean_ground():
    canvas = np.zeros((192, 192, 4), np.uint8)  # white strokes on a painted black ground, alpha 255
    canvas[..., 3] = 255
    rows, cols = np.mgrid[:192, :192]
    ring = np.hypot(rows - 96, (cols - 96) * 1.5)
    canvas[(ring > 40) & (ring < 55), :3] = 255  # a zero
    digit = views.canvas_digit(canvas)
    assert digit.shape == (8, 8) and digit[3:5, 3:5].max() == 0.0 and digit.max() == 1.0  # its hole is ground
    transparent = np.zeros_like(canvas)
    transparent[..., 3] = canvas[..., 0]  # strokes as alpha on a transparent ground: the same digit
    assert np.array_equal(views.canvas_digit(transparent), digit)
    with pytest.raises(ValueError, match="no ink"):
        views.canvas_digit(np.zeros_like(canvas) + np.uint8(255) * (np.arange(4) == 3))
