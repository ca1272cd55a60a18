"""The one way this app bounds what a process remembers: a memo that starts over when full."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

V = TypeVar("V")


def remember(memo: dict[Hashable, V], key: Hashable, value: V, limit: int) -> V:
    """``memo[key] = value``, emptying ``memo`` first when it holds ``limit`` values. Cheaper
    than an LRU on every hit (memos stay plain dicts: a page looks up ~250 values), and what a
    page needs is simply built again. Safe between threads: each step is one dict operation."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
