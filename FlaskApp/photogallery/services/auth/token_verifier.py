"""Verify Cognito ID and access tokens (RS256 JWTs) against the user pool's JWKS, with python-jose.

Nothing in a token is believed before its signature, issuer, audience or client, lifetime and
``token_use`` have been checked; the only thing read from an unverified token is the header's
``alg`` and ``kid``, to pick the key.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from jose import jws, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTError

log = logging.getLogger(__name__)

ALGORITHM = "RS256"  # Cognito signs with RS256 only; anything else is an attack or a mistake
LEEWAY = 30  # seconds of clock skew tolerated on exp / iat
JWKS_MAX_AGE = 3600.0  # re-read the key set hourly, so a withdrawn key stops working
JWKS_MIN_REFETCH = 30.0  # a flood of unknown kids triggers at most one fetch per this interval

Claims = dict[str, Any]


class TokenInvalid(Exception):
    """A token failed verification; ``reason`` says why, in words for a log or a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksCache:
    """The pool's signing keys by kid; refetched when stale, or once for an unknown kid."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]], clock=time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> dict[str, Any] | None:
        """The key named ``kid``, or None if it is not there even after one refetch."""
        with self._lock:
            if self._fetched_at is None or self._age() > JWKS_MAX_AGE:
                self._load(keep_on_error=self._fetched_at is not None)
            if kid not in self._keys and self._age() >= JWKS_MIN_REFETCH:
                # Key rotation: the pool may have published a new key since the last fetch.
                self._load(keep_on_error=True)
            return self._keys.get(kid)

    def _age(self) -> float:
        return self._clock() - (self._fetched_at or 0.0)

    def _load(self, *, keep_on_error: bool) -> None:
        self.fetches += 1
        try:
            document = self._fetch()
        except Exception:
            if not keep_on_error:
                raise
            log.warning("JWKS refetch failed; keeping the %d keys already known", len(self._keys))
            self._fetched_at = self._clock()
            return
        self._keys = {
            k["kid"]: dict(k)
            for k in document.get("keys", [])
            if isinstance(k, Mapping)
            and k.get("kid")
            and k.get("kty") == "RSA"
            and k.get("use", "sig") == "sig"
        }
        self._fetched_at = self._clock()
        log.info("JWKS loaded: %d signing keys", len(self._keys))


class TokenVerifier:
    """Checks tokens of one user pool (issuer) for one app client."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks

    def verify_id_token(
        self, token: str, *, nonce: str | None = None, access_token: str | None = None
    ) -> Claims:
        """Claims of a valid ID token for this client; ``nonce``, ``at_hash`` checked if given."""
        claims = self._decode(token, access_token=access_token)
        self._expect_use(claims, "id")
        if not _audience_is(claims, self.client_id):
            raise TokenInvalid("it was issued for another app client (aud)")
        if nonce is not None and not hmac.compare_digest(
            str(claims.get("nonce", "")).encode(), nonce.encode()
        ):
            raise TokenInvalid("its nonce does not match this sign-in (a replayed ID token?)")
        return claims

    def verify_access_token(self, token: str) -> Claims:
        """Claims of a valid access token issued to this client (Cognito's have no aud)."""
        claims = self._decode(token)
        self._expect_use(claims, "access")
        if claims.get("client_id") != self.client_id:
            raise TokenInvalid("it was issued to another app client (client_id)")
        return claims

    def _decode(self, token: str, access_token: str | None = None) -> Claims:
        key = self._signing_key(token)
        options = {
            "verify_aud": False,  # checked above per token kind: Cognito access tokens have none
            "verify_iss": False,  # checked below, with a clearer message
            "require_exp": True,
            "require_iat": True,
            "require_sub": True,
            "require_iss": True,
            # OpenID Connect Core 3.1.3.6: at_hash is optional in the code flow. Cognito sends
            # it and it is then checked against the access token; a provider without it works.
            "require_at_hash": False,
            "leeway": LEEWAY,
        }
        try:
            jws.verify(token, key, [ALGORITHM])  # first on its own, to tell forgery from bad claims
        except JOSEError:
            raise TokenInvalid("its signature does not verify (altered or forged)") from None
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], options=options, access_token=access_token
            )
        except ExpiredSignatureError:
            raise TokenInvalid("it has expired") from None
        except JWTError as exc:
            raise TokenInvalid(f"its claims are invalid ({exc})") from None
        if claims.get("iss") != self.issuer:
            raise TokenInvalid("it was issued by another issuer (iss)")
        if not isinstance(claims.get("iat"), int | float) or claims["iat"] > time.time() + LEEWAY:
            raise TokenInvalid("it claims to be issued in the future (iat)")
        return claims

    def _signing_key(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError:
            raise TokenInvalid("it is not a JWT") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise TokenInvalid(f"it is signed with {alg!r}; only {ALGORITHM} is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("its header names no signing key (kid)")
        key = self.jwks.key(kid)
        if key is None:
            raise TokenInvalid("it is signed by a key the user pool does not publish (kid)")
        return key

    @staticmethod
    def _expect_use(claims: Claims, expected: str) -> None:
        use = claims.get("token_use")
        if use != expected:
            raise TokenInvalid(f"it is a token_use={use!r} token, not {expected!r}")


def _audience_is(claims: Claims, client_id: str) -> bool:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return aud == client_id
    # Several audiences: ours must be among them and be the authorized party (OIDC Core 3.1.3.7).
    return isinstance(aud, list) and client_id in aud and claims.get("azp") == client_id
