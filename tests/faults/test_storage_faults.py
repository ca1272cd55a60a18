"""Photo storage down (SeaweedFS stopped) or unwritable (the photo folder read-only): uploads
answer a clear 503 and store nothing, pages still show, and nothing is broken afterwards."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import photo_bytes, stored_keys
from tests.faults.conftest import api_client, page_client, upload_api, upload_form
from tests.faults.integrity import assert_whole
from tests.fixtures.servers import missing

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
DOWN = "Photo storage is unavailable; try again shortly. Nothing was lost."


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """The folder and everything under it refuse writes (a disk remounted read-only)."""
    if os.geteuid() != 0:  # permissions stop everyone but root
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        for path in folders:
            path.chmod(0o555)
        try:
            yield
        finally:
            for path in folders:
                path.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", folder, folder], capture_output=True).returncode:
        missing("mount (as root)", "run the tests as a user, or where root may bind-mount")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", folder], check=True)
        yield
    finally:
        subprocess.run(["umount", folder], check=True)


@dataclass
class StorageFault:
    name: str
    app: object
    down: contextlib.AbstractContextManager


@pytest.fixture(params=["SeaweedFS stopped", "photo folder unwritable"])
def fault(request, make_app, tmp_path) -> StorageFault:
    if request.param == "SeaweedFS stopped":
        weed = request.getfixturevalue("private_seaweedfs")
        app = make_app(**weed.settings, S3_PREFIX=f"t{os.getpid()}-{id(request)}")
        return StorageFault(request.param, app, weed.server.stopped)
    folder = tmp_path / "photos"
    folder.mkdir()
    app = make_app(PHOTOS_DIR=str(folder))
    return StorageFault(request.param, app, lambda: unwritable(folder))


def answer(response) -> tuple[int, str]:
    if response.is_json:
        return response.status_code, response.get_json().get("error", "")
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    return response.status_code, DOWN if DOWN in body else body[:100]


def test_uploads_answer_503_and_store_nothing_while_pages_still_show(fault):
    app = fault.app
    browser, script = page_client(app), api_client(app)
    assert upload_form(browser, photo_bytes(seed=1)).status_code == 302
    (photo,) = browser.get("/api/photos").get_json()["photos"]
    store = app.extensions["photogallery"].store
    keys_before = stored_keys(store)

    with fault.down():
        form = upload_form(browser, photo_bytes(seed=2))
        api = upload_api(script, photo_bytes(seed=3), "new.jpg")
        gallery, page = browser.get("/"), browser.get(f"/photos/{photo['id']}")
        listed = browser.get("/api/photos").get_json()["photos"]
        ready = app.test_client().get("/ready")

    assert answer(form) == (503, DOWN)
    assert answer(api) == (503, DOWN)
    assert gallery.status_code == 200 and page.status_code == 200  # URLs are signed locally
    assert [p["id"] for p in listed] == [photo["id"]]
    assert ready.status_code == 503 and ready.get_json()["failing"] == ["storage"]
    assert stored_keys(store) == keys_before
    assert upload_api(script, photo_bytes(seed=3), "new.jpg").status_code == 201
    assert_whole(app)  # no unfinished write left behind either


def test_a_delete_while_storage_is_down_is_accepted_and_the_sweep_finishes_it(fault):
    app = fault.app
    script = api_client(app)
    photo = upload_api(script, photo_bytes(seed=1)).get_json()["photos"][0]

    with fault.down():
        response = script.delete(f"/api/photos/{photo['id']}")

    assert response.status_code == 202
    assert "will be removed automatically" in response.get_json()["message"]
    assert script.get(f"/api/photos/{photo['id']}").status_code == 404
    swept = app.test_cli_runner().invoke(args=["storage", "sweep"])
    assert swept.exit_code == 0 and "removed 3 objects" in swept.output, swept.output
    assert_whole(app)
