"""Sign-in with the Cognito hosted UI (a real OpenID provider here): the code flow, the user it
creates, the cookie it sets, refresh, sign-out and the API's Cognito bearer tokens."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update

from photogallery.data.schema import oauth_logins, oauth_sessions, users
from photogallery.services.auth import cognito_sign_in
from photogallery.services.auth.cognito_client import CognitoUnavailable
from tests.conftest import LOCAL_STACKS, photo_bytes
from tests.fixtures.cognito import CognitoBrowser, query_of, session_rows
from tests.fixtures.oidc import b64url, make_pkce
from tests.fixtures.servers import closed_port


@pytest.fixture(params=LOCAL_STACKS)
def stack(request):
    """Sign-in touches the database, not photo storage: SQLite and MySQL, no S3 run."""
    return request.param


def engine_of(app):
    return app.extensions["photogallery"].engine


def user_rows(app):
    with engine_of(app).connect() as conn:
        return conn.execute(select(users)).all()


def expire_access_tokens(app):
    """As if an hour had passed: every stored access token is past its expiry."""
    with engine_of(app).begin() as conn:
        conn.execute(update(oauth_sessions).values(access_expires_at=datetime(2000, 1, 1)))


def stored_refresh_token(app) -> str:
    (row,) = session_rows(app)
    return cognito_sign_in.unseal(app.extensions["photogallery"], row.refresh_token)


def provider_tokens(provider, client_id="photos-app", username="alice"):
    """Tokens straight from the provider, as an API client signing in with Cognito gets them."""
    verifier, challenge = make_pkce()
    url = provider.authorize_url(
        client_id, "http://localhost/callback", state="s", nonce="n", code_challenge=challenge
    )
    resp = provider.login(requests.Session(), url, username, provider.users[username].password)
    data = {
        "grant_type": "authorization_code",
        "code": query_of(resp.headers["Location"])["code"],
        "redirect_uri": "http://localhost/callback",
        "code_verifier": verifier,
    }
    return provider.token_request(client_id, data).json()


def test_authorize_redirect_asks_for_code_with_state_nonce_and_pkce_s256(browser, oidc_provider):
    url = browser.start()

    assert url.startswith(oidc_provider.authorization_endpoint + "?")
    params = query_of(url)
    assert params["response_type"] == "code"
    assert params["client_id"] == "photos-app"
    assert params["redirect_uri"] == "http://localhost/callback"
    assert params["scope"].split() == ["openid", "email", "profile"]
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    assert "identity_provider" not in params
    # The verifier behind the challenge stays on the server, with the nonce.
    state_hash = hashlib.sha256(params["state"].encode()).hexdigest()
    with engine_of(browser.client.application).connect() as conn:
        row = conn.execute(
            select(oauth_logins).where(oauth_logins.c.state_hash == state_hash)
        ).one()
    assert b64url(hashlib.sha256(row.code_verifier.encode()).digest()) == params["code_challenge"]
    assert row.nonce == params["nonce"]


def test_identity_provider_setting_sends_people_straight_to_login_with_amazon(
    make_app, oidc_provider
):
    app = make_app(
        AUTH="cognito", COGNITO_IDENTITY_PROVIDER="LoginWithAmazon", **oidc_provider.cognito_env()
    )

    location = app.test_client().get("/login/cognito").headers["Location"]

    assert query_of(location)["identity_provider"] == "LoginWithAmazon"


def test_sign_in_creates_the_user_from_the_id_token_and_opens_the_gallery(browser, oidc_provider):
    resp = browser.sign_in("alice")

    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    (user,) = user_rows(browser.client.application)
    alice = oidc_provider.users["alice"]
    assert (user.provider, user.subject, user.username) == ("cognito", alice.sub, "alice")
    assert (user.email, user.display_name) == (alice.email, "Alice Example")
    assert user.password_hash is None
    page = browser.client.get("/")
    assert page.status_code == 200 and b"Alice Example" in page.data


def test_user_without_name_or_nickname_is_shown_by_email(browser, oidc_provider):
    # Like many Login with Amazon users: only the bare Cognito claims.
    browser.sign_in("bob")

    (user,) = user_rows(browser.client.application)
    assert (user.username, user.display_name) == ("bob", "bob@example.com")


def test_signing_in_again_updates_the_same_user(browser, oidc_provider):
    browser.sign_in("alice")
    engine = engine_of(browser.client.application)
    with engine.begin() as conn:
        conn.execute(update(users).values(display_name="Old name", email="old@example.com"))
    browser.client.post("/logout")

    browser.sign_in("alice")

    (user,) = user_rows(browser.client.application)
    assert (user.display_name, user.email) == ("Alice Example", "alice@example.com")


def test_next_on_this_site_is_where_sign_in_lands(browser):
    assert browser.sign_in(next_url="/settings").headers["Location"] == "/settings"


def test_login_page_sends_cognito_only_sites_to_the_hosted_ui_keeping_next(browser):
    resp = browser.client.get("/login?next=/upload")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login/cognito?next=/upload"


def test_local_and_cognito_sign_in_can_both_be_enabled(make_app, oidc_provider):
    app = make_app(AUTH="local,cognito", **oidc_provider.cognito_env())
    page = app.test_client().get("/login")
    assert b'name="password"' in page.data and b'href="/login/cognito"' in page.data


def test_cognito_routes_do_not_exist_when_cognito_is_off(client):
    assert client.get("/login/cognito").status_code == 404
    assert client.get("/callback?state=x&code=y").status_code == 404


def test_tokens_stay_on_the_server_and_the_refresh_token_is_encrypted(browser):
    resp = browser.sign_in()

    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with browser.client.session_transaction() as sess:
        assert set(sess) <= {"_user_id", "_fresh", "_id", "_permanent", "cognito_session"}
    (row,) = session_rows(browser.client.application)
    assert row.refresh_token and not row.refresh_token.startswith("ey")
    assert stored_refresh_token(browser.client.application)  # decrypts with FLASK_SECRET
    assert row.access_expires_at > datetime.utcnow() + timedelta(minutes=50)


def test_session_cookie_is_secure_when_the_site_is_https(make_app, oidc_provider):
    app = make_app(
        AUTH="cognito", BASE_URL="https://photos.example.com", **oidc_provider.cognito_env()
    )

    resp = app.test_client().get("/login/cognito")

    assert (
        query_of(resp.headers["Location"])["redirect_uri"] == "https://photos.example.com/callback"
    )
    cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_rotates_the_session_nothing_from_before_survives(browser):
    with browser.client.session_transaction() as sess:
        sess["planted_by_attacker"] = "fixation"
    browser.sign_in()
    with browser.client.session_transaction() as sess:
        first = sess["cognito_session"]
        assert "planted_by_attacker" not in sess
    browser.client.post("/logout")

    browser.sign_in()

    with browser.client.session_transaction() as sess:
        assert sess["cognito_session"] != first


def test_redirect_uri_is_https_behind_a_tls_terminating_proxy(make_app, oidc_provider):
    app = make_app(AUTH="cognito", PROXY_COUNT="1", **oidc_provider.cognito_env())
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "photos.example.com"}

    location = app.test_client().get("/login/cognito", headers=headers).headers["Location"]

    assert query_of(location)["redirect_uri"] == "https://photos.example.com/callback"


def test_forwarded_headers_are_ignored_without_trusted_proxies(browser):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    location = browser.client.get("/login/cognito", headers=headers).headers["Location"]
    assert query_of(location)["redirect_uri"] == "http://localhost/callback"


def test_public_client_without_secret_signs_in_with_pkce(make_app, oidc_provider):
    app = make_app(AUTH="cognito", **oidc_provider.cognito_env("photos-public"))
    browser = CognitoBrowser(app.test_client(), oidc_provider)
    assert browser.sign_in().headers["Location"] == "/"
    assert browser.is_signed_in()


def test_expired_access_token_is_refreshed_without_bothering_the_person(browser):
    browser.sign_in()
    app = browser.client.application
    expire_access_tokens(app)

    assert browser.client.get("/").status_code == 200

    (row,) = session_rows(app)
    assert row.access_expires_at > datetime.utcnow() + timedelta(minutes=50)


def revoke_at_provider(provider, refresh_token: str) -> None:
    client = provider.clients["photos-app"]
    resp = requests.post(
        provider.revocation_endpoint,
        data={"token": refresh_token, "token_type_hint": "refresh_token"},
        auth=(client.client_id, client.client_secret),
        timeout=5,
    )
    assert resp.status_code == 200


def signed_in_but_revoked(browser, provider):
    """A signed-in browser whose refresh token was revoked and whose access token expired."""
    browser.sign_in()
    app = browser.client.application
    revoke_at_provider(provider, stored_refresh_token(app))
    expire_access_tokens(app)
    return app


def photo_upload():
    return {"file": [(io.BytesIO(photo_bytes()), "cat.jpg")]}


def test_failed_refresh_signs_out_and_brings_the_person_back_after_sign_in(browser, oidc_provider):
    app = signed_in_but_revoked(browser, oidc_provider)

    resp = browser.client.get("/settings")

    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/settings"
    assert session_rows(app) == []
    assert not browser.is_signed_in()
    # Signing in again (the provider still knows the browser) lands where the person was.
    assert browser.sign_in(next_url="/settings").headers["Location"] == "/settings"


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_refresh_naming_another_person_ends_the_session(browser, oidc_provider, monkeypatch):
    browser.sign_in()
    app = browser.client.application
    oidc = app.extensions["photogallery"].cognito
    real_refresh = oidc.refresh

    def refresh_for_someone_else(token):
        tokens = real_refresh(token)  # a genuine refresh, then another person's access token
        claims = oidc_provider.access_token_claims(sub="someone-else")
        return tokens | {"access_token": oidc_provider.mint(claims)}

    monkeypatch.setattr(oidc, "refresh", refresh_for_someone_else)
    expire_access_tokens(app)

    resp = browser.client.get("/settings")

    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/settings"
    assert session_rows(app) == [] and not browser.is_signed_in()


def test_upload_form_sent_after_the_session_died_is_not_silently_dropped(browser, oidc_provider):
    signed_in_but_revoked(browser, oidc_provider)

    resp = browser.client.post(
        "/upload",
        data=photo_upload(),
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/upload"},
    )

    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/upload"
    with browser.client.session_transaction() as sess:
        (message,) = [m for _, m in sess["_flashes"]]
    assert "nothing was saved" in message and "sign in again" in message
    assert not browser.is_signed_in()


def test_api_upload_after_the_session_died_answers_401_json(browser, oidc_provider):
    signed_in_but_revoked(browser, oidc_provider)

    resp = browser.client.post(
        "/api/photos", data=photo_upload(), content_type="multipart/form-data"
    )

    assert resp.status_code == 401
    assert "sign in again" in resp.get_json()["error"]
    assert resp.get_json()["sign_in"] == "/login"


def test_cognito_outage_during_refresh_keeps_the_person_signed_in(browser, monkeypatch):
    browser.sign_in()
    app = browser.client.application
    oidc = app.extensions["photogallery"].cognito

    def unreachable(_token):
        raise CognitoUnavailable("token endpoint unreachable (ConnectionError)")

    monkeypatch.setattr(oidc, "refresh", unreachable)
    expire_access_tokens(app)

    assert browser.client.get("/").status_code == 200
    assert len(session_rows(app)) == 1


def test_logout_revokes_the_refresh_token_and_signs_out_of_cognito(browser, oidc_provider):
    browser.sign_in()
    app = browser.client.application
    refresh_token = stored_refresh_token(app)

    resp = browser.client.post("/logout")

    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(oidc_provider.logout_endpoint + "?")
    assert query_of(location) == {"client_id": "photos-app", "logout_uri": "http://localhost/"}
    assert session_rows(app) == [] and not browser.is_signed_in()
    refused = oidc_provider.token_request(
        "photos-app", {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    assert refused.json()["error"] == "invalid_grant"
    # The hosted UI's own session ends too: the next sign-in shows its form again.
    back = oidc_provider.logout(browser.provider_session, location)
    assert back.headers["Location"] == "http://localhost/"
    again = browser.provider_session.get(browser.start(), timeout=5)
    assert 'name="password"' in again.text


def test_sign_out_everywhere_ends_every_cognito_session_and_revokes_its_refresh_tokens(
    browser, oidc_provider
):
    app = browser.client.application
    other = CognitoBrowser(app.test_client(), oidc_provider)
    other.sign_in("alice")
    copied = other.client.get_cookie("session").value
    bob = CognitoBrowser(app.test_client(), oidc_provider)
    bob.sign_in("bob")
    browser.sign_in("alice")
    alices = [
        cognito_sign_in.unseal(app.extensions["photogallery"], row.refresh_token)
        for row in session_rows(app)
        if row.user_id == user_id_of(app, "alice")
    ]

    resp = browser.client.post("/settings/sign-out-everywhere")

    assert resp.status_code == 302
    assert resp.headers["Location"].startswith(oidc_provider.logout_endpoint + "?")
    assert not browser.is_signed_in() and not other.is_signed_in()
    replayed = app.test_client()
    replayed.set_cookie("session", copied)
    assert replayed.get("/").status_code == 302
    assert [row.user_id for row in session_rows(app)] == [user_id_of(app, "bob")]
    assert bob.is_signed_in()
    assert len(alices) == 2
    for refresh_token in alices:
        refused = oidc_provider.token_request(
            "photos-app", {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        assert refused.json()["error"] == "invalid_grant"


def user_id_of(app, username: str) -> int:
    return next(u.id for u in user_rows(app) if u.username == username)


def test_logout_is_a_csrf_protected_post(browser):
    browser.sign_in()
    app = browser.client.application
    assert browser.client.get("/logout").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True

    resp = browser.client.post("/logout")

    assert resp.status_code == 400 and b"reload the page" in resp.data
    app.config["WTF_CSRF_ENABLED"] = False
    assert browser.is_signed_in()


def test_api_accepts_a_cognito_access_token_as_bearer(cognito_app, oidc_provider):
    tokens = provider_tokens(oidc_provider)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    client = cognito_app.test_client()

    resp = client.get("/api/photos", headers=headers)

    assert resp.status_code == 200 and resp.get_json()["photos"] == []
    (user,) = user_rows(cognito_app)
    assert (user.subject, user.username) == (oidc_provider.users["alice"].sub, "alice")
    files = {"file": (io.BytesIO(photo_bytes()), "cat.jpg")}
    assert client.post("/api/photos", data=files, headers=headers).status_code == 201


def test_api_bearer_and_web_sign_in_are_the_same_person(browser, oidc_provider):
    browser.sign_in()
    tokens = provider_tokens(oidc_provider)
    fresh = browser.client.application.test_client()

    fresh.get("/api/photos", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    assert len(user_rows(browser.client.application)) == 1


def test_api_refuses_id_tokens_other_clients_and_expired_access_tokens(cognito_app, oidc_provider):
    client = cognito_app.test_client()
    expired = oidc_provider.mint(
        oidc_provider.access_token_claims(exp=1_600_000_000, iat=1_599_996_400)
    )
    refused = {
        "id token": provider_tokens(oidc_provider)["id_token"],
        "other client": provider_tokens(oidc_provider, "photos-public")["access_token"],
        "expired": expired,
        "garbage": "not.a.jwt",
    }
    for what, token in refused.items():
        resp = client.get("/api/photos", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, what
        assert "sign in first" in resp.get_json()["error"], what
    assert user_rows(cognito_app) == []


def test_personal_api_tokens_still_work_alongside_cognito(make_app, oidc_provider):
    app = make_app(AUTH="local,cognito", **oidc_provider.cognito_env())
    client = app.test_client()
    password = "correct horse battery"
    client.post("/signup", data={"username": "carol", "password": password, "password2": password})
    page = client.post("/settings", data={"name": "script"}).data
    token = re.search(rb"(pg_[\w-]+)", page).group(1).decode()

    resp = app.test_client().get("/api/photos", headers={"Authorization": f"Bearer {token}"})

    assert resp.status_code == 200


def test_unreachable_provider_gives_a_clear_503(make_app):
    issuer = f"http://127.0.0.1:{closed_port()}"
    app = make_app(AUTH="cognito", COGNITO_ISSUER=issuer, COGNITO_CLIENT_ID="photos-app")

    resp = app.test_client().get("/login/cognito")

    assert resp.status_code == 503 and b"sign-in service is unavailable" in resp.data
