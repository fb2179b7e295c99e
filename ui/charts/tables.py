"""Tables whose column headings come from the lesson: each row is a dict keyed by column name, and
column ``name`` is headed by the lesson's section ``col_<name>``.  No number is made here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from lessons import Lesson


def lesson_table(
    rows: Sequence[dict], text: Lesson, key: str, container=st, *, grouped: bool = False, **options
) -> None:
    """``rows`` as a table without an index, headed in the learner's language.  With ``grouped``,
    a column of whole numbers that reaches 1000 is written with thousands grouped the way the
    lesson's language writes them ("62,720", "62 720"), right-aligned."""
    columns = {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}
    big = {n for n, vs in columns.items() if grouped and _whole(vs) and any(abs(v) >= 1000 for v in vs)}
    shown = [{n: text.num(v, ",") if n in big else v for n, v in row.items()} for row in rows]
    labelled = [{text(f"col_{name}"): value for name, value in row.items()} for row in shown]
    right = {text(f"col_{n}"): st.column_config.TextColumn(alignment="right") for n in big}
    config = {**right, **options.pop("column_config", {})}
    container.dataframe(labelled, hide_index=True, key=key, column_config=config or None, **options)


def _whole(values: Sequence) -> bool:
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
