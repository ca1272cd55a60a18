"""Bulk import of a 200-photo library through the upload pipeline: counts, rows and objects,
resuming, a dry run, an S3 prefix on SeaweedFS, and a process pool."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import func, select

from photogallery import images
from photogallery.data import users as user_data
from photogallery.data.schema import photos
from photogallery.services import imports
from photogallery.services.import_sources import FolderSource, S3Source
from tests.conftest import sqlite_app, stored_keys
from tests.fixtures.photo_tree import (
    BAD_FILES,
    DISTINCT,
    DUPLICATES,
    EXIF_PHOTO,
    MAX_UPLOAD_MB,
    TRUNCATED,
)


def new_library(folder, **settings):
    """An empty gallery with one local user, alice; returns (backends, alice's id)."""
    app = sqlite_app(folder, MAX_UPLOAD_MB=str(MAX_UPLOAD_MB), **settings)
    backends = app.extensions["photogallery"]
    with backends.engine.begin() as conn:
        user = user_data.add_user(conn, provider="local", subject="alice", username="alice")
    return backends, user.id


def run(backends, owner_id, location, *, dry_run=False, workers=1, source=None):
    source = source or FolderSource(location)
    job = imports.Job(owner_id, "", dry_run, MAX_UPLOAD_MB * 2**20)
    listing = source.list_files()
    return imports.run_import(backends, source, listing.files, job, workers=workers)


def expected_refusals() -> dict[str, list[str]]:
    refused: dict[str, list[str]] = {}
    for name, reason in sorted(BAD_FILES.items()):
        refused.setdefault(reason, []).append(name)
    refused["is damaged and could not be read"] = [TRUNCATED]
    return refused


def assert_imported_once(summary) -> None:
    assert (summary.imported, summary.duplicates, summary.already_imported) == (
        DISTINCT,
        DUPLICATES,
        0,
    )
    assert {reason: sorted(names) for reason, names in summary.refused.items()} == (
        expected_refusals()
    )


@pytest.fixture(scope="module")
def imported(photo_tree, tmp_path_factory):
    """The library imported once, in this process."""
    backends, owner_id = new_library(tmp_path_factory.mktemp("gallery"))
    summary = run(backends, owner_id, photo_tree.root)
    yield backends, owner_id, summary
    backends.engine.dispose()


def test_folder_listing_is_sorted_and_skips_hidden_files_and_links(photo_tree):
    listing = FolderSource(photo_tree.root).list_files()
    names = [f.name for f in listing.files]
    assert sorted(names) == sorted([*photo_tree.photos, *photo_tree.refused])
    assert names.index("2019/summer/with date.jpg") < names.index("2020/empty.jpg")
    assert listing.skipped == {"hidden": 2, "symbolic link": 2}


def test_import_counts_photos_duplicates_and_refusals_by_reason(imported):
    _backends, _owner_id, summary = imported
    assert_imported_once(summary)


def test_import_stores_one_row_and_three_objects_per_distinct_photo(imported):
    backends, owner_id, _summary = imported
    with backends.engine.connect() as conn:
        rows = conn.execute(select(photos).where(photos.c.owner_id == owner_id)).all()
    assert len(rows) == DISTINCT
    assert len({r.sha256 for r in rows}) == DISTINCT
    keys = {k for r in rows for k in (r.original_key, r.preview_key, r.thumbnail_key)}
    assert stored_keys(backends.store) == sorted(keys)
    # The same pipeline as an upload: the EXIF date is read, the name kept for display.
    dated = [r for r in rows if r.original_filename == EXIF_PHOTO.rsplit("/", 1)[-1]]
    assert [str(r.taken_at) for r in dated] == ["2019-07-14 09:30:00"]
    assert "東京 6.jpg" in {r.original_filename for r in rows}


def test_rerun_imports_nothing_and_decodes_nothing(imported, photo_tree, monkeypatch):
    backends, owner_id, _summary = imported

    def no_decoding(*_args, **_kwargs):
        raise AssertionError("a file already imported was decoded again")

    monkeypatch.setattr(images, "process", no_decoding)
    started = time.monotonic()
    summary = run(backends, owner_id, photo_tree.root)
    took = time.monotonic() - started
    assert (summary.imported, summary.duplicates) == (0, 0)
    assert summary.already_imported == DISTINCT + DUPLICATES
    assert summary.refused_count == len(BAD_FILES) + 1
    assert took < 5, f"a rerun of 200 photos took {took:.1f} s"
    with backends.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(photos)).scalar_one()
    assert count == DISTINCT


def test_dry_run_reports_what_would_happen_and_writes_nothing(photo_tree, tmp_path):
    backends, owner_id = new_library(tmp_path)
    summary = run(backends, owner_id, photo_tree.root, dry_run=True)
    # Only the first bytes are checked: the truncated JPEG would be refused when decoded.
    assert (summary.would_import, summary.duplicates) == (DISTINCT + 1, DUPLICATES)
    refused = {reason: sorted(names) for reason, names in summary.refused.items()}
    assert refused == {r: n for r, n in expected_refusals().items() if n != [TRUNCATED]}
    with backends.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(photos)).scalar_one() == 0
    assert stored_keys(backends.store) == []


def test_s3_prefix_imports_like_a_folder_in_a_process_pool(
    photo_tree, tmp_path, s3_server, app_bucket, s3_admin, aws_env
):
    prefix = f"library-{time.monotonic_ns()}"
    for path in sorted(photo_tree.root.rglob("*")):
        relative = path.relative_to(photo_tree.root).as_posix()
        if path.is_file() and not path.is_symlink():
            s3_admin.upload_file(str(path), app_bucket, f"{prefix}/{relative}")
    backends, owner_id = new_library(
        tmp_path,
        STORAGE="s3",
        PHOTOS_BUCKET=app_bucket,
        S3_PREFIX=f"{prefix}-gallery",
        S3_ENDPOINT_URL=s3_server.endpoint_url,
        AWS_REGION=s3_server.region,
    )
    source = S3Source(f"s3://{app_bucket}/{prefix}/", backends.settings)
    assert source.list_files().skipped == {"hidden": 2}
    summary = run(backends, owner_id, None, source=source, workers=2)
    assert_imported_once(summary)
    with backends.engine.connect() as conn:
        rows = conn.execute(select(photos).where(photos.c.owner_id == owner_id)).all()
    keys = {k for r in rows for k in (r.original_key, r.preview_key, r.thumbnail_key)}
    assert len(rows) == DISTINCT and stored_keys(backends.store) == sorted(keys)


def test_a_worker_that_cannot_start_refuses_each_file_instead_of_failing_the_pool(
    photo_tree, tmp_path, monkeypatch
):
    """An initializer that raises makes multiprocessing start new workers forever (a hang)."""
    backends, owner_id = new_library(tmp_path)
    broken = dataclasses.replace(backends.settings, storage="s3", aws_region=None)
    monkeypatch.setattr(imports.os, "nice", lambda _n: 0)  # this is the test's own process
    monkeypatch.setattr(imports, "_worker", "not started")
    source = FolderSource(photo_tree.root)
    imports._start_worker(broken, source, imports.Job(owner_id, "", False, 2**20))
    outcome = imports._worker_task(source.list_files().files[0])
    assert (outcome.status, outcome.reason) == (
        imports.REFUSED,
        "could not be imported: a worker failed to start (ValueError)",
    )
