"""Predict, then reveal: a question the learner answers before the page shows the answer.

Every lesson page asks at least one. The page computes the right answer and its rivals from the
model in use (``vision_core.quiz.choices``) and words the question and the explanation in its own
lesson; this widget asks, takes the learner's answer, and only then shows the model's answer and
why. A new photo, encoder or setting makes a new question (its options, answer or explanation
change) and forgets the old answer. In presenter mode the presenter may reveal the answer to the
room without picking one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from lessons import lesson
from ui import presenter, session
from vision_core.quiz import Choices


def _committed_key(key: str) -> str:
    return f"q_{key}__committed"


def _fingerprint(q: Choices, prompt: str, why: str) -> str:
    """This very question: its options and answer, and its wording with the live numbers in it —
    another setting that changes the explanation makes a new question even with the same options."""
    return hashlib.sha256(f"{q.fingerprint}|{prompt}|{why}".encode()).hexdigest()[:16]


def _radio_key(key: str, fp: str) -> str:
    return f"q_{key}__{fp}"


def _commit(key: str, fp: str) -> None:
    st.session_state[_committed_key(key)] = (fp, st.session_state.get(_radio_key(key, fp)))


def _forget(key: str, fp: str) -> None:
    st.session_state.pop(_committed_key(key), None)
    st.session_state.pop(_radio_key(key, fp), None)


def committed(key: str, fp: str) -> tuple[bool, Any]:
    """Whether the learner has committed to an answer of this very question, and which (``None``
    when the presenter revealed it without one)."""
    held = st.session_state.get(_committed_key(key))
    if held is None or held[0] != fp:
        return False, None
    return True, held[1]


def ask(
    key: str,
    prompt: str,
    q: Choices,
    why: str,
    *,
    format_func: Callable[[Any], str] | None = None,
    horizontal: bool = True,
) -> bool:
    """Ask ``prompt`` with the options of ``q``; after the learner commits, say whether they were
    right, what the model gives, and ``why`` (Markdown). Returns whether the answer is revealed,
    so a page may hold back a figure that would give it away."""
    text = lesson("question", session.lang())
    fp = _fingerprint(q, prompt, why)
    show = format_func or (lambda v: text.num(v))
    with st.container(border=True, key=f"question_{key}"):
        st.markdown(f"**{text('heading')}** {prompt}")
        done, picked = committed(key, fp)
        if not done:
            choice = st.radio(
                text("pick"),
                q.options,
                index=None,
                format_func=show,
                key=_radio_key(key, fp),
                horizontal=horizontal,
                label_visibility="collapsed",
            )
            room = presenter.active()
            st.button(
                text("reveal" if room and choice is None else "commit"),
                key=f"q_{key}_commit",
                disabled=choice is None and not room,
                on_click=_commit,
                args=(key, fp),
                type="primary",
            )
            return False
        answer = show(q.correct)
        if picked is None:
            st.info(text("revealed", answer=answer), icon=":material/campaign:")
        elif q.is_right(picked):
            st.success(text("right", answer=answer), icon=":material/check_circle:")
        else:
            st.warning(text("wrong", picked=show(picked), answer=answer), icon=":material/lightbulb:")
        st.markdown(why)
        st.button(text("again"), key=f"q_{key}_again", on_click=_forget, args=(key, fp))
        return True
