"""The app served as on EC2, on 127.0.0.1: nginx (Deploy/nginx) in front of uWSGI started by
Deploy/bin/photos-web with Deploy/uwsgi.ini, for the load and read benchmarks.

Settings reach the app through its environment only (plus an empty PHOTOS_CONFIG), as
user-data would give them; uWSGI runs its configured processes and threads (one process a core).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def render(template: Path, target: Path, values: Mapping[str, str]) -> None:
    """What userdata.txt's render does: replace each ``@NAME@``."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def free_port() -> int:
    from tests.fixtures.servers import free_ports

    return free_ports(1)[0]


def nginx_config(root: Path, port: int, max_body_mb: int) -> Path:
    """The site and a whole nginx around it (the deploy's standalone file), under ``root``."""
    run, logs, state = root / "run", root / "log", root / "state"
    for folder in (run, logs, state / "nginx-body"):
        folder.mkdir(parents=True, exist_ok=True)
    render(
        ROOT / "Deploy/nginx/photos.conf",
        root / "etc/nginx/photos.conf",
        {
            "RUN_DIR": str(run),
            "PORT": str(port),
            "RELEASE": str(ROOT),
            "MAX_BODY_MB": str(max_body_mb),
        },
    )
    conf = root / "etc/nginx/nginx.conf"
    # As root, workers run as root too so they may use uWSGI's socket; otherwise as this user.
    render(
        ROOT / "Deploy/nginx/nginx-standalone.conf",
        conf,
        {
            "NGINX_USER": "root" if os.geteuid() == 0 else getpass.getuser(),
            "RUN_DIR": str(run),
            "LOG_DIR": str(logs),
            "STATE_DIR": str(state),
            "PREFIX": str(root),
        },
    )
    return conf


@contextlib.contextmanager
def served(
    settings: Mapping[str, str],
    root: Path,
    *,
    max_upload_mb: int = 50,
    uwsgi_args: Sequence[str] = (),
) -> Iterator[str]:
    """nginx + uWSGI serving the app with ``settings``; yields the base URL once /ready is 200.
    ``uwsgi_args`` go to uWSGI after Deploy/uwsgi.ini (e.g. ``--processes 4``: the last wins)."""
    nginx = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if not nginx:
        raise SystemExit("nginx not found: apt-get install nginx")
    port = free_port()
    conf = nginx_config(root, port, max_upload_mb + 1)
    ini = root / "etc/app.ini"
    ini.write_text("[photos]\n")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTOS_", "DATABASE_"))}
    env = {
        **keep,
        **settings,
        "PHOTOS_CONFIG": str(ini),
        "PHOTOS_RELEASE": str(ROOT),
        "PHOTOS_VENV": sys.prefix,
        "PHOTOS_RUN_DIR": str(root / "run"),
        "DRAIN_SECONDS": "0",
    }
    with contextlib.ExitStack() as stack:
        web_log = stack.enter_context((root / "log/uwsgi.log").open("wb"))
        web = subprocess.Popen(
            [str(ROOT / "Deploy/bin/photos-web"), *uwsgi_args],
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, web, signal.SIGTERM)
        proxy = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
        stack.callback(_stop, proxy, signal.SIGQUIT)
        base = f"http://{HOST}:{port}"
        _wait_ready(base, web, root / "log/uwsgi.log")
        yield base


def _wait_ready(base: str, web: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit(f"uWSGI exited ({web.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + "/ready", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{base}/ready did not answer 200 within {timeout:.0f} s")


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
