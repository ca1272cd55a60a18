"""A process-wide bound on the pixels being decoded at once, shared by every request thread.

Pillow's per-file cap stops one bomb; it does not stop eight threads each decoding a large
photo at the same moment. Each decode reserves its pixels here first and waits its turn (first
come, first served, so a large photo is not starved by small ones); past ``wait_seconds`` it
gives up with BudgetTimeout, which the upload answers as 503 with Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetTimeout(Exception):
    """The budget stayed full for longer than the wait allowed."""


class DecodeBudget:
    """``total`` pixels of decoding at once, in this process."""

    def __init__(self, total: int, wait_seconds: float = 10.0) -> None:
        self.total = total
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self.peak = 0  # the most ever reserved at once (tests and benchmarks read it)
        self._turns: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, pixels: int) -> Iterator[None]:
        """Hold ``pixels`` (at most ``total``) while the block runs; raise BudgetTimeout."""
        if not 0 <= pixels <= self.total:
            raise ValueError(f"cannot reserve {pixels} of {self.total} pixels")
        turn = object()
        deadline = time.monotonic() + self.wait_seconds
        with self._changed:
            self._turns.append(turn)
            try:
                while self._turns[0] is not turn or self.in_use + pixels > self.total:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BudgetTimeout(f"{pixels} pixels not free within {self.wait_seconds}s")
                    self._changed.wait(left)
            finally:
                self._turns.remove(turn)
                self._changed.notify_all()  # the next in line may fit now
            self.in_use += pixels
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= pixels
                self._changed.notify_all()
