"""The prose of every lesson step, in English and Russian, with placeholders for live numbers.

Each page has one Markdown file per language, ``lessons/<lang>/<page id>.md``, cut into named
sections by comment lines::

    <!-- intro -->
    Your photo is {{width}}×{{height}} pixels ...

A placeholder is ``{{name}}`` or ``{{name:format}}`` (Python's format spec, e.g.
``{{share:.1%}}``); every one must be given a value — a missing value is an error, never a
blank — and every number in the prose comes from vision_core, never typed into the text.
Double braces leave LaTeX's single braces (``\\frac{a}{b}``) alone.

A counted noun agrees with its number through ``{{name@forms}}``: ``{{heads@head|heads}}`` in
English, ``{{heads@голова|головы|голов}}`` in Russian (one | few | many), which give "3 heads" and
"3 головы", "5 голов", "21 голова" (see :func:`plural`).

A glossary term is marked ``[[stride]]`` or ``[[stride|strides]]`` (slug | the words shown, which
keep Russian inflections: ``[[stride|шагом]]``), on its first appearance on a page; it becomes a
link to its entry on the glossary page, the definition as the link's hover title (:func:`link_terms`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

LANGUAGES = {"en": "English", "ru": "Русский"}
_HERE = Path(__file__).parent
_SECTION = re.compile(r"^<!--\s*([\w-]+)\s*-->\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*(?::([^}@]*))?(?:@([^}]*))?\}\}")
TERM = re.compile(r"\[\[([a-z0-9_]+)(?:\|([^\]]+))?\]\]")  # [[slug]] or [[slug|shown words]]
_NEGATIVE_ZERO = re.compile(r"-[0.,]+(e[+-]?\d+)?%?")
GLOSSARY = "glossary"  # the glossary page's id: its URL path and its lesson file


@dataclass(frozen=True)
class Lesson:
    page_id: str
    lang: str
    sections: dict[str, str]

    def __call__(self, section: str, **values: Any) -> str:
        """The section's Markdown with every placeholder filled."""
        try:
            text = self.sections[section]
        except KeyError:
            raise KeyError(f"lessons/{self.lang}/{self.page_id}.md has no section {section!r}") from None

        def fill(match: re.Match) -> str:
            name, spec, forms = match.group(1), match.group(2) or "", match.group(3)
            if name not in values:
                raise KeyError(
                    f"section {section!r} of {self.page_id} ({self.lang}) needs a value for {name!r}"
                )
            shown = localize(format(values[name], spec), values[name], self.lang)
            if forms is None:
                return shown
            return f"{shown} {plural(as_written(values[name], spec), forms.split('|'), self.lang)}"

        return link_terms(_PLACEHOLDER.sub(fill, text), self.lang)

    def num(self, value: Any, spec: str = "") -> str:
        """One number written the way this lesson's language writes it: for metric tiles, table
        cells and lists of numbers, which do not pass through a placeholder."""
        return localize(format(value, spec), value, self.lang)

    def placeholders(self, section: str) -> set[str]:
        return {m.group(1) for m in _PLACEHOLDER.finditer(self.sections[section])}


def link_terms(text: str, lang: str) -> str:
    """``[[slug|words]]`` → ``[words](glossary?lang=ru#slug "definition")``. Streamlit opens a link
    that is not a ``#fragment`` in a new tab, so the lesson tab keeps its session (and photo); the
    ``lang`` query parameter opens the glossary in the lesson's language."""
    if "[[" not in text:
        return text
    glossary = lesson(GLOSSARY, lang)

    def link(match: re.Match) -> str:
        slug, shown = match.group(1), match.group(2)
        if f"def_{slug}" not in glossary.sections:
            raise KeyError(f"lessons/{glossary.lang}/{GLOSSARY}.md has no term {slug!r}")
        title = re.sub(r"[*_`]", "", glossary.sections[f"def_{slug}"]).replace('"', "'")
        words = shown or glossary.sections[f"term_{slug}"]
        return f'[{words}]({GLOSSARY}?lang={lang}#{slug} "{" ".join(title.split())}")'

    return TERM.sub(link, text)


def localize(text: str, value: Any, lang: str) -> str:
    """Russian writes 1 234 567,8 where English writes 1,234,567.8: numbers are regrouped
    with a narrow no-break space and a decimal comma."""
    if isinstance(value, (str, bool)) or not isinstance(value, (int, float, np.number)):
        return text
    if _NEGATIVE_ZERO.fullmatch(text):  # "-0", "-0.000": a zero, or a tiny negative rounded away
        text = text[1:]
    if lang != "ru":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def as_written(value: Any, spec: str) -> Any:
    """The number as the text writes it, which its noun agrees with: ``70.6`` written with ``.0f`` is
    "71 раз", not "71 раза"; a written decimal ("5,0 раза") is a fraction."""
    written = format(value, spec).replace(",", "").replace("_", "")
    try:
        float(written)
    except ValueError:  # "12.3%" and the like: the value itself
        return value
    return written


def plural(count: Any, forms: list[str], lang: str) -> str:
    """The form of a noun that agrees with ``count``.

    English gives two forms (one, other); Russian three (one: 1, 21, 101; few: 2–4, 22–24;
    many: 0, 5–20, 25–30, 11–14). A fractional count takes the Russian "few" form ("2,5 головы")
    and the English plural ("1.5 heads")."""
    value = float(count)
    whole = value == int(value) and not (isinstance(count, str) and "." in count)
    n = abs(int(value))
    if lang == "ru":
        if len(forms) != 3:
            raise ValueError(f"a Russian plural needs three forms (one|few|many), got {forms}")
        if not whole:
            return forms[1]
        if n % 10 == 1 and n % 100 != 11:
            return forms[0]
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return forms[1]
        return forms[2]
    if len(forms) != 2:
        raise ValueError(f"an English plural needs two forms (one|other), got {forms}")
    return forms[0] if whole and n == 1 else forms[1]


def parse(text: str) -> dict[str, str]:
    parts = _SECTION.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    return {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts), 2)}


@cache
def lesson(page_id: str, lang: str = "en") -> Lesson:
    """The lesson text of one page; falls back to English where a translation file is missing."""
    path = _HERE / lang / f"{page_id}.md"
    if not path.exists():
        path = _HERE / "en" / f"{page_id}.md"
        lang = "en"
    return Lesson(page_id, lang, parse(path.read_text(encoding="utf-8")))
