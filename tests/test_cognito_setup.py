"""SetupScripts/cognito_setup.py against moto's cognito-idp in server mode: creates the pool,
domain, Login with Amazon and app client once; running it again updates, never duplicates."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from tests.fixtures.cognito import cognito_idp_client
from tests.fixtures.servers import use_test_credentials

SCRIPT = Path(__file__).resolve().parent.parent / "SetupScripts" / "cognito_setup.py"


def load_script():
    spec = importlib.util.spec_from_file_location("cognito_setup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cognito_setup(sqs_server, monkeypatch, tmp_path):
    """The script's main(), talking to moto with throw-away credentials (never ~/.aws)."""
    use_test_credentials(monkeypatch, tmp_path, sqs_server.access_key, sqs_server.secret_key)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("LOGIN_WITH_AMAZON_CLIENT_SECRET", "lwa-secret")
    script = load_script()
    base = ["--region", sqs_server.region, "--endpoint-url", sqs_server.endpoint_url]
    return lambda *argv: script.main([*base, *argv])


@pytest.fixture
def idp(sqs_server):
    return cognito_idp_client(sqs_server)


def printed_settings(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if line and line[0] != "#")


def test_setup_creates_pool_domain_login_with_amazon_and_client_and_prints_settings(
    cognito_setup, idp, capsys
):
    name = f"photos-{uuid.uuid4().hex[:8]}"
    args = [
        "--pool-name",
        name,
        "--domain-prefix",
        name,
        "--base-url",
        "https://photos.example.com",
    ]

    assert (
        cognito_setup(*args, "--login-with-amazon-client-id", "amzn1.application-oa2-client.x") == 0
    )

    out = capsys.readouterr().out
    settings = printed_settings(out)
    pool_id, client_id = settings["COGNITO_POOL_ID"], settings["COGNITO_CLIENT_ID"]
    assert settings["AUTH"] == "cognito" and settings["BASE_URL"] == "https://photos.example.com"
    assert settings["COGNITO_DOMAIN"] == f"https://{name}.auth.us-east-1.amazoncognito.com"
    assert settings["COGNITO_CLIENT_SECRET"]
    assert "# COGNITO_IDENTITY_PROVIDER=LoginWithAmazon" in out
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert client["CallbackURLs"] == ["https://photos.example.com/callback"]
    assert client["LogoutURLs"] == ["https://photos.example.com/"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO", "LoginWithAmazon"]
    lwa = idp.describe_identity_provider(UserPoolId=pool_id, ProviderName="LoginWithAmazon")
    provider = lwa["IdentityProvider"]
    assert provider["ProviderDetails"]["client_id"] == "amzn1.application-oa2-client.x"
    assert provider["AttributeMapping"] == {"email": "email", "name": "name", "username": "user_id"}
    domain = idp.describe_user_pool_domain(Domain=name)["DomainDescription"]
    assert domain["UserPoolId"] == pool_id


def test_running_setup_again_updates_instead_of_duplicating(cognito_setup, idp, capsys):
    name = f"photos-{uuid.uuid4().hex[:8]}"
    args = ["--pool-name", name, "--domain-prefix", name]
    assert cognito_setup(*args, "--base-url", "https://old.example.com") == 0
    first = printed_settings(capsys.readouterr().out)

    assert cognito_setup(*args, "--base-url", "https://new.example.com") == 0

    second = printed_settings(capsys.readouterr().out)
    assert second["COGNITO_POOL_ID"] == first["COGNITO_POOL_ID"]
    assert second["COGNITO_CLIENT_ID"] == first["COGNITO_CLIENT_ID"]
    assert second["COGNITO_CLIENT_SECRET"] == first["COGNITO_CLIENT_SECRET"]
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in pools].count(name) == 1
    pool_id = first["COGNITO_POOL_ID"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    assert len(clients) == 1
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=clients[0]["ClientId"])
    assert client["UserPoolClient"]["CallbackURLs"] == ["https://new.example.com/callback"]


def test_a_domain_prefix_of_another_pool_is_refused(cognito_setup, capsys):
    taken = f"photos-{uuid.uuid4().hex[:8]}"
    base = ["--domain-prefix", taken, "--base-url", "https://photos.example.com"]
    assert cognito_setup("--pool-name", taken, *base) == 0

    assert cognito_setup("--pool-name", taken + "-other", *base) == 1

    assert "belongs to another user pool" in capsys.readouterr().err


def test_plain_http_base_url_is_refused_except_for_localhost(cognito_setup, capsys):
    with pytest.raises(SystemExit):
        cognito_setup("--pool-name", "p", "--domain-prefix", "p", "--base-url", "http://x.example")
    assert "must be https://" in capsys.readouterr().err
