"""What a class map holds, the limits it keeps, and the refusals it answers with.

A teacher starts a class and gets a short join code (read aloud, typed on a phone) and a secret
teacher token; learners add one photo each: a small thumbnail, a label and the photo's embedding.
Every check here is pure: the stores run them before they write anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# --- limits -----------------------------------------------------------------------------------
# A lesson is one sitting: three hours covers a double period; a class then expires by itself.
DEFAULT_HOURS = 3.0
# A class outliving a school day is a class someone forgot to end.
MAX_HOURS = 24.0
# Join codes are read aloud and typed on phones: six characters, no look-alikes (0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6  # 31**6 ≈ 887 million codes: a random draw collides with a live class almost never
CODE_ATTEMPTS = 20  # draws before start_class gives up (each collision is a one-in-millions event)
# Two hundred photos fill a lecture hall; a map with more dots than that is unreadable anyway.
MAX_ENTRIES = 200
# A label names a dot on the map ("my cat"), not a paragraph.
MAX_LABEL = 40
# A thumbnail is a dot's picture: 128 px on its longer side is plenty, and 64 KB holds any such PNG
# (128 x 128 RGB is 48 KB raw, and zlib never grows data by more than a few bytes per block).
THUMBNAIL_SIDE = 128
MAX_THUMBNAIL_BYTES = 64 * 1024
# The largest embedding of our encoders is 2,048 numbers (ResNet-50); 4,096 leaves room, and caps
# one entry's vector at 16 KB.
MAX_VECTOR = 4096
# The encoder's name as the sidebar knows it, with room to spare.
MAX_ENCODER = 64
MAX_OWNER = 128

Kind = Literal[
    "unknown_code",
    "expired",
    "already_joined",
    "not_yours",
    "not_teacher",
    "bad_photo",
    "class_full",
    "bad_label",
    "bad_vector",
]

_MESSAGES: dict[str, str] = {
    "unknown_code": "There is no class with this code. Check the code on the teacher's screen.",
    "expired": "This class has ended: its time is up. Ask the teacher to start a new one.",
    "already_joined": "You have already added a photo to this class. Remove it first to add another.",
    "not_yours": "This photo belongs to someone else: only they or the teacher can remove it.",
    "not_teacher": "Only the teacher who started this class can do that.",
    "bad_photo": "This thumbnail cannot go on the class map.",
    "class_full": f"This class is full: it already holds {MAX_ENTRIES} photos.",
    "bad_label": "This label cannot go on the class map.",
    "bad_vector": "This embedding cannot go on the class map.",
}


class ClassError(Exception):
    """A refusal of the class map, in words for the learner or teacher; ``kind`` says which."""

    def __init__(self, kind: Kind, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES[kind])
        self.kind: str = kind


@dataclass(frozen=True)
class ClassInfo:
    """One class: its join code, the encoder every photo in it goes through, and its lifetime
    (unix seconds)."""

    code: str
    encoder: str
    created: float
    expires: float


@dataclass(frozen=True)
class Entry:
    """One learner's photo on the map. ``vector`` is read-only float32 (left out of ``==``)."""

    id: int
    code: str
    owner: str
    label: str
    thumbnail: bytes
    vector: np.ndarray = field(compare=False)
    created: float


# --- codes and tokens -------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What a person typed → the stored code: case ignored, spaces ignored.  A string that cannot
    be a code at all is refused here, without asking the database."""
    cleaned = "".join(str(code).split()).upper()
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        raise ClassError("unknown_code")
    return cleaned


def new_teacher_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Only this SHA-256 is stored: a copy of the database cannot end someone's class."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    if not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


# --- checks -----------------------------------------------------------------------------------

# Characters that would break or disguise a label: controls (Cc), lone surrogates (not text at
# all), line and paragraph separators, and the bidirectional controls that reorder text.  Emoji
# (with their zero-width joiners) pass; so do characters newer than this Python's Unicode tables.
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def check_label(label: str) -> str:
    """The label as stored (surrounding spaces dropped), or ``bad_label``.  Empty is allowed."""
    if not isinstance(label, str):
        raise ClassError("bad_label", "A label must be text.")
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise ClassError(
            "bad_label", f"This label has {len(label)} characters: keep it to {MAX_LABEL} or fewer."
        )
    if any(unicodedata.category(c) in _BAD_CATEGORIES or c in _BIDI_CONTROLS for c in label):
        raise ClassError("bad_label", "A label cannot hold line breaks, tabs or other control characters.")
    return label


def check_vector(vector: np.ndarray, dim: int | None) -> bytes:
    """The vector as stored: little-endian float32 bytes (never a pickle), or ``bad_vector``.

    ``dim`` is the class's dimension, fixed by its first entry (``None`` before it)."""
    arr = np.asarray(vector)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.floating):
        raise ClassError("bad_vector", "An embedding must be one row of floating-point numbers.")
    if arr.size == 0 or arr.size > MAX_VECTOR:
        raise ClassError(
            "bad_vector", f"An embedding holds 1 to {MAX_VECTOR} numbers; this one has {arr.size}."
        )
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: refused below
        stored = arr.astype("<f4")
    if not np.isfinite(stored).all():
        raise ClassError("bad_vector", "This embedding holds a number that is not finite (NaN or infinity).")
    if dim is not None and arr.size != dim:
        raise ClassError(
            "bad_vector",
            f"This class's embeddings have {dim} numbers; this one has {arr.size}. "
            "Every photo in a class goes through the same encoder.",
        )
    return stored.tobytes()


def vector_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")  # read-only: an Entry is frozen


def check_encoder(encoder: str) -> str:
    if not isinstance(encoder, str) or not encoder.strip() or len(encoder) > MAX_ENCODER:
        raise ValueError(f"encoder must be a name of 1 to {MAX_ENCODER} characters, not {encoder!r}")
    return encoder.strip()


def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner or len(owner) > MAX_OWNER:
        raise ValueError(f"owner must be a non-empty string of at most {MAX_OWNER} characters")
    return owner


def check_hours(hours: float) -> float:
    hours = float(hours)
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"a class lasts more than 0 and at most {MAX_HOURS:g} hours, not {hours:g}")
    return hours
