"""Health checks for the load balancer: /health (alive) and /ready (can serve)."""

from __future__ import annotations

import logging
import os

from flask import Blueprint, jsonify

from ..context import get_backends
from ..data.db import DatabaseError
from ..data.db import check as check_database
from ..storage.base import StorageError

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    backends = get_backends()
    drain_file = backends.settings.drain_file
    if drain_file and os.path.exists(drain_file):
        # Stopping: the load balancer takes this instance out while requests in flight finish.
        return jsonify(status="draining", failing=["draining"], checks={}), 503
    checks, failing = {}, []
    for part, check in (
        ("database", lambda: check_database(backends.engine)),
        ("storage", backends.store.check),
    ):
        try:
            check()
            checks[part] = "ok"
        except (DatabaseError, StorageError) as exc:
            log.warning("not ready: %s: %s", part, exc)
            checks[part] = str(exc)
            failing.append(part)
    if failing:
        return jsonify(status="unavailable", failing=failing, checks=checks), 503
    return jsonify(status="ok", checks=checks)
