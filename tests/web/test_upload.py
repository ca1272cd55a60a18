"""Uploads through the page: many at once, the wrong ones explained, nothing half-made left."""

import contextlib
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from photogallery.data import photos as photo_data
from photogallery.data.schema import photos
from photogallery.decode_budget import DecodeBudget
from photogallery.image_limits import decode_cost
from photogallery.image_scan import Layout
from photogallery.images import PREVIEW_SIZE
from photogallery.services import uploads
from tests.conftest import Auth, csrf_token_of, photo_bytes, stored_keys


def test_several_photos_at_once_are_stored_with_renditions(upload, backends, user_client):
    response = upload(
        (photo_bytes(seed=1), "a.jpg"), (photo_bytes("PNG", seed=2), "b.png"), description="Holiday"
    )
    assert response.status_code == 302
    keys = stored_keys(backends.store)
    assert len(keys) == 6
    assert {k.rsplit("/", 1)[1] for k in keys} == {
        "original.jpg",
        "original.png",
        "preview.jpg",
        "thumbnail.jpg",
    }
    page = user_client.get("/").data
    assert page.count(b'class="chip"') == 0 and page.count(b"Not labelled yet") == 2


def test_a_text_file_is_refused_with_a_clear_message(upload, backends):
    response = upload((b"just some notes", "notes.jpg"))
    assert response.status_code == 400
    assert b"notes.jpg is not a photo we can read" in response.data
    assert stored_keys(backends.store) == []


def test_a_broken_image_is_refused(upload, backends):
    data = photo_bytes(size=(1200, 900))
    response = upload((data[:2000], "broken.jpg"))
    assert response.status_code == 400 and b"damaged" in response.data
    assert stored_keys(backends.store) == []


def test_good_photos_are_kept_when_others_in_the_batch_are_refused(upload, backends):
    response = upload((photo_bytes(), "good.jpg"), (b"nope", "bad.gif"))
    assert response.status_code == 302
    assert len(stored_keys(backends.store)) == 3


def test_the_same_photo_twice_is_reported_not_stored_twice(upload, backends):
    upload((photo_bytes(), "cat.jpg"))
    response = upload((photo_bytes(), "cat-copy.jpg"))
    assert response.status_code == 409 and b"already in your gallery" in response.data
    assert len(stored_keys(backends.store)) == 3


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_duplicate_that_passes_the_pre_check_leaves_no_orphan_objects(
    upload, backends, monkeypatch
):
    upload((photo_bytes(), "cat.jpg"))
    kept = stored_keys(backends.store)
    real_find = uploads._find_duplicate
    calls = []

    def racing_find(*args):
        """The pre-check runs before a concurrent upload of the same bytes commits."""
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(uploads, "_find_duplicate", racing_find)
    response = upload((photo_bytes(), "cat-again.jpg"))
    assert len(calls) == 2  # the pre-check, then the lookup after the insert lost the race
    assert response.status_code == 409 and b"already in your gallery" in response.data
    assert stored_keys(backends.store) == kept
    with backends.engine.connect() as conn:
        assert len(photo_data.list_photo_ids(conn)) == 1


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("cap", "status"), [(1, 400), (2, 302)])
def test_max_image_megapixels_is_honoured(make_app, cap, status):
    client = make_app(MAX_IMAGE_MEGAPIXELS=str(cap)).test_client()
    Auth(client).signup()
    photo = photo_bytes(size=(1600, 1200))  # 1.92 megapixels
    data = {"file": [(io.BytesIO(photo), "big.jpg")]}
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == status
    if status == 400:
        assert "is 1600×1200, 1.9 megapixels; the limit is 1." in response.get_data(as_text=True)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_file_claiming_another_formats_signature_is_refused(upload, backends):
    ppm_posing_as_heic = b"P6\n#ftypheic\n4 4\n255\n" + bytes(48)
    response = upload((ppm_posing_as_heic, "photo.heic"))
    assert response.status_code == 400 and b"does not match its own file signature" in response.data
    assert stored_keys(backends.store) == []


def test_an_oversized_upload_gets_a_clear_413(make_app):
    client = make_app(MAX_UPLOAD_MB=1).test_client()
    Auth(client).signup()
    big = os.urandom(2 * 1024 * 1024)
    response = client.post(
        "/upload", data={"file": [(io.BytesIO(big), "big.jpg")]}, content_type="multipart/form-data"
    )
    assert response.status_code == 413 and b"larger than the 1 MB" in response.data


