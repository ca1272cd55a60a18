"""userdata.txt's installer on this Debian machine (only its package step differs from Amazon
Linux 2023): settings from moto's SSM and Secrets Manager, the bundle and photos in SeaweedFS,
MariaDB for the rows; nginx + uWSGI serve the app on 127.0.0.1."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from PIL import Image
from sqlalchemy import text

from tests.deploy.conftest import APP_PASSWORD, APP_USER, NASTY_PASSWORD, ROOT, USERDATA

# The session fixture installs two instances (~90 s), counted in the first test's time.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=30, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=60, **kwargs)


def load_configure():
    spec = importlib.util.spec_from_file_location("configure", ROOT / "Deploy" / "configure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jpeg_bytes(color=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, "JPEG")
    return out.getvalue()


def api_user(base: str, name: str) -> dict[str, str]:
    """A local account made through the API; returns its bearer header."""
    password = "correct horse battery staple"
    made = post(f"{base}/api/users", json={"username": name, "password": password})
    assert made.status_code == 201, made.text
    token = post(f"{base}/api/tokens", auth=(name, password)).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def tree_state(prefix: Path) -> dict[str, tuple]:
    """Every installed file's mode, owner and content hash (run/, log/ and state/ change by use)."""
    state = {}
    for path in sorted(prefix.rglob("*")):
        rel = path.relative_to(prefix).as_posix()
        if rel.split("/")[0] in ("run", "log", "state") or "__pycache__" in rel:
            continue
        info = path.lstat()
        digest = ""
        if stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(info.st_mode):
            digest = os.readlink(path)
        state[rel] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, digest)
    return state


def test_userdata_pins_boto3_like_requirements():
    pins = dict(
        line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )  # fmt: skip
    wanted = f"boto3=={pins['boto3']} botocore=={pins['botocore']}"
    assert f'BOTO3_PIN="{wanted}"' in USERDATA.read_text()


def test_shellcheck_passes_on_userdata_and_deploy_scripts():
    if not shutil.which("shellcheck"):
        pytest.fail("shellcheck is needed: apt-get install shellcheck")
    scripts = [USERDATA, *sorted((ROOT / "Deploy").rglob("*.sh")), *(ROOT / "Deploy/bin").iterdir()]
    done = subprocess.run(["shellcheck", "-s", "bash", *map(str, scripts)], capture_output=True)
    assert done.returncode == 0, done.stdout.decode()


@pytest.mark.parametrize(
    ("value", "why"),
    [("two\nlines", "line break"), (" padded", "leading or trailing spaces")],
)
def test_configure_refuses_what_an_ini_line_cannot_carry_and_names_the_setting(value, why):
    configure = load_configure()
    with pytest.raises(configure.ConfigureError, match=f"DATABASE_PASSWORD: .*{why}") as caught:
        configure.render_ini({"DATABASE_PASSWORD": value})
    assert value not in str(caught.value)


def test_configure_writes_values_literally_in_a_private_file(tmp_path):
    configure = load_configure()
    path = tmp_path / "etc" / "app.ini"
    text_ = configure.render_ini({"DATABASE_PASSWORD": NASTY_PASSWORD, "STORAGE": "s3"})
    assert configure.write_if_changed(path, text_, owner=None) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert configure.write_if_changed(path, text_, owner=None) is False  # unchanged: untouched
    from photogallery.settings import _read_ini  # the app's own reader gets the same bytes back

    assert _read_ini(path, explicit=True)["DATABASE_PASSWORD"] == NASTY_PASSWORD


def test_two_instances_booting_together_migrate_once_and_both_serve(instances):
    said = [re.search(r"migrations: (.*)", i.boot_output).group(1) for i in instances]
    applied, waited = sorted(said)
    assert applied.startswith("applied 0001, ") and waited == "nothing to apply"
    assert [i.ready() for i in instances] == [200, 200]


def test_installed_instance_serves_uploads_through_nginx(instance_a, deploy_world):
    base = instance_a.url
    ready = get(f"{base}/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": "ok",
        "storage": "ok",
    }
    headers = api_user(base, "ann")
    upload = post(
        f"{base}/api/photos",
        headers=headers,
        files={"file": ("sofa.jpg", jpeg_bytes(), "image/jpeg")},
        data={"description": "through nginx"},
    )
    assert upload.status_code == 201, upload.text
    photo = upload.json()["photos"][0]
    listed = get(f"{base}/api/photos", headers=headers).json()["photos"]
    assert [p["id"] for p in listed] == [photo["id"]]
    # The bytes are in the bucket under the configured prefix, and the presigned URL works.
    keys = [
        item["Key"]
        for item in deploy_world.s3.client()
        .list_objects_v2(Bucket=deploy_world.bucket, Prefix="photos/")
        .get("Contents", [])
    ]
    assert len(keys) >= 3  # original, preview, thumbnail
    assert get(photo["urls"]["thumbnail"]).headers["Content-Type"] == "image/jpeg"


