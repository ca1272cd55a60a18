"""TokenVerifier and its JWKS cache: what is accepted, and how keys are fetched and rotated."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from photogallery.services.auth.token_verifier import (
    JWKS_MAX_AGE,
    JWKS_MIN_REFETCH,
    JwksCache,
    TokenInvalid,
    TokenVerifier,
)
from tests.fixtures.oidc import encode_jwt, rsa_private_jwk


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class KeySet:
    """A JWKS endpoint stand-in whose keys a test can change (as a pool rotating keys would)."""

    def __init__(self, *public_jwks: dict) -> None:
        self.keys = list(public_jwks)
        self.calls = 0
        self.down = False

    def __call__(self) -> dict:
        self.calls += 1
        if self.down:
            raise ConnectionError("JWKS endpoint down")
        return {"keys": list(self.keys)}


def public_part(jwk: dict) -> dict:
    return {k: jwk[k] for k in ("kty", "kid", "n", "e")} | {"alg": "RS256", "use": "sig"}


@pytest.fixture
def verifier_for(oidc_provider):
    def make(keyset: KeySet, clock=None) -> TokenVerifier:
        cache = JwksCache(keyset, clock=clock or FakeClock())
        return TokenVerifier(oidc_provider.issuer, "photos-app", cache)

    return make


def test_valid_id_and_access_tokens_are_accepted(oidc_provider, verifier_for):
    verifier = verifier_for(KeySet(oidc_provider.public_jwk))
    access = oidc_provider.mint(oidc_provider.access_token_claims())

    id_claims = verifier.verify_id_token(
        oidc_provider.mint(oidc_provider.id_token_claims(nonce="n1")), nonce="n1"
    )
    access_claims = verifier.verify_access_token(access)

    assert id_claims["cognito:username"] == "alice" and access_claims["client_id"] == "photos-app"


def test_several_audiences_need_us_as_authorized_party(oidc_provider, verifier_for):
    verifier = verifier_for(KeySet(oidc_provider.public_jwk))
    both = ["photos-app", "other-app"]

    ok = oidc_provider.mint(oidc_provider.id_token_claims(aud=both, azp="photos-app"))
    other_azp = oidc_provider.mint(oidc_provider.id_token_claims(aud=both, azp="other-app"))

    assert verifier.verify_id_token(ok)["azp"] == "photos-app"
    with pytest.raises(TokenInvalid, match="another app client"):
        verifier.verify_id_token(other_azp)


def test_clock_skew_within_the_leeway_is_tolerated(oidc_provider, verifier_for):
    import time

    now = int(time.time())
    token = oidc_provider.mint(oidc_provider.id_token_claims(iat=now + 20, exp=now - 20))

    assert verifier_for(KeySet(oidc_provider.public_jwk)).verify_id_token(token)


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "sub"])
def test_tokens_missing_a_required_claim_are_refused(oidc_provider, verifier_for, missing):
    claims = oidc_provider.id_token_claims()
    del claims[missing]

    with pytest.raises(TokenInvalid):
        verifier_for(KeySet(oidc_provider.public_jwk)).verify_id_token(oidc_provider.mint(claims))


def test_access_token_without_client_id_is_refused(oidc_provider, verifier_for):
    claims = oidc_provider.access_token_claims()
    del claims["client_id"]

    # The reason is shown to the person ("The sign-in could not be verified: <reason>.").
    with pytest.raises(TokenInvalid, match=r"^it was issued to another app client \(client_id\)$"):
        verifier_for(KeySet(oidc_provider.public_jwk)).verify_access_token(
            oidc_provider.mint(claims)
        )


@pytest.mark.parametrize("use", ["id", "refresh", None])
def test_an_access_token_with_another_token_use_is_refused(oidc_provider, verifier_for, use):
    claims = oidc_provider.access_token_claims(token_use=use)  # otherwise a good access token

    with pytest.raises(TokenInvalid, match=f"token_use={use!r} token, not 'access'"):
        verifier_for(KeySet(oidc_provider.public_jwk)).verify_access_token(
            oidc_provider.mint(claims)
        )


def test_a_rotated_in_key_is_found_by_refetching_the_jwks(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyset.keys.append(public_part(rsa_private_jwk(new_key, "new-kid")))
    clock.now += JWKS_MIN_REFETCH

    token = encode_jwt(oidc_provider.id_token_claims(), key=new_key, headers={"kid": "new-kid"})

    assert verifier.verify_id_token(token)["sub"] == oidc_provider.users["alice"].sub
    assert keyset.calls == 2


def test_a_flood_of_unknown_kids_costs_at_most_one_fetch_per_interval(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))
    clock.now += JWKS_MIN_REFETCH

    for i in range(20):
        token = oidc_provider.mint(oidc_provider.id_token_claims(), headers={"kid": f"junk-{i}"})
        with pytest.raises(TokenInvalid, match="does not publish"):
            verifier.verify_id_token(token)

    assert keyset.calls == 2  # the first load and a single refetch


def test_the_key_set_is_reread_when_stale_and_kept_if_the_endpoint_is_down(
    oidc_provider, verifier_for
):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    token = oidc_provider.mint(oidc_provider.id_token_claims())
    verifier.verify_id_token(token)
    clock.now += JWKS_MAX_AGE + 1
    keyset.down = True

    assert verifier.verify_id_token(token)  # stale keys still serve while the endpoint is down
    assert keyset.calls == 2


def test_a_withdrawn_key_stops_working_once_the_key_set_is_reread(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    token = oidc_provider.mint(oidc_provider.id_token_claims())
    verifier.verify_id_token(token)
    keyset.keys = []
    clock.now += JWKS_MAX_AGE + 1

    with pytest.raises(TokenInvalid, match="does not publish"):
        verifier.verify_id_token(token)


def test_first_jwks_fetch_failure_is_raised_not_taken_for_an_empty_key_set(
    oidc_provider, verifier_for
):
    keyset = KeySet(oidc_provider.public_jwk)
    keyset.down = True

    with pytest.raises(ConnectionError):
        verifier_for(keyset).verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))


def test_symmetric_and_non_signing_keys_in_the_jwks_are_ignored(oidc_provider, verifier_for):
    oct_key = {"kty": "oct", "kid": oidc_provider.kid, "k": "c2VjcmV0"}
    enc_key = dict(oidc_provider.public_jwk, use="enc")

    verifier = verifier_for(KeySet(oct_key, enc_key))

    with pytest.raises(TokenInvalid, match="does not publish"):
        verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))


def test_an_unknown_kid_refetches_only_once_the_interval_has_passed(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))
    unknown = oidc_provider.mint(oidc_provider.id_token_claims(), headers={"kid": "unknown"})

    clock.now += JWKS_MIN_REFETCH - 1
    with pytest.raises(TokenInvalid):
        verifier.verify_id_token(unknown)
    assert keyset.calls == 1
    clock.now += 1
    with pytest.raises(TokenInvalid):
        verifier.verify_id_token(unknown)
    assert keyset.calls == 2


def test_the_key_set_is_fresh_for_an_hour_then_reread(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    token = oidc_provider.mint(oidc_provider.id_token_claims())
    verifier.verify_id_token(token)

    clock.now += JWKS_MAX_AGE
    verifier.verify_id_token(token)
    assert keyset.calls == 1
    clock.now += 1
    verifier.verify_id_token(token)
    assert keyset.calls == 2 and verifier.jwks.fetches == 2


def test_a_failed_refetch_waits_the_interval_before_asking_again(oidc_provider, verifier_for):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    token = oidc_provider.mint(oidc_provider.id_token_claims())
    verifier.verify_id_token(token)
    keyset.down = True
    clock.now += JWKS_MAX_AGE + 1
    verifier.verify_id_token(token)  # the reread fails; the known key still serves
    unknown = oidc_provider.mint(oidc_provider.id_token_claims(), headers={"kid": "unknown"})

    clock.now += JWKS_MIN_REFETCH - 1
    with pytest.raises(TokenInvalid):
        verifier.verify_id_token(unknown)

    assert keyset.calls == 2  # the outage is not hammered
    assert verifier.verify_id_token(token)


def test_keys_without_use_are_signing_keys_and_malformed_entries_are_skipped(
    oidc_provider, verifier_for
):
    no_use = {k: v for k, v in oidc_provider.public_jwk.items() if k != "use"}
    junk = ["not-a-key", {"kty": "RSA"}, {"kid": "", "kty": "RSA"}]
    verifier = verifier_for(KeySet(*junk, no_use))

    claims = verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))

    assert claims["sub"] == oidc_provider.users["alice"].sub


@pytest.mark.parametrize(
    ("overrides", "nonce", "reason"),
    [
        ({"aud": "other-app"}, None, "it was issued for another app client (aud)"),
        (
            {"nonce": "n-old"},
            "n-new",
            "its nonce does not match this sign-in (a replayed ID token?)",
        ),
        ({}, "n-new", "its nonce does not match this sign-in (a replayed ID token?)"),
        ({"iss": "https://elsewhere.example"}, None, "it was issued by another issuer (iss)"),
    ],
)
def test_the_reason_a_person_is_shown_for_a_refused_id_token_is_exact(
    oidc_provider, verifier_for, overrides, nonce, reason
):
    claims = oidc_provider.id_token_claims(**overrides)
    if "nonce" not in overrides:
        claims.pop("nonce", None)
    verifier = verifier_for(KeySet(oidc_provider.public_jwk))

    with pytest.raises(TokenInvalid) as refused:
        verifier.verify_id_token(oidc_provider.mint(claims), nonce=nonce)

    assert refused.value.reason == reason


def test_an_unknown_kid_while_the_jwks_endpoint_is_down_is_refused_not_raised(
    oidc_provider, verifier_for
):
    clock = FakeClock()
    keyset = KeySet(oidc_provider.public_jwk)
    verifier = verifier_for(keyset, clock)
    verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))
    keyset.down = True
    clock.now += JWKS_MIN_REFETCH

    unknown = oidc_provider.mint(oidc_provider.id_token_claims(), headers={"kid": "rotated"})
    with pytest.raises(TokenInvalid, match="does not publish"):
        verifier.verify_id_token(unknown)
    assert keyset.calls == 2


def test_a_key_set_document_without_keys_publishes_none(oidc_provider, verifier_for):
    verifier = TokenVerifier(oidc_provider.issuer, "photos-app", JwksCache(lambda: {}))

    with pytest.raises(TokenInvalid, match="does not publish"):
        verifier.verify_id_token(oidc_provider.mint(oidc_provider.id_token_claims()))


def _altered(token: str) -> str:
    head, body, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return f"{head}.{body}.{signature[:10]}{flipped}{signature[11:]}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p, now: "not-a-jwt", "it is not a JWT"),
        (
            lambda p, now: _altered(p.mint(p.id_token_claims())),
            "its signature does not verify (altered or forged)",
        ),
        (
            lambda p, now: p.mint(p.id_token_claims(iat=now - 7200, exp=now - 3600)),
            "it has expired",
        ),
        (
            lambda p, now: p.mint(p.id_token_claims(iat=now + 3600)),
            "it claims to be issued in the future (iat)",
        ),
        (
            lambda p, now: p.mint(p.id_token_claims(), headers={"kid": ""}),
            "its header names no signing key (kid)",
        ),
        (
            lambda p, now: p.mint(p.id_token_claims(), headers={"kid": "gone"}),
            "it is signed by a key the user pool does not publish (kid)",
        ),
    ],
    ids=["not-a-jwt", "altered", "expired", "future", "empty-kid", "unknown-kid"],
)
def test_the_reason_a_person_is_shown_for_a_broken_token_is_exact(
    oidc_provider, verifier_for, make, reason
):
    import time

    token = make(oidc_provider, int(time.time()))

    with pytest.raises(TokenInvalid) as refused:
        verifier_for(KeySet(oidc_provider.public_jwk)).verify_id_token(token)

    assert refused.value.reason == reason