def test_a_failed_database_insert_leaves_no_stored_objects(upload, backends, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away mid-upload")

    monkeypatch.setattr(photo_data, "add_photo", fail)
    response = upload((photo_bytes(), "cat.jpg"))
    assert response.status_code == 500
    assert stored_keys(backends.store) == []


def test_a_storage_failure_answers_503_and_leaves_nothing(upload, backends, monkeypatch):
    from photogallery.storage.base import StorageError

    real_save = backends.store.save
    calls = []

    def flaky(key, fileobj, **kwargs):
        calls.append(key)
        if len(calls) == 2:
            raise StorageError("disk full")
        real_save(key, fileobj, **kwargs)

    monkeypatch.setattr(backends.store, "save", flaky)
    response = upload((photo_bytes(), "cat.jpg"))
    assert response.status_code == 503 and b"Nothing was lost" in response.data
    assert stored_keys(backends.store) == []


@pytest.mark.parametrize("name", ["../../etc/passwd.jpg", "C:\\Users\\me\\cat.jpg", "ca\x00t.jpg"])
def test_filenames_are_display_only_and_cleaned(upload, backends, user_client, name):
    upload((photo_bytes(), name))
    with backends.engine.connect() as conn:
        photo = conn.execute(select(photos)).one()
    assert "/" not in photo.original_filename and "\\" not in photo.original_filename
    assert "\x00" not in photo.original_filename
    assert all(k.startswith(f"u{photo.owner_id}/") for k in stored_keys(backends.store))


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_without_s3_the_page_posts_the_form_and_the_api_says_so(make_app):
    client = make_app().test_client()
    Auth(client).signup()

    page = client.get("/upload")

    assert b"data-direct-upload" not in page.data and b"upload.js" in page.data
    assert "connect-src" not in page.headers["Content-Security-Policy"]
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}
    headers = {"X-CSRFToken": csrf_token_of(client)}
    answer = client.post("/api/uploads", json=body, headers=headers)
    assert answer.status_code == 404 and "/api/photos" in answer.get_json()["error"]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("endpoint", ["/api/photos", "/upload"])
def test_a_full_decode_budget_answers_503_with_retry_after_and_stores_nothing(make_app, endpoint):
    app = make_app()
    backends = app.extensions["photogallery"]
    backends.decode_budget = DecodeBudget(backends.decode_budget.total, wait_seconds=0.2)
    client = app.test_client()
    Auth(client).signup()
    token = client.post("/api/tokens", auth=("alice", "correct horse battery")).get_json()["token"]
    data = {"file": [(io.BytesIO(photo_bytes()), "cat.jpg")]}
    headers = {"Authorization": f"Bearer {token}"} if endpoint.startswith("/api") else {}

    with backends.decode_budget.reserve(backends.decode_budget.total):  # other decodes
        response = client.post(
            endpoint, data=data, headers=headers, content_type="multipart/form-data"
        )

    assert response.status_code == 503 and response.headers["Retry-After"] == "15"
    assert "cat.jpg could not be processed now: the server is busy" in response.get_data(
        as_text=True
    )
    assert stored_keys(backends.store) == [] and backends.decode_budget.in_use == 0


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_concurrent_uploads_share_the_decode_budget(make_app):
    """Eight uploads at once, room to decode two: all stored, never more than two decoding."""
    app = make_app(DECODE_BUDGET_MEGAPIXELS="17")  # one 800x600 PNG reserves 8.2 MP
    backends = app.extensions["photogallery"]
    client = app.test_client()
    Auth(client).signup()
    token = client.post("/api/tokens", auth=("alice", "correct horse battery")).get_json()["token"]
    budget = backends.decode_budget
    seen: list[int] = []
    real_reserve = budget.reserve

    @contextlib.contextmanager
    def watched(pixels):
        with real_reserve(pixels):
            seen.append(budget.in_use)
            time.sleep(0.2)  # a decode takes a while: the others queue meanwhile
            yield

    budget.reserve = watched
    photos = [photo_bytes("PNG", size=(800, 600), seed=i) for i in range(8)]  # 0.48 MP each

    def upload(photo):
        data = {"file": [(io.BytesIO(photo), "p.png")]}
        headers = {"Authorization": f"Bearer {token}"}
        return (
            app.test_client()
            .post("/api/photos", data=data, headers=headers, content_type="multipart/form-data")
            .status_code
        )

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(upload, photos))

    assert statuses == [201] * 8 and len(seen) == 8
    one = decode_cost("image/png", Layout(800, 600), PREVIEW_SIZE)
    assert budget.peak <= budget.total == 17 * 10**6 and max(seen) == 2 * one
    assert budget.in_use == 0
