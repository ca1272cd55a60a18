"""Local accounts and personal API tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from ...backends import Backends
from ...data import users as user_data
from ...data.db import utcnow
from ...data.models import User
from ...data.reads import read
from ..errors import InvalidInput, SignupClosed, UsernameTaken
from . import passwords, sessions, sign_in_throttle

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{2,149}$")
USERNAME_RULE = "3 to 150 letters, digits or . _ @ + - (starting with a letter or digit)"
MIN_PASSWORD, MAX_PASSWORD = passwords.MIN_LENGTH, passwords.MAX_LENGTH
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_PREFIX = "pg_"  # noqa: S105 - a marker, not a secret
MAX_TOKEN_NAME = 100


def create_local_user(
    backends: Backends, username: str, password: str, *, check_signup: bool = True
) -> User:
    if check_signup and not backends.settings.allow_signup:
        raise SignupClosed()
    username = (username or "").strip()
    if not USERNAME.match(username):
        raise InvalidInput(f"a username is {USERNAME_RULE}")
    passwords.check_new_password(password or "", username)
    with backends.engine.begin() as conn:
        try:
            return user_data.add_user(
                conn,
                provider="local",
                subject=username,
                username=username,
                display_name=username,
                password_hash=generate_password_hash(password),
            )
        except user_data.UsernameTaken:
            raise UsernameTaken(f"the username {username} is taken") from None


def sign_in(backends: Backends, username: str, password: str, address: str) -> User | None:
    """``authenticate``, throttled per name and per client ``address`` (sign_in_throttle.py):
    TooManyAttempts while a key waits, without looking at the password at all."""
    keys = sign_in_throttle.keys_for(backends, username, address)
    sign_in_throttle.refuse_if_locked(backends, keys)
    user = authenticate(backends, username, password)
    if user is None:
        sign_in_throttle.record_failure(backends, keys)
    else:
        sign_in_throttle.record_success(backends, keys)
    return user


def change_password(backends: Backends, user_id: int, current: str, new: str, address: str) -> User:
    """Set a new password after checking the current one (throttled like a sign-in), and end
    every session of the person: whoever had the old password is out."""
    user = get_user(backends, user_id)
    if user is None or user.provider != "local" or not user.password_hash:
        raise InvalidInput("this account has no password here; it signs in with Cognito")
    if sign_in(backends, user.username, current, address) is None:
        raise InvalidInput("the current password is not right")
    passwords.check_new_password(new, user.username)
    with backends.engine.begin() as conn:
        user_data.update_user(conn, user.id, password_hash=generate_password_hash(new))
    sessions.close_all_sessions(backends, user.id)
    return user


def authenticate(backends: Backends, username: str, password: str) -> User | None:
    """The local user with these credentials, or None."""
    with backends.engine.connect() as conn:
        user = user_data.get_local_user(conn, (username or "").strip())
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


@functools.cache
def _dummy_hash() -> str:
    """Checked when a username is unknown, so a wrong name costs as long as a wrong password.
    Made on first use: hashing at import would slow every process start, CLI included."""
    return generate_password_hash("not-a-real-password")


def get_user(backends: Backends, user_id: int) -> User | None:
    with backends.engine.connect() as conn:
        return user_data.get_user(conn, user_id)


def create_api_token(backends: Backends, user_id: int, name: str = "API token") -> str:
    """A new personal token; only its hash is kept, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    name = (name or "").strip()[:MAX_TOKEN_NAME] or "API token"
    with backends.engine.begin() as conn:
        user_data.add_token(conn, user_id, _hash(token), name)
    return token


def user_for_token(backends: Backends, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_hash = _hash(token)
    found = read(backends.engine, lambda conn: user_data.get_user_by_token(conn, token_hash))
    if found is None:
        return None
    user, last_used = found
    recently = utcnow() - TOKEN_TOUCH_INTERVAL
    if last_used is None or last_used < recently:
        with backends.engine.begin() as conn:
            user_data.touch_token(conn, _hash(token), unless_since=recently)
    return user


def list_api_tokens(backends: Backends, user_id: int) -> list[dict]:
    with backends.engine.connect() as conn:
        return user_data.list_tokens(conn, user_id)


def revoke_api_token(backends: Backends, user_id: int, token_id: int) -> bool:
    with backends.engine.begin() as conn:
        return user_data.delete_token(conn, user_id, token_id)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
