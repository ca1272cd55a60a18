"""An "EC2 instance" on this machine: userdata.txt's installer run into a temporary prefix, with
its settings and secrets served by moto's SSM and Secrets Manager, the bundle and the photos in
SeaweedFS, and the database on MariaDB; nginx + uWSGI serve it on a free local port."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import MYSQL_ADMIN_URL, missing
from tests.fixtures.servers import HOST, free_ports

ROOT = Path(__file__).resolve().parents[2]
USERDATA = ROOT / "userdata.txt"
APP_USER = "photos-ci"  # the instance's system user, made by the installer
# The course's pain: every character that a shell, uWSGI or an ini file might mangle.
NASTY_PASSWORD = "p%o&$#;'\"\\ with spaces é ü 漢 %(x)s $(id) `id`"
APP_PASSWORD = "a%o&$#;'\"\\ app ß 日本 ${HOME}"


def need_root_tools() -> None:
    if os.geteuid() != 0:
        missing("root", "the install test creates a system user and runs nginx as root")
    for tool in ("nginx", "unzip", "setpriv", "curl"):
        if not shutil.which(tool):
            missing(tool, "apt-get install nginx unzip curl util-linux")


def build_bundle(out_dir: Path, version: str) -> Path:
    """Deploy/build_bundle.sh with a fixed version (the operator's `make bundle`)."""
    env = {**os.environ, "BUNDLE_VERSION": version}
    done = subprocess.run(
        ["bash", str(ROOT / "Deploy" / "build_bundle.sh"), str(out_dir)],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return Path(done.stdout.strip().splitlines()[-1])


def restamp_bundle(bundle: Path, out_dir: Path, version: str) -> Path:
    """``bundle`` as another release: its files under a new VERSION, as build_bundle.sh would
    pack the same checkout (without packing it all again)."""
    out_dir.mkdir(parents=True)
    (out_dir / "VERSION").write_text(f"{version}\n")
    copy = Path(shutil.copy(bundle, out_dir / f"photos-{version}.zip"))
    subprocess.run(["zip", "-q", "-X", copy.name, "VERSION"], cwd=out_dir, check=True)
    (out_dir / "VERSION").unlink()
    return copy


@dataclass
class DeployWorld:
    """The AWS side of a deployment, served by local servers."""

    s3: object
    moto: object
    bucket: str
    settings_path: str
    secret_ids: dict[str, str]
    database: str
    bundles: dict[str, str] = field(default_factory=dict)  # version → s3:// URI

    def env(self) -> dict[str, str]:
        """What an instance's environment gives boto3: the region, role credentials, endpoints."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PHOTOS_"))}
        return {
            **keep,
            "AWS_REGION": self.moto.region,
            "AWS_ACCESS_KEY_ID": "testing",  # SeaweedFS knows moto's keys (servers.py)
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_ENDPOINT_URL_S3": self.s3.endpoint_url,
            "AWS_ENDPOINT_URL_SSM": self.moto.endpoint_url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto.endpoint_url,
        }

    def add_bundle(self, path: Path, version: str) -> str:
        key = f"bundles/{path.name}"
        self.s3.client().upload_file(str(path), self.bucket, key)
        self.bundles[version] = f"s3://{self.bucket}/{key}"
        return self.bundles[version]


@dataclass
class Instance:
    """One installed web server: its prefix, port and how to run its installer again."""

    world: DeployWorld
    prefix: Path
    port: int
    last_output: str = ""
    version: str = ""  # the bundle it runs now
    boot_output: str = ""  # what its first install printed

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def install(self, version: str = "v1", **extra: str) -> subprocess.CompletedProcess:
        env = {
            **self.world.env(),
            "BUNDLE_URI": self.world.bundles[version],
            "SETTINGS_PATH": self.world.settings_path,
            "DB_SECRET_ID": self.world.secret_ids["admin"],
            "APP_DB_SECRET_ID": self.world.secret_ids["app_db"],
            "APP_SECRETS_ID": self.world.secret_ids["app"],
            "PHOTOS_PREFIX": str(self.prefix),
            "PHOTOS_USER": APP_USER,
            "HTTP_PORT": str(self.port),
            "SERVICE_MANAGER": "none",
            # 4 x the time HAProxy in test_failover needs to take an instance out
            "DRAIN_SECONDS": "2",
            "READY_TIMEOUT": "60",
            **extra,
        }
        done = subprocess.run(
            ["bash", str(USERDATA)], env=env, capture_output=True, text=True, timeout=900
        )
        self.last_output = done.stdout + done.stderr
        self.boot_output = self.boot_output or self.last_output
        assert done.returncode == 0, self.last_output[-6000:]
        self.version = version
        return done

    def pid(self, name: str) -> int | None:
        path = self.prefix / "run" / f"{name}.pid"
        try:
            pid = int(path.read_text())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def stop(self) -> None:
        """What `systemctl stop` does: TERM to photos-web (it drains), then nginx quits."""
        if pid := self.pid("photos-web"):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 60)
        if pid := self.pid("nginx"):
            os.kill(pid, signal.SIGQUIT)
            _wait_gone(pid, 30)

    def kill_hard(self) -> None:
        """The instance dies: every process of its app session gets SIGKILL."""
        if pid := self.pid("photos-web"):
            os.killpg(pid, signal.SIGKILL)  # setsid made photos-web its session's leader

    def ready(self) -> int:
        try:
            return requests.get(self.url + "/ready", timeout=5).status_code
        except requests.RequestException:
            return 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs. A zombie has exited: photos-web and nginx are orphans that init
    reaps, and this machine's init takes ~1.7 s to do it (kill(pid, 0) still succeeds till then)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # the state follows "(comm)"


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def mysql_admin():
    engine = create_engine(MYSQL_ADMIN_URL, connect_args={"connection_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: no usable server
        missing("MariaDB/MySQL on 127.0.0.1:3306", f"install mariadb-server ({exc})")
    yield engine
    engine.dispose()


def put_settings(ssm, path: str, settings: dict[str, str]) -> None:
    """One SSM parameter per setting, named like the setting (what the stack creates)."""
    for name, value in settings.items():
        ssm.put_parameter(Name=path + name, Value=value, Type="String")


def put_secret(sm, name: str, value: dict[str, str]) -> str:
    return sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]


@pytest.fixture(scope="session")
def deploy_world(s3_server, sqs_server, mysql_admin, tmp_path_factory) -> Iterator[DeployWorld]:
    """Parameters, secrets, a database with a course-style admin user, and bundle v1 and v2."""
    need_root_tools()
    tag = secrets.token_hex(4)
    database, admin_user, app_user = f"photos_deploy_{tag}", f"admin_{tag}", f"app_{tag}"
    with mysql_admin.begin() as conn:
        # RDS's master user: may create databases and users, with the nastiest password.
        create = text(f"CREATE USER '{admin_user}'@'%' IDENTIFIED BY :pw")
        conn.execute(create, {"pw": NASTY_PASSWORD})
        conn.execute(text(f"GRANT ALL PRIVILEGES ON *.* TO '{admin_user}'@'%' WITH GRANT OPTION"))
    bucket, settings_path = s3_server.new_bucket("deploy"), f"/photos-{tag}/prod/"
    db = make_url(MYSQL_ADMIN_URL)
    put_settings(sqs_server.client_for("ssm"), settings_path, {
        "STORAGE": "s3", "PHOTOS_BUCKET": bucket, "S3_PREFIX": "photos",
        "S3_ENDPOINT_URL": s3_server.endpoint_url, "DATABASE_HOST": db.host or HOST,
        "DATABASE_PORT": str(db.port or 3306), "DATABASE_DB_NAME": database, "LABELER": "none",
        "AUTH": "local", "MAX_UPLOAD_MB": "20",
        "PROXY_COUNT": "2",  # HAProxy (the ALB) + nginx
        "METRICS": "emf,prometheus",
    })  # fmt: skip
    sm = sqs_server.client_for("secretsmanager")
    admin = {"username": admin_user, "password": NASTY_PASSWORD}
    app_db = {"username": app_user, "password": APP_PASSWORD}
    ids = {
        "admin": put_secret(sm, f"rds-master-{tag}", admin),
        "app_db": put_secret(sm, f"photos-app-db-{tag}", app_db),
        "app": put_secret(sm, f"photos-app-{tag}", {"FLASK_SECRET": secrets.token_urlsafe(48)}),
    }
    world = DeployWorld(s3_server, sqs_server, bucket, settings_path, ids, database)
    out = tmp_path_factory.mktemp("bundles")
    v1 = build_bundle(out / "v1", f"test-v1-{tag}")
    world.add_bundle(v1, "v1")
    world.add_bundle(restamp_bundle(v1, out / "v2", f"test-v2-{tag}"), "v2")
    yield world
    with mysql_admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        for user in (admin_user, app_user):
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))


@pytest.fixture(scope="session")
def instances(deploy_world) -> Iterator[tuple[Instance, Instance]]:
    """Two instances booting at the same moment against one empty database (as an Auto Scaling
    group launches them); both stopped and removed at the end of the session."""
    made = []
    for name in ("a", "b"):
        # Not under pytest's 0700 temp root: the app user and nginx's workers must walk in.
        prefix = Path(tempfile.mkdtemp(prefix=f"photos-instance-{name}-"))
        prefix.chmod(0o755)
        made.append(Instance(deploy_world, prefix, free_ports(1)[0]))
    try:
        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(instance.install, "v1") for instance in made]:
                done.result()
        yield made[0], made[1]
    finally:
        # Together, as the fixture installed them: each stop drains for DRAIN_SECONDS.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(_remove, made))


def _remove(instance: Instance) -> None:
    instance.stop()
    shutil.rmtree(instance.prefix, ignore_errors=True)


@pytest.fixture(scope="session")
def instance_a(instances) -> Instance:
    return instances[0]
