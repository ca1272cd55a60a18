"""Shared fixtures: an app on SQLite, on MariaDB/MySQL and with photos in S3 (SeaweedFS); photos."""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from photogallery import create_app
from photogallery.data import migrate
from photogallery.data.schema import metadata

# The fixture plugins are imported here before pytest loads them: rewrite their asserts too.
pytest.register_assert_rewrite("tests.fixtures")
from tests.fixtures.mariadb import answers, find_server, start_private_server  # noqa: E402
from tests.fixtures.servers import missing  # noqa: E402

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.oidc",
    "tests.fixtures.cognito",
    "tests.fixtures.browser",
    "tests.fixtures.log_secrets",  # fails the run when a web test's logs hold a secret, or
    # a request of theirs has not exactly one JSON access line
    "tests.fixtures.photo_tree",  # the library the bulk-import tests bring in
]

MYSQL_ADMIN_URL = os.environ.get("TEST_MYSQL_URL", "mysql+mysqlconnector://root@127.0.0.1:3306/")
_private_mysql: list = []  # (process, folder) of a server this run started


def pytest_configure(config):
    """Nothing on 127.0.0.1:3306 but a server installed: start a private one for this run."""
    global MYSQL_ADMIN_URL
    if "TEST_MYSQL_URL" in os.environ or answers(MYSQL_ADMIN_URL) or not (found := find_server()):
        return  # without any server the MySQL tests fail in CI and skip on a laptop, saying how
    MYSQL_ADMIN_URL, process, folder = start_private_server(*found)
    _private_mysql.append((process, folder))


def pytest_unconfigure(config):
    for process, folder in _private_mysql:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def empty_mysql_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the MariaDB/MySQL server (dropped afterwards); yields its URL."""
    admin = create_engine(MYSQL_ADMIN_URL, connect_args={"connection_timeout": 3})
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    except Exception as exc:  # any driver error means there is no usable server
        missing(
            "MariaDB/MySQL on 127.0.0.1:3306", f"install mariadb-server ({exc.__class__.__name__})"
        )
    try:
        yield make_url(MYSQL_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="session")
def mysql_url():
    """A fresh database on the MariaDB/MySQL server for this test run, migrated once."""
    with empty_mysql_database("photos_test") as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


LOCAL_STACKS = ["sqlite", "mysql"]  # for tests of the local store's own /media URLs


@pytest.fixture(params=[*LOCAL_STACKS, "s3"])
def stack(request):
    """The servers an app test runs on: SQLite or MySQL with photos on disk, or SQLite + S3."""
    return request.param


@pytest.fixture
def database_url(stack, request, tmp_path):
    if stack != "mysql":
        yield f"sqlite:///{tmp_path / 'photos.db'}"
        return
    url = request.getfixturevalue("mysql_url")
    yield url
    _empty_tables(url)


@pytest.fixture
def aws_env(s3_server, monkeypatch, tmp_path):
    """SeaweedFS credentials for the default chain via env vars only, never ~/.aws."""
    from tests.fixtures.servers import use_test_credentials  # a plugin: imported by pytest

    use_test_credentials(monkeypatch, tmp_path, s3_server.access_key, s3_server.secret_key)


@pytest.fixture(scope="session")
def s3_admin(s3_server):
    """One admin client for the session (a boto3 client takes ~0.2 s to make)."""
    return s3_server.client()


@pytest.fixture(scope="session")
def app_bucket(s3_server, s3_admin):
    """One bucket for the app tests; each test works under its own S3_PREFIX."""
    return s3_server.new_bucket("app")


@pytest.fixture
def storage_settings(stack, request, tmp_path):
    """PHOTOS_DIR on disk, or a fresh prefix in the session's SeaweedFS bucket (emptied after)."""
    if stack != "s3":
        yield {"PHOTOS_DIR": str(tmp_path / "photos")}
        return
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("app_bucket")
    request.getfixturevalue("aws_env")
    prefix = f"t-{secrets.token_hex(6)}"
    yield {
        "STORAGE": "s3",
        "PHOTOS_BUCKET": bucket,
        "S3_PREFIX": prefix,
        "S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_REGION": server.region,
    }
    _empty_prefix(request.getfixturevalue("s3_admin"), bucket, prefix)


def _empty_prefix(client, bucket: str, prefix: str) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(database_url, storage_settings):
    """Test overrides for create_app; tests add to it before asking for `app`."""
    return {
        "TESTING": True,
        "FLASK_SECRET": "test-secret-" + "x" * 32,
        "DATABASE_URL": database_url,
        "LABELER": "none",
        "LABEL_QUEUE": "inline",
        **storage_settings,
    }


