"""Presenter mode: one step of a page at a time, with previous and next; the steps already shown
are held in hidden containers and the later ones do not run; the link keeps the mode."""

from __future__ import annotations

from conftest import assert_ok, open_page
from test_links import open_link, params

from lessons import lesson

PAGE = "pages/cnn_tensor.py"
HEADINGS = [lesson("cnn_tensor")(h) for h in ("prep_heading", "channels_heading", "pixel_heading")]




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
    assert at.header.len == 5 and not [b for b in at.button if b.key == "present_next"]
