"""The app's backends, built once in the app factory and found from a request or CLI command."""

from __future__ import annotations

from flask import Flask, current_app, request

from .backends import Backends, build_backends
from .data import reads
from .services.labeling import bind_inline_queue
from .settings import Settings


def init_app(app: Flask, settings: Settings) -> Backends:
    backends = build_backends(settings)
    bind_inline_queue(backends)
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
