"""The Cognito hosted UI as an OpenID Connect client: discovery, authorize URL, token endpoint
(code exchange, refresh), revocation and the hosted-UI logout URL. Plain HTTP with timeouts."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from .token_verifier import JwksCache, TokenVerifier

log = logging.getLogger(__name__)

SCOPES = "openid email profile"
TIMEOUT = (3.05, 10)  # (connect, read) seconds: a stuck Cognito must not hang a worker


class CognitoUnavailable(Exception):
    """Cognito (or the provider) could not be reached or answered nonsense; try again later."""


class CognitoRefused(Exception):
    """The token endpoint refused a grant; ``error`` is the OAuth error code (invalid_grant...)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Endpoints:
    """Where the provider's endpoints are, from its discovery document."""

    authorization: str
    token: str
    jwks_uri: str
    revocation: str
    logout: str


class CognitoClient:
    """One app client of one user pool; built once per process, safe to share between threads."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str = "",
        domain: str = "",
        identity_provider: str = "",
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.domain = _with_scheme(domain)
        self.identity_provider = identity_provider
        self._http = requests.Session()
        self._endpoints: Endpoints | None = None
        self._lock = threading.Lock()
        self.verifier = TokenVerifier(self.issuer, client_id, JwksCache(self._fetch_jwks))

    @property
    def endpoints(self) -> Endpoints:
        """Read once from ``<issuer>/.well-known/openid-configuration`` (retried until it works)."""
        with self._lock:
            if self._endpoints is None:
                self._endpoints = self._discover()
            return self._endpoints

    def _discover(self) -> Endpoints:
        doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        # OIDC Discovery 4.3: a document for another issuer is a misconfiguration or an attack.
        if doc.get("issuer") != self.issuer:
            raise CognitoUnavailable(
                f"discovery document names issuer {doc.get('issuer')!r}, not {self.issuer!r}"
            )
        missing = [
            k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)
        ]
        if missing:
            raise CognitoUnavailable(f"discovery document lacks {', '.join(missing)}")
        # Cognito's logout is on the hosted-UI domain and is not always in discovery.
        hosted_ui = self.domain or _origin(doc["authorization_endpoint"])
        return Endpoints(
            authorization=doc["authorization_endpoint"],
            token=doc["token_endpoint"],
            jwks_uri=doc["jwks_uri"],
            revocation=doc.get("revocation_endpoint") or f"{hosted_ui}/oauth2/revoke",
            logout=f"{hosted_ui}/logout",
        )

    def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        """The hosted-UI sign-in URL (code flow, PKCE S256), straight to an IdP if configured."""
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if self.identity_provider:
            params["identity_provider"] = self.identity_provider
        return f"{self.endpoints.authorization}?{urlencode(params)}"

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """Tokens for an authorization code (id_token, access_token, refresh_token, expires_in)."""
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """New tokens from a refresh token (a new refresh token only if Cognito rotates them)."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (and the access tokens issued from it) at /oauth2/revoke."""
        data, auth = self._client_auth({"token": refresh_token, "token_type_hint": "refresh_token"})
        try:
            resp = self._http.post(self.endpoints.revocation, data=data, auth=auth, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CognitoUnavailable(
                f"revocation endpoint unreachable ({type(exc).__name__})"
            ) from exc
        if resp.status_code != 200:
            raise CognitoUnavailable(f"revocation endpoint answered HTTP {resp.status_code}")

    def logout_url(self, logout_uri: str) -> str:
        """Cognito's own sign-out, which then sends the browser to ``logout_uri``."""
        query = urlencode({"client_id": self.client_id, "logout_uri": logout_uri})
        return f"{self.endpoints.logout}?{query}"

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        data, auth = self._client_auth(form)
        try:
            resp = self._http.post(self.endpoints.token, data=data, auth=auth, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CognitoUnavailable(f"token endpoint unreachable ({type(exc).__name__})") from exc
        body = _json_or_empty(resp)
        if resp.status_code in (400, 401) and body.get("error"):
            raise CognitoRefused(str(body["error"]), str(body.get("error_description", "")))
        if resp.status_code != 200 or not body.get("access_token"):
            raise CognitoUnavailable(f"token endpoint answered HTTP {resp.status_code}")
        return body

    def _client_auth(self, form: dict[str, str]) -> tuple[dict[str, str], tuple[str, str] | None]:
        """HTTP Basic for a confidential client (RFC 6749 2.3.1 encoding); client_id if public."""
        if self.client_secret:
            return form, (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        return form | {"client_id": self.client_id}, None

    def _fetch_jwks(self) -> dict[str, Any]:
        return self._get_json(self.endpoints.jwks_uri)

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            resp = self._http.get(url, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CognitoUnavailable(f"{url} unreachable ({type(exc).__name__})") from exc
        body = _json_or_empty(resp)
        if resp.status_code != 200 or not body:
            raise CognitoUnavailable(f"{url} answered HTTP {resp.status_code}")
        return body


def _json_or_empty(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_scheme(domain: str) -> str:
    """``photos.auth.us-west-2.amazoncognito.com`` and ``https://...`` mean the same."""
    domain = domain.strip().rstrip("/")
    if domain and "://" not in domain:
        domain = "https://" + domain
    return domain
