"""Local accounts: sign-up, sign-in, sign-out, and every page behind sign-in."""

import re

import pytest

# Everything else needs a signed-in person. Media URLs are public but carry their own signature.
PUBLIC = {
    "static", "health.health", "health.ready", "media.media", "icons.favicon",
    "auth.login", "auth.signup", "auth.logout",
    "api.openapi", "api.create_user", "api.create_token",
    "cognito.login", "cognito.callback",
    "metrics.metrics",  # METRICS_ALLOW or METRICS_TOKEN, not sign-in (tests/web/test_metrics.py)
}  # fmt: skip


def rule_calls(app):
    """(method, path, is_api) for every rule of the app that is not public, with sample values."""
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        kinds = dict((name, kind) for kind, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule))
        path = rule.build({n: 1 if k == "int" else "x" for n, k in kinds.items()})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((method, path, rule.rule.startswith("/api/")))
    return calls


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_every_rule_but_the_public_ones_requires_sign_in(app):
    calls = rule_calls(app)
    assert len(calls) >= 15  # the routes were found, not an empty list
    client = app.test_client()
    for method, path, is_api in calls:
        response = client.open(path, method=method)
        if is_api:
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/login"), (method, path)


def test_signup_signs_in_and_shows_the_upload_form(client, auth):
    response = auth.signup()
    assert response.status_code == 302 and response.headers["Location"] == "/upload"
    assert b"Upload photos" in client.get("/upload").data


def test_login_with_wrong_password_is_refused_without_a_session(client, auth):
    auth.signup()
    auth.logout()
    response = auth.login(password="wrong password!")
    assert response.status_code == 401 and b"do not match" in response.data
    assert client.get("/").status_code == 302


def test_login_and_logout(client, auth):
    auth.signup()
    auth.logout()
    assert auth.login().status_code == 302
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_logout_is_post_only(client, auth):
    auth.signup()
    assert client.get("/logout").status_code == 405


def test_login_honours_next_only_on_this_site(client, auth):
    auth.signup()
    auth.logout()
    ok = client.post(
        "/login?next=/settings", data={"username": "alice", "password": "correct horse battery"}
    )
    assert ok.headers["Location"] == "/settings"
    auth.logout()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(
            f"/login?next={evil}", data={"username": "alice", "password": "correct horse battery"}
        )
        assert response.headers["Location"] == "/", evil
        auth.logout()


def test_duplicate_username_and_weak_password_are_explained(client, auth):
    auth.signup()
    auth.logout()
    assert b"is taken" in auth.signup().data
    assert b"at least 8 characters" in auth.signup("bob", "short").data


def test_signup_can_be_closed(make_app):
    client = make_app(ALLOW_SIGNUP="false").test_client()
    assert client.get("/signup").status_code == 404
    assert b"Create an account" not in client.get("/login").data


def test_session_cookie_is_httponly_and_lax(client, auth):
    cookie = auth.signup().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_settings_page_creates_shows_once_and_revokes_tokens(user_client):
    page = user_client.post("/settings", data={"name": "backup"})
    assert b"shown only this once" in page.data and b"pg_" in page.data
    assert b"backup" in user_client.get("/settings").data
    assert user_client.post("/settings", data={"action": "revoke", "id": "1"}).status_code == 302
