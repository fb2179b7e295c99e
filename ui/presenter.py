"""Presenter mode: the app as a projector shows it to a room.

Switched on by the sidebar's toggle or by ``?present=1`` in a link. Then:

- text and figure labels are large (body ≥ 22 px, figure text ≥ 20 px) on a high-contrast theme,
  and figures are drawn taller;
- the sidebar starts collapsed and the pages are listed along the top;
- a page is shown one step at a time — its introduction, then each of its sections (every
  :func:`step` a page calls begins one) — with *previous* and *next* under the step;
- the photo and the encoder the presenter chose are named at the top, the same on every page.

A step before the current one still runs (later steps may use what it computed) but is drawn in a
container that the theme hides; the steps after it do not run at all (:func:`step` ends the run
there by raising :class:`LaterSteps`, which ``app.py`` catches).
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from ui.charts.pictures import CAPTION_CLASS

KEY = "present"  # the session-state key and the query parameter (?present=1)
_HIDDEN = "present_hidden"  # the key prefix of the containers that hold the steps already shown
FONT, TITLE_FONT, TALLER = 20, 24, 1.3  # figures: text size in px, title size, height factor

_run = threading.local()  # this script run's step count and open hidden container


class LaterSteps(BaseException):
    """Raised by :func:`step` where the step on screen ends; caught by ``app.py``. A BaseException,
    so that a page's own ``except Exception`` cannot swallow it."""


def active() -> bool:
    return bool(st.session_state.get(KEY, False))


def _step_key(page: str) -> str:
    return f"present_step__{page}"


def current_step(page: str) -> int:
    return int(st.session_state.get(_step_key(page), 0))


def _go(page: str, to: int) -> None:
    st.session_state[_step_key(page)] = max(0, to)


# --- the run ---------------------------------------------------------------------------------


def begin(page: str) -> None:
    """Called by ``app.py`` before ``page`` runs: a new count of steps, and the theme when on."""
    _run.page, _run.count, _run.hidden, _run.next_title = page, 0, None, None
    if active():
        st.html(f"<style>{_CSS}</style>")


def banner(section: str, uses_encoder: bool) -> None:
    """In presenter mode, the photo and the encoder on screen, named at the top of every page (the
    presenter fixes them in the sidebar; a page that falls back to another says so under its
    title)."""
    if not active():
        return
    from lessons import lesson
    from ui import session
    from vision_core.engine import encoders

    text = lesson("presenter", session.lang())
    photo = session.photo_name(session.current_photo())
    if uses_encoder:
        st.caption(text("banner", photo=photo, model=encoders.get(session.encoder_name(section)).title))
    else:
        st.caption(text("banner_photo", photo=photo))


def toggle() -> None:
    """The sidebar's switch."""
    from lessons import lesson
    from ui import session

    text = lesson("presenter", session.lang())
    st.toggle(text("toggle"), key=KEY, help=text("toggle_help"))


def after_title() -> None:
    """Called by the page header under the title: step 0 (the introduction) is hidden once the
    presenter has moved past it."""
    if active() and current_step(getattr(_run, "page", "")) > 0:
        _hide(0)


def step(title: str) -> None:
    """Begin a section of the page: its heading (``st.header``), and in presenter mode a step."""
    page = getattr(_run, "page", None)
    if not active() or page is None:  # (None: a page run outside app.py, see header.through_app)
        st.header(title)
        return
    _run.count += 1
    _show()
    here = current_step(page)
    if _run.count < here:
        _hide(_run.count)
        st.header(title)
    elif _run.count == here:
        st.header(title)
    else:  # the next step: not run; the way to it
        _run.next_title = title
        _controls(page, here, title)
        raise LaterSteps


def finish() -> None:
    """Called by ``app.py`` after the page ran to its end (or stopped): close a hidden step, and
    draw the controls under the last step when the page ended there."""
    if not active() or getattr(_run, "page", None) is None:
        return
    _show()
    page, here = _run.page, current_step(_run.page)
    if _run.next_title is None:  # the page ended: this is its last step (or past it)
        if here > _run.count:
            _go(page, _run.count)  # a link or a shorter page left the presenter beyond the end
            st.rerun()
        _controls(page, here, None)
    _run.page = None


