"""SetupScripts/setup_database.py against a real MariaDB: schema, a least-privilege app user."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from photogallery.data.db import utcnow
from photogallery.data.schema import users
from tests.conftest import MYSQL_ADMIN_URL, missing
from tests.fixtures.servers import closed_port

# Runs the setup script against MariaDB many times, each a new process: not held to 60 s.
pytestmark = pytest.mark.timeout(600)

SCRIPT = Path(__file__).resolve().parents[2] / "SetupScripts" / "setup_database.py"
# The course's troublemakers: % for uWSGI, & $ # ; for shells, quotes and \ for SQL, spaces,
# non-ASCII, and : / @ %41 for anything that pastes a password into a URL. The word SECRET survives
# any quoting or escaping, so finding it in the output means a password leaked in some form.
ADMIN_PASSWORD = "p%o&$#;'\"\\ é ü 漢 :/@%41 SECRET admin"
APP_PASSWORD = "a%o&$#;'\"\\ ß ø 字 :/@%41 SECRET app"
SERVER = make_url(MYSQL_ADMIN_URL)
ACCESS_DENIED = 1045
COMMAND_DENIED = 1142


@pytest.fixture
def names():
    """A database name and two users of this test's own, with an admin that has a hard password."""
    tag = secrets.token_hex(4)
    made = SimpleNamespace(database=f"photos_setup_{tag}", admin=f"adm_{tag}", app=f"app_{tag}")
    root = create_engine(MYSQL_ADMIN_URL, connect_args={"connection_timeout": 3})
    account = {"user": made.admin, "password": ADMIN_PASSWORD}
    try:
        with root.begin() as conn:
            conn.execute(text("CREATE USER :user@'%' IDENTIFIED BY :password"), account)
            conn.execute(
                text("GRANT ALL PRIVILEGES ON *.* TO :user@'%' WITH GRANT OPTION"), account
            )
    except Exception as exc:  # any driver error means there is no usable server
        missing("MariaDB/MySQL on 127.0.0.1:3306", f"install mariadb-server ({type(exc).__name__})")
    yield made
    with root.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {made.database}"))
        for user in (made.admin, made.app):
            conn.execute(text("DROP USER IF EXISTS :user@'%'"), {"user": user})
    root.dispose()


def run_setup(names, *extra: str, admin_password=ADMIN_PASSWORD, app_password=APP_PASSWORD):
    env = {**os.environ, "DATABASE_ADMIN_PASSWORD": admin_password}
    env["DATABASE_APP_PASSWORD"] = app_password
    args = ["--host", SERVER.host or "127.0.0.1", "--port", str(SERVER.port or 3306)]
    args += ["--database", names.database, "--admin-user", names.admin, "--app-user", names.app]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, *extra],
        env=env,
        stdin=subprocess.DEVNULL,  # a missing password must not hang on a prompt
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert "SECRET" not in output and "%o&$#" not in output
    return result


def app_engine(names, password: str = APP_PASSWORD):
    url = URL.create(
        "mysql+mysqlconnector",
        username=names.app,
        password=password,
        host=SERVER.host,
        port=SERVER.port,
        database=names.database,
    )
    return create_engine(url, connect_args={"connection_timeout": 3})


def error_code(call) -> int:
    with pytest.raises(DBAPIError) as caught:
        call()
    return caught.value.orig.errno


def test_setup_migrates_and_the_app_user_may_only_read_and_write_rows(names):
    result = run_setup(names)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"database {names.database}: created (utf8mb4, utf8mb4_bin)",
        "migrations: applied 0001, 0002, 0003, 0004, 0005",
        f"app user {names.app}@%: created",
        f"app user {names.app}@%: granted SELECT, INSERT, UPDATE, DELETE on {names.database}.*",
    ]
    engine = app_engine(names)
    with engine.begin() as conn:
        row = dict(provider="local", subject="zoe", username="zoe", created_at=utcnow())
        conn.execute(users.insert().values(**row))
        conn.execute(users.update().where(users.c.subject == "zoe").values(display_name="Zoë"))
        assert conn.execute(users.select()).one().display_name == "Zoë"
        conn.execute(users.delete())
    with engine.connect() as conn:
        create = text("CREATE TABLE intruder (id INT)")
        assert error_code(lambda: conn.execute(create)) == COMMAND_DENIED
        assert error_code(lambda: conn.execute(text("DROP TABLE users"))) == COMMAND_DENIED
    engine.dispose()


