"""The test OpenID provider behaves as the app will use Cognito: code flow + PKCE, tokens that
python-jose verifies, refresh, revocation, logout. Only requests + python-jose on this side."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from jose import jwt
from jose.exceptions import JWTError

from tests.fixtures.oidc import OIDCProvider, make_pkce

REDIRECT_URI = "http://localhost/callback"


def query_of(resp: requests.Response) -> dict[str, str]:
    """The single-valued query parameters of a redirect's Location."""
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


def authorize(
    provider: OIDCProvider,
    client_id: str,
    username: str = "alice",
    *,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Sign in through the login form; returns the code, the PKCE verifier, state and nonce."""
    verifier, challenge = make_pkce()
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    url = provider.authorize_url(
        client_id, REDIRECT_URI, state=state, nonce=nonce, code_challenge=challenge
    )
    resp = provider.login(
        session or requests.Session(), url, username, provider.users[username].password
    )
    assert resp.headers["Location"].startswith(REDIRECT_URI + "?")
    params = query_of(resp)
    assert params["state"] == state
    return {"code": params["code"], "verifier": verifier, "state": state, "nonce": nonce}


def exchange(provider: OIDCProvider, client_id: str, auth: dict[str, Any]) -> requests.Response:
    return provider.token_request(
        client_id,
        {
            "grant_type": "authorization_code",
            "code": auth["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth["verifier"],
        },
    )


def sign_in(provider: OIDCProvider, client_id: str, username: str = "alice") -> dict[str, Any]:
    """Login + code exchange; the token response plus the nonce that was sent."""
    auth = authorize(provider, client_id, username)
    resp = exchange(provider, client_id, auth)
    assert resp.status_code == 200, resp.text
    return resp.json() | {"nonce": auth["nonce"]}


def signing_key(provider: OIDCProvider, token: str) -> dict[str, Any]:
    """The JWKS key named by the token's kid, fetched the way the app will."""
    jwks = requests.get(provider.jwks_uri, timeout=5).json()
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return key


@pytest.fixture(scope="module")
def app_tokens(oidc_provider: OIDCProvider) -> dict[str, Any]:
    """One confidential-client sign-in shared by the read-only token checks."""
    return sign_in(oidc_provider, "photos-app")


def test_discovery_document_advertises_cognito_endpoints_and_rs256(oidc_provider):
    doc = requests.get(oidc_provider.discovery_url, timeout=5).json()

    issuer = oidc_provider.issuer
    assert doc["issuer"] == issuer
    assert doc["authorization_endpoint"] == f"{issuer}/oauth2/authorize"
    assert doc["token_endpoint"] == f"{issuer}/oauth2/token"
    assert doc["revocation_endpoint"] == f"{issuer}/oauth2/revoke"
    assert doc["end_session_endpoint"] == f"{issuer}/logout"
    assert doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "email", "profile"} <= set(doc["scopes_supported"])
    assert {"client_secret_basic", "none"} <= set(doc["token_endpoint_auth_methods_supported"])
    assert {"authorization_code", "refresh_token"} <= set(doc["grant_types_supported"])


def test_jwks_publishes_only_the_public_signing_key_under_its_kid(oidc_provider):
    jwks = requests.get(oidc_provider.jwks_uri, timeout=5).json()

    (key,) = jwks["keys"]
    assert key["kid"] == oidc_provider.kid
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["n"] == oidc_provider.public_jwk["n"]
    assert "d" not in key


def test_code_flow_with_pkce_gives_confidential_client_id_access_and_refresh_tokens(app_tokens):
    assert app_tokens["token_type"] == "Bearer"
    assert app_tokens["expires_in"] > 0
    assert {"id_token", "access_token", "refresh_token"} <= app_tokens.keys()


