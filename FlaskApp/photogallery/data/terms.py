"""Search terms: how labels, descriptions and queries become comparable words."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*", re.UNICODE)
MAX_TERM = 100


def normalize(word: str) -> str:
    """Lower-case and fold a plural ending, so ``Cats`` finds ``Cat`` and back."""
    word = word.casefold().replace("'", "")
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:MAX_TERM]


def words(text: str) -> list[str]:
    """The normalized words of a text, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text or ""):
        for part in match.group().split("-"):
            if part:
                seen.setdefault(normalize(part), None)
    return list(seen)


def photo_terms(description: str, label_names: Iterable[str]) -> set[str]:
    """Every term a photo is found by: words of its labels, their parents and its description."""
    found: set[str] = set(words(description))
    for name in label_names:
        found.update(words(name))
    return found
