"""Tracing (AWS X-Ray through OpenTelemetry), off unless ``TRACING=otlp``.

This module is all the rest of the app sees. With tracing off it imports no OpenTelemetry
module and every helper is a no-op, so ``TRACING=none`` costs nothing; the SDK set-up lives in
``tracing_setup`` and is imported only when tracing is on. Free of Flask (services use it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from ..settings import Settings
    from .tracing_setup import Tracing

_active: Tracing | None = None  # this process's tracing, once started


def init_app(app: Flask, settings: Settings) -> None:
    """Trace the app's requests, database, AWS and HTTP calls when TRACING=otlp."""
    if settings.tracing == "none":
        return
    tracing = start(settings)
    tracing.instrument_app(app)
    tracing.instrument_engine(app.extensions["photogallery"].engine)


def start(settings: Settings) -> Tracing:
    """The process's tracing, started on first use (one exporter and one set of patches per
    process, however many apps it builds). Safe across fork: the SDK's batch span processor
    starts its export thread again in a forked child (and uWSGI builds the app in each worker
    anyway: lazy-apps in Deploy/uwsgi.ini)."""
    global _active  # one per process is the point
    if _active is None:
        from .tracing_setup import Tracing

        _active = Tracing(settings)
    return _active


def stop() -> None:
    """Flush, remove the patches and forget the process's tracing (tests; a clean shutdown)."""
    global _active  # one per process is the point
    if _active is not None:
        _active.shutdown()
        _active = None


def flush(timeout_millis: int = 5000) -> None:
    """Export the spans still buffered (a Lambda is frozen between invocations)."""
    if _active is not None:
        _active.provider.force_flush(timeout_millis)


def message_attributes() -> dict[str, dict[str, str]]:
    """The current trace context as SQS/SNS ``MessageAttributes`` ({} with tracing off), so a
    job's consumer continues the trace that queued it."""
    if _active is None:
        return {}
    return _active.message_attributes()


def context_from(attributes: Mapping[str, Any] | None) -> Any:
    """The trace context carried by a message's attributes (SQS API or Lambda event shape),
    or None with tracing off or when the message carries none."""
    if _active is None or not attributes:
        return None
    return _active.context_from(attributes)


def job_span(
    name: str, message_attributes: Mapping[str, Any] | None, tags: Mapping[str, Any] | None = None
):
    """A span around one queued job, a child of the trace that queued it (a no-op when off)."""
    if _active is None:
        return contextlib.nullcontext()
    return _active.job_span(name, context_from(message_attributes), tags or {})


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Make no spans inside (the exporter's own calls, housekeeping loops)."""
    if _active is None:
        yield
        return
    with _active.suppressed():
        yield