def test_id_token_verifies_with_python_jose_and_carries_cognito_claims(oidc_provider, app_tokens):
    id_token = app_tokens["id_token"]
    claims = jwt.decode(
        id_token,
        signing_key(oidc_provider, id_token),
        algorithms=["RS256"],
        audience="photos-app",
        issuer=oidc_provider.issuer,
        access_token=app_tokens["access_token"],
    )

    alice = oidc_provider.users["alice"]
    assert "at_hash" in claims  # so python-jose did check it against the access token
    assert claims["token_use"] == "id"
    assert claims["sub"] == alice.sub
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == alice.email
    assert claims["email_verified"] is True
    assert (claims["name"], claims["nickname"]) == (alice.name, alice.nickname)
    assert claims["nonce"] == app_tokens["nonce"]
    assert isinstance(claims["auth_time"], int)


def test_id_token_has_no_name_or_nickname_for_a_user_without_them(oidc_provider):
    tokens = sign_in(oidc_provider, "photos-app", "bob")

    claims = jwt.get_unverified_claims(tokens["id_token"])
    assert claims["cognito:username"] == "bob"
    assert "name" not in claims
    assert "nickname" not in claims


def test_access_token_is_an_rs256_jwt_with_cognito_access_claims_and_no_aud(
    oidc_provider, app_tokens
):
    access_token = app_tokens["access_token"]
    assert jwt.get_unverified_header(access_token)["kid"] == oidc_provider.kid

    # Like Cognito's, it has no aud: python-jose verifies it without an audience.
    claims = jwt.decode(
        access_token,
        signing_key(oidc_provider, access_token),
        algorithms=["RS256"],
        issuer=oidc_provider.issuer,
    )

    assert "aud" not in claims
    assert claims["token_use"] == "access"
    assert claims["client_id"] == "photos-app"
    assert claims["username"] == "alice"
    assert claims["sub"] == oidc_provider.users["alice"].sub
    assert set(claims["scope"].split()) == {"openid", "email", "profile"}


def test_public_client_exchanges_its_code_with_pkce_and_no_secret(oidc_provider):
    tokens = sign_in(oidc_provider, "photos-public")

    claims = jwt.decode(
        tokens["id_token"],
        signing_key(oidc_provider, tokens["id_token"]),
        algorithms=["RS256"],
        audience="photos-public",
        issuer=oidc_provider.issuer,
        access_token=tokens["access_token"],
    )
    assert claims["nonce"] == tokens["nonce"]
    assert jwt.get_unverified_claims(tokens["access_token"])["client_id"] == "photos-public"
    assert "refresh_token" in tokens


def test_public_client_authorization_without_pkce_is_refused(oidc_provider):
    url = oidc_provider.authorize_url("photos-public", REDIRECT_URI, state="s1")

    resp = requests.get(url, allow_redirects=False, timeout=5)

    assert resp.is_redirect
    params = query_of(resp)
    assert params["error"] == "invalid_request"
    assert params["state"] == "s1"


def test_refresh_token_grant_returns_fresh_id_and_access_tokens(oidc_provider):
    first = sign_in(oidc_provider, "photos-app")

    resp = oidc_provider.token_request(
        "photos-app", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert resp.status_code == 200, resp.text
    tokens = resp.json()
    claims = jwt.decode(
        tokens["access_token"],
        signing_key(oidc_provider, tokens["access_token"]),
        algorithms=["RS256"],
        issuer=oidc_provider.issuer,
    )
    assert claims["token_use"] == "access"
    assert tokens["access_token"] != first["access_token"]
    id_claims = jwt.get_unverified_claims(tokens["id_token"])
    assert (id_claims["token_use"], id_claims["aud"]) == ("id", "photos-app")


def test_revoked_refresh_token_is_refused_afterwards(oidc_provider):
    tokens = sign_in(oidc_provider, "photos-app")
    client = oidc_provider.clients["photos-app"]
    assert client.client_secret is not None

    revoke = requests.post(
        oidc_provider.revocation_endpoint,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(client.client_id, client.client_secret),
        timeout=5,
    )
    assert revoke.status_code == 200, revoke.text

    resp = oidc_provider.token_request(
        "photos-app", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_refused(oidc_provider):
    auth = authorize(oidc_provider, "photos-app")
    auth["verifier"] = make_pkce()[0]

    resp = exchange(oidc_provider, "photos-app", auth)

    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_authorization_code_used_twice_is_refused(oidc_provider):
    auth = authorize(oidc_provider, "photos-app")
    assert exchange(oidc_provider, "photos-app", auth).status_code == 200

    resp = exchange(oidc_provider, "photos-app", auth)

    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(oidc_provider):
    auth = authorize(oidc_provider, "photos-app")

    resp = requests.post(
        oidc_provider.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": auth["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": auth["verifier"],
        },
        auth=("photos-app", "not-the-secret"),
        timeout=5,
    )

    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


def test_wrong_password_shows_the_login_form_again(oidc_provider):
    _, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-app", REDIRECT_URI, state="s", nonce="n", code_challenge=challenge
    )

    resp = oidc_provider.login(requests.Session(), url, "alice", "wrong", check=False)

    assert resp.status_code == 200
    assert "Incorrect username or password." in resp.text
    assert 'name="password"' in resp.text


