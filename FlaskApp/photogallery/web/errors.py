"""Error pages and JSON errors: a clear message for everything a person can cause."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..context import get_backends
from ..data.db import DatabaseError
from ..services.errors import ServiceError
from ..storage.base import StorageError
from .form_limits import form_limit_message

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request was not understood.",
    401: "Please sign in.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many requests; try again in a minute.",
    500: "Something went wrong on our side; it has been logged.",
    503: "A service the gallery needs is unavailable; try again shortly.",
}


def answer(status: int, message: str, **details: object):
    """An error as JSON for API callers (with ``details`` for scripts), as a page for people."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message, **details), status
    return render_template("error.html", status=status, message=message), status


def register(app) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        limit = get_backends().settings.max_upload_mb
        message = form_limit_message(exc)  # a long text field or too many parts, if that
        return answer(413, message or f"That upload is larger than the {limit} MB allowed at once.")

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        message = (
            f"The form expired or came from elsewhere ({exc.description}); "
            "reload the page and try again."
        )
        # ``reason`` lets the upload page fetch a fresh token and retry, keeping the files.
        return answer(400, message, reason="csrf")

    @app.errorhandler(ServiceError)
    def refused(exc: ServiceError):
        # Not found, invalid input, a taken username, a duplicate photo: each error class
        # carries its status; the message is for the person.
        response, status = answer(exc.status, str(exc), **exc.details())
        return response, status, exc.headers()

    @app.errorhandler(HTTPException)
    def http_error(exc):
        response = make_response(
            answer(exc.code or 500, MESSAGES.get(exc.code or 500, exc.description or ""))
        )
        for name, value in exc.get_headers():  # e.g. the Allow of a 405 (RFC 9110)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(DatabaseError)
    def database_down(exc):
        orig = getattr(exc, "orig", None)  # DatabaseError (data/db.py) is ours: no driver error
        log.error("database error: %s", type(orig).__name__ if orig else exc)
        # The page's header shows the signed-in person, whom Flask-Login would load again from
        # the database that just failed (a bare 500): this answer shows as to a visitor.
        current_app.login_manager._update_request_context_with_user()
        return answer(503, "The photo database is unavailable; try again shortly.")

    @app.errorhandler(StorageError)
    def storage_down(exc):
        log.error("storage error: %s", exc)
        return answer(503, "Photo storage is unavailable; try again shortly. Nothing was lost.")

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return answer(500, MESSAGES[500])
