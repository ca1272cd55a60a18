"""Local accounts: sign-up, sign-in, sign-out, and every page behind sign-in."""

import pytest


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("get", "/upload"),
        ("post", "/upload"),
        ("get", "/photos/1"),
        ("post", "/photos/1/description"),
        ("post", "/photos/1/delete"),
        ("get", "/settings"),
    ],
)
def test_pages_require_sign_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


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
