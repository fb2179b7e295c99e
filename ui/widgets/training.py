"""The controls of the "Train it yourself" pages: the run's settings, Train / Stop / Continue, the
learner's run kept in their own session, the digit to look at (picked from the held-out set or
drawn on a canvas), and the fragment that trains one epoch per run while the run goes on.

A run is a :class:`~vision_core.training.views.LiveRun` in ``st.session_state`` — one per page and
session, never in a cache shared across sessions.  While it runs, the page's live part is an
``st.fragment`` rerun every :data:`TICK` seconds; each of its runs trains one epoch (timer reruns
queue behind a running one, they never cut an epoch short), and a click on Stop reruns the page,
which ends the run before the next epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lessons import Lesson, lesson
from ui import session
from ui.cached import training as cached
from ui.charts.palette import GROUND, INK
from vision_core.training import data, views
from vision_core.training.models import CLASSES, MODEL_KINDS
from vision_core.training.objectives import OBJECTIVES
from vision_core.training.recipe import RECIPE
from vision_core.training.trainer import Trainer
from vision_core.training.views import LiveRun

TICK = 0.1  # seconds between two epochs' fragment runs (an epoch itself takes about a second)
CANVAS = 192  # the drawing canvas's side in pixels
STROKE = 18  # the brush: about the stroke of a digit written with a thick pen at that size
MAX_SEED = 9999
TINY_VIT = "tiny_vit_digits"  # the recipe's trained tiny ViT in the encoder registry


def words() -> Lesson:
    """The words every "Train it yourself" page shares (lessons/<lang>/train_common.md)."""
    return lesson("train_common", session.lang())


@dataclass(frozen=True)
class Settings:
    model_kind: str
    objectives: tuple[str, ...]
    dataset: data.DatasetName
    seed: int
    epochs: int

    def trainers(self) -> list[Trainer]:
        """A fresh trainer for each objective, all from the same seed."""
        return [
            Trainer(self.model_kind, o, self.dataset, seed=self.seed, epochs=self.epochs)  # type: ignore[arg-type]
            for o in self.objectives
        ]


def _radio(key: str, name: str, options, default) -> str:
    """A horizontal radio whose labels are the lesson's ``<name>_<option>`` and whose choice survives
    a change of language."""
    text = words()
    labels = {o: text(f"{name}_{o}") for o in options}
    return session.remembered_choice(
        st.radio, f"{key}_{name}", list(options), default, label=text(f"{name}_label"),
        format_func=labels.get, horizontal=True,
    )  # fmt: skip


def run_settings(
    key: str, *, objective: bool = True, model: str = RECIPE.model_kind, epochs: int | None = None
) -> Settings:
    """The model, the objective (or all three when ``objective`` is False), the data set, the seed
    and the number of epochs; the epochs start at the engine's default for the choice (or ``epochs``)."""
    text = words()
    left, right = st.columns(2)
    with left:
        kind = _radio(key, "model", MODEL_KINDS, model)
        chosen = (_radio(key, "objective", OBJECTIVES, RECIPE.objective),) if objective else OBJECTIVES
        name = _radio(key, "dataset", data.DATASETS, RECIPE.dataset)
    with right:
        seed = st.number_input(
            text("seed_label"), 0, MAX_SEED, RECIPE.seed, key=f"{key}_seed", help=text("seed_help")
        )
        default = epochs or cached.default_epochs(kind, chosen[0], name)
        count = st.slider(
            text("epochs_label"), 1, 2 * default, default, key=f"{key}_epochs_{kind}_{chosen[0]}_{name}",
            help=text("epochs_help", default=default),
        )  # fmt: skip
    return Settings(kind, tuple(chosen), name, int(seed), int(count))


def first(run: LiveRun) -> Trainer:
    """The run's first (on the one-objective page: only) trainer."""
    return next(iter(run.trainers.values()))


def run_line(trainer: Trainer) -> str:
    """One line naming what a trainer trains: model, objective, data set, seed, epochs."""
    text = words()
    names = {
        "model": text(f"model_{trainer.model_kind}"),
        "objective": text(f"objective_{trainer.objective}"),
    }
    return text("run_line", dataset=text(f"dataset_{trainer.data.name}"), seed=trainer.seed, **names)


