"""Presenter mode: one step of a page at a time, with previous and next; the steps already shown
are held in hidden containers and the later ones do not run; the link keeps the mode."""

from __future__ import annotations

import pytest
from conftest import assert_ok, open_page
from test_links import open_link, params

from lessons import lesson
from ui.widgets.nav import PAGES

PAGE = "pages/cnn_tensor.py"
HEADINGS = [lesson("cnn_tensor")(h) for h in ("prep_heading", "crop_heading", "channels_heading")]


def test_steps_one_at_a_time_with_next_and_previous():
    at = open_page(PAGE, present=True)
    assert_ok(at)
    assert at.header.len == 0  # step 0: the introduction only; the sections after it do not run
    assert at.button(key="present_previous").disabled
    assert HEADINGS[0] in at.button(key="present_next").label  # "Next: <the next step's title>"
    at.button(key="present_next").click().run()
    assert_ok(at)
    assert [h.value for h in at.header][-1] == HEADINGS[0] and at.header.len == 1
    at.button(key="present_next").click().run()
    at.button(key="present_next").click().run()
    assert_ok(at)
    assert at.header[-1].value == HEADINGS[2]  # the earlier ones ran, hidden (see the browser test)
    assert HEADINGS[2] not in at.button(key="present_next").label
    at.button(key="present_previous").click().run()
    assert at.header[-1].value == HEADINGS[1]


def test_the_last_step_has_no_next_and_a_link_keeps_presenter_mode():
    at = open_page(PAGE, present=True, **{"present_step__cnn_tensor": 99})  # beyond the end: the last
    assert_ok(at)
    assert at.button(key="present_next").disabled
    assert at.header[-1].value == lesson("cnn_tensor")("sees_heading")
    assert params(at)["present"] == "1"
    again = open_link(PAGE, {"present": "1"})
    assert again.session_state["present"] is True and again.header.len == 0


def test_off_by_default_every_section_shows():
    at = open_page(PAGE)
    assert_ok(at)
    assert at.header.len == 6 and not [b for b in at.button if b.key == "present_next"]


STEPPED = [p for p in PAGES if p.section not in ("training", "classroom")]  # (live runs; the class's screens)


@pytest.mark.parametrize("info", [p for p in PAGES if p not in STEPPED], ids=lambda p: p.id)
def test_pages_without_steps_run_in_presenter_mode(info):
    assert_ok(open_page(info.file, present=True))


@pytest.mark.parametrize("info", STEPPED, ids=lambda p: p.id)
def test_every_page_opens_on_its_first_and_last_step(info):
    at = open_page(info.file, present=True)
    assert_ok(at)
    steps = [b for b in at.button if b.key == "present_next"]
    assert steps, "presenter mode draws its controls on every page"
    at.session_state[f"present_step__{info.id}"] = 99  # past the end: the page shows its last step
    at.run()
    assert_ok(at)
    assert at.button(key="present_next").disabled
