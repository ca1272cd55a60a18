"""Create or update the Cognito user pool, hosted-UI domain and app client the gallery signs in
with (optionally with Login with Amazon), then print the settings the app needs.

Idempotent: run it again with the same names to bring everything back to this configuration;
nothing is duplicated. Credentials come from boto3's default chain (profile, env, instance role).

    python SetupScripts/cognito_setup.py --region us-west-2 --pool-name photos \\
        --domain-prefix photos-example --base-url https://photos.example.com \\
        [--login-with-amazon-client-id amzn1.application-oa2-client.... ]

The Login with Amazon secret is read from LOGIN_WITH_AMAZON_CLIENT_SECRET (or the option), so it
need not appear in the shell history. Copy the printed lines into app.ini (or the environment).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import boto3

LWA = "LoginWithAmazon"
SCOPES = ["openid", "email", "profile"]

# UpdateUserPool resets whatever it is not given, so create and update both send all of this.
POOL_SETTINGS: dict[str, Any] = {
    "AutoVerifiedAttributes": ["email"],
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 10,
            "RequireUppercase": False,
            "RequireLowercase": False,
            "RequireNumbers": False,
            "RequireSymbols": False,
            "TemporaryPasswordValidityDays": 7,
        }
    },
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
    "DeletionProtection": "ACTIVE",
}


class SetupError(Exception):
    """Something exists in a shape this script will not silently change."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    p.add_argument("--pool-name", required=True)
    p.add_argument(
        "--domain-prefix",
        required=True,
        help="hosted UI at <prefix>.auth.<region>.amazoncognito.com",
    )
    p.add_argument(
        "--base-url",
        required=True,
        help="the app's public address, e.g. https://photos.example.com",
    )
    p.add_argument("--client-name", default="photos-web")
    p.add_argument("--public-client", action="store_true", help="no client secret (PKCE only)")
    p.add_argument(
        "--admin-only-signup", action="store_true", help="no self sign-up in the hosted UI"
    )
    p.add_argument("--login-with-amazon-client-id")
    p.add_argument(
        "--login-with-amazon-client-secret",
        default=os.environ.get("LOGIN_WITH_AMAZON_CLIENT_SECRET"),
        help="default: $LOGIN_WITH_AMAZON_CLIENT_SECRET",
    )
    p.add_argument("--endpoint-url", help="a Cognito-compatible endpoint (tests use moto)")
    args = p.parse_args(argv)
    if not args.region:
        p.error("--region is required (or set AWS_REGION)")
    args.base_url = args.base_url.rstrip("/")
    url = urlsplit(args.base_url)
    if url.scheme != "https" and url.hostname not in ("localhost", "127.0.0.1"):
        p.error("--base-url must be https:// (Cognito allows http only for localhost)")
    if args.login_with_amazon_client_id and not args.login_with_amazon_client_secret:
        p.error("Login with Amazon needs its client secret (LOGIN_WITH_AMAZON_CLIENT_SECRET)")
    return args


def ensure_pool(idp, name: str, admin_only: bool) -> str:
    """The id of the pool called ``name``, created or brought to POOL_SETTINGS."""
    settings = POOL_SETTINGS | {"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": admin_only}}
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    found = [p["Id"] for page in pages for p in page["UserPools"] if p["Name"] == name]
    if len(found) > 1:
        raise SetupError(f"{len(found)} user pools are called {name}: {', '.join(found)}")
    if found:
        idp.update_user_pool(UserPoolId=found[0], **settings)
        print(f"# updated user pool {name} ({found[0]})", file=sys.stderr)
        return found[0]
    created = idp.create_user_pool(PoolName=name, UsernameAttributes=["email"], **settings)
    pool_id = created["UserPool"]["Id"]
    print(f"# created user pool {name} ({pool_id})", file=sys.stderr)
    return pool_id


def ensure_domain(idp, pool_id: str, prefix: str, region: str) -> str:
    """The hosted-UI base URL, creating the prefix domain if the pool has none yet."""
    described = idp.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    owner = described.get("UserPoolId")
    if owner and owner != pool_id:
        raise SetupError(f"the domain prefix {prefix} belongs to another user pool ({owner})")
    if not owner:
        current = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("Domain")
        if current:
            raise SetupError(f"the pool already has the domain prefix {current}; pass that one")
        idp.create_user_pool_domain(Domain=prefix, UserPoolId=pool_id)
        print(f"# created hosted-UI domain {prefix}", file=sys.stderr)
    return f"https://{prefix}.auth.{region}.amazoncognito.com"