def run_progress(run: LiveRun) -> None:
    """The run's progress bar and its time: so far and projected at this pace, or in total."""
    text = words()
    c = views.curves([r for t in run.trainers.values() for r in t.history])
    says = {"epoch": run.epochs_done, "epochs": run.epochs_planned, "seconds": c.seconds, "wall": run.elapsed}
    st.progress(run.epochs_done / run.epochs_planned, text=text("progress", **says))
    state = "running" if run.running else ("done" if run.done else "stopped")
    projected = c.projected(run.epochs_planned)
    st.caption(text(f"time_{state}", projected=projected, threads=views.cpu_threads(), **says))


def current_run(key: str) -> LiveRun | None:
    return st.session_state.get(f"{key}_run")


def run_buttons(key: str, settings: Settings, *, score: bool = False) -> LiveRun | None:
    """Train (a new run with ``settings``), Stop, Continue; the learner's run after the click."""
    text = words()
    run = current_run(key)
    train, stop, resume = st.columns(3)
    if train.button(text("train_button"), key=f"{key}_train", type="primary", icon=":material/play_arrow:"):
        run = LiveRun(settings.trainers(), score=score)
        st.session_state[f"{key}_run"] = run
    running = run is not None and run.running  # after a click on Train: Stop is then enabled at once
    stop_label, stop_icon = text("stop_button"), ":material/stop:"
    stopped = stop.button(stop_label, key=f"{key}_stop", disabled=not running, icon=stop_icon)
    can_resume = run is not None and not run.running and not run.done
    resumed = resume.button(text("resume_button"), key=f"{key}_resume", disabled=not can_resume)
    if run is not None and stopped:
        run.stop()
    if run is not None and resumed:
        run.resume()
    if stopped or resumed:
        st.rerun()  # the buttons are drawn again, each enabled as the run now is
    return run


def live(run: LiveRun | None, draw: Callable[[LiveRun], None]) -> None:
    """``draw(run)`` in a fragment that, while the run goes on, trains one epoch per run of its own;
    when the run ends, the whole page reruns (its buttons then say so)."""

    @st.fragment(run_every=TICK if run is not None and run.running else None)
    def _live() -> None:
        if run is None:
            return
        was_running = run.running
        run.step()
        draw(run)
        if was_running and not run.running:
            st.rerun()

    _live()


def transformer_note() -> None:
    """Where the trained tiny ViT goes next: a button that opens the Transformer pages on it (the
    sidebar's encoder for that section set to it), and a plain link to them."""
    text = words()
    st.markdown(text("transformer_note"))
    left, right = st.columns(2)
    if left.button(text("transformer_button"), key="train_to_transformer", icon=":material/arrow_forward:"):
        st.session_state["model_transformer"] = TINY_VIT
        st.switch_page("pages/tr_attention.py")
    right.page_link("pages/tr_patches.py", label=text("transformer_link"), icon=":material/apps:")


def probe_picker(key: str, d: data.DigitData) -> tuple[np.ndarray | None, str]:
    """The digit to look at: a held-out picture (by digit and example) or the learner's drawing,
    prepared like the data set's pictures; with a caption saying which.  ``None`` before any ink."""
    text = words()
    mode = _radio(key, "probe", ("pick", "draw"), "pick")
    if mode == "pick":
        left, right = st.columns(2)
        digit = int(left.selectbox(text("probe_digit"), list(range(CLASSES)), key=f"{key}_probe_digit"))
        count = cached.held_out_count(d.name, digit)
        which = int(
            right.slider(text("probe_which", count=count), 1, count, 1, key=f"{key}_probe_which_{digit}")
        )
        picture, position = cached.held_out_digit(d.name, digit, which - 1)
        return picture, text("probe_picked", digit=digit, which=which, count=count, position=position)
    canvas = st_canvas(
        stroke_width=STROKE, stroke_color=INK, background_color=GROUND, height=CANVAS, width=CANVAS,
        return_image_data=True, key=f"{key}_canvas",
    )  # fmt: skip
    image = canvas.image_data
    if image is None:
        return None, text("probe_empty")
    try:
        return views.canvas_digit(image, side=d.side), text("probe_drawn", side=d.side)
    except ValueError:
        return None, text("probe_empty")
