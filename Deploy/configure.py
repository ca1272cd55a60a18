"""Write the app's settings file on an instance from SSM Parameter Store and Secrets Manager,
then bring the database schema up to date. Run by userdata.txt with the app's virtualenv.

Values are written literally into an ini file that only the app reads (interpolation off), so a
password like ``p%o&$#;'"\\`` reaches MySQL exactly as Secrets Manager holds it: it never passes
through a shell line, a uWSGI ini or systemd's quoting. No value is ever printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3

SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
RELEASE = Path(__file__).resolve().parent.parent  # the unpacked bundle


class ConfigureError(Exception):
    """A setting or secret is missing or unusable; the message names it, never its value."""


def read_parameters(ssm, path: str) -> dict[str, str]:
    """Every parameter under ``path`` whose last segment is a setting name (SecureString too)."""
    found: dict[str, str] = {}
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=True, WithDecryption=True
    )
    for page in pages:
        for parameter in page["Parameters"]:
            name = parameter["Name"].rsplit("/", 1)[-1]
            if SETTING_NAME.match(name):
                found[name] = parameter["Value"]
            else:
                print(f"configure: ignoring parameter {parameter['Name']} (not a setting name)")
    return found


def read_secret(secrets, secret_id: str) -> dict[str, str]:
    """A secret's JSON object (an RDS-managed secret holds ``username`` and ``password``)."""
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        data = json.loads(value)
    except ValueError:
        raise ConfigureError(f"secret {secret_id}: not a JSON object") from None
    if not isinstance(data, dict):
        raise ConfigureError(f"secret {secret_id}: not a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def database_credentials(secret: dict[str, str], secret_id: str) -> tuple[str, str]:
    try:
        return secret["username"], secret["password"]
    except KeyError as exc:
        raise ConfigureError(f"secret {secret_id}: has no {exc.args[0]!r} key") from None


def collect(args: argparse.Namespace, ssm, secrets) -> tuple[dict[str, str], tuple | None]:
    """The app's settings, and the admin (migrating) credentials when they differ from the app's."""
    settings = read_parameters(ssm, args.settings_path) if args.settings_path else {}
    if args.app_secrets_id:
        for name, value in read_secret(secrets, args.app_secrets_id).items():
            if SETTING_NAME.match(name):
                settings[name] = value
    admin = None
    if args.db_secret_id:
        admin = database_credentials(read_secret(secrets, args.db_secret_id), args.db_secret_id)
    app_user = admin
    if args.app_db_secret_id:
        secret = read_secret(secrets, args.app_db_secret_id)
        app_user = database_credentials(secret, args.app_db_secret_id)
    if app_user:
        settings["DATABASE_USER"], settings["DATABASE_PASSWORD"] = app_user
    if args.region:
        settings.setdefault("AWS_REGION", args.region)
    return settings, (admin if admin and admin != app_user else None)


def add_local_defaults(settings: dict[str, str], state_dir: str) -> None:
    """A one-instance set-up without MySQL or S3 keeps its data in the state directory, the only
    place the service may write (ProtectSystem=strict)."""
    if not settings.get("DATABASE_HOST") and not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{state_dir}/photos.db"
    if settings.get("STORAGE", "local").lower() == "local":
        settings.setdefault("PHOTOS_DIR", f"{state_dir}/photos")


def render_ini(settings: dict[str, str]) -> str:
    """``[photos]`` with one literal line per setting; refuses what an ini line cannot carry."""
    lines = ["; Written by Deploy/configure.py from SSM and Secrets Manager.", "[photos]"]
    for name in sorted(settings):
        value = settings[name]
        if "\n" in value or "\r" in value:
            raise ConfigureError(f"{name}: a value with a line break cannot be used")
        if value != value.strip():
            raise ConfigureError(f"{name}: leading or trailing spaces would be lost; remove them")
        lines.append(f"{name} = {value}")
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, text: str, owner: str | None) -> bool:
    """Atomically replace ``path`` (mode 0600, owned by ``owner``) when its content differs."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".app.ini.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        if owner:
            shutil.chown(tmp, owner, owner)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def prepare_database(settings: dict[str, str], admin: tuple | None, config: Path) -> None:
    """Migrate under the database lock: as the admin (who also keeps the app's least-privilege
    user up to date) when there is one, else as the app's own user."""
    env = {**os.environ, "PHOTOS_CONFIG": str(config)}
    if admin and settings.get("DATABASE_HOST"):
        cmd = [
            sys.executable,
            str(RELEASE / "SetupScripts" / "setup_database.py"),
            "--host", settings["DATABASE_HOST"],
            "--port", settings.get("DATABASE_PORT", "3306"),
            "--database", settings.get("DATABASE_DB_NAME", ""),
            "--admin-user", admin[0],
            "--app-user", settings["DATABASE_USER"],
        ]  # fmt: skip
        env["DATABASE_ADMIN_PASSWORD"] = admin[1]
        env["DATABASE_APP_PASSWORD"] = settings["DATABASE_PASSWORD"]
    else:
        flask = Path(sys.executable).with_name("flask")
        cmd = [str(flask), "--app", str(RELEASE / "FlaskApp" / "application.py"), "db", "upgrade"]
    subprocess.run(cmd, env=env, check=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings-path", default="", help="SSM path, e.g. /photos/prod/")
    parser.add_argument("--app-secrets-id", default="", help="secret of setting names → values")
    parser.add_argument("--db-secret-id", default="", help="RDS-managed master user secret")
    parser.add_argument("--app-db-secret-id", default="", help="the app's own DB user secret")
    parser.add_argument("--region", default="")
    parser.add_argument("--state-dir", default="/var/lib/photos")
    parser.add_argument("--out", required=True, type=Path, help="the app.ini to write")
    parser.add_argument("--owner", default=None, help="user (and group) that owns the file")
    parser.add_argument("--skip-database", action="store_true", help="only write the file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    session = boto3.session.Session(region_name=args.region or None)
    try:
        settings, admin = collect(args, session.client("ssm"), session.client("secretsmanager"))
        add_local_defaults(settings, args.state_dir)
        changed = write_if_changed(args.out, render_ini(settings), args.owner)
    except ConfigureError as exc:
        print(f"configure: error: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(sorted(settings))
    print(f"configure: {args.out} {'written' if changed else 'unchanged'} ({names})")
    if not args.skip_database:
        try:
            prepare_database(settings, admin, args.out)
        except subprocess.CalledProcessError as exc:
            message = f"database set-up failed (exit {exc.returncode})"
            print(f"configure: error: {message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