def test_nginx_serves_static_files_itself_with_cache_headers(instance_a):
    response = get(f"{instance_a.url}/static/style.css")
    assert response.status_code == 200
    assert response.headers["Server"] == "nginx"  # server_tokens off: no version
    assert "max-age=3600" in response.headers["Cache-Control"]
    shipped = ROOT / "FlaskApp/photogallery/static/style.css"
    assert response.content == shipped.read_bytes()


def test_nginx_refuses_bodies_over_max_upload_mb_before_the_app(instance_a):
    # MAX_UPLOAD_MB is 20 in SSM: nginx's client_max_body_size follows it (plus framing).
    site = (instance_a.prefix / "etc/nginx/photos.conf").read_text()
    assert "client_max_body_size 21m;" in site
    response = post(
        f"{instance_a.url}/api/photos", data=b"x" * (22 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert response.status_code == 413


def test_the_instance_logs_request_paths_without_query_strings(instance_a):
    # Signed /media URLs and a sign-in's code are credentials: nginx logs the path only.
    get(f"{instance_a.url}/media/u1/a/original.jpg?e=1796192400&s=SIGNATURE1234")
    get(f"{instance_a.url}/callback?code=CODE5678&state=STATE9012")
    logged = (instance_a.prefix / "log" / "nginx-access.log").read_text()
    assert '"GET /media/u1/a/original.jpg HTTP/1.1" 404' in logged
    for secret in ("SIGNATURE1234", "CODE5678", "STATE9012"):
        assert secret not in logged


def test_settings_file_is_private_literal_and_holds_no_admin_secret(instance_a):
    ini = instance_a.prefix / "etc" / "app.ini"
    info = ini.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == int(subprocess.check_output(["id", "-u", APP_USER]))
    content = ini.read_text(encoding="utf-8")
    assert f"DATABASE_PASSWORD = {APP_PASSWORD}\n" in content
    assert NASTY_PASSWORD not in content  # the master user's password stays in its secret
    for path in (instance_a.prefix / "current" / "Deploy").rglob("*"):
        if path.is_file() and path.suffix in (".ini", ".conf", ".service"):
            assert APP_PASSWORD not in path.read_text(errors="replace")
    for password in (APP_PASSWORD, NASTY_PASSWORD):
        for form in (password, quote(password), quote_plus(password)):  # nor inside a URL
            assert form not in instance_a.last_output


def test_app_logs_in_to_mariadb_as_a_least_privilege_user(instance_a, deploy_world, mysql_admin):
    with mysql_admin.connect() as conn:
        user = conn.execute(
            text("SELECT user FROM mysql.user WHERE user LIKE 'app\\_%' AND user = :u"),
            {"u": "app_" + deploy_world.database.rsplit("_", 1)[-1]},
        ).scalar_one()
        grants = " ".join(row[0] for row in conn.execute(text(f"SHOW GRANTS FOR '{user}'@'%'")))
    assert re.search(r"GRANT SELECT, INSERT, UPDATE, DELETE ON `photos_deploy_\w+`\.\* TO", grants)
    assert "ALL PRIVILEGES" not in grants and "CREATE" not in grants


def test_the_app_runs_as_its_own_user_not_root(instance_a):
    out = subprocess.check_output(["ps", "-o", "user:32=,args=", "-C", "uwsgi"], text=True)
    users = {line.split()[0] for line in out.splitlines() if str(instance_a.prefix) in line}
    assert users == {APP_USER}


def test_second_run_changes_nothing_and_keeps_serving(instance_a):
    before = tree_state(instance_a.prefix)
    web_pid = instance_a.pid("photos-web")
    instance_a.install(instance_a.version)  # the failover tests may have updated it to v2
    assert tree_state(instance_a.prefix) == before
    assert instance_a.pid("photos-web") == web_pid  # not restarted
    assert "changed:" not in instance_a.last_output
    assert "unchanged" in instance_a.last_output
    assert instance_a.ready() == 200


@pytest.mark.parametrize("unit", ["photos-web", "photos-worker"])
def test_systemd_units_verify_as_rendered_for_the_instance(instance_a, unit, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is needed: apt-get install systemd")
    template = (ROOT / "Deploy" / "systemd" / f"{unit}.service").read_text()
    rendered = template.replace("@PREFIX@", str(instance_a.prefix)).replace("@USER@", APP_USER)
    path = tmp_path / f"{unit}.service"
    path.write_text(rendered)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    # verify exits 0 on unknown keys and bad values, so any word from it is a failure too.
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr
