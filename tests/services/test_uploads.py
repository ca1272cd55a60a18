"""The upload service stores the original beside the decode, and still leaves nothing half-made."""

from __future__ import annotations

import tempfile
import threading

import pytest
from sqlalchemy import func, select

from photogallery import images
from photogallery.data.schema import photos
from photogallery.services import early_original, uploads
from photogallery.services.errors import DuplicateUpload, UploadRejected
from photogallery.storage.base import StorageError
from tests.conftest import photo_bytes, sqlite_app, stored_keys


@pytest.fixture
def site(tmp_path):
    app = sqlite_app(tmp_path)
    app.test_client().post("/api/users", json={"username": "ann", "password": "pass phrase 12"})
    yield app.extensions["photogallery"]
    app.extensions["photogallery"].engine.dispose()


def on_disk(data: bytes):
    """The upload as the web layer hands it over: a real temporary file."""
    f = tempfile.TemporaryFile()  # noqa: SIM115 (the upload service reads it; gone at exit)
    f.write(data)
    f.seek(0)
    return f


def watch_original(monkeypatch, store, fail: bool = False) -> tuple[threading.Event, ...]:
    """Events set once the original's store has begun and ended (optionally failing it)."""
    begun, ended, real = threading.Event(), threading.Event(), store.save

    def save(key, fileobj, **kwargs):
        if "/original." not in key:
            return real(key, fileobj, **kwargs)
        begun.set()
        try:
            if fail:
                raise StorageError("the disk is full")
            return real(key, fileobj, **kwargs)
        finally:
            ended.set()

    monkeypatch.setattr(store, "save", save)
    return begun, ended


def row_count(backends) -> int:
    with backends.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(photos)).scalar_one()


def test_the_original_is_stored_while_the_renditions_are_made(site, monkeypatch):
    (begun, _), real = watch_original(monkeypatch, site.store), images.render
    seen = []

    def render(fileobj, inspected, **kwargs):
        seen.append(begun.wait(5))  # sequential code would store it only after this returns
        return real(fileobj, inspected, **kwargs)

    monkeypatch.setattr(images, "render", render)

    photo = uploads.add_photo(site, 1, on_disk(photo_bytes(seed=3)), "cat.jpg")

    assert seen == [True]
    with site.store.open(photo.original_key) as f:
        assert f.read() == photo_bytes(seed=3)  # whole, though both threads read the one file


def test_a_photo_refused_after_its_original_was_stored_early_leaves_nothing(site, monkeypatch):
    begun, ended = watch_original(monkeypatch, site.store)
    broken = photo_bytes(seed=4)[:5000]  # a JPEG's start: sniffed as one, refused on decoding

    with pytest.raises(UploadRejected):
        uploads.add_photo(site, 1, on_disk(broken), "cut.jpg")

    assert begun.is_set() and ended.wait(5)  # judged once the early store has finished
    assert stored_keys(site.store) == [] and row_count(site) == 0


def test_an_original_that_cannot_be_stored_fails_the_upload_and_leaves_nothing(site, monkeypatch):
    _, ended = watch_original(monkeypatch, site.store, fail=True)

    with pytest.raises(StorageError):
        uploads.add_photo(site, 1, on_disk(photo_bytes(seed=5)), "cat.jpg")

    assert ended.is_set()
    assert stored_keys(site.store) == [] and row_count(site) == 0


def test_the_helper_reads_the_upload_even_after_pillow_closed_it():
    f = on_disk(b"the photo's bytes")
    reader = early_original.separate_reader(f)
    f.close()  # as Image.close() does to a file it refuses, while the hash may still be running

    with reader:
        assert reader.read() == b"the photo's bytes"


def test_a_duplicate_is_found_before_its_decode(site, monkeypatch):
    uploads.add_photo(site, 1, on_disk(photo_bytes(seed=6)), "cat.jpg")
    monkeypatch.setattr(images, "render", lambda *a, **k: pytest.fail("decoded a duplicate"))

    with pytest.raises(DuplicateUpload):
        uploads.add_photo(site, 1, on_disk(photo_bytes(seed=6)), "again.jpg")
