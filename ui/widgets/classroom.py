"""The class map's widgets: the learner's code box, consent and buttons, the teacher's join code,
link and QR code, the photos with their remove buttons, and the live map every member of a class
sees (a fragment that refreshes itself every :data:`REFRESH` seconds).

Who is who lives in the session only: a learner is a random owner token made once per browser
session (:func:`owner_id`); the teacher is whoever holds the class's teacher token, kept in the
teacher's session state and nowhere else.
"""

from __future__ import annotations

import io
import secrets
import time
from urllib.parse import quote

import numpy as np
import segno
import streamlit as st

from lessons import Lesson, lesson
from ui import session
from ui.cached import classroom as cached
from ui.cached import core
from ui.charts.classroom import class_figure
from ui.session import Choice
from ui.widgets.encoder import weights_status
from vision_core.classroom import MAX_ENTRIES, MAX_LABEL, ClassError, ClassInfo, Entry
from vision_core.classroom.map import MIN_UMAP, class_neighbours, minutes_ago, minutes_left
from vision_core.classroom.records import DEFAULT_HOURS, MAX_HOURS, THUMBNAIL_SIDE
from vision_core.engine import budget, encoders
from vision_core.engine.preprocess import ImageError

REFRESH = 3  # seconds between two looks at the class's photos
OWNER, TEACHING, FLASH = "class_owner", "class_teaching", "class_flash"
JOINED = "class_joined"  # the last class this learner's page opened
JOIN_PAGE = "class_map"  # the learners' page: its url_path in ui/widgets/nav.py
NEIGHBOURS = 3  # classmates shown beside the learner's photo
HOUR_CHOICES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0)  # a lesson, a double, a school day


def words() -> Lesson:
    return lesson("class_map", session.lang())


def owner_id() -> str:
    """This browser session's learner token: random, made on first use, kept in the session."""
    if OWNER not in st.session_state:
        st.session_state[OWNER] = secrets.token_urlsafe(18)
    return st.session_state[OWNER]


def say_error(error: ClassError, code: str) -> None:
    """A refusal of the class map in the learner's language, with what to do."""
    st.error(
        words()(
            f"error_{error.kind}", code=code, max=MAX_ENTRIES if error.kind == "class_full" else MAX_LABEL
        )
    )


def class_gone(error: ClassError, code: str) -> None:
    """Why the class cannot be opened: "it is over" for a class this session was in (the teacher
    ended it, or it ran out of time), else the refusal itself."""
    if error.kind in ("unknown_code", "expired") and st.session_state.get(JOINED) == code:
        st.info(words()("ended"), icon=":material/event_busy:")
    else:
        say_error(error, code)


def flash(message: str | None = None) -> None:
    """Keep ``message`` for the next run (after ``st.rerun``), or show and forget the kept one."""
    if message is not None:
        st.session_state[FLASH] = message
    elif st.session_state.get(FLASH):
        st.success(st.session_state.pop(FLASH))


# --- the learner ---------------------------------------------------------------------------------


def code_box(text: Lesson) -> str:
    """The join code box, filled from the link's ``?class=`` the first time; the link follows it."""
    if "class_code" not in st.session_state:
        st.session_state["class_code"] = st.query_params.get("class", "")
    code = st.text_input(text("code_label"), key="class_code", help=text("code_help"), max_chars=20)
    code = "".join(code.split()).upper()
    if code and st.query_params.get("class") != code:
        st.query_params["class"] = code
    return code


def joined_line(info: ClassInfo, entries: list[Entry], text: Lesson) -> None:
    st.session_state[JOINED] = info.code
    minutes = minutes_left(info.expires, time.time())
    model = encoders.get(info.encoder).title
    st.markdown(text("joined", code=info.code, model=model, n=len(entries), minutes=minutes))


