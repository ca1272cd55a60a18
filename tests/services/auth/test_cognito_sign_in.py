"""The Cognito sign-in service on its own: the pending login, the session it opens, refreshing,
signing out and bearer callers, with Cognito's token endpoint scripted per test.

Token verification stays real (the app's TokenVerifier against the local OpenID provider's keys);
only the token endpoint is a stand-in, so a test can make Cognito refuse, rotate or answer for
another person on cue. tests/web/test_cognito.py runs the same flows against the real provider.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from photogallery.data import users as user_data
from photogallery.data.db import utcnow
from photogallery.data.schema import oauth_logins, oauth_sessions
from photogallery.services.auth import cognito_sign_in as sign_in
from photogallery.services.auth.cognito_client import CognitoRefused, CognitoUnavailable


@pytest.fixture
def stack() -> str:
    """SQLite only: the flows are the same on every stack (test_cognito.py runs them all)."""
    return "sqlite"


REDIRECT = "https://photos.example/callback"


class TokenEndpoint:
    """Cognito's token and revocation endpoints as a test scripts them; checks stay real."""

    def __init__(self, verifier) -> None:
        self.verifier = verifier
        self.answers: list[object] = []  # dicts to answer, exceptions to raise, in order
        self.calls: list[tuple] = []

    def _next(self) -> dict:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    def authorize_url(self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str):
        self.calls.append(("authorize", redirect_uri, state, nonce, code_challenge))
        return f"https://idp.example/authorize?state={state}"

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict:
        self.calls.append(("exchange", code, redirect_uri, code_verifier))
        return self._next()

    def refresh(self, refresh_token: str) -> dict:
        self.calls.append(("refresh", refresh_token))
        return self._next()

    def revoke(self, refresh_token: str) -> None:
        self.calls.append(("revoke", refresh_token))
        if self.answers:
            self._next()


@pytest.fixture
def cognito(cognito_app) -> TokenEndpoint:
    return TokenEndpoint(cognito_app.extensions["photogallery"].cognito.verifier)


@pytest.fixture
def backends(cognito_app, cognito):
    return replace(cognito_app.extensions["photogallery"], cognito=cognito)


def tokens_for(provider, username="alice", *, nonce="n", refresh="rt-1", **access_overrides):
    access = provider.access_token_claims(username, **access_overrides)
    answer = {
        "id_token": provider.mint(provider.id_token_claims(username, nonce=nonce)),
        "access_token": provider.mint(access),
    }
    if refresh is not None:
        answer["refresh_token"] = refresh
    return answer


def open_session(backends, cognito, provider, username="alice", **kwargs):
    """Start and finish a sign-in; returns (SignedIn, the pending login's nonce)."""
    state, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url="/photos")
    pending = sign_in.take_pending_login(backends, state)
    cognito.answers.append(tokens_for(provider, username, nonce=pending.nonce, **kwargs))
    return sign_in.finish_sign_in(backends, pending, "the-code")


def session_row(backends):
    with backends.engine.connect() as conn:
        return conn.execute(select(oauth_sessions)).one_or_none()


def set_expiry(backends, when: datetime) -> None:
    with backends.engine.begin() as conn:
        conn.execute(update(oauth_sessions).values(access_expires_at=when))


def age_logins(backends, by: timedelta) -> None:
    with backends.engine.begin() as conn:
        conn.execute(update(oauth_logins).values(created_at=utcnow() - by))


def logins(backends) -> int:
    with backends.engine.connect() as conn:
        return len(conn.execute(select(oauth_logins)).all())


# Starting and taking the pending login.