def _hide(index: int) -> None:
    box = st.container(key=f"{_HIDDEN}_{index}")
    box.__enter__()
    _run.hidden = box


def _show() -> None:
    if _run.hidden is not None:
        _run.hidden.__exit__(None, None, None)
        _run.hidden = None


def _controls(page: str, here: int, next_title: str | None) -> None:
    from lessons import lesson
    from ui import session

    text = lesson("presenter", session.lang())
    st.divider()
    back, where, forward = st.columns([2, 3, 4], vertical_alignment="center")
    back.button(
        text("previous"),
        key="present_previous",
        disabled=here == 0,
        on_click=_go,
        args=(page, here - 1),
        icon=":material/arrow_back:",
        width="stretch",
    )
    where.markdown(text("where", step=here + 1))
    forward.button(
        text("next", title=next_title) if next_title else text("last"),
        key="present_next",
        disabled=next_title is None,
        on_click=_go,
        args=(page, here + 1),
        icon=":material/arrow_forward:",
        type="primary",
        width="stretch",
    )


# --- figures ---------------------------------------------------------------------------------


def figure(fig: Any) -> Any:
    """A figure (a ``Built`` spec, a Plotly figure or its dict) as the room sees it: larger text,
    taller; as a new ``Built`` (the given spec may be cached, so it is never changed). Unchanged
    when presenter mode is off."""
    if not active():
        return fig
    from ui.charts.layout import built

    spec = fig.to_dict() if hasattr(fig, "to_dict") else fig
    layout = dict(spec.get("layout", {}))
    layout["font"] = {**layout.get("font", {}), "size": FONT, "color": "#000000"}
    title = layout.get("title", {})
    title = {"text": title} if isinstance(title, str) else title
    layout["title"] = {**title, "font": {**title.get("font", {}), "size": TITLE_FONT}}
    if layout.get("height"):
        layout["height"] = int(layout["height"] * TALLER)
    # numbers written in grid cells, as notes or as a trace's text
    layout["annotations"] = [_larger(note, "font") for note in layout.get("annotations", ())]
    return built(
        {**spec, "layout": layout, "data": [_larger(trace, "textfont") for trace in spec.get("data", ())]}
    )


def _larger(item: dict, font: str) -> dict:
    """``item`` with its ``font`` entry's size (where one is set) :data:`TALLER`, at least :data:`FONT`."""
    size = (item.get(font) or {}).get("size")
    if not size:
        return item
    return {**item, font: {**item[font], "size": max(FONT, size * TALLER)}}


# The high-contrast theme: black on white, large text, thick focus marks. Class names are
# Streamlit's test ids (stable across versions) and the keyed containers' ``st-key-`` classes.
_CSS = f"""
html, body, [data-testid="stAppViewContainer"] {{ background: #ffffff; color: #000000; }}
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stMarkdownContainer"] td, [data-testid="stMarkdownContainer"] th {{
  font-size: 22px !important; line-height: 1.5; color: #000000;
}}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {{
  font-size: 20px !important; color: #111111 !important;
}}
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] {{ font-size: 20px !important; }}
[data-testid="stMetricValue"] {{ font-size: 44px !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 20px !important; }}
[data-testid="stImageCaption"] {{ font-size: 20px !important; color: #111111 !important; }}
.{CAPTION_CLASS} {{ font-size: 20px !important; color: #111111 !important; }}
button p {{ font-size: 20px !important; }}
h1 {{ font-size: 48px !important; }}
h2 {{ font-size: 36px !important; }}
h3 {{ font-size: 28px !important; }}
.katex {{ font-size: 1.3em !important; }}
[data-testid="stDataFrame"] {{ font-size: 20px; }}
[class*="st-key-{_HIDDEN}"] {{ display: none !important; }}
"""
