"""A sink that keeps what the services record, for tests of where figures come from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from photogallery.observability import metrics


class RecordingSink:
    """Every figure as (kind, values...) in the order recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def upload(self, size: int, seconds: float, renditions_seconds: float) -> None:
        self.calls.append(("upload", size, seconds, renditions_seconds))

    def labeling(self, seconds: float) -> None:
        self.calls.append(("labeling", seconds))

    def label_failure(self, reason: str) -> None:
        self.calls.append(("label_failure", reason))

    def queue_lag(self, seconds: float) -> None:
        self.calls.append(("queue_lag", seconds))

    def sign_in_failure(self) -> None:
        self.calls.append(("sign_in_failure",))

    def of(self, kind: str) -> list[tuple]:
        return [call[1:] for call in self.calls if call[0] == kind]


@contextmanager
def recorded_figures() -> Iterator[RecordingSink]:
    """Figures recorded inside the block (the app's own sinks are put back after)."""
    sink = RecordingSink()
    before = metrics._sinks
    metrics.configure((sink,))
    try:
        yield sink
    finally:
        metrics.configure(before)
