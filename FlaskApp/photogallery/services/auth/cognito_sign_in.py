"""Signing in with Cognito: start and finish the code flow, keep the session's tokens fresh
server-side, sign out, and recognise API callers by their Cognito access token."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...backends import Backends
from ...data import oauth as oauth_data
from ...data import users as user_data
from ...data.db import utcnow
from ...data.models import User
from .cognito_client import CognitoClient, CognitoRefused, CognitoUnavailable
from .token_verifier import TokenInvalid

log = logging.getLogger(__name__)

PROVIDER = "cognito"
LOGIN_TTL = timedelta(minutes=10)  # from the redirect to the hosted UI until the callback
REFRESH_MARGIN = timedelta(seconds=60)  # refresh a little before expiry, not after


class SignInFailed(Exception):
    """The sign-in cannot be finished; ``reason`` is for the person, ``status`` for the page."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class SignedIn:
    user: User
    handle: str  # goes into the Flask session; the database keeps only its hash
    next_url: str | None


def client_of(backends: Backends) -> CognitoClient:
    if backends.cognito is None:
        raise RuntimeError("Cognito sign-in is not configured (AUTH does not include cognito)")
    return backends.cognito


def start_sign_in(
    backends: Backends, *, redirect_uri: str, next_url: str | None
) -> tuple[str, str]:
    """Record a new sign-in attempt; returns (state, hosted-UI URL to send the browser to)."""
    client = client_of(backends)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43..128
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    url = client.authorize_url(
        redirect_uri=redirect_uri, state=state, nonce=nonce, code_challenge=challenge
    )
    with backends.engine.begin() as conn:
        oauth_data.delete_logins_before(conn, utcnow() - LOGIN_TTL)
        oauth_data.add_login(
            conn,
            _hash(state),
            nonce=nonce,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            next_url=next_url,
        )
    return state, url


def take_pending_login(backends: Backends, state: str) -> oauth_data.PendingLogin:
    """Consume the sign-in attempt ``state`` names; it can be taken only once."""
    with backends.engine.begin() as conn:
        pending = oauth_data.take_login(conn, _hash(state), utcnow() - LOGIN_TTL)
    if pending is None:
        raise SignInFailed(
            "This sign-in response was already used or has expired. Please sign in again."
        )
    return pending


