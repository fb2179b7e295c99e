"""The glossary: every term's name and definition, the pages that link it, and the search the
glossary page filters with.

The terms live in ``lessons/<lang>/glossary.md``, two sections each: ``term_<slug>`` (the name)
and ``def_<slug>`` (the definition, a few sentences). A lesson marks a term ``[[slug]]`` or
``[[slug|words]]`` where it first appears on a page (see :func:`lessons.link_terms`); the slug is
the term's anchor on the glossary page, the same in every language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lessons import GLOSSARY, TERM, lesson


@dataclass(frozen=True)
class Term:
    slug: str
    name: str
    definition: str


def _folded(text: str) -> str:
    return text.casefold().replace("ё", "е")


def terms(lang: str) -> list[Term]:
    """Every term, in the alphabetical order of its name in ``lang`` (ё sorted as е)."""
    sections = lesson(GLOSSARY, lang).sections
    slugs = [name.removeprefix("term_") for name in sections if name.startswith("term_")]
    found = [Term(s, sections[f"term_{s}"], sections[f"def_{s}"]) for s in slugs]
    return sorted(found, key=lambda t: _folded(t.name))


def marked(page_id: str, lang: str) -> list[str]:
    """The slugs a page's lesson marks, in the order they appear in its file."""
    sections = lesson(page_id, lang).sections.values()
    return [m.group(1) for body in sections for m in TERM.finditer(body)]


def pages_using(slug: str, lang: str, page_ids: Iterable[str]) -> list[str]:
    """The pages (of ``page_ids``, in that order: the teaching order) whose lesson links ``slug``."""
    return [p for p in page_ids if slug in marked(p, lang)]


def matches(term: Term, query: str) -> bool:
    """Whether every word of ``query`` is in the term's name or definition (any case; ё = е)."""
    haystack = _folded(f"{term.name} {term.definition}")
    return all(word in haystack for word in _folded(query).split())
