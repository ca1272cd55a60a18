"""The app's backends, built once in the app factory and found from a request or CLI command."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app, request

from .backends import Backends, build_backends
from .data import reads
from .queue.inline import InlineQueue
from .services.labeling import label_photo_with_retries
from .settings import Settings


def init_app(app: Flask, settings: Settings) -> Backends:
    backends = build_backends(settings)
    if isinstance(backends.queue, InlineQueue):
        # Wired here, after Backends exists: the job needs them, and the queue is part of them.
        backends.queue.bind(partial(label_photo_with_retries, backends))
    app.extensions["photogallery"] = backends
    app.before_request(_share_reads)
    app.teardown_request(_end_shared_reads)
    return backends


def _share_reads() -> None:
    """A page's reads (its session's user, its photos) share one pooled connection; requests
    that write keep their own connections, so no read sees a snapshot older than a write."""
    if request.method in ("GET", "HEAD"):
        reads.open_shared_reads(get_backends().engine)


def _end_shared_reads(_exc: BaseException | None) -> None:
    reads.close_shared_reads()


def get_backends() -> Backends:
    return current_app.extensions["photogallery"]
