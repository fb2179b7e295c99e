"""Parts of a page that rerun on their own: ``st.fragment``, as a page uses it.

When a learner moves a control, Streamlit runs the whole page again: the navigation, the sidebar,
every section above and below the control. A part wraps the section a control belongs to (the
control and everything it changes), so that moving the control reruns that section alone. On the
convolution page that is the chosen feature map's sweep, map and sum, not the pocket example and
the sandbox around them; with twenty learners on one server this is what keeps a change quick.

Only what the part draws changes in such a run, so a part must hold every sentence and picture
that depends on its controls (and nothing outside it may). After the part's own run, the page's
choices are kept and its link is rewritten, as ``app.py`` does after a full run. In presenter mode
a page runs whole, step by step, as before (its steps are counted over the whole page).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from ui import links, presenter, session

F = TypeVar("F", bound=Callable[..., Any])


def _alone() -> bool:
    """Whether this run is a part's own (a fragment rerun), not the page's."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def part(body: F) -> F:
    """``body`` (which draws one section of a page) as a part that reruns on its own."""

    @functools.wraps(body)  # the fragment is known by body's name and place on the page
    def section(*args: Any, **kwargs: Any) -> Any:
        result = body(*args, **kwargs)
        if _alone():
            page = session.current_page()
            if page is not None:
                session.keep_choices(page)
            links.settle_part()
        return result

    fragment = st.fragment(section)

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        if presenter.active():
            return body(*args, **kwargs)
        return fragment(*args, **kwargs)

    return run  # type: ignore[return-value]


def rerun_part() -> None:
    """Run the part this is called from again: alone when this run is the part's own, else (a
    full run, where Streamlit refuses a part's rerun; presenter mode) the whole page."""
    if presenter.active() or not _alone():
        st.rerun()
    st.rerun(scope="fragment")