def test_start_sends_a_pkce_s256_challenge_of_the_verifier_kept_for_the_callback(backends, cognito):
    state, url = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url="/photos/3")
    _, sent_uri, sent_state, nonce, challenge = cognito.calls[0]
    pending = sign_in.take_pending_login(backends, state)

    digest = hashlib.sha256(pending.code_verifier.encode("ascii")).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    assert "=" not in challenge and 43 <= len(pending.code_verifier) <= 128
    assert (sent_uri, sent_state, url) == (
        REDIRECT,
        state,
        f"https://idp.example/authorize?state={state}",
    )
    assert (pending.nonce, pending.redirect_uri, pending.next_url) == (nonce, REDIRECT, "/photos/3")


def test_a_pending_login_can_be_taken_once(backends):
    state, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    sign_in.take_pending_login(backends, state)

    with pytest.raises(sign_in.SignInFailed) as refused:
        sign_in.take_pending_login(backends, state)

    assert refused.value.status == 400
    assert refused.value.reason == (
        "This sign-in response was already used or has expired. Please sign in again."
    )
    assert str(refused.value) == refused.value.reason  # what a log or traceback shows


def test_a_pending_login_lives_ten_minutes(backends):
    young, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    age_logins(backends, timedelta(minutes=9))
    assert sign_in.take_pending_login(backends, young).redirect_uri == REDIRECT

    old, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    age_logins(backends, timedelta(minutes=11))
    with pytest.raises(sign_in.SignInFailed):
        sign_in.take_pending_login(backends, old)


def test_starting_a_sign_in_clears_expired_logins_but_not_another_tabs_live_one(backends):
    sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    age_logins(backends, timedelta(minutes=11))
    sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    assert logins(backends) == 1  # the expired one went

    other_tab, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    age_logins(backends, timedelta(minutes=5))
    sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)

    assert logins(backends) == 3
    assert sign_in.take_pending_login(backends, other_tab)


# Finishing: the user, the session and its tokens.


def test_finishing_creates_the_user_and_a_session_holding_the_sealed_refresh_token(
    backends, cognito, oidc_provider
):
    signed_in = open_session(backends, cognito, oidc_provider, refresh="rt-secret")
    row = session_row(backends)
    alice = oidc_provider.users["alice"]

    assert cognito.calls[-1][0:3] == ("exchange", "the-code", REDIRECT)
    assert (signed_in.user.subject, signed_in.user.username) == (alice.sub, alice.username)
    assert signed_in.user.email == alice.email and signed_in.next_url == "/photos"
    assert row.user_id == signed_in.user.id
    assert row.handle_hash == hashlib.sha256(signed_in.handle.encode()).hexdigest()
    assert "rt-secret" not in row.refresh_token
    assert sign_in.unseal(backends, row.refresh_token) == "rt-secret"


def test_the_session_expires_when_the_access_token_does(backends, cognito, oidc_provider):
    open_session(backends, cognito, oidc_provider, exp=2_000_000_000)

    assert session_row(backends).access_expires_at == datetime(2033, 5, 18, 3, 33, 20)


def test_a_refused_code_opens_no_session(backends, cognito):
    state, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    pending = sign_in.take_pending_login(backends, state)
    cognito.answers.append(CognitoRefused("invalid_grant"))

    with pytest.raises(sign_in.SignInFailed) as refused:
        sign_in.finish_sign_in(backends, pending, "used-code")

    assert refused.value.status == 400
    assert refused.value.reason == (
        "The sign-in code was refused (it was already used or has expired). Please sign in again."
    )
    assert session_row(backends) is None


def test_tokens_that_do_not_verify_open_no_session(backends, cognito, oidc_provider):
    state, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    pending = sign_in.take_pending_login(backends, state)
    cognito.answers.append(tokens_for(oidc_provider, nonce="not-the-pending-nonce"))

    with pytest.raises(sign_in.SignInFailed) as refused:
        sign_in.finish_sign_in(backends, pending, "code")

    assert refused.value.status == 401
    assert refused.value.reason.startswith("The sign-in could not be verified: ")
    assert "nonce" in refused.value.reason
    assert session_row(backends) is None


