"""Links that reopen a view: the page (its URL path), the sample photo, the encoder, the language,
presenter mode and the page's own choices (layer, head, channel, clicked position...) live in the
address bar's query parameters, so a copied link opens exactly that view in another browser.

- :func:`read_early` (before the navigation is built) takes the language and presenter mode;
- :func:`read` (once the page is known) takes the photo and the section's encoder, and keeps the
  page's choices waiting;
- :func:`settle` (after each run) gives each waiting choice to the widget of that name once the page
  has drawn it — only to a widget the page really has, with the type its value has — and reruns;
  then writes the view into the address bar.

A photo of the learner's own is never put in a link: the link says ``photo=own`` and opens with the
default sample, saying so. A link's value that a widget refuses (out of its range, say) is dropped
with a note and the page opens as usual.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from lessons import LANGUAGES, lesson
from ui import presenter, session
from vision_core import samples
from vision_core.engine import encoders

LANG, PHOTO, MODEL, PRESENT = "lang", "photo", "model", presenter.KEY
OWN = "own"  # the photo is the sender's own: not in the link
RESERVED = {LANG, PHOTO, MODEL, PRESENT, "class"}  # "class": a class map's join code
_SIDEBAR = ("photo_source", "model_", "download_", "lang")  # widget keys the link has other names for
_SKIPPED = ("q_", "present_", "FormSubmitter")  # questions, presenter steps
MAX_CHOICES, MAX_VALUE = 40, 200  # what a link may carry: bounded

_READ, _WAITING, _NOTES = "_link_read", "_link_waiting", "_link_notes"
_GIVE, _TRIED = "_link_give", "_link_tried"  # choices to give next run; given in this run
_DRAWN = "_link_drawn"  # the last full run's page, section and widgets (for a part's own run)
_DEFAULTS = "_link_defaults"  # each page's widgets' first values: a link carries what differs


def read_early() -> None:
    """The first run of a session: the link's language and presenter mode."""
    if st.session_state.get(_READ):
        return
    params = st.query_params
    if params.get(LANG) in LANGUAGES:
        st.session_state[LANG] = params[LANG]
    if params.get(PRESENT) == "1":
        st.session_state[PRESENT] = True


def read(page: str, section: str) -> None:
    """The first run of a session: the link's photo and encoder, and the page's choices to give
    once its widgets exist."""
    for key, value in st.session_state.pop(_GIVE, {}).items():  # before the widgets exist
        st.session_state[key] = value
    if st.session_state.get(_READ):
        return
    st.session_state[_READ] = True
    params = st.query_params.to_dict()
    photo = params.get(PHOTO)
    if photo == OWN:
        _note(page, "own_photo", sample=session.sample_title(session.DEFAULT_SAMPLE))
    elif photo:
        ids = {s.id for s in samples.list_samples("photo")}
        if photo in ids:
            st.session_state["photo"] = session.sample_photo(photo)
            st.session_state["photo_source_id"] = f"sample:{photo}"
            st.session_state["photo_source_sample"] = photo  # the sidebar's sample box agrees
        else:
            _note(page, "unknown_photo", sample=session.sample_title(session.DEFAULT_SAMPLE))
    model = params.get(MODEL)
    if model and section in session.SECTION_FAMILIES:
        if model in session.encoders_for(section):
            st.session_state[f"model_{section}"] = model
        else:
            default = session.DEFAULT_ENCODERS[section]
            _note(page, "unknown_model", default=encoders.get(default).title)
    waiting = {
        key: value[:MAX_VALUE]
        for key, value in list(params.items())[: len(RESERVED) + MAX_CHOICES]
        if _ours(key)
    }
    if waiting:
        st.session_state[_WAITING] = {"page": page, "values": waiting}


def notes(page: str) -> None:
    """What the link could not reopen, said at the top of its page for as long as the learner stays
    on it (every run there: a rerun that settles the link's choices must not hide it)."""
    held = st.session_state.get(_NOTES)
    if not held:
        return
    if held["page"] != page:
        st.session_state.pop(_NOTES)
        return
    text = lesson("links", session.lang())
    for name, values in held["notes"]:
        st.info(text(name, **values), icon=":material/link:")


def _note(page: str, note: str, **values: str) -> None:
    held = st.session_state.setdefault(_NOTES, {"page": page, "notes": []})
    if (note, values) not in held["notes"]:
        held["notes"].append((note, values))


def _ours(key: str) -> bool:
    return (
        key.isidentifier()
        and len(key) <= 64
        and not key.startswith("_")
        and key not in RESERVED
        and not key.startswith(_SIDEBAR)
        and not key.startswith(_SKIPPED)
    )


