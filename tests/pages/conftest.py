"""Helpers for AppTests: open one page of the real app with a chosen photo and encoder."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from lessons import lesson, plural
from ui.session import DEFAULT_SAMPLE, Photo
from vision_core import samples

APP = Path(__file__).resolve().parents[2] / "app.py"  # from_file resolves relative paths against this file
TIMEOUT = 180  # seconds; a first trace on 2 CPU cores, with models loading, can take a while


@pytest.fixture(autouse=True)
def _app_py_runs_on_every_run(monkeypatch):
    """Run ``app.py`` (navigation, sidebar, then the page) on every AppTest run, as a served app
    does once its entry point has run. AppTest resets Streamlit's "old pages/ folder" flag before
    each run, and with it set, every run after the first ran the page file on its own."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


# a glossary link as lessons.link_terms writes it: [words](glossary?lang=en#slug "definition")
GLOSSARY_LINK = re.compile(r'\[([^\]]+)\]\(glossary\?lang=\w+#[\w-]+(?: "[^"]*")?\)')


def plain(md: str) -> str:
    """Markdown with its glossary links reduced to their words: what a learner reads."""
    return GLOSSARY_LINK.sub(r"\1", md)


def markdown(at: AppTest) -> str:
    """All the page's Markdown, as read (glossary links as their words)."""
    return "\n".join(plain(m.value) for m in at.markdown)


def markdown_with(at: AppTest, needle: str) -> str:
    """The first Markdown block of the page that says ``needle`` (glossary links as their words)."""
    return next(text for text in (plain(m.value) for m in at.markdown) if needle in text)


@pytest.fixture(autouse=True)
def _fresh_weights_status():
    """Each test looks at the weights folders anew (tests place and remove files within seconds)."""
    from ui.widgets.encoder import forget_status

    forget_status()
    yield
    forget_status()


def sample_photo(sample_id: str = "chelsea") -> Photo:
    return Photo.from_bytes(samples.sample_bytes(sample_id), samples.get_sample(sample_id).title)


def open_page(page_file: str, *, photo: Photo | None = None, lang: str = "en", **session) -> AppTest:
    """Run ``app.py`` once, then switch to ``page_file`` with the given session state."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["photo"] = photo or sample_photo()
    # the sidebar's photo picker shows the default sample: as if that was the last photo it gave, so
    # it does not replace the test's photo (it changes the photo only when the learner picks anew)
    at.session_state["photo_source_id"] = f"sample:{DEFAULT_SAMPLE}"
    for key, value in session.items():
        at.session_state[key] = value
    at.switch_page(page_file)
    at.run()
    return at


def assert_ok(at: AppTest) -> None:
    """No exception on the page, and no error box other than expected ones."""
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def chelsea() -> Photo:
    return sample_photo("chelsea")


# Russian counted nouns the lessons use, as (one, few, many): a number followed by any form of one
# of these must be followed by the form lessons.plural gives for it.
RUSSIAN_NOUNS = [
    ("голова", "головы", "голов"),
    ("число", "числа", "чисел"),
    ("метка", "метки", "меток"),
    ("канал", "канала", "каналов"),
    ("патч", "патча", "патчей"),
    ("слой", "слоя", "слоёв"),
    ("токен", "токена", "токенов"),
    ("клетка", "клетки", "клеток"),
    ("пиксель", "пикселя", "пикселей"),
    ("эпоха", "эпохи", "эпох"),
    ("фильтр", "фильтра", "фильтров"),
    ("блок", "блока", "блоков"),
    ("класс", "класса", "классов"),
    ("строка", "строки", "строк"),
    ("столбец", "столбца", "столбцов"),
    ("шаг", "шага", "шагов"),
    ("раз", "раза", "раз"),
    ("параметр", "параметра", "параметров"),
    ("измерение", "измерения", "измерений"),
    ("фотография", "фотографии", "фотографий"),
    ("сосед", "соседа", "соседей"),
    ("вектор", "вектора", "векторов"),
    ("стадия", "стадии", "стадий"),
    ("файл", "файла", "файлов"),
    ("кластер", "кластера", "кластеров"),
    ("картинка", "картинки", "картинок"),
    ("поток", "потока", "потоков"),
]
# the workaround for agreement that reads like a form ("охватывает клеток: 3", "меток: 4"), and
# "строк(и)", "раз(а)": a counted noun is written with {{n@one|few|many}} instead
_NOUN_COLON = re.compile(
    r"(?<![\w-])("
    + "|".join(sorted({m for *_, m in RUSSIAN_NOUNS} | {"частей", "ошибок", "умножений"}))
    + r")\s*:\s*\d",
    re.IGNORECASE,
)
_BRACKETED_ENDING = re.compile(r"[а-яё]\((?:а|и|ы|ов|ей)\)", re.IGNORECASE)
_CODE = re.compile(r"`[^`]*`|\$[^$]*\$")  # code and formulas keep their own notation
# a dot between digits, not inside a name such as "Apache-2.0" or "layer4.2.conv3"
_DOT_DECIMAL = re.compile(r"(?<![\w./])(?<![A-Za-z]-)\d+\.\d+(?![\w./])")
_COUNTED = re.compile(r"(?<![\w.,])(\d+(?:[\u202f ]\d{3})*)\s+([а-яё]+)", re.IGNORECASE)


PROSE_KINDS = ("markdown", "caption", "title", "header", "subheader", "info", "warning", "success", "error")
LABELLED_KINDS = (
    "slider",
    "selectbox",
    "radio",
    "toggle",
    "checkbox",
    "number_input",
    "button",
    "multiselect",
)


def shown_texts(at: AppTest) -> list[str]:
    """Every piece of prose on the page: Markdown, captions, headings, notes, metrics, widget labels."""
    texts = [str(e.value) for kind in PROSE_KINDS for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    texts += [str(w.label) for kind in LABELLED_KINDS for w in getattr(at, kind)]
    return texts


def russian_number_problems(at: AppTest) -> list[str]:
    """Dot decimals, and counted nouns that cannot agree with their number, in what a page shows.

    A noun after a number can stand in the genitive for the sentence's sake ("из 384 чисел",
    "после 1 блока"), so only forms that are wrong in every case are flagged: the singular
    ("5 голова") and the genitive singular ("5 головы", "0 головы") after a number that takes the
    genitive plural."""
    forms = {form: nouns for nouns in RUSSIAN_NOUNS for form in nouns}
    problems = []
    for text in shown_texts(at):
        prose = _CODE.sub(" ", text)
        problems += [f"dot decimal {m.group(0)!r} in {text[:120]!r}" for m in _DOT_DECIMAL.finditer(prose)]
        for m in _COUNTED.finditer(prose):
            number, word = int(re.sub(r"\D", "", m.group(1))), m.group(2).lower()
            if word not in forms:
                continue
            one, few, many = forms[word]
            right = plural(number, [one, few, many], "ru")
            if (word == one and right != one and one != many) or (
                word == few and right == many and few != many
            ):
                problems.append(f"{m.group(0)!r} should be {right!r}")
        problems += [
            f"noun-colon workaround {m.group(0)!r} in {text[:120]!r}" for m in _NOUN_COLON.finditer(prose)
        ]
        problems += [
            f"bracketed ending {m.group(0)!r} in {text[:120]!r}" for m in _BRACKETED_ENDING.finditer(prose)
        ]
        problems += [f"English on a Russian page: {text[:120]!r}" for line in english_lines() if line in text]
    problems += [
        f"multiselect {m.label!r} without a placeholder: Streamlit shows 'Choose options'"
        for m in at.multiselect
        if not m.proto.placeholder.strip()
    ]
    return problems


@functools.cache
def english_lines() -> tuple[str, ...]:
    """English a Russian page must not show: the sidebar's encoder lines (their first words)."""
    from ui.widgets.encoder import summary
    from vision_core.engine import encoders

    return tuple(summary(name, "en")[:60] for name in encoders.names())


