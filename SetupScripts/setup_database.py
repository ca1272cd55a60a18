"""Create the gallery's MySQL database, migrate its schema and set up a least-privilege app user.

    DATABASE_ADMIN_PASSWORD=... DATABASE_APP_PASSWORD=... \\
    python SetupScripts/setup_database.py --host photos.xxxx.rds.amazonaws.com --database photos \\
        --admin-user admin [--app-user photos_app] [--port 3306] [--tls | --ssl-ca CA.pem]

As the admin user: creates the database if missing (utf8mb4, utf8mb4_bin), runs the app's
migrations under the database-wide migration lock (so instances booting together migrate once),
then creates or updates the app user ('NAME'@'%') with only SELECT, INSERT, UPDATE, DELETE on the
database. Passwords come from the environment or a prompt, never from the command line, and are
never printed. Safe to re-run; a changed app password is applied. Exits 1 with one line on error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "FlaskApp"))

APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# Names go into SQL as identifiers, so only plain ones (what RDS itself allows) are accepted.
DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
USER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
CONNECT_TIMEOUT = 5  # seconds: an unreachable host is an error, not a hang


class SetupError(Exception):
    """A problem this script reports as one line."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=3306)
    p.add_argument("--database", required=True)
    p.add_argument("--admin-user", required=True, help="password: $DATABASE_ADMIN_PASSWORD or ask")
    p.add_argument("--app-user", help="password: $DATABASE_APP_PASSWORD or ask")
    p.add_argument("--tls", action="store_true", help="refuse to work over an unencrypted link")
    p.add_argument(
        "--ssl-ca", metavar="PATH", help="CA bundle to verify the server with (implies --tls)"
    )
    p.add_argument("--lock-timeout", type=int, default=600, help="seconds to wait for migrations")
    args = p.parse_args(argv)
    check_names(args)
    return args


def check_names(args: argparse.Namespace) -> None:
    if not DATABASE_NAME.fullmatch(args.database):
        raise SetupError(f"--database {args.database!r}: use letters, digits and _ only")
    for option, name in (("--admin-user", args.admin_user), ("--app-user", args.app_user)):
        if name is not None and not USER_NAME.fullmatch(name):
            raise SetupError(f"{option} {name!r}: use letters, digits and _ only (32 at most)")
    if args.app_user == args.admin_user:
        raise SetupError("--app-user must differ from --admin-user (the app gets no DDL rights)")
    if args.ssl_ca and not Path(args.ssl_ca).is_file():
        raise SetupError(f"--ssl-ca {args.ssl_ca}: no such file")


def read_password(variable: str, prompt: str) -> str:
    """From the environment (even when empty: a local root may have none), else a silent prompt."""
    value = os.environ.get(variable)
    return getpass.getpass(prompt) if value is None else value


def make_admin_engine(args: argparse.Namespace, password: str, database: str | None) -> Engine:
    url = URL.create(
        "mysql+mysqlconnector",
        username=args.admin_user,
        password=password,  # URL.create takes it as is: any character is safe
        host=args.host,
        port=args.port,
        database=database,
    )
    connect_args: dict[str, Any] = {"connection_timeout": CONNECT_TIMEOUT, "charset": "utf8mb4"}
    if args.ssl_ca:
        connect_args.update(ssl_ca=args.ssl_ca, ssl_verify_cert=True, ssl_verify_identity=True)
    return create_engine(url, connect_args=connect_args, poolclass=NullPool)


def check_tls(conn: Connection, required: bool) -> str:
    """The cipher of this connection ("" when unencrypted); an error if TLS is required."""
    row = conn.execute(text("SHOW SESSION STATUS LIKE 'Ssl_cipher'")).first()
    cipher = row[1] if row else ""
    if required and not cipher:
        raise SetupError("the connection is not encrypted (--tls): the server offers no TLS")
    return cipher


def create_database(conn: Connection, name: str) -> str:
    exists = conn.execute(
        text("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :name"), {"name": name}
    ).first()
    if exists:
        return f"database {name}: exists"
    conn.execute(text(f"CREATE DATABASE {quote(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    return f"database {name}: created (utf8mb4, utf8mb4_bin)"


def quote(identifier: str) -> str:
    """A backquoted identifier (names are validated too; this keeps quoting right regardless)."""
    return "`" + identifier.replace("`", "``") + "`"


def migrate_schema(engine: Engine, lock_timeout: int) -> str:
    from photogallery.data import migrate  # needs FlaskApp on sys.path (see above)

    try:
        applied = migrate.upgrade(engine, lock_timeout=lock_timeout)
    except migrate.MigrationLockError as exc:
        raise SetupError(str(exc)) from None
    return f"migrations: {'applied ' + ', '.join(applied) if applied else 'nothing to apply'}"


def set_up_app_user(conn: Connection, database: str, user: str, password: str) -> list[str]:
    """Create or update 'user'@'%' with the app's privileges; re-running changes nothing."""
    account = {"user": user, "host": "%", "password": password}
    existed = conn.execute(
        text("SELECT 1 FROM mysql.user WHERE User = :user AND Host = :host"), account
    ).first()
    # Names and password are bound, so the driver quotes them; the password is never in SQL text.
    conn.execute(text("CREATE USER IF NOT EXISTS :user@:host IDENTIFIED BY :password"), account)
    conn.execute(text("ALTER USER :user@:host IDENTIFIED BY :password"), account)
    # Only added, never revoked first: instances still serving keep working during a re-run.
    conn.execute(text(f"GRANT {APP_PRIVILEGES} ON {quote(database)}.* TO :user@:host"), account)
    return [
        f"app user {user}@%: {'exists, password set' if existed else 'created'}",
        f"app user {user}@%: granted {APP_PRIVILEGES} on {database}.*",
    ]


def run(args: argparse.Namespace, admin_password: str, app_password: str | None) -> None:
    server = make_admin_engine(args, admin_password, None)
    with server.begin() as conn:
        cipher = check_tls(conn, args.tls or bool(args.ssl_ca))
        print(f"connected to {args.host}:{args.port} as {args.admin_user} (TLS: {cipher or 'no'})")
        print(create_database(conn, args.database))
    engine = make_admin_engine(args, admin_password, args.database)
    print(migrate_schema(engine, args.lock_timeout))
    if args.app_user and app_password is not None:
        with engine.begin() as conn:
            for line in set_up_app_user(conn, args.database, args.app_user, app_password):
                print(line)


def one_line(exc: Exception, secrets: Sequence[str]) -> str:
    """The error for a person: the driver's message, not SQLAlchemy's (which shows parameters)."""
    message = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    message = " ".join(message.split())
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def main(argv: Sequence[str] | None = None) -> int:
    secrets: list[str] = []
    try:
        args = parse_args(argv)
        secrets.append(read_password("DATABASE_ADMIN_PASSWORD", "admin password: "))
        if args.app_user:
            secrets.append(read_password("DATABASE_APP_PASSWORD", f"{args.app_user} password: "))
            if not secrets[1]:
                raise SetupError("the app user's password is empty")
        run(args, secrets[0], secrets[1] if args.app_user else None)
    except (SetupError, DBAPIError) as exc:
        print(f"error: {one_line(exc, secrets)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