def _page_widgets() -> dict[str, Any]:
    """The page's widgets drawn in this run that a link can carry: their names and values (a
    choice kept across languages under its plain name, see ``session.remembered_choice``)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.session_state_proxy import get_session_state

    ctx = get_script_run_ctx()
    if ctx is None:
        return {}
    state = get_session_state()._state
    found: dict[str, Any] = {}
    for widget_id in ctx.shared.widget_ids_this_run.snapshot():
        meta = state._new_widget_state.widget_metadata.get(widget_id)
        if meta is None or meta.value_type in ("trigger_value", "file_uploader_state_value", "json_value"):
            continue  # buttons, uploads and cameras, chart selections
        try:
            key = state._key_id_mapper.get_key_from_id(widget_id)
        except KeyError:
            continue
        plain = next((key[: -len(f"__{lang}")] for lang in LANGUAGES if key.endswith(f"__{lang}")), key)
        if _ours(plain) and plain in st.session_state:
            value = st.session_state[plain]
            if _encodable(value):
                found[plain] = value
    return found


def _encodable(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value)


def encode(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(list(value), ensure_ascii=False, separators=(",", ":"))


def decode(text: str, like: Any) -> Any:
    """``text`` as a value of the same type as ``like`` (the widget's current value); ValueError
    when it cannot be one."""
    if isinstance(like, bool):
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    if isinstance(like, str):
        return text
    items = json.loads(text)
    if not isinstance(items, list) or len(items) != len(like):
        raise ValueError(text)
    values = [decode(encode(v), old) for v, old in zip(items, like, strict=True)]
    return tuple(values) if isinstance(like, tuple) else values


def settle(page: str, section: str) -> None:
    """After ``page`` ran: give waiting link choices to the widgets now drawn (then rerun), and
    write this view into the address bar."""
    widgets = _page_widgets()
    defaults = st.session_state.setdefault(_DEFAULTS, {}).setdefault(page, {})
    for key, value in widgets.items():  # a widget's first value in this session, before any link's
        defaults.setdefault(key, value)
    waiting = st.session_state.get(_WAITING)
    if waiting and waiting["page"] == page:
        given = {}
        for key, raw in list(waiting["values"].items()):
            if key in widgets:
                waiting["values"].pop(key)
                try:
                    value = decode(raw, widgets[key])
                except (ValueError, json.JSONDecodeError):
                    _note(page, "bad_value", name=key)
                    continue
                if value != widgets[key]:
                    given[key] = value
        if not waiting["values"]:
            st.session_state.pop(_WAITING, None)
        if given:  # given at the start of the next run (read), before the widgets are drawn
            st.session_state[_GIVE] = given
            st.session_state[_TRIED] = given  # if a widget refuses one, forget them (app.py)
            st.rerun()
    st.session_state.pop(_TRIED, None)
    st.session_state[_DRAWN] = (page, section, widgets)
    write(page, section, widgets)


def settle_part() -> None:
    """After a part of the page ran on its own (``ui.parts``): the address bar gets its widgets'
    new values, beside the rest of the page's as the last full run left them."""
    drawn = st.session_state.get(_DRAWN)
    if drawn is None:
        return
    page, section, widgets = drawn
    widgets = {**widgets, **_page_widgets()}
    st.session_state[_DRAWN] = (page, section, widgets)
    write(page, section, widgets)


def refused(page: str) -> bool:
    """Called by ``app.py`` when ``page`` raised: if this run gave it a link's choices, take them
    back, note it, and report True (the caller reruns); otherwise False."""
    given = st.session_state.pop(_TRIED, None)
    if not given:
        return False
    for key in given:
        st.session_state.pop(key, None)
    _note(page, "refused", names=", ".join(f"«{k}»" if session.lang() == "ru" else f'"{k}"' for k in given))
    return True


def view(page: str, section: str, widgets: dict[str, Any]) -> dict[str, str]:
    """The query parameters of this view."""
    params: dict[str, str] = {}
    if session.lang() != "en":
        params[LANG] = session.lang()
    if presenter.active():
        params[PRESENT] = "1"
    source = st.session_state.get("photo_source_id") or f"sample:{session.DEFAULT_SAMPLE}"
    kind, _, name = source.partition(":")
    if kind == "sample":
        if name != session.DEFAULT_SAMPLE:
            params[PHOTO] = name
    elif kind in ("upload", "camera"):
        params[PHOTO] = OWN
    if section in session.SECTION_FAMILIES:
        name = session.encoder_name(section)
        if name != session.DEFAULT_ENCODERS[section]:
            params[MODEL] = name
    defaults = st.session_state.get(_DEFAULTS, {}).get(page, {})
    changed = {k: v for k, v in widgets.items() if k not in defaults or v != defaults[k]}
    for key, value in sorted(changed.items())[:MAX_CHOICES]:  # only what differs from the page's own
        params[key] = encode(value)[:MAX_VALUE]
    waiting = st.session_state.get(_WAITING)
    if waiting and waiting["page"] == page:  # not drawn yet (a later presenter step): kept
        params.update(waiting["values"])
    if "class" in st.query_params:
        params["class"] = st.query_params["class"]
    return params


def write(page: str, section: str, widgets: dict[str, Any]) -> None:
    params = view(page, section, widgets)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
