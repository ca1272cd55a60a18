"""Deleting a photo while the store fails: the row goes, a record keeps its objects' keys, and
`flask storage sweep` removes the objects once the store is back (on disk and on S3)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from photogallery.data.schema import pending_deletions
from tests.conftest import photo_bytes, stored_keys
from tests.fixtures.servers import closed_port

on_disk_and_s3 = pytest.mark.parametrize("stack", ["sqlite", "s3"], indirect=True)
on_disk = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery"


class FailingStore:
    """Makes the app's store refuse deletes, for real, then recover.

    On disk: the photo's folder becomes immutable (root ignores permissions, not that flag) or
    read-only. On S3: a second app instance whose S3 endpoint is a closed port (S3 is down for
    it), on the same database and bucket prefix."""

    def __init__(self, stack: str, app, make_app) -> None:
        self.stack, self.app, self.make_app = stack, app, make_app
        self.frozen: list[Path] = []

    def fail(self, folder_of_key: str):
        """Break the store; return the app (a test client's app) that now sees it failing."""
        if self.stack == "s3":
            return self.make_app(S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}")
        folder = self.app.extensions["photogallery"].store.root / folder_of_key.rsplit("/", 1)[0]
        if os.geteuid() == 0:
            if not shutil.which("chattr"):
                pytest.skip("needs chattr (e2fsprogs) to make a folder undeletable as root")
            subprocess.run(["chattr", "+i", str(folder)], check=True)
        else:
            folder.chmod(0o555)
        self.frozen.append(folder)
        return self.app

    def recover(self) -> None:
        for folder in self.frozen:
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(folder)], check=True)
            else:
                folder.chmod(0o755)
        self.frozen.clear()


@pytest.fixture
def failing_store(stack, app, make_app):
    store = FailingStore(stack, app, make_app)
    yield store
    store.recover()  # pytest must be able to remove the folder afterwards


@pytest.fixture
def bearer(client):
    """A local account made through the API; its bearer header works on every app instance."""
    assert client.post("/api/users", json={"username": "ann", "password": PASSWORD}).status_code
    token = client.post("/api/tokens", auth=("ann", PASSWORD)).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def upload_photo(client, bearer, seed: int = 1) -> dict:
    data = {"file": (io.BytesIO(photo_bytes(seed=seed)), f"{seed}.jpg")}
    response = client.post("/api/photos", data=data, headers=bearer)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["photos"][0]


def fetch(client, url: str) -> int:
    """The status an old signed URL answers: /media through the app, S3 presigned directly."""
    if url.startswith("/"):
        return client.get(url).status_code
    return requests.get(url, timeout=10).status_code


def pending_keys(backends) -> list[str]:
    with backends.engine.connect() as conn:
        return sorted(conn.execute(select(pending_deletions.c.object_key)).scalars())


@on_disk_and_s3
def test_a_delete_while_storage_fails_keeps_a_record_the_sweep_clears_once_it_is_back(
    app, client, backends, bearer, failing_store
):
    photo = upload_photo(client, bearer)
    keys = stored_keys(backends.store)
    old_url = photo["urls"]["original"]
    assert len(keys) == 3 and fetch(client, old_url) == 200

    down = failing_store.fail(keys[0])
    answer = down.test_client().delete(f"/api/photos/{photo['id']}", headers=bearer)

    # The person is told the photo is gone and its files will follow, not a plain success.
    assert answer.status_code == 202
    assert "will be removed" in answer.get_json()["message"]
    assert client.get(f"/api/photos/{photo['id']}", headers=bearer).status_code == 404
    assert pending_keys(backends) == keys  # the record, in the delete's transaction
    assert stored_keys(backends.store) == keys  # nothing removed yet
    retried = down.test_cli_runner().invoke(args=["storage", "sweep"])
    assert retried.exit_code == 1 and "3 could not be removed" in retried.output
    assert pending_keys(backends) == keys

    failing_store.recover()
    swept = app.test_cli_runner().invoke(args=["storage", "sweep"])

    assert swept.exit_code == 0, swept.output
    assert "removed 3 objects of deleted photos" in swept.output
    assert pending_keys(backends) == [] and stored_keys(backends.store) == []
    assert fetch(client, old_url) in (403, 404)
    again = app.test_cli_runner().invoke(args=["storage", "sweep"])  # idempotent
    assert again.exit_code == 0 and "nothing to remove" in again.output


@on_disk_and_s3
def test_a_delete_that_removes_every_object_leaves_no_record(client, backends, bearer):
    photo = upload_photo(client, bearer)

    answer = client.delete(f"/api/photos/{photo['id']}", headers=bearer)

    assert answer.status_code == 204
    assert pending_keys(backends) == [] and stored_keys(backends.store) == []


@on_disk_and_s3
def test_the_next_delete_that_works_also_retries_earlier_leftovers(
    app, client, backends, bearer, failing_store
):
    first = upload_photo(client, bearer, 1)
    first_keys = set(stored_keys(backends.store))
    second = upload_photo(client, bearer, 2)
    down = failing_store.fail(min(first_keys))
    down_answer = down.test_client().delete(f"/api/photos/{first['id']}", headers=bearer)
    assert down_answer.status_code == 202 and set(pending_keys(backends)) == first_keys
    failing_store.recover()

    answer = client.delete(f"/api/photos/{second['id']}", headers=bearer)

    assert answer.status_code == 204
    assert pending_keys(backends) == [] and stored_keys(backends.store) == []


@on_disk
def test_the_page_says_the_files_will_follow_when_storage_fails(
    app, user_client, upload, backends, failing_store
):
    upload((photo_bytes(), "a.jpg"))
    photo_id = user_client.get("/api/photos").get_json()["photos"][0]["id"]
    failing_store.fail(stored_keys(backends.store)[0])

    page = user_client.post(f"/photos/{photo_id}/delete", follow_redirects=True)

    assert page.status_code == 200
    assert b"Photo deleted. Its files could not be removed yet" in page.data
    assert len(pending_keys(backends)) == 3


@on_disk
def test_a_record_whose_object_is_already_gone_is_cleared_by_the_sweep(app, runner, backends):
    from photogallery.data import pending_deletions as pending_data

    backends.store.save("u1/x/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")
    with backends.engine.begin() as conn:
        pending_data.add_keys(conn, ["u1/x/original.jpg", "u1/x/thumbnail.jpg"], photo_id=7)

    result = runner.invoke(args=["storage", "sweep"])

    assert result.exit_code == 0, result.output
    assert "removed 2 objects of deleted photos" in result.output
    assert pending_keys(backends) == [] and stored_keys(backends.store) == []


@on_disk
def test_storage_check_reports_pending_deletions_and_fix_sweeps_them(app, runner, backends):
    from photogallery.data import pending_deletions as pending_data

    backends.store.save("u1/x/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")
    with backends.engine.begin() as conn:
        pending_data.add_keys(conn, ["u1/x/original.jpg"], photo_id=7)

    found = runner.invoke(args=["storage", "check", "--grace-minutes", "0"])
    fixed = runner.invoke(args=["storage", "check", "--grace-minutes", "0", "--fix"])

    assert found.exit_code == 1
    assert "objects of deleted photos still stored: 1\n  u1/x/original.jpg" in found.output
    assert "objects without a photo: 0" in found.output  # not counted twice
    assert fixed.exit_code == 0, fixed.output
    assert pending_keys(backends) == [] and stored_keys(backends.store) == []
