"""Tables whose column headings come from the lesson: each row is a dict keyed by column name, and
column ``name`` is headed by the lesson's section ``col_<name>``.  No number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lessons import Lesson


def lesson_table(rows: Sequence[dict], text: Lesson, key: str, container=st, **options) -> None:
    """``rows`` as a table without an index, headed in the learner's language."""
    labelled = [{text(f"col_{name}"): value for name, value in row.items()} for row in rows]
    container.dataframe(labelled, hide_index=True, key=key, **options)