def test_id_and_access_tokens_of_two_people_open_no_session(backends, cognito, oidc_provider):
    state, _ = sign_in.start_sign_in(backends, redirect_uri=REDIRECT, next_url=None)
    pending = sign_in.take_pending_login(backends, state)
    mixed = tokens_for(oidc_provider, nonce=pending.nonce)
    bob = oidc_provider.users["bob"]
    mixed["access_token"] = oidc_provider.mint(oidc_provider.access_token_claims("bob"))
    cognito.answers.append(mixed)
    assert bob.sub != oidc_provider.users["alice"].sub

    with pytest.raises(sign_in.SignInFailed) as refused:
        sign_in.finish_sign_in(backends, pending, "code")

    assert (refused.value.status, refused.value.reason) == (
        401,
        "The sign-in could not be verified: the tokens name two users.",
    )
    assert session_row(backends) is None


# Keeping the session fresh.


def test_an_unknown_handle_is_no_session(backends):
    assert sign_in.keep_session_fresh(backends, "never-issued") is False


def test_a_token_valid_past_the_margin_is_not_refreshed(backends, cognito, oidc_provider):
    signed_in = open_session(backends, cognito, oidc_provider)
    set_expiry(backends, utcnow() + timedelta(seconds=90))

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is True
    assert [call[0] for call in cognito.calls] == ["authorize", "exchange"]


def test_a_token_expiring_within_a_minute_is_refreshed_and_the_new_expiry_kept(
    backends, cognito, oidc_provider
):
    signed_in = open_session(backends, cognito, oidc_provider, refresh="rt-1")
    set_expiry(backends, utcnow() + timedelta(seconds=30))
    refreshed = tokens_for(oidc_provider, refresh=None, exp=2_000_000_000)
    cognito.answers.append(refreshed)

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is True

    row = session_row(backends)
    assert cognito.calls[-1] == ("refresh", "rt-1")
    assert row.access_expires_at == datetime(2033, 5, 18, 3, 33, 20)
    assert sign_in.unseal(backends, row.refresh_token) == "rt-1"  # not rotated: kept


def test_a_rotated_refresh_token_replaces_the_old_one(backends, cognito, oidc_provider):
    signed_in = open_session(backends, cognito, oidc_provider, refresh="rt-1")
    set_expiry(backends, utcnow() - timedelta(minutes=5))
    cognito.answers.append(tokens_for(oidc_provider, refresh="rt-2"))

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is True
    assert sign_in.unseal(backends, session_row(backends).refresh_token) == "rt-2"


@pytest.mark.parametrize(
    "answer",
    [CognitoRefused("invalid_grant"), "expired access token", "another person's token"],
)
def test_a_refresh_that_fails_ends_the_session(backends, cognito, oidc_provider, answer):
    signed_in = open_session(backends, cognito, oidc_provider)
    set_expiry(backends, utcnow() - timedelta(minutes=5))
    if answer == "expired access token":
        answer = tokens_for(oidc_provider, exp=1_000_000)
    elif answer == "another person's token":
        answer = tokens_for(oidc_provider, "bob")
    cognito.answers.append(answer)

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is False
    assert session_row(backends) is None
    assert sign_in.keep_session_fresh(backends, signed_in.handle) is False


@pytest.mark.parametrize("stored", [None, "sealed-with-another-secret"])
def test_a_session_without_a_usable_refresh_token_ends_at_expiry(
    backends, cognito, oidc_provider, stored
):
    signed_in = open_session(backends, cognito, oidc_provider)
    if stored:
        other = replace(backends, settings=replace(backends.settings, secret_key="other" * 8))
        stored = sign_in.seal(other, "rt-1")
    with backends.engine.begin() as conn:
        conn.execute(update(oauth_sessions).values(refresh_token=stored))
    set_expiry(backends, utcnow() - timedelta(minutes=5))
    calls = len(cognito.calls)

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is False
    assert session_row(backends) is None and len(cognito.calls) == calls  # Cognito not asked


