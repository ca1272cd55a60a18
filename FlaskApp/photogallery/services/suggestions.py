"""Search as you type: what a person's own photos can be found by, starting with what is typed."""

from __future__ import annotations

from dataclasses import dataclass

from ..backends import Backends
from ..data import suggestions as suggestion_data
from ..data import terms
from .errors import InvalidInput

MAX_SUGGESTIONS = 20


@dataclass(frozen=True)
class Suggestion:
    term: str  # what a search for it finds (normalized)
    label: str  # how it reads: "Cat"
    count: int  # photos found by it


def suggest(backends: Backends, owner_id: int, typed: str, limit: int = 8) -> list[Suggestion]:
    """The owner's terms that start with the last word typed, most used first."""
    if not 1 <= limit <= MAX_SUGGESTIONS:
        raise InvalidInput(f"limit must be between 1 and {MAX_SUGGESTIONS}")
    typed_words = terms.words(typed)
    if not typed_words:
        return []
    prefix = typed_words[-1]  # normalized as the terms are: "CA" -> "ca", "Cats" -> "cat"
    with backends.engine.connect() as conn:
        found = suggestion_data.list_terms(conn, owner_id, prefix, limit)
    return [Suggestion(term, term[:1].upper() + term[1:], count) for term, count in found]