def ensure_login_with_amazon(idp, pool_id: str, client_id: str, client_secret: str) -> None:
    """Federate Login with Amazon into the pool; its users may lack a name, never an email."""
    details = {
        "client_id": client_id,
        "client_secret": client_secret,
        "authorize_scopes": "profile",
    }
    mapping = {"email": "email", "name": "name", "username": "user_id"}
    try:
        idp.describe_identity_provider(UserPoolId=pool_id, ProviderName=LWA)
    except idp.exceptions.ResourceNotFoundException:
        idp.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName=LWA,
            ProviderType=LWA,
            ProviderDetails=details,
            AttributeMapping=mapping,
        )
        print("# added Login with Amazon", file=sys.stderr)
        return
    idp.update_identity_provider(
        UserPoolId=pool_id, ProviderName=LWA, ProviderDetails=details, AttributeMapping=mapping
    )
    print("# updated Login with Amazon", file=sys.stderr)


def client_settings(base_url: str, providers: list[str]) -> dict[str, Any]:
    """The app client: code flow + PKCE, the app's callback and sign-out URLs, revocable tokens."""
    return {
        "CallbackURLs": [f"{base_url}/callback"],
        "LogoutURLs": [f"{base_url}/"],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": SCOPES,
        "AllowedOAuthFlowsUserPoolClient": True,
        "SupportedIdentityProviders": providers,
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {
            "AccessToken": "minutes",
            "IdToken": "minutes",
            "RefreshToken": "days",
        },
    }


def ensure_client(idp, pool_id: str, name: str, settings: dict, public: bool) -> dict[str, Any]:
    """The app client called ``name`` (with its secret), created or brought to ``settings``."""
    pages = idp.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
    found = [
        c["ClientId"] for page in pages for c in page["UserPoolClients"] if c["ClientName"] == name
    ]
    if len(found) > 1:
        raise SetupError(f"{len(found)} app clients are called {name}")
    if not found:
        created = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, GenerateSecret=not public, **settings
        )
        print(f"# created app client {name}", file=sys.stderr)
        return created["UserPoolClient"]
    current = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=found[0])["UserPoolClient"]
    if bool(current.get("ClientSecret")) == public:
        raise SetupError(
            f"app client {name} {'has' if public else 'has no'} secret; a new client name is needed"
        )
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=found[0], ClientName=name, **settings)
    print(f"# updated app client {name}", file=sys.stderr)
    return idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=found[0])["UserPoolClient"]


def setup(args: argparse.Namespace, idp) -> dict[str, str]:
    """Bring pool, domain, identity provider and client to the wanted state; the app's settings."""
    pool_id = ensure_pool(idp, args.pool_name, args.admin_only_signup)
    domain = ensure_domain(idp, pool_id, args.domain_prefix, args.region)
    providers = ["COGNITO"]
    if args.login_with_amazon_client_id:
        ensure_login_with_amazon(
            idp, pool_id, args.login_with_amazon_client_id, args.login_with_amazon_client_secret
        )
        providers.append(LWA)
    client = ensure_client(
        idp,
        pool_id,
        args.client_name,
        client_settings(args.base_url, providers),
        args.public_client,
    )
    return {
        "AUTH": "cognito",
        "AWS_REGION": args.region,
        "COGNITO_POOL_ID": pool_id,
        "COGNITO_CLIENT_ID": client["ClientId"],
        "COGNITO_CLIENT_SECRET": client.get("ClientSecret", ""),
        "COGNITO_DOMAIN": domain,
        "BASE_URL": args.base_url,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    idp = boto3.client("cognito-idp", region_name=args.region, endpoint_url=args.endpoint_url)
    try:
        settings = setup(args, idp)
    except SetupError as exc:
        print(f"cognito_setup: {exc}", file=sys.stderr)
        return 1
    print("# Settings for app.ini [photos] or the environment (the client secret is a secret):")
    for name, value in settings.items():
        print(f"{name}={value}")
    if args.login_with_amazon_client_id:
        print("# To skip the hosted UI's choice and go straight to Amazon:")
        print(f"# COGNITO_IDENTITY_PROVIDER={LWA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
