"""Real Cognito token shapes: moto's cognito-idp (server mode, over HTTP) issues the tokens and
serves the pool's JWKS; the app's verifier must accept them and refuse them for another client."""

from __future__ import annotations

import uuid

import pytest
import requests

from photogallery.services.auth.token_verifier import JwksCache, TokenInvalid, TokenVerifier
from tests.fixtures.cognito import cognito_idp_client

PASSWORD = "Sup3r-secret-passw0rd!"


@pytest.fixture(scope="module")
def moto_pool(sqs_server):
    """A user pool, an app client and a confirmed user in moto, and the user's tokens."""
    client = cognito_idp_client(sqs_server)
    pool_id = client.create_user_pool(PoolName=f"photos-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    app_client = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="photos-web",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    client.admin_create_user(
        UserPoolId=pool_id,
        Username="carol",
        UserAttributes=[{"Name": "email", "Value": "carol@example.com"}],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(
        UserPoolId=pool_id, Username="carol", Password=PASSWORD, Permanent=True
    )
    auth = client.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=app_client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "carol", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {
        "pool_id": pool_id,
        "client_id": app_client["ClientId"],
        "issuer": f"https://cognito-idp.{sqs_server.region}.amazonaws.com/{pool_id}",
        "jwks_url": f"{sqs_server.endpoint_url}/{pool_id}/.well-known/jwks.json",
        "tokens": auth,
    }


def verifier_for(pool: dict, client_id: str | None = None) -> TokenVerifier:
    def fetch() -> dict:
        resp = requests.get(pool["jwks_url"], timeout=5)
        resp.raise_for_status()
        return resp.json()

    return TokenVerifier(pool["issuer"], client_id or pool["client_id"], JwksCache(fetch))


def test_moto_publishes_an_rsa_signing_key_set_for_the_pool(moto_pool):
    jwks = requests.get(moto_pool["jwks_url"], timeout=5).json()

    assert [(k["kty"], k["alg"], k["use"]) for k in jwks["keys"]] == [("RSA", "RS256", "sig")]


def test_verifier_accepts_a_moto_issued_id_token(moto_pool):
    claims = verifier_for(moto_pool).verify_id_token(moto_pool["tokens"]["IdToken"])

    assert claims["iss"] == moto_pool["issuer"]
    assert claims["aud"] == moto_pool["client_id"]
    assert (claims["token_use"], claims["cognito:username"]) == ("id", "carol")


def test_verifier_accepts_a_moto_issued_access_token(moto_pool):
    claims = verifier_for(moto_pool).verify_access_token(moto_pool["tokens"]["AccessToken"])

    assert "aud" not in claims
    assert (claims["token_use"], claims["client_id"]) == ("access", moto_pool["client_id"])
    assert claims["username"] == "carol"


def test_moto_tokens_for_another_client_id_are_refused(moto_pool):
    verifier = verifier_for(moto_pool, client_id="some-other-app-client")

    with pytest.raises(TokenInvalid, match="another app client"):
        verifier.verify_id_token(moto_pool["tokens"]["IdToken"])
    with pytest.raises(TokenInvalid, match="another app client"):
        verifier.verify_access_token(moto_pool["tokens"]["AccessToken"])


def test_moto_tokens_are_refused_for_another_pool_issuer(moto_pool):
    other_pool = dict(moto_pool, issuer=moto_pool["issuer"] + "x")

    with pytest.raises(TokenInvalid, match="another issuer"):
        verifier_for(other_pool).verify_id_token(moto_pool["tokens"]["IdToken"])


def test_moto_id_token_is_refused_as_an_access_token_and_vice_versa(moto_pool):
    verifier = verifier_for(moto_pool)

    with pytest.raises(TokenInvalid, match="not 'access'"):
        verifier.verify_access_token(moto_pool["tokens"]["IdToken"])
    with pytest.raises(TokenInvalid, match="not 'id'"):
        verifier.verify_id_token(moto_pool["tokens"]["AccessToken"])