@pytest.fixture
def make_app(settings):
    """Build an app from `settings` plus extra overrides, its schema migrated."""
    made = []

    def _make(**extra):
        app = create_app({**settings, **extra})
        app.config["WTF_CSRF_ENABLED"] = False  # tests/web/test_csrf.py turns it back on
        engine = app.extensions["photogallery"].engine
        if engine.url.get_backend_name() == "sqlite":
            migrate.upgrade(engine)
        made.append(app)
        return app

    yield _make
    for app in made:
        queue = app.extensions["photogallery"].queue
        if hasattr(queue, "drain"):
            queue.drain(timeout=30)
        app.extensions["photogallery"].engine.dispose()


def sqlite_app(folder, *, csrf: bool = False, **settings):
    """An app on a SQLite file and a photo folder in ``folder``, migrated, CSRF off unless
    asked: for module-scoped fixtures and live servers; ``settings`` override the defaults."""
    app = create_app(
        {
            "TESTING": True,
            "FLASK_SECRET": "test-secret-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{folder / 'photos.db'}",
            "PHOTOS_DIR": str(folder / "photos"),
            "LABELER": "none",
            "LABEL_QUEUE": "inline",
            **settings,
        }
    )
    app.config["WTF_CSRF_ENABLED"] = csrf
    migrate.upgrade(app.extensions["photogallery"].engine)
    return app


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def backends(app):
    return app.extensions["photogallery"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Signs a test client up and in through the real pages."""

    def __init__(self, client) -> None:
        self.client = client

    def signup(self, username: str = "alice", password: str = "correct horse battery"):
        return self.client.post(
            "/signup", data={"username": username, "password": password, "password2": password}
        )

    def login(self, username: str = "alice", password: str = "correct horse battery"):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def cheap_password_hashes(monkeypatch):
    """One-round hashes, for tests that sign in many times to prove something else (throttling,
    sessions): a real hash costs 0.1-0.3 s each."""
    from werkzeug.security import generate_password_hash

    from photogallery.services.auth import accounts

    def cheap(password: str) -> str:
        return generate_password_hash(password, method="pbkdf2:sha256:1")

    monkeypatch.setattr(accounts, "generate_password_hash", cheap)
    monkeypatch.setattr(accounts, "_dummy_hash", lambda: cheap("not-a-real-password"))


@pytest.fixture
def user_client(client, auth):
    """A client signed in as alice."""
    assert auth.signup().status_code == 302
    return client


def photo_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (640, 480),
    orientation: int | None = None,
    seed: int = 0,
) -> bytes:
    """A real photograph (scikit-image's cat) at ``size``, in ``fmt``; ``seed`` makes it unique."""
    from skimage import data

    img = Image.fromarray(data.chelsea()).resize(size)
    if seed:  # a coloured corner, so each seed gives different bytes even after JPEG
        img.paste((seed * 37 % 256, seed * 91 % 256, seed * 13 % 256), (0, 0, 32, 32))
    buf = io.BytesIO()
    kwargs = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    if fmt == "JPEG":
        kwargs["quality"] = 90
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def csrf_token_of(client, page: str = "/upload") -> str:
    """The CSRF token a page puts in its meta tag (what the page's scripts send)."""
    html = client.get(page).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture
def upload(user_client):
    """POST photos to the upload form; returns the response."""

    def _upload(*files: tuple[bytes, str], description: str = "", client=None):
        data = {"file": [(io.BytesIO(b), name) for b, name in files], "description": description}
        return (client or user_client).post(
            "/upload", data=data, content_type="multipart/form-data"
        )

    return _upload


def stored_keys(store, prefix: str = "") -> list[str]:
    """Every key in ``store`` under ``prefix``, sorted."""
    return sorted(obj.key for obj in store.list_objects(prefix))


def insert_photo_row(conn, owner_id: int, n: int, **values):
    """A photo row straight into the data layer (its objects need not exist): keys, name and
    sha256 derived from ``n``; ``values`` override the rest."""
    from photogallery.data import photos as photo_data

    return photo_data.add_photo(
        conn,
        **{
            "owner_id": owner_id,
            "original_key": f"u{owner_id}/{n}/original.jpg",
            "thumbnail_key": f"u{owner_id}/{n}/thumbnail.jpg",
            "preview_key": f"u{owner_id}/{n}/preview.jpg",
            "original_filename": f"{n}.jpg",
            "content_type": "image/jpeg",
            "byte_size": 100,
            "width": 10,
            "height": 10,
            "sha256": f"{n:064d}",
            **values,
        },
    )
