"""The prose of every lesson step, in English and Russian, with placeholders for live numbers.

Each page has one Markdown file per language, ``lessons/<lang>/<page id>.md``, cut into named
sections by comment lines::

    <!-- intro -->
    Your photo is {{width}}×{{height}} pixels ...

A placeholder is ``{{name}}`` or ``{{name:format}}`` (Python's format spec, e.g.
``{{share:.1%}}``); every one must be given a value — a missing value is an error, never a
blank — and every number in the prose comes from vision_core, never typed into the text.
Double braces leave LaTeX's single braces (``\\frac{a}{b}``) alone.
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
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*(?::([^}]*))?\}\}")


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
            name, spec = match.group(1), match.group(2) or ""
            if name not in values:
                raise KeyError(
                    f"section {section!r} of {self.page_id} ({self.lang}) needs a value for {name!r}"
                )
            return localize(format(values[name], spec), values[name], self.lang)

        return _PLACEHOLDER.sub(fill, text)

    def placeholders(self, section: str) -> set[str]:
        return {m.group(1) for m in _PLACEHOLDER.finditer(self.sections[section])}


def localize(text: str, value: Any, lang: str) -> str:
    """Russian writes 1 234 567,8 where English writes 1,234,567.8: numbers are regrouped
    with a narrow no-break space and a decimal comma."""
    if lang != "ru" or isinstance(value, (str, bool)) or not isinstance(value, (int, float, np.number)):
        return text
    return text.replace(",", "\u202f").replace(".", ",")


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