def assert_russian(at: AppTest) -> None:
    """The page ran, and its Russian numbers are written the Russian way."""
    assert_ok(at)
    assert at.session_state["lang"] == "ru"
    problems = russian_number_problems(at)
    assert not problems, problems


def run_with_edits(at: AppTest, edits: dict[str, dict]):
    """Rerun with table edits, as the browser sends them: AppTest has no driver for st.data_editor, so
    its widget state ({"edited_rows": {row: {column: value}}}) is added to the run's widget states."""
    states = at._tree.get_widget_states()
    for table in at.dataframe:
        if table.key in edits:
            value = {"edited_rows": edits[table.key], "added_rows": [], "deleted_rows": []}
            states.widgets.append(WidgetState(id=table.proto.id, string_value=json.dumps(value)))
    return at._run(states)


def answer_question(at: AppTest, key: str, pick_index: int = 0) -> tuple[object, str]:
    """Answer the page's question ``key`` with its option number ``pick_index``; returns the
    option picked and everything the reveal then says (its verdict and its explanation)."""
    radio = next(r for r in at.radio if str(r.key).startswith(f"q_{key}__"))
    picked = radio.options[pick_index]  # as the radio shows it (formatted)
    radio.set_value(radio.options[pick_index]).run()  # the button is enabled once a pick is made
    at.button(key=f"q_{key}_commit").click().run()
    assert_ok(at)
    said = [e.value for e in (*at.success, *at.warning, *at.info)] + [m.value for m in at.markdown]
    return picked, "\n".join(plain(str(s)) for s in said)


def wrong_then_right(at: AppTest, key: str, q, shown: str, lang: str = "en") -> str:
    """Answer question ``key`` (its :class:`~vision_core.quiz.Choices` ``q``) wrongly — the verdict
    and the model's answer ``shown`` (as the page writes it) appear — ask again, answer rightly;
    returns what the right answer's reveal says (glossary links as their words). Nothing is
    revealed before the first answer."""
    verdicts = lesson("question", lang)
    wrong = verdicts("wrong", picked="", answer="").split("**")[1]  # "Not this time."
    assert not any(str(b.key) == f"q_{key}_again" for b in at.button)  # nothing revealed before

    def pick(option) -> str:  # the option itself: AppTest formats it with the page's own format_func
        next(r for r in at.radio if str(r.key).startswith(f"q_{key}__")).set_value(option).run()
        at.button(key=f"q_{key}_commit").click().run()
        assert_ok(at)
        said = [e.value for e in (*at.success, *at.warning, *at.info)] + [m.value for m in at.markdown]
        return "\n".join(plain(str(s)) for s in said)

    said = pick(next(o for o in q.options if o != q.correct))
    assert wrong in said and f"**{shown}**" in said, said
    at.button(key=f"q_{key}_again").click().run()
    said = pick(q.correct)
    assert verdicts("right", answer=shown) in said, said
    return said
