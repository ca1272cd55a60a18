"""The app's figures, recorded from the services with one call each and sent to the sinks that
METRICS names: CloudWatch Embedded Metric Format lines (emf.py) and Prometheus (prometheus.py).

Process-wide, because the services take plain values and no Flask: ``configure`` (from
create_app, the worker's app included) sets the sinks; with none every call returns at once.
"""

from __future__ import annotations

from typing import Protocol


class Sink(Protocol):
    """Where figures go. ``reason`` is a short, bounded word (an exception's class name)."""

    def upload(self, size: int, seconds: float, renditions_seconds: float) -> None: ...
    def labeling(self, seconds: float) -> None: ...
    def label_failure(self, reason: str) -> None: ...
    def queue_lag(self, seconds: float) -> None: ...
    def sign_in_failure(self) -> None: ...


_sinks: tuple[Sink, ...] = ()


def configure(sinks: tuple[Sink, ...]) -> None:
    global _sinks
    _sinks = tuple(sinks)


def upload_done(size: int, seconds: float, renditions_seconds: float) -> None:
    """One photo stored: its bytes, the whole pipeline's time, and that of its renditions."""
    for sink in _sinks:
        sink.upload(size, seconds, renditions_seconds)


def labeling_done(seconds: float) -> None:
    """One labeler call answered (its latency)."""
    for sink in _sinks:
        sink.labeling(seconds)


def label_failed(error: BaseException) -> None:
    """One labeling attempt failed; its reason is the error's kind, never its message."""
    for sink in _sinks:
        sink.label_failure(type(error).__name__)


def queue_lag(seconds: float) -> None:
    """A label job started this long after it was queued."""
    for sink in _sinks:
        sink.queue_lag(max(0.0, seconds))


def sign_in_failed() -> None:
    """A refused sign-in: a wrong local password (page, API, password change) or a refused
    Cognito callback."""
    for sink in _sinks:
        sink.sign_in_failure()


def configure_sinks(names: frozenset[str], namespace: str) -> None:
    """The sinks METRICS names (``emf``, ``prometheus``); imported only when used."""
    sinks: list[Sink] = []
    if "emf" in names:
        from .emf import EmfSink

        sinks.append(EmfSink(namespace))
    if "prometheus" in names:
        from .prometheus import shared_sink

        sinks.append(shared_sink())
    configure(tuple(sinks))
