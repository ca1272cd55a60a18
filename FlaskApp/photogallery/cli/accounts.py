"""`flask users ...` and `flask tokens ...`: local accounts and personal API tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..context import get_backends
from ..data import users as user_data
from ..services.auth import accounts
from ..services.errors import InvalidInput

users_cli = AppGroup("users", help="Local accounts.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")


@users_cli.command("create")
@click.argument("username")
@click.password_option(envvar="PHOTOS_NEW_PASSWORD")
def users_create(username: str, password: str) -> None:
    """Create a local account (works even when sign-up is closed)."""
    try:
        user = accounts.create_local_user(get_backends(), username, password, check_signup=False)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created user {user.username} (id {user.id})")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", default="CLI token", help="What the token is for.")
def tokens_create(username: str, name: str) -> None:
    """Print a new personal API token for a local account."""
    backends = get_backends()
    with backends.engine.connect() as conn:
        user = user_data.get_local_user(conn, username)
    if user is None:
        raise click.ClickException(f"no local user {username}")
    click.echo(accounts.create_api_token(backends, user.id, name))