def test_a_cognito_outage_during_refresh_keeps_the_session_as_it_was(
    backends, cognito, oidc_provider
):
    signed_in = open_session(backends, cognito, oidc_provider)
    expired = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    set_expiry(backends, expired)
    cognito.answers.append(CognitoUnavailable("token endpoint down"))

    assert sign_in.keep_session_fresh(backends, signed_in.handle) is True
    assert session_row(backends).access_expires_at == expired


# Signing out.


def test_signing_out_deletes_the_session_and_revokes_its_refresh_token(
    backends, cognito, oidc_provider
):
    signed_in = open_session(backends, cognito, oidc_provider, refresh="rt-9")

    sign_in.sign_out(backends, signed_in.handle)

    assert session_row(backends) is None
    assert cognito.calls[-1] == ("revoke", "rt-9")


def test_signing_out_without_a_refresh_token_or_session_revokes_nothing(
    backends, cognito, oidc_provider
):
    signed_in = open_session(backends, cognito, oidc_provider, refresh=None)
    sign_in.sign_out(backends, signed_in.handle)
    sign_in.sign_out(backends, "never-issued")

    assert session_row(backends) is None
    assert [call[0] for call in cognito.calls] == ["authorize", "exchange"]


def test_signing_out_while_cognito_is_down_still_ends_the_session(backends, cognito, oidc_provider):
    signed_in = open_session(backends, cognito, oidc_provider)
    cognito.answers.append(CognitoUnavailable("revocation endpoint down"))

    sign_in.sign_out(backends, signed_in.handle)

    assert session_row(backends) is None


# Bearer callers.


def test_a_first_bearer_call_creates_the_user_named_by_the_access_token(backends, oidc_provider):
    token = oidc_provider.mint(oidc_provider.access_token_claims("bob"))
    bob = oidc_provider.users["bob"]

    user = sign_in.user_for_access_token(backends, token)

    assert (user.subject, user.username) == (bob.sub, bob.username)
    assert sign_in.user_for_access_token(backends, token).id == user.id


def test_a_bearer_call_leaves_the_profile_from_the_id_token_alone(backends, cognito, oidc_provider):
    signed_in = open_session(backends, cognito, oidc_provider)
    token = oidc_provider.mint(oidc_provider.access_token_claims())

    user = sign_in.user_for_access_token(backends, token)

    assert user.id == signed_in.user.id
    assert (user.email, user.display_name) == (
        signed_in.user.email,
        signed_in.user.display_name,
    )
    assert user.email  # access tokens carry no email: it must not be wiped


def test_an_invalid_bearer_token_is_nobody(backends, oidc_provider):
    token = oidc_provider.mint(oidc_provider.id_token_claims())  # an ID token, not access

    assert sign_in.user_for_access_token(backends, token) is None


# The user record made from the claims.


def upsert(backends, **claims):
    with backends.engine.begin() as conn:
        return sign_in._upsert_user(conn, {"sub": "sub-1", **claims})


def test_a_long_username_and_email_are_cut_to_their_columns(backends):
    user = upsert(backends, **{"cognito:username": "u" * 200, "email": f" {'e' * 400} "})

    assert user.username == "u" * 150
    assert user.email == "e" * 320


def test_a_username_taken_by_another_subject_falls_back_to_the_subject(backends):
    first = upsert(backends, **{"cognito:username": "carol"})
    with backends.engine.begin() as conn:
        second = sign_in._upsert_user(
            conn, {"sub": "sub-2", "cognito:username": "carol", "email": "c2@example.com"}
        )

    assert (first.username, second.username) == ("carol", "sub-2")
    assert first.id != second.id and second.email == "c2@example.com"


