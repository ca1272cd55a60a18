"""One access line per request, from the app itself, so `flask run`, uWSGI and any other
server log the same thing: method, route (the URL rule, never the query string), status,
duration, user, bytes and the request id, which the answer carries as ``X-Request-Id``."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, has_request_context, request

from ..observability import logs
from ..observability.request_ids import request_id

log = logging.getLogger("photogallery.access")
MAX_ROUTE = 200


def register(app: Flask) -> None:
    """Call first among the hooks: the clock starts before any other ``before_request`` and
    the line is written after every other ``after_request`` (they run in reverse)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    logs.set_request_fields(_request_fields)


def current_request_id() -> str:
    """This request's id, made once (the trace's, when tracing has started a span by now)."""
    if "request_id" not in g:
        g.request_id = request_id(request.headers.get("X-Amzn-Trace-Id"))
    return g.request_id


def _start() -> None:
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = current_request_id()
    response.headers["X-Request-Id"] = rid
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    rule = request.url_rule.rule if request.url_rule else request.path
    size = response.content_length
    if size is None and response.is_sequence:  # never consume a streamed body to count it
        size = response.calculate_content_length()
    fields = {
        "method": request.method,
        "route": rule[:MAX_ROUTE],
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 3),
        "bytes": size,
    }
    log.info(
        "%s %s %s %.1fms %sB",
        fields["method"],
        fields["route"],
        fields["status"],
        fields["duration_ms"],
        "-" if size is None else size,
        extra={"access": fields},
    )
    return response


def _request_fields() -> tuple[str | None, int | None]:
    """(request id, user id) for a log record made now; Nones outside a request. The user is
    the one Flask-Login has loaded already: logging never loads one."""
    if not has_request_context():
        return None, None
    user = g.get("_login_user")
    return current_request_id(), getattr(user, "id", None)
