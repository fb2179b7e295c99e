"""The glossary page in both languages (its terms, anchors, search and page links), and a lesson
page whose term links point at anchors the glossary page really has, with the definitions as titles."""

from __future__ import annotations

import re

import pytest

from lessons import GLOSSARY, glossary, lesson
from tests.pages.conftest import LABELLED_KINDS, assert_ok, open_page
from ui.widgets import nav

LINK = re.compile(r'\[([^\]]+)\]\(glossary\?lang=(\w+)#(\w+) "([^"]*)"\)')
LESSON_PAGES = [p.id for p in nav.PAGES if p.id != GLOSSARY]


def anchors(at) -> list[str]:
    return [h.proto.anchor for h in at.subheader if h.proto.anchor]


def page_links(at) -> list[str]:
    """The pages linked, by id (the title names the page: the start page's link has an empty path)."""
    lang = at.session_state["lang"]
    by_label = {f"{nav.SECTIONS[p.section][lang]} · {p.title[lang]}": p.id for p in nav.PAGES}
    return [by_label[e.proto.label] for e in at.get("page_link")]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_glossary_lists_every_term_under_its_anchor_and_filters_by_search(lang):
    at = open_page("pages/glossary.py", lang=lang)
    assert_ok(at)
    terms = glossary.terms(lang)
    assert anchors(at) == [t.slug for t in terms]  # alphabetical in the page's language
    assert [h.value for h in at.subheader if h.proto.anchor] == [t.name for t in terms]
    words = lesson(GLOSSARY, lang)
    assert words("count", shown=len(terms), total=len(terms)) in [c.value for c in at.caption]
    # each term lists the pages that link it, in teaching order: the first is where it first appears
    expected = [p for t in terms for p in glossary.pages_using(t.slug, lang, LESSON_PAGES)]
    assert page_links(at) == expected

    query = {"en": "stride", "ru": "шаг"}[lang]
    at.text_input(key="glossary_search").input(query).run()
    found = [t for t in terms if glossary.matches(t, query)]
    assert "stride" in anchors(at) and anchors(at) == [t.slug for t in found] and len(found) < len(terms)
    assert words("count", shown=len(found), total=len(terms)) in [c.value for c in at.caption]
    expected = [p for t in found for p in glossary.pages_using(t.slug, lang, LESSON_PAGES)]
    assert page_links(at) == expected
    assert "cnn_convolution" in glossary.pages_using("stride", lang, LESSON_PAGES)

    at.text_input(key="glossary_search").input("zzzz qqqq").run()
    assert anchors(at) == [] and [i.value for i in at.info] == [words("none")]


def test_a_lesson_pages_links_point_at_glossary_anchors_with_their_definitions():
    shown = open_page("pages/glossary.py")
    at = open_page("pages/cnn_convolution.py")
    assert_ok(at)
    links = [m for e in at.markdown for m in LINK.finditer(str(e.value))]
    slugs = [m.group(3) for m in links]
    assert {"convolution", "kernel", "feature_map", "stride", "padding"} <= set(slugs)
    assert len(slugs) == len(set(slugs))  # each term a link once on the page: its first appearance
    assert set(slugs) <= set(anchors(shown))  # every link lands on an anchor the glossary page has
    definitions = {t.slug: t.definition for t in glossary.terms("en")}
    for words, lang, slug, title in (m.groups() for m in links):
        assert lang == "en" and title == " ".join(definitions[slug].split()) and words.strip()
    labels = [str(w.label) for kind in LABELLED_KINDS for w in getattr(at, kind)]
    labels += [c.value for c in at.caption]
    assert not [label for label in labels if "](glossary" in label or "[[" in label]


def test_a_russian_lesson_page_links_to_the_russian_glossary():
    at = open_page("pages/cnn_relu.py", lang="ru")
    assert_ok(at)
    links = [m.groups() for e in at.markdown for m in LINK.finditer(str(e.value))]
    definitions = {t.slug: t.definition for t in glossary.terms("ru")}
    assert {slug for _, _, slug, _ in links} >= {"relu", "activation", "convolution"}
    for _, lang, slug, title in links:
        assert lang == "ru" and title == " ".join(definitions[slug].split())
