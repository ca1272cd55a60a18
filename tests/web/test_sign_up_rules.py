"""Sign-up everywhere (the page, POST /api/users, `flask users create`): common and trivial
passwords are refused saying why, and usernames are one account whatever their letter case."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from photogallery.data.schema import users
from photogallery.services.auth import accounts
from tests.conftest import Auth

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
WEAK = [
    ("password", "most common passwords"),
    ("12345678", "12345678"),
    (" " * 8, "only spaces"),
    ("alice1987", "contains the username"),
    ("x" * 300, "at most 256 characters"),
]


@pytest.fixture(params=["sqlite"])
def stack(request):
    """Accounts are rows: SQLite here (tests/data covers MySQL's collation and index)."""
    return request.param


def user_count(backends) -> int:
    with backends.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar()


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_signup_page_refuses_weak_passwords_naming_why(client, backends, password, reason):
    response = Auth(client).signup("alice", password)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Could not create the account" in page and reason in page
    assert user_count(backends) == 0


@pytest.mark.parametrize(("password", "reason"), WEAK)
def test_api_refuses_weak_passwords_with_400_naming_why(client, backends, password, reason):
    response = client.post("/api/users", json={"username": "alice", "password": password})

    assert response.status_code == 400 and reason in response.get_json()["error"]
    assert user_count(backends) == 0


def test_an_overlong_password_is_refused_without_hashing_it(client, backends, monkeypatch):
    hashed = []
    monkeypatch.setattr(accounts, "generate_password_hash", lambda p: hashed.append(p) or "x")

    long = client.post("/api/users", json={"username": "alice", "password": "y" * 300})
    huge = client.post("/api/users", json={"username": "alice", "password": "y" * 1_000_000})

    assert long.status_code == 400 and "at most 256" in long.get_json()["error"]
    assert huge.status_code == 413  # a JSON body over 64 kB is refused before it is parsed
    assert hashed == [] and user_count(backends) == 0


def test_cli_users_create_refuses_common_passwords(runner, backends):
    result = runner.invoke(
        args=["users", "create", "carol"], env={"PHOTOS_NEW_PASSWORD": "iloveyou"}
    )

    assert result.exit_code == 1 and "most common passwords" in result.output
    assert "Traceback" not in result.output and user_count(backends) == 0


def test_a_username_in_another_letter_case_is_taken(client, backends):
    assert Auth(client).signup("Alice").status_code == 302
    client.post("/logout")

    page = Auth(client).signup("ALICE", "another good passphrase")
    api = client.post("/api/users", json={"username": "aLiCe", "password": PASSWORD})
    cli = client.application.test_cli_runner().invoke(
        args=["users", "create", "alice"], env={"PHOTOS_NEW_PASSWORD": PASSWORD}
    )

    assert page.status_code == 400 and b"is taken" in page.data
    assert api.status_code == 409 and "is taken" in api.get_json()["error"]
    assert cli.exit_code == 1 and "is taken" in cli.output
    assert user_count(backends) == 1


def test_sign_in_works_in_any_letter_case_and_keeps_the_chosen_spelling(client, backends):
    Auth(client).signup("Alice")
    client.post("/logout")

    assert Auth(client).login("aLICE").status_code == 302
    assert b"Alice" in client.get("/").data
    assert client.post("/api/tokens", auth=("ALICE", PASSWORD)).status_code == 201
    cli = client.application.test_cli_runner().invoke(args=["tokens", "create", "alice"])
    assert cli.exit_code == 0 and cli.output.startswith("pg_")
    assert (
        client.post("/api/users", json={"username": "Bob", "password": PASSWORD}).get_json()[
            "username"
        ]
        == "Bob"
    )