def test_login_accepts_the_email_and_cognitos_identity_provider_parameter(oidc_provider):
    _, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-app",
        REDIRECT_URI,
        state="s",
        code_challenge=challenge,
        identity_provider="COGNITO",
    )
    alice = oidc_provider.users["alice"]

    resp = oidc_provider.login(requests.Session(), url, alice.email, alice.password)

    assert "code" in query_of(resp)


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(oidc_provider):
    _, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-app", "http://evil.example/callback", state="s", code_challenge=challenge
    )

    resp = requests.get(url, allow_redirects=False, timeout=5)

    assert resp.status_code == 400
    assert "redirect_uri" in resp.text


def test_signed_in_browser_gets_a_code_without_the_form_until_cognito_logout(oidc_provider):
    session = requests.Session()
    authorize(oidc_provider, "photos-app", session=session)

    # Single sign-on: the provider's session cookie skips the form.
    _, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-app", REDIRECT_URI, state="again", nonce="n", code_challenge=challenge
    )
    silent = session.get(url, allow_redirects=False, timeout=5)
    assert silent.is_redirect
    assert "code" in query_of(silent)

    # Cognito's logout: client_id + logout_uri, back to the app without a prompt.
    logout_uri = oidc_provider.clients["photos-app"].post_logout_redirect_uris[0]
    query = urlencode({"client_id": "photos-app", "logout_uri": logout_uri})
    resp = oidc_provider.logout(session, f"{oidc_provider.logout_endpoint}?{query}")
    assert resp.is_redirect
    assert resp.headers["Location"] == logout_uri

    after = session.get(url, allow_redirects=True, timeout=5)
    assert 'name="password"' in after.text


def test_another_user_can_sign_in_over_an_existing_browser_session(oidc_provider):
    session = requests.Session()
    authorize(oidc_provider, "photos-app", "alice", session=session)

    # prompt=login shows the form although signed in; the provider then swaps the session.
    verifier, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-app", REDIRECT_URI, state="s", code_challenge=challenge, prompt="login"
    )
    resp = oidc_provider.login(session, url, "bob", oidc_provider.users["bob"].password)
    tokens = exchange(
        oidc_provider, "photos-app", {"code": query_of(resp)["code"], "verifier": verifier}
    ).json()

    assert jwt.get_unverified_claims(tokens["id_token"])["cognito:username"] == "bob"


def test_fixture_mint_signs_like_the_provider_and_forgeries_fail_verification(oidc_provider):
    key = oidc_provider.public_jwk
    good = oidc_provider.mint(oidc_provider.id_token_claims())
    claims = jwt.decode(
        good, key, algorithms=["RS256"], audience="photos-app", issuer=oidc_provider.issuer
    )
    assert claims["token_use"] == "id"

    forged = [
        oidc_provider.mint(oidc_provider.id_token_claims(), alg="none"),
        oidc_provider.mint(
            oidc_provider.id_token_claims(), alg="HS256", key=oidc_provider.public_key_pem
        ),
    ]
    for token in forged:
        with pytest.raises(JWTError):
            jwt.decode(token, key, algorithms=["RS256"], audience="photos-app")
