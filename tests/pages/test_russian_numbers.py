"""Every page in Russian, with live values: no dot decimals ("0.583" beside "0,583") and no counted
noun that disagrees with its number ("5 головы")."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.pages.conftest import (
    LABELLED_KINDS,
    PROSE_KINDS,
    assert_russian,
    open_page,
    russian_number_problems,
)
from ui.widgets.nav import PAGES

KINDS = (*PROSE_KINDS, "metric", *LABELLED_KINDS)  # what the checker reads


def test_the_checker_finds_what_it_should():
    shown = SimpleNamespace(**{kind: [] for kind in KINDS}, session_state={"lang": "ru"})
    shown.markdown = [SimpleNamespace(value="Сходство 0,583 и -0.0867, 5 головы, 21 метка, 3 головы")]
    problems = russian_number_problems(shown)  # type: ignore[arg-type]
    assert any("-0.0867" in p or "0.0867" in p for p in problems), problems
    assert any("5 головы" in p for p in problems), problems
    assert len(problems) == 2, problems  # "21 метка" and "3 головы" are right; "0,583" too


def test_the_checker_finds_clumsy_workarounds_and_english():
    from ui.widgets.encoder import summary

    shown = SimpleNamespace(**{kind: [] for kind in KINDS}, session_state={"lang": "ru"})
    shown.markdown = [SimpleNamespace(value="Фильтр охватывает клеток: 3; не читаются 2 крайних строк(и)")]
    shown.caption = [
        SimpleNamespace(value=summary("resnet50", "en")),
        SimpleNamespace(value=summary("resnet50", "ru")),
    ]
    unnamed = SimpleNamespace(label="Каналы", proto=SimpleNamespace(placeholder=""))
    named = SimpleNamespace(label="Метки", proto=SimpleNamespace(placeholder="Выберите метки"))
    shown.multiselect = [unnamed, named]
    problems = russian_number_problems(shown)  # type: ignore[arg-type]
    assert any("клеток: 3" in p for p in problems), problems
    assert any("строк(и)" in p for p in problems), problems
    assert any("English" in p and "textbook" in p for p in problems), problems
    assert any("'Каналы' without a placeholder" in p for p in problems), problems
    assert len(problems) == 4, problems  # the Russian line and the named multiselect are right


@pytest.mark.parametrize("page_file", [p.file for p in PAGES])
def test_every_page_writes_russian_numbers_the_russian_way(page_file):
    assert_russian(open_page(page_file, lang="ru"))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_figures_write_their_numbers_in_the_pages_language(lang):
    """Plotly's ticks, colour bars and hover labels: "0,25" on Russian pages (layout.separators)."""
    import json

    at = open_page("pages/cnn_deeper.py", lang=lang)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert charts
    marks = {c["layout"].get("separators") for c in charts}
    assert marks == ({",\u202f"} if lang == "ru" else {None})
