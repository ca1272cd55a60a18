"""Sessions that really end: a cookie copied before sign-out, a password change or "sign out
everywhere" signs nobody in afterwards, on any app instance; other people's sessions go on."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select, update

from photogallery.data.db import utcnow
from photogallery.data.schema import user_sessions, users
from tests.conftest import LOCAL_STACKS, Auth

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.fixture(params=LOCAL_STACKS)
def stack(request):
    """Sessions live in the database, not in photo storage: SQLite and MySQL."""
    return request.param


def signed_up(app, username: str = "alice"):
    """A new test client of ``app``, signed up (and so signed in) as ``username``."""
    client = app.test_client()
    assert Auth(client).signup(username, PASSWORD).status_code == 302
    return client


def another_browser(app, username: str = "alice"):
    """A new test client of ``app`` where ``username`` signs in too."""
    client = app.test_client()
    assert Auth(client).login(username, PASSWORD).status_code == 302
    return client


def replay(app, cookie: str):
    """Another browser holding a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def assert_signed_out(client):
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    api = client.get("/api/photos")
    assert api.status_code == 401 and "sign in" in api.get_json()["error"]


def assert_signed_in(client):
    assert client.get("/").status_code == 200
    assert client.get("/api/photos").status_code == 200


def session_count(app) -> int:
    with app.extensions["photogallery"].engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(user_sessions)).scalar()


def test_a_cookie_copied_before_logout_signs_nobody_in_afterwards(app):
    alice = signed_up(app)
    copied = alice.get_cookie("session").value

    assert alice.post("/logout").status_code == 302

    assert_signed_out(replay(app, copied))
    assert session_count(app) == 0


def test_logout_ends_only_that_browsers_session(app):
    laptop = signed_up(app)
    phone = another_browser(app)
    bob = signed_up(app, "bob")

    laptop.post("/logout")

    assert_signed_out(laptop)
    assert_signed_in(phone)
    assert_signed_in(bob)


def test_a_cookie_naming_a_user_id_the_old_way_signs_nobody_in(app):
    alice = signed_up(app)
    with alice.session_transaction() as session:
        session["_user_id"] = "1"  # a cookie from before server-side sessions (or a forged one)

    assert_signed_out(alice)


def test_password_change_ends_every_other_session_and_keeps_this_browser(app):
    laptop = signed_up(app)
    phone = another_browser(app)
    copied = laptop.get_cookie("session").value
    bob = signed_up(app, "bob")

    response = laptop.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )

    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    assert b"Password changed" in laptop.get("/settings").data
    assert_signed_in(laptop)
    assert_signed_out(phone)
    assert_signed_out(replay(app, copied))
    assert_signed_in(bob)
    fresh = app.test_client()
    assert Auth(fresh).login("alice", PASSWORD).status_code == 401
    assert Auth(fresh).login("alice", "a brand new passphrase").status_code == 302


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_refused_password_change_changes_nothing_and_ends_nothing(app):
    laptop = signed_up(app)
    phone = another_browser(app)
    with app.extensions["photogallery"].engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar()
    attempts = [
        ("wrong current password", "a brand new passphrase", b"current password is not right"),
        (PASSWORD, "12345678", b"12345678"),
        (PASSWORD, "alice in wonderland", b"contains the username"),
    ]
    for current, new, reason in attempts:
        response = laptop.post(
            "/settings/password",
            data={"current_password": current, "new_password": new, "new_password2": new},
        )
        assert response.status_code == 400, new
        assert b"The password was not changed" in response.data and reason in response.data

    with app.extensions["photogallery"].engine.connect() as conn:
        assert conn.execute(select(users.c.password_hash)).scalar() == stored
    assert_signed_in(laptop)
    assert_signed_in(phone)


def test_sign_out_everywhere_ends_every_session_of_the_person_only(app):
    laptop = signed_up(app)
    phone = another_browser(app)
    copied = phone.get_cookie("session").value
    bob = signed_up(app, "bob")
    token = laptop.post("/settings", data={"name": "backup"})
    api_token = re.search(rb"(pg_[\w-]+)", token.data).group(1).decode()

    response = laptop.post("/settings/sign-out-everywhere")

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert b"signed out everywhere" in laptop.get("/login").data
    for client in (laptop, phone, replay(app, copied)):
        assert_signed_out(client)
    assert_signed_in(bob)
    # Personal API tokens are not browser sessions: they stay until revoked.
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert app.test_client().get("/api/photos", headers=bearer).status_code == 200


