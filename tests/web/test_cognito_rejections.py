"""Every way a Cognito sign-in can be forged, replayed or misdirected is refused with a clear
message and leaves no session. The code flow runs against the real provider; where a bad token
is needed, the provider's genuine answer is altered on its way into the app."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from photogallery.services.auth import token_verifier
from tests.conftest import LOCAL_STACKS
from tests.fixtures.cognito import CognitoBrowser, query_of, session_rows
from tests.fixtures.oidc import OIDCProvider, b64url, encode_jwt, make_pkce
from tests.web.test_metrics import figure


@pytest.fixture(params=LOCAL_STACKS)
def stack(request):
    """Sign-in touches the database, not photo storage: SQLite and MySQL, no S3 run."""
    return request.param


def assert_refused(browser: CognitoBrowser, resp, message: str, status: int = 400) -> None:
    """The answer is a clear page, and nobody is signed in afterwards."""
    assert resp.status_code == status, resp.data[:500]
    text = html.unescape(resp.get_data(as_text=True))
    assert "Sign-in failed" in text and "You are not signed in" in text
    assert message in text, text
    assert not browser.is_signed_in()
    assert session_rows(browser.client.application) == []


def substitute_tokens(monkeypatch, browser: CognitoBrowser, change) -> None:
    """Let the real code exchange happen, then hand the app ``change(tokens)`` instead."""
    oidc = browser.client.application.extensions["photogallery"].cognito
    real = oidc.exchange_code

    def exchange(code, **kwargs):
        return change(real(code, **kwargs))

    monkeypatch.setattr(oidc, "exchange_code", exchange)


def reminted(provider: OIDCProvider, **changes):
    """A token-response changer: the genuine ID token's claims with ``changes``, re-signed."""

    def change(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"]) | changes
        return tokens | {"id_token": provider.mint(claims)}

    return change


# --- state -------------------------------------------------------------------------------


def test_missing_state_is_refused(browser):
    code_url = browser.authorize(browser.start())
    params = query_of(code_url)

    resp = browser.client.get(f"/callback?code={params['code']}")

    assert_refused(browser, resp, "does not belong to a sign-in started in this browser")


def test_wrong_state_is_refused(browser):
    params = query_of(browser.authorize(browser.start()))

    resp = browser.client.get(f"/callback?code={params['code']}&state=forged-{params['state']}")

    assert_refused(browser, resp, "does not belong to a sign-in started in this browser")


def test_a_refused_sign_in_counts_as_a_sign_in_failure_in_metrics(browser):
    params = query_of(browser.authorize(browser.start()))
    before = figure(browser.client, "photos_sign_in_failures_total")

    resp = browser.client.get(f"/callback?code={params['code']}&state=forged-{params['state']}")

    assert resp.status_code == 400
    assert figure(browser.client, "photos_sign_in_failures_total") == before + 1


def test_state_from_another_browser_is_refused(browser, cognito_app, oidc_provider):
    # Login CSRF: an attacker's own sign-in response, opened in the victim's browser.
    attacker = CognitoBrowser(cognito_app.test_client(), oidc_provider)
    callback = attacker.authorize(attacker.start(), "bob")

    resp = browser.client.get(callback)

    assert_refused(browser, resp, "does not belong to a sign-in started in this browser")


def test_replayed_state_is_refused_even_with_the_old_cookie(browser):
    callback = browser.authorize(browser.start())
    old_cookie = browser.client.get_cookie("session").value
    assert browser.client.get(callback).status_code == 302
    browser.client.post("/logout")
    # Replay the callback with the cookie from before it was used: the server took the state.
    browser.client.set_cookie("session", old_cookie)

    resp = browser.client.get(callback)

    assert_refused(browser, resp, "already used or has expired")


def test_replayed_code_is_refused_by_the_provider(browser):
    first = query_of(browser.authorize(browser.start()))
    assert (
        browser.client.get(f"/callback?state={first['state']}&code={first['code']}").status_code
        == 302
    )
    browser.client.post("/logout")
    second_state = query_of(browser.start())["state"]

    resp = browser.client.get(f"/callback?state={second_state}&code={first['code']}")

    assert_refused(browser, resp, "sign-in code was refused")


def test_provider_error_is_shown_clearly(browser):
    state = query_of(browser.start())["state"]

    resp = browser.client.get(
        f"/callback?state={state}&error=access_denied&error_description=User+cancelled"
    )

    assert_refused(browser, resp, "Sign-in was cancelled or refused at the identity provider")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_provider_error_uses_up_the_state(browser):
    callback = browser.authorize(browser.start())  # a genuine code for this state
    old_cookie = browser.client.get_cookie("session").value
    state = query_of(callback)["state"]
    error = browser.client.get(f"/callback?state={state}&error=access_denied")
    assert_refused(browser, error, "Sign-in was cancelled")
    # The same state with its code, even with the cookie from before the error: refused.
    browser.client.set_cookie("session", old_cookie)

    assert_refused(browser, browser.client.get(callback), "already used or has expired")


def test_other_provider_errors_name_the_error(browser):
    state = query_of(browser.start())["state"]

    resp = browser.client.get(f"/callback?state={state}&error=server_error")

    assert_refused(browser, resp, "could not sign you in (server_error)")


def test_open_redirect_next_is_ignored(browser):
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        resp = browser.sign_in(next_url=evil)
        assert resp.status_code == 302 and resp.headers["Location"] == "/", evil
        browser.client.post("/logout")


# --- the ID token --------------------------------------------------------------------------


def test_wrong_issuer_is_refused(browser, oidc_provider, monkeypatch):
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, iss="https://evil.example"))

    resp = browser.sign_in()

    assert_refused(browser, resp, "issued by another issuer", 401)


