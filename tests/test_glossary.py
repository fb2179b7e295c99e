"""The glossary's terms and the lessons' links to them: every term in both languages, every
``[[slug]]`` a known term, each term linked on some page and at most once per page, and the
rendered link pointing at the glossary page's anchor with the definition as its hover title."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lessons import GLOSSARY, LANGUAGES, TERM, Lesson, glossary, lesson, parse
from ui.widgets.nav import PAGES

ROOT = Path(__file__).parents[1]
LESSON_FILES = sorted((ROOT / "lessons").glob("*/*.md"))
PAGE_IDS = [p.id for p in PAGES if p.id != GLOSSARY]
RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def slugs(lang: str) -> set[str]:
    return {t.slug for t in glossary.terms(lang)}


def test_every_term_has_a_name_and_a_short_definition_in_every_language():
    assert len(slugs("en")) >= 30
    for lang in LANGUAGES:
        sections = lesson(GLOSSARY, lang).sections
        assert lesson(GLOSSARY, lang).lang == lang
        assert slugs(lang) == slugs("en"), lang
        for t in glossary.terms(lang):
            assert t.name.strip() and "\n" not in t.name, (lang, t.slug)
            sentences = re.findall(r"[.!?](?:\s|$)", t.definition)
            assert 1 <= len(sentences) <= 3, (lang, t.slug, t.definition)
            assert "[[" not in t.definition and "{{" not in t.definition, (lang, t.slug)
        assert set(sections) - {f"term_{s}" for s in slugs(lang)} - {f"def_{s}" for s in slugs(lang)} == {
            "title",
            "intro",
            "search_label",
            "search_placeholder",
            "count",
            "none",
            "used_on",
        }


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_marked_term_is_known_and_linked_once_per_page(path):
    sections = parse(path.read_text(encoding="utf-8")).values()
    marked = [m.group(1) for body in sections for m in TERM.finditer(body)]
    assert set(marked) <= slugs(path.parent.name), set(marked) - slugs(path.parent.name)
    repeated = {s for s in marked if marked.count(s) > 1}
    assert not repeated, f"{path.name} links {repeated} more than once: only the first appearance is a link"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_term_is_linked_from_some_page(lang):
    unlinked = [s for s in slugs(lang) if not glossary.pages_using(s, lang, PAGE_IDS)]
    assert not unlinked, unlinked


def test_a_marked_term_becomes_a_link_to_its_anchor_with_the_definition_as_title():
    en = Lesson("demo", "en", {"a": "A filter moves {{s}} pixels per [[stride|step]]; [[padding]]."})
    stride, padding = (lesson(GLOSSARY, "en").sections[f"def_{s}"] for s in ("stride", "padding"))
    assert en("a", s=2) == (
        f'A filter moves 2 pixels per [step](glossary?lang=en#stride "{stride}"); '
        f'[Padding](glossary?lang=en#padding "{padding}").'
    )
    ru = Lesson("demo", "ru", {"a": "с [[stride|шагом]] {{s}}"})
    definition = lesson(GLOSSARY, "ru").sections["def_stride"]
    assert ru("a", s=2) == f'с [шагом](glossary?lang=ru#stride "{definition}") 2'
    with pytest.raises(KeyError, match="no term 'strides'"):
        Lesson("demo", "en", {"a": "[[strides]]"})("a")


def test_a_hover_title_is_plain_text_that_cannot_end_the_link():
    title = re.search(r' "(.*)"\)$', Lesson("d", "en", {"a": "[[relu]]"})("a")).group(1)
    assert '"' not in title and "*" not in title and "\n" not in title
    assert title.startswith("The rectified linear unit, max(0, x)")


def test_terms_are_in_the_alphabetical_order_of_each_language():
    names = [t.name.casefold() for t in glossary.terms("en")]
    assert names == sorted(names)
    russian = [t.name.casefold().replace("ё", "е") for t in glossary.terms("ru")]
    cyrillic = [n for n in russian if n[0] in RUSSIAN]
    assert [RUSSIAN.index(n[0]) for n in cyrillic] == sorted(RUSSIAN.index(n[0]) for n in cyrillic)
    at = russian.index
    assert at("ближайшие соседи") < at("блок трансформера") < at("веса (параметры)")
    assert at("свертка") < at("стадия") < at("шаг (stride)") < at("ядро (фильтр)")


def test_search_matches_words_of_the_name_or_the_definition_in_any_case():
    ru = {t.slug: t for t in glossary.terms("ru")}
    assert glossary.matches(ru["stride"], "ШАГ")
    assert glossary.matches(ru["cls_token"], "токен собирает")  # both words, in the definition
    assert not glossary.matches(ru["stride"], "шаг внимание")
    assert glossary.matches(ru["convolution"], "свертка")  # ё written as е
    found = [t.slug for t in glossary.terms("en") if glossary.matches(t, "stride")]
    assert "stride" in found and "attention" not in found


def _shown_by(call: ast.Call, parents: dict) -> str:
    node = parents.get(call)
    while node is not None and not isinstance(node, ast.Call):
        node = parents.get(node)
    if node is None:
        return "assigned"
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "?")


def _page_and_its_widgets(source: str) -> list[ast.Module]:
    """The page's syntax tree and those of the ``ui/widgets`` modules it imports (a part of the
    page, ``ui.parts``, draws the page's text from there)."""
    tree = ast.parse(source)
    trees = [tree]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui.widgets."):
            path = ROOT / Path(*node.module.split(".")).with_suffix(".py")
            trees.append(ast.parse(path.read_text(encoding="utf-8")))
    return trees


@pytest.mark.parametrize("page_id", PAGE_IDS)
def test_links_are_only_in_sections_a_page_shows_as_markdown(page_id):
    """A section with a link is drawn by ``st.markdown``, never as a label, caption or heading."""
    texts = [lesson(page_id, lang).sections for lang in LANGUAGES]
    linked = {name for sections in texts for name, body in sections.items() if "[[" in body}
    source = (ROOT / "pages" / f"{page_id}.py").read_text(encoding="utf-8")
    uses: dict[str, set[str]] = {}
    for tree in _page_and_its_widgets(source):
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            is_text_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
            if is_text_call and isinstance(node.args[0], ast.Constant) and node.args[0].value in linked:
                uses.setdefault(node.args[0].value, set()).add(_shown_by(node, parents))
    if "intro" in linked and "intro" not in uses:
        assert "page_header(" in source and "intro=False" not in source
        uses["intro"] = {"markdown"}
    assert {name: kinds for name, kinds in uses.items() if kinds != {"markdown"}} == {}
    assert set(uses) == linked, linked - set(uses)
