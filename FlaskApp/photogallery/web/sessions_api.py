"""``DELETE /api/sessions``: "sign out everywhere" for scripts (the settings page has a button)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ..context import get_backends
from ..services.auth import sessions
from .api import protect_cookie_sessions, signed_in

bp = Blueprint("api_sessions", __name__, url_prefix="/api/sessions")
bp.before_request(protect_cookie_sessions)


@bp.delete("")
@signed_in
def sign_out_everywhere():
    """End every browser session of the caller; personal API tokens stay until revoked."""
    sessions.close_all_sessions(get_backends(), current_user.id)
    return "", 204
