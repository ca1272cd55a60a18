"""Throttled sign-in: password guessing gets 429 with Retry-After, on the login page and on
POST /api/tokens, counted in the database so every app instance agrees; the person signing in
from their own address is not held back by a guesser elsewhere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from photogallery.data.db import utcnow
from photogallery.data.schema import sign_in_failures, user_sessions
from photogallery.services.auth import accounts
from tests.conftest import LOCAL_STACKS

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
GUESSER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(params=LOCAL_STACKS)
def stack(request):
    """The throttle lives in the database, not in photo storage: SQLite and MySQL."""
    return request.param


@pytest.fixture
def alice(backends):
    return accounts.create_local_user(backends, "alice", PASSWORD)


def login(client, password: str, username: str = "alice", environ=GUESSER):
    form = {"username": username, "password": password}
    return client.post("/login", data=form, environ_base=environ)


def token(client, password: str, username: str = "alice", environ=GUESSER):
    return client.post("/api/tokens", auth=(username, password), environ_base=environ)


def session_rows(backends):
    with backends.engine.connect() as conn:
        return conn.execute(select(user_sessions)).all()


def end_every_wait(backends):
    """As if the waits had passed: every lock ends now."""
    with backends.engine.begin() as conn:
        conn.execute(update(sign_in_failures).values(locked_until=utcnow()))


def test_fifty_wrong_passwords_then_the_right_one_is_429_with_retry_after(client, backends, alice):
    answers = [login(client, f"wrong guess {n}").status_code for n in range(50)]

    assert answers == [401] * 5 + [429] * 45
    right = login(client, PASSWORD)
    assert right.status_code == 429
    assert 50 <= int(right.headers["Retry-After"]) <= 60
    page = right.get_data(as_text=True)
    assert "too many failed sign-ins" in page and "wait 1 minute" in page
    assert 'name="password"' in page  # the sign-in page itself, to try again later
    assert session_rows(backends) == [] and client.get("/").status_code == 302


def test_the_person_at_their_own_address_signs_in_while_a_guesser_is_held_back(client, alice):
    for n in range(10):
        login(client, f"wrong guess {n}")

    assert login(client, PASSWORD, environ=OWNER).status_code == 302
    assert login(client, PASSWORD).status_code == 429


def test_api_tokens_answer_json_429_with_retry_after(client, backends, alice):
    answers = [token(client, f"wrong guess {n}").status_code for n in range(8)]
    right = token(client, PASSWORD)

    assert answers == [401] * 5 + [429] * 3
    assert right.status_code == 429 and 50 <= int(right.headers["Retry-After"]) <= 60
    body = right.get_json()
    assert "too many failed sign-ins" in body["error"] and body["retry_after"] > 0
    assert accounts.list_api_tokens(backends, alice.id) == []


def test_failures_on_the_page_and_the_api_count_together(client, alice):
    for n in range(3):
        login(client, f"wrong guess {n}")
    for n in range(2):
        token(client, f"wrong guess {n}")

    assert login(client, PASSWORD).status_code == 429


def test_two_app_instances_share_the_count(make_app, alice):
    first, second = make_app().test_client(), make_app().test_client()
    for n in range(5):
        assert login((first, second)[n % 2], f"wrong guess {n}").status_code == 401

    assert login(second, PASSWORD).status_code == 429
    assert token(first, PASSWORD).status_code == 429


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_wait_doubles_with_each_failure_past_the_allowance_up_to_the_lock_time(
    client, backends, alice
):
    waits = []
    for n in range(10):
        response = login(client, f"wrong guess {n}")
        if response.status_code == 401 and n >= 4:
            waits.append(int(login(client, PASSWORD).headers["Retry-After"]))
            end_every_wait(backends)

    assert [round(w / 60) for w in waits] == [1, 2, 4, 8, 15, 15]
    assert login(client, PASSWORD).status_code == 302  # the wait over, the right one works


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_success_starts_the_count_over(client, alice):
    for n in range(4):
        login(client, f"wrong guess {n}")
    assert login(client, PASSWORD).status_code == 302
    client.post("/logout")

    answers = [login(client, f"wrong again {n}").status_code for n in range(5)]

    assert answers == [401] * 5


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_name_quiet_for_the_lock_time_starts_over(client, backends, alice):
    for n in range(5):
        login(client, f"wrong guess {n}")
    long_ago = utcnow() - timedelta(minutes=16)
    with backends.engine.begin() as conn:
        conn.execute(update(sign_in_failures).values(last_failure_at=long_ago, locked_until=None))

    assert [login(client, f"wrong again {n}").status_code for n in range(5)] == [401] * 5


def test_spraying_many_names_from_one_address_is_held_back(make_app):
    client = make_app(SIGN_IN_MAX_FAILURES_PER_ADDRESS="3").test_client()

    answers = [login(client, PASSWORD, username=f"user{n}").status_code for n in range(5)]

    assert answers == [401, 401, 401, 429, 429]
    assert login(client, PASSWORD, username="user9", environ=OWNER).status_code == 401


def test_guessing_one_name_from_many_addresses_is_held_back(make_app):
    app = make_app(SIGN_IN_MAX_FAILURES_PER_ACCOUNT="3")
    accounts.create_local_user(app.extensions["photogallery"], "alice", PASSWORD)
    client = app.test_client()

    answers = [
        login(client, f"guess {n}", environ={"REMOTE_ADDR": f"192.0.2.{n}"}).status_code
        for n in range(1, 6)
    ]

    assert answers == [401, 401, 401, 429, 429]
    assert login(client, PASSWORD, username="ALICE", environ=OWNER).status_code == 429


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_unknown_names_are_answered_like_real_ones(client, alice, monkeypatch):
    hashes = []
    original = accounts.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda h, p: hashes.append(p) or original(h, p)
    )

    real = [login(client, f"guess {n}").status_code for n in range(7)]
    real_hashes, hashes[:] = len(hashes), []
    unknown = [login(client, f"guess {n}", username="nobody").status_code for n in range(7)]

    assert real == unknown == [401] * 5 + [429] * 2
    assert real_hashes == len(hashes) == 5  # a hash per checked attempt; none while waiting


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_names_and_addresses_are_not_stored(client, backends, alice):
    login(client, "my password typed as a name", username="hunter2 secret")

    with backends.engine.connect() as conn:
        rows = conn.execute(select(sign_in_failures)).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 3
    for secret in ("hunter2", "203.0.113.9", "alice"):
        assert secret not in stored


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_behind_proxies_the_address_is_the_one_the_proxies_saw(make_app):
    app = make_app(PROXY_COUNT="1")
    accounts.create_local_user(app.extensions["photogallery"], "alice", PASSWORD)
    client = app.test_client()
    balancer = {"REMOTE_ADDR": "10.0.0.2"}

    def login_from(address: str, password: str):
        form = {"username": "alice", "password": password}
        headers = {"X-Forwarded-For": address}
        return client.post("/login", data=form, headers=headers, environ_base=balancer)

    for n in range(6):
        login_from("203.0.113.9", f"wrong guess {n}")

    assert login_from("203.0.113.9", PASSWORD).status_code == 429
    assert login_from("198.51.100.7", PASSWORD).status_code == 302


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_without_proxies_a_forwarded_address_is_not_believed(client, alice):
    for n in range(5):
        headers = {"X-Forwarded-For": f"192.0.2.{n}"}  # one guesser pretending to be many
        form = {"username": "alice", "password": f"wrong guess {n}"}
        client.post("/login", data=form, headers=headers, environ_base=GUESSER)

    assert login(client, PASSWORD).status_code == 429


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_wrong_current_password_on_the_settings_page_counts_too(client, alice):
    assert login(client, PASSWORD).status_code == 302
    for n in range(5):
        form = {"current_password": f"g{n}", "new_password": "new passphrase here"}
        client.post("/settings/password", data=form, environ_base=GUESSER)

    form = {"current_password": PASSWORD, "new_password": "new passphrase here"}
    response = client.post("/settings/password", data=form, environ_base=GUESSER)

    assert response.status_code == 429 and "Retry-After" in response.headers
    assert b"too many failed sign-ins" in response.data


def test_failures_sent_at_once_to_two_instances_are_all_counted(make_app, caplog):
    limits = {"SIGN_IN_MAX_FAILURES": "1000", "SIGN_IN_MAX_FAILURES_PER_ADDRESS": "1000"}
    apps = [make_app(**limits) for _ in range(2)]
    engine = apps[0].extensions["photogallery"].engine
    accounts.create_local_user(apps[0].extensions["photogallery"], "alice", PASSWORD)
    long_ago = utcnow() - timedelta(hours=1)
    with engine.begin() as conn:  # quiet keys for the failures' housekeeping to sweep meanwhile
        stale = [
            {"key_hash": f"{n:064x}", "failures": 3, "last_failure_at": long_ago} for n in range(50)
        ]
        conn.execute(sign_in_failures.insert(), stale)

    def fail(n: int) -> int:
        return login(apps[n % 2].test_client(), f"wrong guess {n}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(fail, range(40)))

    assert answers == [401] * 40
    with engine.connect() as conn:
        counts = sorted(conn.execute(select(sign_in_failures.c.failures)).scalars())
    assert counts == [40, 40, 40]  # name+address, address, name: none lost; the quiet ones swept
    assert "postponed" not in caplog.text  # no deadlock between counting and sweeping
