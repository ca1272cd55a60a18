"""The app's backends, built once in the app factory and found from a request or CLI command."""

from __future__ import annotations

from flask import Flask, current_app

from .backends import Backends, build_backends
from .services.labeling import bind_inline_queue
from .settings import Settings


def init_app(app: Flask, settings: Settings) -> Backends:
    backends = build_backends(settings)
    bind_inline_queue(backends)
    app.extensions["photogallery"] = backends
    return backends


def get_backends() -> Backends:
    return current_app.extensions["photogallery"]