def test_a_returning_person_is_found_without_trying_to_add_them_again(backends, monkeypatch):
    first = upsert(backends, **{"cognito:username": "dora"})

    def add_user(*args, **kwargs):
        raise AssertionError("a returning person was added again")

    monkeypatch.setattr(user_data, "add_user", add_user)

    assert upsert(backends, **{"cognito:username": "dora"}).id == first.id


def test_the_same_person_signing_in_twice_at_once_gets_one_account(backends, monkeypatch):
    first = upsert(backends, **{"cognito:username": "dora", "email": "d@example.com"})
    lookup, looked_up = user_data.get_user_by_subject, []

    def racing_lookup(conn, provider, subject):
        # The other request's row is committed between this lookup and the insert.
        looked_up.append((provider, subject))
        return None if len(looked_up) == 1 else lookup(conn, provider, subject)

    monkeypatch.setattr(user_data, "get_user_by_subject", racing_lookup)

    again = upsert(backends, **{"cognito:username": "dora", "email": "d@example.com"})

    assert again.id == first.id and looked_up == [("cognito", "sub-1")] * 2


def test_signing_in_again_updates_a_changed_profile_only(backends):
    upsert(backends, email="old@example.com", name="Old")
    user = upsert(backends, email="new@example.com", name="New")

    with backends.engine.connect() as conn:
        stored = user_data.get_user(conn, user.id)
    assert (stored.email, stored.display_name) == ("new@example.com", "New")


@pytest.mark.parametrize(
    ("claims", "shown"),
    [
        ({"name": "Ada Lovelace", "nickname": "ada", "email": "a@x.org"}, "Ada Lovelace"),
        ({"nickname": "ada", "given_name": "Ada", "email": "a@x.org"}, "ada"),
        ({"given_name": "Ada", "family_name": "Lovelace", "email": "a@x.org"}, "Ada Lovelace"),
        ({"given_name": "Ada", "email": "a@x.org"}, "Ada"),
        ({"family_name": "Lovelace"}, "Lovelace"),
        ({"email": "a@x.org"}, "a@x.org"),
        ({"name": "   ", "nickname": " ada "}, "ada"),
        ({"name": 42, "email": "a@x.org"}, "a@x.org"),
        ({"name": "n" * 250}, "n" * 200),
        ({}, None),
    ],
)
def test_the_display_name_falls_back_from_name_to_nickname_names_and_email(claims, shown):
    assert sign_in._display_name(claims) == shown


# Sealing refresh tokens at rest.

SECRET = "test-secret-" + "x" * 32
# Sealed by this release with SECRET: later releases must still open it, or an upgrade would
# sign every Cognito user out at their next refresh.
SEALED_EARLIER = (
    "gAAAAABrD6dODNx9tTHJFTqRiGpYukxbfy_RhrqF2taag1Fqad0t0ZUTJm1AuixwK0dzHHOCb12u8T2JNqVC-xcLi"
    "uyVACZ8HGx0ka4LYmT4ESNlo3hvGJgiMKgZIiESybhsChJsLACS"
)


def test_sealing_round_trips_and_hides_the_token(backends):
    sealed = sign_in.seal(backends, "refresh-token-value")

    assert "refresh-token-value" not in sealed
    assert sign_in.unseal(backends, sealed) == "refresh-token-value"
    assert sign_in.seal(backends, None) is None and sign_in.seal(backends, "") is None
    assert sign_in.unseal(backends, None) is None and sign_in.unseal(backends, "") is None


def test_a_token_sealed_by_an_earlier_release_still_opens(backends):
    assert backends.settings.secret_key == SECRET
    assert sign_in.unseal(backends, SEALED_EARLIER) == "refresh-token-from-an-earlier-release"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_epoch_seconds_become_naive_utc_whatever_the_servers_time_zone(monkeypatch, zone):
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert sign_in._from_epoch(0) == datetime(1970, 1, 1)
        assert sign_in._from_epoch("86400") == datetime(1970, 1, 2)
    finally:
        monkeypatch.undo()
        time.tzset()