def add_form(info: ClassInfo, text: Lesson) -> None:
    """What is stored, the consent box, the label and the learner's photo, and "Add my photo"."""
    model = encoders.get(info.encoder)
    st.subheader(text("consent_heading"))
    st.markdown(text("consent", side=THUMBNAIL_SIDE, model=model.title, dim=model.embedding_dim))
    photo = session.current_photo()
    left, right = st.columns([1, 3])
    left.image(
        core.thumbnail(photo), caption=text("photo_caption", name=session.photo_name(photo)), width="stretch"
    )
    with right:
        st.caption(text("photo_hint"))
        label = st.text_input(
            text("label_label"),
            key="class_label",
            max_chars=MAX_LABEL,
            help=text("label_help", max=MAX_LABEL),
        )
        agreed = st.checkbox(text("consent_box"), key="class_consent")
        if not st.button(
            text("add_button"),
            key="class_add",
            type="primary",
            disabled=not agreed,
            icon=":material/add_a_photo:",
        ):
            return
    if not weights_status(info.encoder).present:
        st.error(text("weights_missing", model=model.title))
        return
    server = budget.server_budget()
    try:
        adding = st.spinner(text("adding", model=model.title))
        with adding, core.busy_raises(), server.reserve(len(photo.data), "a class map photo"):
            vector, thumbnail = cached.embedded_photo(photo, Choice(info.encoder))
        cached.store().add_entry(info.code, owner_id(), label, thumbnail, vector)
    except budget.ServerBusy:
        busy = lesson("server", session.lang())
        st.error(f"{busy('busy')} {busy('busy_hint')}", icon=":material/hourglass_top:")
    except ImageError as error:
        st.error(f"{error.message} {error.hint}")
    except ClassError as error:
        say_error(error, info.code)
    else:
        st.rerun()  # the page then shows the photo on the map, and "Remove my entry"


def remove_form(info: ClassInfo, own: Entry, text: Lesson) -> None:
    """The learner's own photo on the map, and "Remove my entry"."""
    left, right = st.columns([1, 3])
    left.image(own.thumbnail, width="stretch")
    with right:
        st.success(text("yours", label=own.label) if own.label else text("yours_unlabelled"))
        st.caption(text("one_photo"))
        if st.button(text("remove_button"), key="class_remove_mine", icon=":material/delete:"):
            try:
                cached.store().remove_entry(info.code, own.id, owner=owner_id())
            except ClassError as error:
                say_error(error, info.code)
            else:
                cached.forget_pictures()
                flash(text("removed"))
                st.rerun()


# --- the teacher ---------------------------------------------------------------------------------


def join_link(code: str, here: str = "class_teacher") -> str | None:
    """``<the app's address>/class_map?class=CODE``, from the address this browser opened page
    ``here`` with (``st.context.url``: the app's address and the page's path); None when the
    browser has not said it."""
    url = st.context.url
    if not url:
        return None
    base = url.rstrip("/").removesuffix(f"/{here}")
    return f"{base}/{JOIN_PAGE}?class={quote(code)}"


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def teacher_note(info: ClassInfo, text: Lesson) -> str:
    minutes = minutes_left(info.expires, time.time())
    return text("code_note", model=encoders.get(info.encoder).title, minutes=minutes)


def end_class_box(code: str, token: str, text: Lesson) -> None:
    """ "End class", then the confirmation saying what is deleted; ending it empties every map."""
    asked = "class_end_asked"
    if not st.session_state.get(asked):
        if st.button(text("end_button"), key="class_end", icon=":material/stop_circle:"):
            st.session_state[asked] = True
            st.rerun()
        return
    try:
        n = len(cached.store().entries(code))
    except ClassError:  # it expired meanwhile: ending it still deletes it
        n = 0
    st.warning(text("end_confirm", code=code, n=n))
    yes, no = st.columns([1, 3])
    if yes.button(text("end_yes"), key="class_end_yes", type="primary", icon=":material/delete_forever:"):
        try:
            cached.store().end_class(code, token)
        except ClassError as error:
            say_error(error, code)
            return
        cached.forget_pictures()
        del st.session_state[TEACHING], st.session_state[asked]
        flash(text("ended", code=code))
        st.rerun()
    if no.button(text("end_cancel"), key="class_end_no"):
        del st.session_state[asked]
        st.rerun()


