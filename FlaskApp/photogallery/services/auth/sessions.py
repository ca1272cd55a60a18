"""Signed-in browser sessions that end when they say they do.

The session cookie holds only a random handle; the database keeps its hash. A cookie copied
before sign-out, a password change or "sign out everywhere" names a row that is gone, so it
signs nobody in, on whichever app instance it is replayed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import NamedTuple

from ...backends import Backends
from ...data import user_sessions as session_data
from ...data.db import sweep, utcnow
from ...data.models import User
from ...data.reads import read
from . import cognito_sign_in

log = logging.getLogger(__name__)

LIFETIME = timedelta(days=14)  # unused this long, a session ends (the cookie's lifetime too)
TOUCH_INTERVAL = timedelta(hours=1)  # how often a session's use is written down


def open_session(backends: Backends, user_id: int) -> str:
    """A new session for the user; returns its handle (for the cookie, shown to nobody else)."""
    handle = secrets.token_urlsafe(32)
    with backends.engine.begin() as conn:
        session_data.add_session(conn, user_id, _hash(handle))
    sweep(backends.engine, session_data.delete_sessions_unused_since, utcnow() - LIFETIME)
    return handle


class LiveSession(NamedTuple):
    user: User
    renewed: bool  # its use was just written down: the cookie's lifetime restarts too


def user_for_session(backends: Backends, handle: str) -> LiveSession | None:
    """The user whose live session ``handle`` names, or None."""
    handle_hash = _hash(handle)
    found = read(backends.engine, lambda conn: session_data.get_session_user(conn, handle_hash))
    if found is None:
        return None
    user, last_seen = found
    now = utcnow()
    if last_seen < now - LIFETIME:
        return None
    if last_seen < now - TOUCH_INTERVAL:
        with backends.engine.begin() as conn:
            session_data.touch_session(conn, handle_hash, unless_since=now - TOUCH_INTERVAL)
        return LiveSession(user, renewed=True)
    return LiveSession(user, renewed=False)


def close_session(backends: Backends, handle: str) -> None:
    with backends.engine.begin() as conn:
        session_data.delete_session(conn, _hash(handle))


def close_all_sessions(backends: Backends, user_id: int) -> int:
    """End every browser session of the person, Cognito's included (their refresh tokens are
    revoked, best effort). Personal API tokens are not sessions: they stay until revoked."""
    with backends.engine.begin() as conn:
        ended = session_data.delete_user_sessions(conn, user_id)
    ended_cognito = cognito_sign_in.sign_out_everywhere(backends, user_id)
    log.info("ended every session of user %s (%d)", user_id, ended + ended_cognito)
    return ended


def _hash(handle: str) -> str:
    return hashlib.sha256(handle.encode()).hexdigest()
