"""Predict-then-reveal questions: the right answer and its rivals, all computed by the caller from
the model in use, put in a fixed order that does not give the answer away.

A page builds a :class:`Choices` with :func:`choices` — the live answer and a few plausible wrong
ones (an off-by-one size, another head, a neighbouring class) — and the interface asks the learner
to commit to one before it shows the model's answer and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Generic, TypeVar, cast

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Choices(Generic[T]):
    """The options a learner picks from, and which one the model gives."""

    options: tuple[T, ...]
    answer: int  # index into options

    @property
    def correct(self) -> T:
        return self.options[self.answer]

    def is_right(self, picked: T) -> bool:
        return picked == self.correct

    @property
    def fingerprint(self) -> str:
        """Changes whenever the question does (a new photo, another encoder): a committed answer to
        the old question is then forgotten rather than judged against the new one."""
        return hashlib.sha256(repr((self.options, self.answer)).encode()).hexdigest()[:16]


def choices(correct: T, rivals: Iterable[T], *, limit: int = 4, salt: str = "") -> Choices[T]:
    """``correct`` among at most ``limit - 1`` of ``rivals`` (duplicates of it, or of each other,
    dropped). Numbers are put in increasing order, as a learner would expect them; anything else in
    an order fixed by ``salt`` and the options themselves, so the answer's place does not repeat
    from question to question and does not move when the page reruns."""
    if limit < 2:
        raise ValueError("a question needs at least two options")
    picked: list[T] = [correct]
    for rival in rivals:
        if rival not in picked:
            picked.append(rival)
        if len(picked) == limit:
            break
    if len(picked) < 2:
        raise ValueError(f"no rival differs from the answer {correct!r}")
    if all(isinstance(p, Real) and not isinstance(p, bool) for p in picked):
        ordered = sorted(picked, key=lambda p: float(cast(Real, p)))
    else:
        ordered = sorted(picked, key=lambda p: hashlib.sha256(f"{salt}|{p!r}".encode()).digest())
    return Choices(tuple(ordered), ordered.index(correct))


def nearest_rivals(correct: float, candidates: Sequence[float], count: int = 3) -> list[float]:
    """The ``count`` candidates closest to ``correct`` (but not equal to it): rivals that make a
    learner think rather than guess."""
    others = sorted({c for c in candidates if c != correct}, key=lambda c: (abs(c - correct), c))
    return others[:count]
