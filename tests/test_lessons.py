"""Every page has its lesson prose in every language, with the same sections and placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons import LANGUAGES, Lesson, lesson, parse
from ui.widgets.nav import PAGES

LESSONS = Path(__file__).parents[1] / "lessons"
LESSON_FILES = sorted({p.stem for p in (LESSONS / "en").glob("*.md")})


@pytest.mark.parametrize("page_id", [p.id for p in PAGES])
def test_every_page_has_a_lesson_file_in_every_language(page_id):
    for lang in LANGUAGES:
        assert (Path(__file__).parents[1] / "lessons" / lang / f"{page_id}.md").exists(), (page_id, lang)


@pytest.mark.parametrize("name", LESSON_FILES)
def test_translations_have_the_same_sections_and_placeholders(name):
    en = lesson(name, "en")
    for lang in LANGUAGES:
        other = lesson(name, lang)
        assert other.lang == lang, f"lessons/{lang}/{name}.md is missing"
        assert set(other.sections) == set(en.sections), (name, lang)
        for section in en.sections:
            assert other.placeholders(section) == en.placeholders(section), (name, lang, section)


def test_placeholders_are_filled_with_formats_and_missing_values_are_errors():
    text = Lesson(
        "demo", "en", parse("<!-- a -->\nShare {{share:.1%}} of {{n}} values; LaTeX $\\frac{a}{b}$ stays.")
    )
    assert text("a", share=0.1234, n=7) == "Share 12.3% of 7 values; LaTeX $\\frac{a}{b}$ stays."
    with pytest.raises(KeyError, match="'n'"):
        text("a", share=0.5)
    with pytest.raises(KeyError, match="no section"):
        text("b")


def test_russian_numbers_use_a_decimal_comma_and_spaced_thousands():
    source = "<!-- a -->\n{{n:,}} чисел, доля {{share:.1%}}, {{x:.3f}}, модель {{name}}"
    ru = Lesson("demo", "ru", parse(source))
    assert ru("a", n=150528, share=0.1234, x=0.5, name="ResNet-50.v2") == (
        "150\u202f528 чисел, доля 12,3%, 0,500, модель ResNet-50.v2"
    )


def test_every_page_file_is_named_after_its_url():
    # Streamlit also maps pages/<file>.py to the URL /<file>; a different url_path makes a direct
    # link show a spurious "page not found" dialog before the right page appears.
    root = Path(__file__).parents[1]
    for p in PAGES:
        assert p.file == f"pages/{p.id}.py", p
        assert (root / p.file).exists(), p
    assert {f.name for f in (root / "pages").glob("*.py")} == {f"{p.id}.py" for p in PAGES}


RUSSIAN_COUNTS = {1: "голова", 2: "головы", 4: "головы", 5: "голов", 11: "голов", 12: "голов", 14: "голов"}
RUSSIAN_COUNTS |= {
    21: "голова",
    22: "головы",
    25: "голов",
    101: "голова",
    111: "голов",
    0: "голов",
    2.5: "головы",
}


@pytest.mark.parametrize(("count", "word"), RUSSIAN_COUNTS.items())
def test_russian_counted_nouns_agree_with_their_number(count, word):
    text = Lesson("x", "ru", {"s": "{{n@голова|головы|голов}}"})
    assert text("s", n=count) == f"{str(count).replace('.', ',')} {word}"


def test_english_counted_nouns_and_formats_with_plurals():
    text = Lesson("x", "en", {"s": "{{n@head|heads}}, {{big:,@number|numbers}}"})
    assert text("s", n=1, big=1234) == "1 head, 1,234 numbers"
    assert text("s", n=3, big=1) == "3 heads, 1 number"
    with pytest.raises(ValueError, match="two forms"):
        text = Lesson("x", "en", {"s": "{{n@head}}"})
        text("s", n=2)


def test_a_counted_noun_agrees_with_the_number_as_written():
    """70.6 written with ".0f" reads "71": "в 71 раз", not the fractional "раза"; "2,5" stays fractional."""
    text = Lesson("x", "ru", {"s": "в {{t:.0f@раз|раза|раз}}, {{h:.1f@голова|головы|голов}}"})
    assert text("s", t=70.6, h=2.5) == "в 71 раз, 2,5 головы"
    assert text("s", t=21.2, h=5.0) == "в 21 раз, 5,0 головы"  # a written decimal is fractional
    english = Lesson("x", "en", {"s": "{{t:.0f@time|times}}"})
    assert english("s", t=1.2) == "1 time"


def test_plural_forms_are_written_for_the_language():
    """Every {{n@...}} in a Russian lesson has three forms, in an English one two."""
    for lang, count in (("en", 2), ("ru", 3)):
        for path in (LESSONS / lang).glob("*.md"):
            for name, body in parse(path.read_text(encoding="utf-8")).items():
                for forms in re.findall(r"\{\{\s*\w+\s*(?::[^}@]*)?@([^}]*)\}\}", body):
                    assert len(forms.split("|")) == count, (path.name, name, forms)
