"""The app's backends, built once in the app factory and found from a request or CLI command."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app

from .backends import Backends, build_backends
from .queue.inline import InlineQueue
from .services.labeling import label_photo_with_retries
from .settings import Settings


def init_app(app: Flask, settings: Settings) -> Backends:
    backends = build_backends(settings)
    if isinstance(backends.queue, InlineQueue):
        # Wired here, after Backends exists: the job needs them, and the queue is part of them.
        backends.queue.bind(partial(label_photo_with_retries, backends))
    app.extensions["photogallery"] = backends
    return backends


def get_backends() -> Backends:
    return current_app.extensions["photogallery"]
