"""build_bundle.sh and the Elastic Beanstalk bundle: layout, tracked files only, and it serves."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.servers import free_ports, missing

# Builds the release zip and boots it under uWSGI: a deploy test, not held to the 60 s default.
pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["userdata.txt", "requirements.txt", "FlaskApp", "Deploy", "SetupScripts"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git repo with this checkout's tracked shipped files, plus local junk that must not ship."""
    repo = tmp_path_factory.mktemp("repo")
    for path in git(ROOT, "ls-files", "-z", "--", *SHIPPED).split("\0"):
        if path and (ROOT / path).is_file():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, repo / path)
    if not (repo / "userdata.txt").exists():  # the lead's file, maybe not merged here yet
        (repo / "userdata.txt").write_text("#!/bin/bash\necho install\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "release")
    for junk in ["FlaskApp/app.ini", "FlaskApp/instance/photos.db", "Deploy/notes.txt"]:
        (repo / junk).parent.mkdir(parents=True, exist_ok=True)
        (repo / junk).write_text("local only\n")
    return repo


def build(script: Path, outdir: Path) -> Path:
    run = subprocess.run([str(script), str(outdir)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    path = Path(run.stdout.strip().splitlines()[-1])
    assert path.parent == outdir and path.is_file()
    return path


def test_bundle_has_the_contract_layout_and_only_tracked_files(repo, tmp_path):
    bundle = build(repo / "Deploy" / "build_bundle.sh", tmp_path)
    version = re.fullmatch(r"photos-(.+)\.zip", bundle.name).group(1)
    assert re.fullmatch(r"[0-9a-f]{7,}(-dirty)?-\d{8}T\d{6}Z", version)
    names = zipfile.ZipFile(bundle).namelist()
    assert {n.split("/")[0] for n in names} == {"VERSION", *SHIPPED}
    assert zipfile.ZipFile(bundle).read("VERSION").decode() == version + "\n"
    tracked = {p for p in git(repo, "ls-files").splitlines() if p.split("/")[0] in SHIPPED}
    assert {n for n in names if not n.endswith("/")} - {"VERSION"} == tracked
    assert not [n for n in names if "__pycache__" in n or "/instance/" in n or "app.ini" in n]
    assert "FlaskApp/photogallery/__init__.py" in names


def test_bundle_refuses_a_checkout_without_userdata(repo, tmp_path):
    clone = tmp_path / "clone"
    git(repo, "clone", "-q", str(repo), str(clone))
    git(clone, "rm", "-q", "userdata.txt")
    run = subprocess.run(
        [str(clone / "Deploy" / "build_bundle.sh"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1 and "userdata.txt is not tracked" in run.stderr


@pytest.fixture(scope="module")
def eb_bundle(repo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eb")
    return build(repo / "Deploy" / "elasticbeanstalk" / "build_eb_bundle.sh", out)


def test_eb_bundle_has_the_application_at_its_root(eb_bundle):
    names = set(zipfile.ZipFile(eb_bundle).namelist())
    for name in ["application.py", "Procfile", "uwsgi.ini", "requirements.txt", "VERSION",
                 ".platform/nginx/conf.d/photos.conf", ".ebextensions/photos.config",
                 "FlaskApp/application.py", "FlaskApp/photogallery/__init__.py"]:  # fmt: skip
        assert name in names
    assert not [n for n in names if n.startswith(("Deploy/", "SetupScripts/", "userdata.txt"))]
    zf = zipfile.ZipFile(eb_bundle)
    procfile = dict(
        line.split(":", 1) for line in zf.read("Procfile").decode().splitlines() if line.strip()
    )
    assert procfile == {"web": " uwsgi --ini uwsgi.ini"}
    ini = configparser.RawConfigParser(strict=True)
    ini.read_string(zf.read("uwsgi.ini").decode())
    assert ini["uwsgi"]["http-socket"] == "127.0.0.1:8000"  # where EB's nginx proxies
    assert ini["uwsgi"]["module"] == "application:application"
    assert re.search(r"(?im)^uwsgi==", zf.read("requirements.txt").decode())
    conf = zf.read(".platform/nginx/conf.d/photos.conf").decode()
    assert re.search(r"^client_max_body_size \d+m;$", conf, re.M)
    assert "HealthCheckPath: /ready" in zf.read(".ebextensions/photos.config").decode()


def test_eb_bundle_serves_with_its_procfile_and_uwsgi_ini(eb_bundle, tmp_path):
    uwsgi = shutil.which("uwsgi", path=str(Path(sys.executable).parent))
    if not uwsgi:
        missing("uwsgi", "pip install uWSGI==2.0.31")
    app = tmp_path / "current"
    zipfile.ZipFile(eb_bundle).extractall(app)
    port = free_ports(1)[0]
    ini = app / "uwsgi.ini"
    ini.write_text(ini.read_text().replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    command = zipfile.ZipFile(eb_bundle).read("Procfile").decode().split(":", 1)[1].split()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PHOTOS_"))}
    log = (tmp_path / "uwsgi.log").open("wb")
    proc = subprocess.Popen([uwsgi, *command[1:]], cwd=app, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "uwsgi.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "uwsgi.log").read_text()
                time.sleep(0.3)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, (tmp_path / "uwsgi.log").read_text()  # die-on-term
        log.close()