def test_settings_page_offers_sign_out_everywhere_as_a_csrf_protected_form(app):
    alice = signed_up(app)
    page = alice.get("/settings").get_data(as_text=True)
    form = re.search(
        r'<form[^>]*action="/settings/sign-out-everywhere"[^>]*>(.*?)</form>', page, re.S
    )
    assert form and 'method="post"' in form.group(0) and 'name="csrf_token"' in form.group(1)
    app.config["WTF_CSRF_ENABLED"] = True

    refused = alice.post("/settings/sign-out-everywhere")

    assert refused.status_code == 400 and b"reload the page" in refused.data
    app.config["WTF_CSRF_ENABLED"] = False
    assert_signed_in(alice)


def test_api_sign_out_everywhere_with_a_token_ends_the_browsers_sessions(app):
    browser = signed_up(app)
    bob = signed_up(app, "bob")
    token = app.test_client().post("/api/tokens", auth=("alice", PASSWORD)).get_json()["token"]
    script = app.test_client()

    response = script.delete("/api/sessions", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 204
    assert_signed_out(browser)
    assert_signed_in(bob)
    assert (
        script.get("/api/photos", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_api_sign_out_everywhere_with_a_cookie_needs_the_csrf_token(app):
    browser = signed_up(app)
    app.config["WTF_CSRF_ENABLED"] = True

    refused = browser.delete("/api/sessions")

    assert refused.status_code == 400 and refused.get_json()["reason"] == "csrf"
    assert_signed_in(browser)
    token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/").text).group(1)
    assert browser.delete("/api/sessions", headers={"X-CSRFToken": token}).status_code == 204
    assert_signed_out(browser)


def test_a_session_ended_on_one_instance_is_ended_on_every_other(make_app):
    first, second = make_app(), make_app()  # two app instances sharing one database
    alice = signed_up(first)
    copied = alice.get_cookie("session").value
    assert_signed_in(replay(second, copied))

    alice.post("/logout")

    assert_signed_out(replay(second, copied))
    assert_signed_out(replay(first, copied))


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_session_unused_for_its_lifetime_ends(app):
    alice = signed_up(app)
    engine = app.extensions["photogallery"].engine
    with engine.begin() as conn:  # as if fourteen days and a minute had passed
        conn.execute(
            update(user_sessions).values(last_seen_at=utcnow() - timedelta(days=14, minutes=1))
        )

    assert_signed_out(alice)
    signed_up(app, "bob")  # opening a session sweeps the dead ones
    assert session_count(app) == 1


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_use_keeps_a_session_alive_writing_at_most_hourly(app):
    alice = signed_up(app)
    engine = app.extensions["photogallery"].engine

    def last_seen():
        with engine.connect() as conn:
            return conn.execute(select(user_sessions.c.last_seen_at)).scalar()

    first = last_seen()
    alice.get("/")
    assert last_seen() == first  # used again within the hour: no write
    old = utcnow() - timedelta(days=13)
    with engine.begin() as conn:
        conn.execute(update(user_sessions).values(last_seen_at=old))
    assert_signed_in(alice)
    assert last_seen() > old + timedelta(days=12)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_pages_leave_the_cookie_alone_until_the_session_is_renewed_which_reissues_it(app):
    alice = signed_up(app)
    alice.get("/")  # the first page may store its CSRF token in the session
    assert "Set-Cookie" not in alice.get("/").headers  # not re-signed on every page
    engine = app.extensions["photogallery"].engine
    with engine.begin() as conn:  # last used two hours ago: this use is written down...
        conn.execute(update(user_sessions).values(last_seen_at=utcnow() - timedelta(hours=2)))

    renewed = alice.get("/").headers.get("Set-Cookie", "")

    # ...and the cookie, re-issued, lives the session's lifetime from now, as the row does.
    expires = re.search(r"Expires=([^;]+)", renewed).group(1)
    lives = parsedate_to_datetime(expires).replace(tzinfo=None) - utcnow()
    assert renewed.startswith("session=") and timedelta(days=13, hours=23) < lives