def hours_box(text: Lesson) -> float:
    """How long the class lasts, from half an hour to the store's longest, the numbers written the
    learner's way."""
    options = [h for h in HOUR_CHOICES if h <= MAX_HOURS]
    return float(
        st.select_slider(
            text("hours_label"),
            options,
            value=DEFAULT_HOURS,
            format_func=lambda h: text.num(h, "g"),
            key="class_hours",
            help=text("hours_help", max=MAX_HOURS),
        )
    )


# --- the live map ------------------------------------------------------------------------------


def _live(code: str) -> tuple[ClassInfo, list[Entry]] | ClassError:
    store = cached.store()
    try:
        return store.get_class(code), store.entries(code)
    except ClassError as error:
        return error


def map_of(entries: list[Entry], own: Entry | None, key: str) -> None:
    """The class's map with its caption naming how it was laid out, and the learner's neighbours."""
    text = words()
    if not entries:
        st.info(text("map_empty"), icon=":material/group_add:")
        return
    vectors = np.stack([e.vector for e in entries])
    cmap = cached.the_map(entries[0].code, tuple(e.id for e in entries), vectors)
    mine = next((i for i, e in enumerate(entries) if own is not None and e.id == own.id), None)
    names = [e.label or text("no_label") for e in entries]
    if mine is not None:
        names[mine] = f"{text('you')} · {names[mine]}"
    pictures = [cached.map_picture(e.thumbnail) for e in entries]
    st.plotly_chart(class_figure(cmap, pictures, names, mine), key=key, config={"displayModeBar": False})
    n = len(entries)
    if cmap.method == "single":
        st.caption(text("map_single"))
    elif cmap.method == "pca":
        st.markdown(text("map_pca", n=n, shown=cmap.params["shown"], min_umap=MIN_UMAP))
    else:
        st.markdown(text("map_umap", n=n, k=cmap.params["n_neighbors"]))
    st.caption(text("map_live", seconds=REFRESH))
    if mine is None:
        return
    st.subheader(text("neighbours_heading"))
    hits = class_neighbours(vectors, mine, NEIGHBOURS)
    if not hits:
        st.caption(text("neighbours_none"))
        return
    st.markdown(text("neighbours_intro", n=len(hits), dim=vectors.shape[1]))
    for col, hit in zip(st.columns(6), hits, strict=False):  # six columns: photos at about 150 px
        entry = entries[hit.index]
        caption = f"{text.num(hit.similarity, '.3f')} · {names[hit.index]}"
        col.image(entry.thumbnail, caption=caption, width="stretch")


@st.fragment(run_every=REFRESH)
def learner_map(code: str, had_entry: bool) -> None:
    """The learner's live map; a whole-page run when what the page above shows went stale (the
    class ended, or their photo was removed by the teacher)."""
    live = _live(code)
    if isinstance(live, ClassError):
        st.rerun()
    _info, entries = live
    own = next((e for e in entries if e.owner == owner_id()), None)
    if (own is not None) != had_entry:
        st.rerun()
    map_of(entries, own, key="class_learner_map")


@st.fragment(run_every=REFRESH)
def teacher_view(code: str, token: str) -> None:
    """The teacher's live map, then every photo with a remove button."""
    text, teacher = words(), lesson("class_teacher", session.lang())
    live = _live(code)
    if isinstance(live, ClassError):
        st.rerun()
    _info, entries = live
    map_of(entries, None, key="class_teacher_map")
    st.subheader(teacher("entries_heading"))
    if not entries:
        st.caption(teacher("entries_empty"))
        return
    st.caption(teacher("entries_count", n=len(entries), max=MAX_ENTRIES))
    now = time.time()
    cols = st.columns(6)
    for i, entry in enumerate(entries):
        with cols[i % 6]:
            label = entry.label or text("no_label")
            ago = minutes_ago(entry.created, now)
            said = (
                teacher("entry_caption", label=label, minutes=ago)
                if ago
                else teacher("entry_new", label=label)
            )
            st.image(entry.thumbnail, caption=said, width=128)
            if st.button(teacher("remove_entry"), key=f"class_remove_{entry.id}", icon=":material/delete:"):
                try:
                    cached.store().remove_entry(code, entry.id, teacher_token=token)
                except ClassError as error:
                    say_error(error, code)
                else:
                    cached.forget_pictures()
                    st.rerun()