def finish_sign_in(backends: Backends, pending: oauth_data.PendingLogin, code: str) -> SignedIn:
    """Exchange the code, verify the tokens, create or update the user, open a session."""
    client = client_of(backends)
    try:
        tokens = client.exchange_code(
            code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
    except CognitoRefused as exc:
        log.warning("Cognito refused the authorization code: %s", exc.error)
        raise SignInFailed(
            "The sign-in code was refused (it was already used or has expired). "
            "Please sign in again."
        ) from None
    try:
        claims = client.verifier.verify_id_token(
            str(tokens.get("id_token", "")),
            nonce=pending.nonce,
            access_token=str(tokens["access_token"]),
        )
        access = client.verifier.verify_access_token(str(tokens["access_token"]))
    except TokenInvalid as exc:
        log.warning("sign-in refused: token did not verify: %s", exc.reason)
        raise SignInFailed(f"The sign-in could not be verified: {exc.reason}.", 401) from None
    if access["sub"] != claims["sub"]:
        raise SignInFailed("The sign-in could not be verified: the tokens name two users.", 401)
    handle = secrets.token_urlsafe(32)
    with backends.engine.begin() as conn:
        user = _upsert_user(conn, claims)
        oauth_data.add_session(
            conn,
            user_id=user.id,
            handle_hash=_hash(handle),
            refresh_token=seal(backends, tokens.get("refresh_token")),
            access_expires_at=_from_epoch(access["exp"]),
        )
    log.info("user %s signed in with Cognito", user.id)
    return SignedIn(user, handle, pending.next_url)


def keep_session_fresh(backends: Backends, handle: str) -> bool:
    """Whether the session is still good, refreshing its access token when it (nearly) expired."""
    with backends.engine.connect() as conn:
        found = oauth_data.get_session(conn, _hash(handle))
    if found is None:
        return False  # signed out elsewhere, or the row was removed
    if found.access_expires_at - REFRESH_MARGIN > utcnow():
        return True
    try:
        return _refresh(backends, found)
    except CognitoUnavailable as exc:
        # A Cognito outage must not sign everyone out: keep going, try again next request.
        log.warning("token refresh postponed for user %s: %s", found.user_id, exc)
        return True


def _refresh(backends: Backends, found: oauth_data.OAuthSession) -> bool:
    client = client_of(backends)
    refresh_token = unseal(backends, found.refresh_token)
    if refresh_token is None:
        log.info("session of user %s ended: no usable refresh token", found.user_id)
        return _end(backends, found)
    try:
        tokens = client.refresh(refresh_token)
        claims = client.verifier.verify_access_token(str(tokens["access_token"]))
    except CognitoRefused as exc:
        log.info("session of user %s ended: refresh refused (%s)", found.user_id, exc.error)
        return _end(backends, found)
    except TokenInvalid as exc:
        log.info(
            "session of user %s ended: refreshed token invalid (%s)", found.user_id, exc.reason
        )
        return _end(backends, found)
    with backends.engine.begin() as conn:
        user = user_data.get_user(conn, found.user_id)
        if user is None or user.subject != claims["sub"]:
            log.warning(
                "session of user %s ended: refreshed token is for another user", found.user_id
            )
            return _end(backends, found)
        oauth_data.update_session(
            conn,
            found.id,
            access_expires_at=_from_epoch(claims["exp"]),
            refresh_token=seal(backends, tokens.get("refresh_token")),
        )
    log.info("refreshed the Cognito access token of user %s", found.user_id)
    return True


def _end(backends: Backends, found: oauth_data.OAuthSession) -> bool:
    """Delete the session (the caller logged why); the person signs in again."""
    with backends.engine.begin() as conn:
        oauth_data.delete_session_by_id(conn, found.id)
    return False


def sign_out(backends: Backends, handle: str) -> None:
    """Forget the session and revoke its refresh token at Cognito (best effort)."""
    with backends.engine.begin() as conn:
        found = oauth_data.delete_session(conn, _hash(handle))
    if found is not None:
        _revoke(backends, found)


def sign_out_everywhere(backends: Backends, user_id: int) -> int:
    """Forget every Cognito session of the person and revoke their refresh tokens (best effort);
    returns how many there were."""
    with backends.engine.begin() as conn:
        found = oauth_data.delete_user_sessions(conn, user_id)
    for ended in found:
        _revoke(backends, ended)
    return len(found)


def _revoke(backends: Backends, ended: oauth_data.OAuthSession) -> None:
    refresh_token = unseal(backends, ended.refresh_token)
    if refresh_token and backends.cognito is not None:
        try:
            backends.cognito.revoke(refresh_token)
        except CognitoUnavailable as exc:
            log.warning("could not revoke the refresh token of user %s: %s", ended.user_id, exc)


def user_for_access_token(backends: Backends, token: str) -> User | None:
    """The user a valid Cognito access token for this app belongs to, created on first use."""
    if backends.cognito is None:
        return None
    try:
        claims = backends.cognito.verifier.verify_access_token(token)
    except TokenInvalid as exc:
        log.info("bearer token refused: %s", exc.reason)
        return None
    identity = {"sub": claims["sub"], "cognito:username": claims.get("username")}
    with backends.engine.begin() as conn:
        return _upsert_user(conn, identity, update=False)


def _upsert_user(conn, claims: dict[str, Any], *, update: bool = True) -> User:
    """The user for a verified ``sub``; profile fields refreshed from the ID token's claims."""
    sub = str(claims["sub"])
    username = str(claims.get("cognito:username") or sub)[:150]
    profile = {"email": _text(claims.get("email"), 320), "display_name": _display_name(claims)}
    user = user_data.get_user_by_subject(conn, PROVIDER, sub)
    if user is None:
        try:
            return user_data.add_user(conn, **_identity(sub, username), **profile)
        except user_data.UsernameTaken:
            # Same sub signing in twice at once, or a deleted pool user's username reused.
            user = user_data.get_user_by_subject(conn, PROVIDER, sub)
            if user is None:
                return user_data.add_user(conn, **_identity(sub, sub), **profile)
    if update and (user.email, user.display_name) != (profile["email"], profile["display_name"]):
        user_data.update_user(conn, user.id, **profile)
        user = user_data.get_user(conn, user.id)
    return user


def _identity(sub: str, username: str) -> dict[str, str]:
    return {"provider": PROVIDER, "subject": sub, "username": username}


def _display_name(claims: dict[str, Any]) -> str | None:
    """name, nickname, given + family name, or email (Login with Amazon gives no nickname)."""
    full = " ".join(str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
    for value in (claims.get("name"), claims.get("nickname"), full, claims.get("email")):
        if text := _text(value, 200):
            return text
    return None


def _text(value: object, limit: int) -> str | None:
    """A claim as stored text: trimmed, cut to the column, None when missing or blank."""
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None


def _cipher(backends: Backends) -> Fernet:
    """Refresh tokens are encrypted at rest with a key derived from FLASK_SECRET."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"photogallery refresh token v1"
    ).derive(backends.settings.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(backends: Backends, token: object) -> str | None:
    """A refresh token encrypted for the database (None stays None)."""
    if not isinstance(token, str) or not token:
        return None
    return _cipher(backends).encrypt(token.encode()).decode("ascii")


def unseal(backends: Backends, stored: str | None) -> str | None:
    """The refresh token back, or None if absent or sealed with another FLASK_SECRET."""
    if not stored:
        return None
    try:
        return _cipher(backends).decrypt(stored.encode("ascii")).decode()
    except InvalidToken:
        # FLASK_SECRET changed since: the person signs in again.
        return None


def _from_epoch(seconds: object) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC).replace(tzinfo=None)  # type: ignore[arg-type]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