def schema_and_grants(names) -> tuple:
    root = create_engine(SERVER.set(database=names.database))
    with root.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = :db ORDER BY 1, 2"
            ),
            {"db": names.database},
        ).all()
        grants = conn.execute(text("SHOW GRANTS FOR :user@'%'"), {"user": names.app}).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    root.dispose()
    return columns, grants, version


def test_running_setup_again_changes_nothing_and_succeeds(names):
    assert run_setup(names).returncode == 0
    before = schema_and_grants(names)
    again = run_setup(names)
    assert again.returncode == 0, again.stderr
    assert f"database {names.database}: exists" in again.stdout
    assert "migrations: nothing to apply" in again.stdout
    assert f"app user {names.app}@%: exists, password set" in again.stdout
    assert schema_and_grants(names) == before


def test_a_rotated_app_password_replaces_the_old_one(names):
    assert run_setup(names).returncode == 0
    rotated = "new " + APP_PASSWORD
    assert run_setup(names, app_password=rotated).returncode == 0
    old, new = app_engine(names), app_engine(names, rotated)
    assert error_code(old.connect) == ACCESS_DENIED
    with new.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 0
    old.dispose()
    new.dispose()


def one_error_line(result) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def test_a_wrong_admin_password_is_one_line_and_exit_1(names):
    line = one_error_line(run_setup(names, admin_password=ADMIN_PASSWORD + "x"))
    assert "Access denied" in line


def test_an_unreachable_server_is_an_error_within_seconds(names):
    started = time.monotonic()
    line = one_error_line(run_setup(names, "--port", str(closed_port())))
    assert "Can't connect" in line and time.monotonic() - started < 30


def test_a_migration_lock_held_elsewhere_times_out_as_one_line(names):
    root = create_engine(MYSQL_ADMIN_URL)
    with root.connect() as conn:
        lock = {"name": f"{names.database}.photos-migrate"}
        assert conn.execute(text("SELECT GET_LOCK(:name, 0)"), lock).scalar_one() == 1
        line = one_error_line(run_setup(names, "--lock-timeout", "1"))
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), lock)
    root.dispose()
    assert "timed out after 1 s waiting for the migration lock" in line


def test_an_admin_who_may_not_manage_users_gets_one_line_without_any_password(names):
    root = create_engine(MYSQL_ADMIN_URL)
    with root.begin() as conn:
        account = {"user": names.admin}
        conn.execute(text("REVOKE ALL PRIVILEGES, GRANT OPTION FROM :user@'%'"), account)
        conn.execute(text(f"GRANT ALL PRIVILEGES ON {names.database}.* TO :user@'%'"), account)
        conn.execute(text("GRANT SELECT ON mysql.user TO :user@'%'"), account)
    root.dispose()
    result = run_setup(names)  # migrates, then CREATE USER (with the password bound) is refused
    assert "migrations: applied" in result.stdout
    assert "denied" in one_error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app-user", "x'@'%'; DROP USER root; --"], "--app-user"),
        (["--database", "photos`; DROP DATABASE mysql"], "--database"),
        (["--database", "photos-prod"], "--database"),
        (["--app-user", "root", "--admin-user", "root"], "must differ"),
        (["--ssl-ca", "/no/such/ca.pem"], "no such file"),
    ],
)
def test_unsafe_names_and_an_app_user_equal_to_the_admin_are_refused(names, args, message):
    line = one_error_line(run_setup(names, *args, "--port", str(closed_port())))
    assert message in line


def test_tls_is_required_when_asked_for(names):
    root = create_engine(MYSQL_ADMIN_URL)
    with root.connect() as conn:
        have_ssl = conn.execute(text("SELECT @@have_ssl")).scalar_one()
    root.dispose()
    if have_ssl == "YES":
        pytest.skip("this server offers TLS; the refusal needs one without it")
    assert "not encrypted" in one_error_line(run_setup(names, "--tls"))