def test_wrong_audience_is_refused(browser, oidc_provider, monkeypatch):
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, aud="someone-else"))

    assert_refused(browser, browser.sign_in(), "issued for another app client (aud)", 401)


def test_missing_audience_is_refused(browser, oidc_provider, monkeypatch):
    def drop_aud(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        del claims["aud"]
        return tokens | {"id_token": oidc_provider.mint(claims)}

    substitute_tokens(monkeypatch, browser, drop_aud)

    assert_refused(browser, browser.sign_in(), "issued for another app client (aud)", 401)


def test_expired_id_token_is_refused(browser, oidc_provider, monkeypatch):
    past = int(time.time()) - 3600
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, iat=past - 3600, exp=past))

    assert_refused(browser, browser.sign_in(), "it has expired", 401)


def test_id_token_from_the_future_is_refused(browser, oidc_provider, monkeypatch):
    later = int(time.time()) + 600
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, iat=later, exp=later + 3600))

    assert_refused(browser, browser.sign_in(), "issued in the future", 401)


def test_alg_none_is_refused(browser, oidc_provider, monkeypatch):
    def unsigned(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        return tokens | {"id_token": oidc_provider.mint(claims, alg="none")}

    substitute_tokens(monkeypatch, browser, unsigned)

    assert_refused(browser, browser.sign_in(), "signed with 'none'; only RS256", 401)


def test_hs256_signed_with_the_public_key_is_refused(browser, oidc_provider, monkeypatch):
    def confused(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        forged = oidc_provider.mint(claims, alg="HS256", key=oidc_provider.public_key_pem)
        return tokens | {"id_token": forged}

    substitute_tokens(monkeypatch, browser, confused)

    assert_refused(browser, browser.sign_in(), "signed with 'HS256'; only RS256", 401)


def test_unknown_kid_is_refused_after_one_jwks_refetch(browser, oidc_provider, monkeypatch):
    monkeypatch.setattr(token_verifier, "JWKS_MIN_REFETCH", 0.0)  # no wait between fetches
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def foreign_key(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        forged = encode_jwt(claims, key=other_key, headers={"kid": "rotated-away"})
        return tokens | {"id_token": forged}

    substitute_tokens(monkeypatch, browser, foreign_key)
    jwks = browser.client.application.extensions["photogallery"].cognito.verifier.jwks

    resp = browser.sign_in()

    assert_refused(browser, resp, "signed by a key the user pool does not publish", 401)
    assert jwks.fetches == 2  # the first load, then exactly one refetch for the unknown kid


def test_known_kid_with_a_foreign_key_is_refused(browser, oidc_provider, monkeypatch):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def forged(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        token = encode_jwt(claims, key=other_key, headers={"kid": oidc_provider.kid})
        return tokens | {"id_token": token}

    substitute_tokens(monkeypatch, browser, forged)

    assert_refused(browser, browser.sign_in(), "signature does not verify", 401)


def test_wrong_token_use_is_refused(browser, oidc_provider, monkeypatch):
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, token_use="access"))

    assert_refused(browser, browser.sign_in(), "token_use='access' token, not 'id'", 401)


def test_access_token_in_place_of_the_id_token_is_refused(browser, monkeypatch):
    substitute_tokens(monkeypatch, browser, lambda t: t | {"id_token": t["access_token"]})

    assert_refused(browser, browser.sign_in(), "token_use='access' token, not 'id'", 401)


def test_wrong_nonce_is_refused(browser, oidc_provider, monkeypatch):
    substitute_tokens(monkeypatch, browser, reminted(oidc_provider, nonce="from-another-sign-in"))

    assert_refused(browser, browser.sign_in(), "nonce does not match", 401)


def test_tampered_payload_is_refused(browser, monkeypatch):
    def tamper(tokens):
        header, payload, signature = tokens["id_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = "someone-else"
        forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
        return tokens | {"id_token": forged}

    substitute_tokens(monkeypatch, browser, tamper)

    assert_refused(browser, browser.sign_in(), "signature does not verify", 401)


def test_id_token_of_another_client_is_refused(browser, oidc_provider, monkeypatch):
    # A genuine token response from the provider, but for the app client photos-public.
    verifier, challenge = make_pkce()
    url = oidc_provider.authorize_url(
        "photos-public", "http://localhost/callback", state="s", nonce="n", code_challenge=challenge
    )
    code = query_of(browser.authorize(url))["code"]
    other = oidc_provider.token_request(
        "photos-public",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/callback",
            "code_verifier": verifier,
        },
    ).json()
    substitute_tokens(monkeypatch, browser, lambda tokens: tokens | other)

    assert_refused(browser, browser.sign_in(), "issued for another app client (aud)", 401)


def test_an_id_token_without_at_hash_signs_in_as_openid_connect_allows(
    browser, oidc_provider, monkeypatch
):
    def drop_at_hash(tokens):
        claims = jwt.get_unverified_claims(tokens["id_token"])
        claims.pop("at_hash")
        return tokens | {"id_token": oidc_provider.mint(claims)}

    substitute_tokens(monkeypatch, browser, drop_at_hash)

    response = browser.sign_in()
    assert response.status_code == 302, response.data[:500]
    assert browser.is_signed_in()


def test_access_token_swapped_under_the_id_token_is_refused(browser, oidc_provider, monkeypatch):
    other_access = oidc_provider.mint(oidc_provider.access_token_claims())
    substitute_tokens(monkeypatch, browser, lambda t: t | {"access_token": other_access})

    assert_refused(browser, browser.sign_in(), "at_hash", 401)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_id_and_access_tokens_naming_two_users_are_refused(browser, oidc_provider, monkeypatch):
    def another_users_access_token(tokens):
        access = oidc_provider.mint(oidc_provider.access_token_claims(sub="someone-else"))
        at_hash = b64url(hashlib.sha256(access.encode()).digest()[:16])
        claims = jwt.get_unverified_claims(tokens["id_token"]) | {"at_hash": at_hash}
        return tokens | {"access_token": access, "id_token": oidc_provider.mint(claims)}

    substitute_tokens(monkeypatch, browser, another_users_access_token)

    assert_refused(browser, browser.sign_in(), "the tokens name two users", 401)


def test_missing_id_token_is_refused(browser, monkeypatch):
    substitute_tokens(
        monkeypatch, browser, lambda t: {k: v for k, v in t.items() if k != "id_token"}
    )

    assert_refused(browser, browser.sign_in(), "it is not a JWT", 401)
