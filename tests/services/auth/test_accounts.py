"""Local accounts and personal API tokens, at the service layer."""

from sqlalchemy import select, update

from photogallery.data.schema import api_tokens
from photogallery.services.auth import accounts


def test_a_token_is_stored_only_as_a_hash(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    token = accounts.create_api_token(backends, user.id, "script")
    with backends.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar()
    assert token.startswith("pg_") and token not in stored and len(stored) == 64
    assert accounts.user_for_token(backends, token).id == user.id
    assert accounts.user_for_token(backends, token + "x") is None


def test_token_use_is_recorded_at_most_once_a_minute(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    token = accounts.create_api_token(backends, user.id)

    def last_used():
        with backends.engine.connect() as conn:
            return conn.execute(select(api_tokens.c.last_used_at)).scalar()

    accounts.user_for_token(backends, token)
    first = last_used()
    accounts.user_for_token(backends, token)
    assert first is not None and last_used() == first
    with backends.engine.begin() as conn:  # pretend the last use was long ago
        conn.execute(update(api_tokens).values(last_used_at=first.replace(year=2020)))
    accounts.user_for_token(backends, token)
    assert last_used() > first.replace(year=2020)


def test_revoked_tokens_stop_working(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    token = accounts.create_api_token(backends, user.id)
    (listed,) = accounts.list_api_tokens(backends, user.id)
    assert accounts.revoke_api_token(backends, user.id, listed["id"])
    assert accounts.user_for_token(backends, token) is None


def test_authenticate_accepts_only_the_right_password(backends):
    accounts.create_local_user(backends, "tina", "a long password")
    assert accounts.authenticate(backends, "tina", "a long password").username == "tina"
    assert accounts.authenticate(backends, "tina", "wrong password") is None
    assert accounts.authenticate(backends, "nobody", "a long password") is None


def test_revoking_one_token_leaves_the_persons_other_tokens_working(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    laptop = accounts.create_api_token(backends, user.id, "laptop")
    phone = accounts.create_api_token(backends, user.id, "phone")
    tokens = {t["name"]: t["id"] for t in accounts.list_api_tokens(backends, user.id)}
    assert list(tokens) == ["phone", "laptop"]  # newest first
    assert accounts.revoke_api_token(backends, user.id, tokens["laptop"]) is True
    assert accounts.user_for_token(backends, laptop) is None
    assert accounts.user_for_token(backends, phone).id == user.id
    assert accounts.revoke_api_token(backends, user.id, tokens["laptop"]) is False  # gone already


def test_a_token_is_named_as_asked_cut_to_100_or_api_token_when_blank(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    accounts.create_api_token(backends, user.id)
    accounts.create_api_token(backends, user.id, "   ")
    accounts.create_api_token(backends, user.id, "  n" + "x" * 150)

    names = [t["name"] for t in accounts.list_api_tokens(backends, user.id)]

    assert names == ["n" + "x" * 99, "API token", "API token"]


def test_using_one_token_records_its_use_only(backends):
    user = accounts.create_local_user(backends, "tina", "a long password")
    used = accounts.create_api_token(backends, user.id, "used")
    accounts.create_api_token(backends, user.id, "idle")

    accounts.user_for_token(backends, used)

    last_used = {t["name"]: t["last_used_at"] for t in accounts.list_api_tokens(backends, user.id)}
    assert last_used["used"] is not None and last_used["idle"] is None
