"""nginx's and uWSGI's request logs show paths, never query strings: a signed /media URL
(``e=``, ``s=``) or a sign-in's code and state in a log is a credential anyone reading it can use.
Real nginx and real uWSGI with the shipped configuration, a request each (about two seconds)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fixtures.servers import HOST, closed_port, free_ports, missing

ROOT = Path(__file__).resolve().parents[2]
SIGNED = "/media/u1/abc/original.jpg?e=1796192400&s=SIGNATURE1234"
SECRETS = ("SIGNATURE1234", "1796192400", "CODE5678", "STATE9012")


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{tail(log)}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer:\n{tail(log)}")


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def nginx_user() -> str:
    """The distribution's nginx user (what userdata.txt sets as NGINX_USER)."""
    import pwd

    for name in ("www-data", "nginx"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    return "nobody"


def render(template: Path, out: Path, values: dict[str, str]) -> Path:
    """What userdata.txt's render() does: fill in the @NAME@ placeholders."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in text.replace("$", ""), f"a placeholder left in {template.name}"
    out.write_text(text)
    return out


def test_nginx_logs_paths_without_query_strings(tmp_path):
    nginx = shutil.which("nginx")
    if not nginx or os.geteuid() != 0:
        missing("nginx, run as root", "apt-get install nginx; the deploy tests run as root")
    port = free_ports(1)[0]
    (tmp_path / "etc/nginx").mkdir(parents=True)
    (tmp_path / "body").mkdir()
    values = {
        "PREFIX": str(tmp_path), "RUN_DIR": str(tmp_path), "LOG_DIR": str(tmp_path),
        "STATE_DIR": str(tmp_path / "state"), "PORT": str(port), "RELEASE": str(ROOT),
        "MAX_BODY_MB": "51", "NGINX_USER": nginx_user(),
        "ACCESS_LOG": str(tmp_path / "nginx-access.log"),
    }  # fmt: skip
    (tmp_path / "state").mkdir()
    render(ROOT / "Deploy/nginx/photos.conf", tmp_path / "etc/nginx/photos.conf", values)
    conf = render(ROOT / "Deploy/nginx/nginx-standalone.conf", tmp_path / "nginx.conf", values)
    log = tmp_path / "nginx-error.log"
    process = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
    try:
        wait_for(f"http://{HOST}:{port}/health", process, log)
        # No uWSGI behind it: nginx answers 502 and logs the request all the same.
        requests.get(
            f"http://{HOST}:{port}{SIGNED}",
            headers={"Referer": f"http://{HOST}/callback?code=CODE5678&state=STATE9012"},
            timeout=10,
        )
    finally:
        stop(process, signal.SIGQUIT)

    logged = (tmp_path / "nginx-access.log").read_text()
    assert '"GET /media/u1/abc/original.jpg HTTP/1.1" 502' in logged, logged
    assert f'"http://{HOST}/callback"' in logged  # the referrer, without its query
    assert not [secret for secret in SECRETS if secret in logged], logged


def test_uwsgi_logs_paths_without_query_strings(tmp_path):
    uwsgi = shutil.which("uwsgi", path=str(Path(sys.executable).parent))
    if not uwsgi:
        missing("uwsgi", "pip install uWSGI==2.0.31")
    port = free_ports(1)[0]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PHOTOS_", "AWS_"))},
        "PHOTOS_APP_DIR": str(ROOT / "FlaskApp"),
        "PHOTOS_VENV": str(Path(sys.executable).parent.parent),
        "PHOTOS_RUN_DIR": str(tmp_path),
        # A database that does not answer: /ready is a 503, which uWSGI logs (log-5xx).
        "DATABASE_URL": f"mysql+mysqlconnector://nobody@127.0.0.1:{closed_port()}/none",
        "FLASK_SECRET": "s" * 40,
        "PHOTOS_DIR": str(tmp_path / "photos"),
        "LABELER": "none",
    }
    log = tmp_path / "uwsgi.log"
    args = ["--ini", str(ROOT / "Deploy/uwsgi.ini"), "--http-socket", f"{HOST}:{port}"]
    args += ["--processes", "1", "--logto", str(log)]
    process = subprocess.Popen([uwsgi, *args], env=env)
    try:
        wait_for(f"http://{HOST}:{port}/health", process, log)
        ready = requests.get(f"http://{HOST}:{port}/ready?s=SIGNATURE1234&e=1796192400", timeout=30)
        assert ready.status_code == 503
        time.sleep(0.2)  # the log line is written after the answer
    finally:
        stop(process)

    logged = log.read_text(errors="replace")
    assert '"GET /ready HTTP/1.1" 503' in logged, logged
    assert not [secret for secret in SECRETS if secret in logged], logged


@pytest.mark.parametrize("ini", ["Deploy/uwsgi.ini", "Deploy/elasticbeanstalk/bundle/uwsgi.ini"])
def test_every_uwsgi_ini_logs_paths_not_request_uris_and_sweeps_deletions(ini):
    # The EB one has no nginx of ours in front and logs every request.
    lines = (ROOT / ini).read_text().splitlines()
    (log_format,) = [line for line in lines if line.startswith("log-format")]
    assert "%(var.PATH_INFO)" in log_format and "%(uri)" not in log_format
    assert "ignore-write-errors = true" in lines  # "... during GET <uri>" lines
    (cron,) = [line for line in lines if line.startswith("unique-cron")]
    assert cron.endswith("application.py storage sweep")  # deletions storage refused, retried


def test_uwsgi_runs_the_deletion_sweep_with_the_app_it_serves(tmp_path):
    # Deploy/uwsgi.ini's cron line, expanded as uWSGI expands it (photos-web sets these).
    lines = (ROOT / "Deploy/uwsgi.ini").read_text().splitlines()
    (cron,) = [line.split("=", 1)[1].split() for line in lines if line.startswith("unique-cron")]
    assert cron[:5] == ["-10", "-1", "-1", "-1", "-1"]  # every 10 minutes
    command = " ".join(cron[5:])
    command = command.replace("$(PHOTOS_VENV)", str(Path(sys.executable).parent.parent))
    command = command.replace("$(PHOTOS_APP_DIR)", str(ROOT / "FlaskApp"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "FLASK_SECRET": "s" * 40}
    done = subprocess.run([*command.split(), "--help"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Remove the objects of deleted photos" in done.stdout
