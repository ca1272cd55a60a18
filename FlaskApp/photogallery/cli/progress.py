"""A progress line on stderr with rate and ETA: redrawn in place on a terminal, else a line now
and then (log files and CI keep a readable record)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    def __init__(
        self,
        total: int,
        *,
        what: str = "photos",
        stream: TextIO | None = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = 0.2 if self.tty else every  # seconds between redraws / lines
        self.clock = clock
        self.done = 0
        self.started = self.last = clock()

    def step(self, *_args: object) -> None:
        self.done += 1
        now = self.clock()
        if self.done == self.total or now - self.last >= self.every:
            self.last = now
            end = "" if self.tty and self.done < self.total else "\n"
            self.stream.write(("\r" if self.tty else "") + self.line(now) + end)
            self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0.0
        eta = f"ETA {int(left // 60)}:{int(left % 60):02d}" if self.done < self.total else "done"
        width = len(str(self.total))
        return f"{self.done:{width}}/{self.total} {self.what}  {rate:6.1f}/s  {eta}   "
