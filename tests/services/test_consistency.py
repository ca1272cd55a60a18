"""`flask storage check [--fix]`: objects without rows and rows without objects, on disk and S3."""

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from photogallery.data import photos as photo_data
from photogallery.services import consistency
from photogallery.storage.base import StorageError, download
from tests.conftest import insert_photo_row, photo_bytes, stored_keys

pytestmark = pytest.mark.parametrize("stack", ["sqlite", "s3"], indirect=True)
NOW = ["--grace-minutes", "0"]  # judge everything, however new


@pytest.fixture
def two_photos(upload, user_client):
    """Two uploaded photos, newest first, as the API describes them."""
    upload((photo_bytes(seed=1), "a.jpg"))
    upload((photo_bytes(seed=2), "b.jpg"))
    return user_client.get("/api/photos").get_json()["photos"]


def keys_of(backends, photo_id):
    with backends.engine.connect() as conn:
        return photo_data.get_photo(conn, photo_id).keys


def check(runner, *args):
    return runner.invoke(args=["storage", "check", *NOW, *args])


def test_a_consistent_library_passes(runner, two_photos):
    result = check(runner)

    assert result.exit_code == 0, result.output
    assert "6 objects; 2 photos" in result.output and "agree" in result.output


def test_problems_are_reported_with_keys_and_nothing_changes(runner, backends, two_photos):
    backends.store.save("u1/stray/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")
    lost_original, _thumbnail, _preview = keys_of(backends, two_photos[0]["id"])
    backends.store.delete(lost_original)

    result = check(runner)

    assert result.exit_code == 1
    assert "objects without a photo: 1\n  u1/stray/original.jpg" in result.output
    photo_id = two_photos[0]["id"]
    assert f"photo {photo_id} of user 1 (original lost): {lost_original}" in result.output
    assert backends.store.exists("u1/stray/original.jpg")
    assert len(stored_keys(backends.store)) == 6


def test_fix_removes_orphans_deletes_lost_photos_and_remakes_renditions(
    runner, backends, two_photos, user_client
):
    lost, kept = two_photos
    backends.store.save("incoming/u1/abandoned", io.BytesIO(b"x"), content_type="image/jpeg")
    lost_keys, kept_keys = keys_of(backends, lost["id"]), keys_of(backends, kept["id"])
    backends.store.delete(lost_keys[0])  # the original
    backends.store.delete(kept_keys[1])  # the thumbnail

    result = check(runner, "--fix")

    assert result.exit_code == 0, result.output
    assert "removed 3 objects" in result.output  # the abandoned upload + the lost photo's two
    assert f"deleted 1 photos whose original was lost: {lost['id']}" in result.output
    assert f"remade renditions of 1 photos: {kept['id']}" in result.output
    assert stored_keys(backends.store) == sorted(kept_keys)
    assert [p["id"] for p in user_client.get("/api/photos").get_json()["photos"]] == [kept["id"]]
    assert "agree" in check(runner).output


def test_new_objects_are_left_alone_during_the_grace_period(runner, backends, two_photos):
    backends.store.save("u1/uploading/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")

    result = runner.invoke(args=["storage", "check", "--fix"])

    assert result.exit_code == 0, result.output
    assert "left alone, younger than 180 minutes: 1 objects" in result.output
    assert backends.store.exists("u1/uploading/original.jpg")


def test_a_fix_that_would_remove_most_of_the_bucket_is_refused(runner, backends, two_photos):
    for n in range(12):
        backends.store.save(f"u9/x{n}/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")

    refused = check(runner, "--fix")

    assert refused.exit_code == 1 and "Nothing was changed" in refused.output
    assert len(stored_keys(backends.store)) == 18
    forced = check(runner, "--fix", "--force")
    assert forced.exit_code == 0 and len(stored_keys(backends.store)) == 6


def add_rows_without_objects(backends, owner_id: int, count: int) -> None:
    """Photo rows whose objects were never stored: each counts as a lost original."""
    with backends.engine.begin() as conn:
        for n in range(count):
            insert_photo_row(conn, owner_id, 1000 + n)


def photo_count(backends) -> int:
    with backends.engine.connect() as conn:
        return len(photo_data.list_photo_ids(conn))


@pytest.mark.parametrize(("lost", "refused"), [(10, False), (11, True)])
def test_a_fix_that_would_delete_over_ten_and_over_half_of_the_rows_is_refused(
    runner, backends, two_photos, lost, refused
):
    with backends.engine.connect() as conn:
        owner_id = photo_data.get_photo(conn, two_photos[0]["id"]).owner_id
    add_rows_without_objects(backends, owner_id, lost)  # 2 good photos + `lost` lost ones

    result = check(runner, "--fix")

    if refused:
        assert result.exit_code == 1 and f"{lost} of {lost + 2} photos have lost" in result.output
        assert photo_count(backends) == lost + 2
    else:
        assert result.exit_code == 0, result.output
        assert photo_count(backends) == 2


def test_an_emptied_photo_folder_does_not_let_a_fix_delete_every_row(runner, backends, two_photos):
    for key in stored_keys(backends.store):
        backends.store.delete(key)

    refused = check(runner, "--fix")

    assert refused.exit_code == 1 and "2 of 2 photos have lost their original" in refused.output
    assert photo_count(backends) == 2
    forced = check(runner, "--fix", "--force")
    assert forced.exit_code == 0 and photo_count(backends) == 0


def test_an_emptied_database_does_not_let_a_fix_delete_every_object(runner, backends, two_photos):
    with backends.engine.begin() as conn:
        for photo in two_photos:
            photo_data.delete_photo(conn, photo["id"])  # the rows go, the six objects stay
    objects = stored_keys(backends.store)

    refused = check(runner, "--fix")

    assert refused.exit_code == 1 and "6 of 6 objects have no photo row" in refused.output
    assert stored_keys(backends.store) == objects
    forced = check(runner, "--fix", "--force")
    assert forced.exit_code == 0 and stored_keys(backends.store) == []


def read(store, key: str) -> bytes:
    local = io.BytesIO()
    download(store, key, local)
    return local.getvalue()


def judge_all(backends, **kwargs):
    return consistency.check_storage(backends, grace=timedelta(0), **kwargs)


def test_remade_renditions_are_jpegs_the_size_of_the_ones_lost(
    backends, two_photos, stack, request
):
    photo_id = two_photos[0]["id"]
    _original, thumbnail, preview = keys_of(backends, photo_id)
    sizes = {
        key: Image.open(io.BytesIO(read(backends.store, key))).size for key in (thumbnail, preview)
    }
    for key in (thumbnail, preview):
        backends.store.delete(key)

    report = consistency.fix_storage(backends, judge_all(backends))

    assert report.repaired_photos == [photo_id] and report.problems == []
    for key in (thumbnail, preview):
        with Image.open(io.BytesIO(read(backends.store, key))) as remade:
            assert (remade.format, remade.size) == ("JPEG", sizes[key])
        if stack == "s3":  # served to browsers by S3 with the type it was stored with
            head = request.getfixturevalue("s3_admin").head_object(
                Bucket=backends.store.bucket, Key=backends.store.prefix + key
            )
            assert head["ContentType"] == "image/jpeg"


def test_an_original_that_no_longer_decodes_is_reported_not_repaired(backends, two_photos):
    photo_id = two_photos[0]["id"]
    original, thumbnail, _preview = keys_of(backends, photo_id)
    backends.store.save(original, io.BytesIO(b"not an image"), content_type="image/jpeg")
    backends.store.delete(thumbnail)

    report = consistency.fix_storage(backends, judge_all(backends))

    assert report.repaired_photos == []
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"could not remake renditions of photo {photo_id}: ")
    assert not backends.store.exists(thumbnail)


@pytest.mark.parametrize(("megapixels", "repaired"), [(1, False), (2, True)])
def test_remaking_renditions_keeps_to_the_megapixel_limit(
    backends, two_photos, megapixels, repaired
):
    photo_id = two_photos[0]["id"]
    original, thumbnail, _preview = keys_of(backends, photo_id)
    big = photo_bytes(size=(1500, 1000))  # 1.5 megapixels
    backends.store.save(original, io.BytesIO(big), content_type="image/jpeg")
    backends.store.delete(thumbnail)
    limited = replace(
        backends, settings=replace(backends.settings, max_image_megapixels=megapixels)
    )

    report = consistency.fix_storage(limited, judge_all(limited))

    assert (report.repaired_photos == [photo_id]) is repaired
    assert backends.store.exists(thumbnail) is repaired


class FailingDeletes:
    """The app's store, except that deleting the named keys fails (a permission, an outage)."""

    def __init__(self, store, *failing: str) -> None:
        self._store, self._failing = store, set(failing)

    def __getattr__(self, name):
        return getattr(self._store, name)

    def delete(self, key: str) -> None:
        if key in self._failing:
            raise StorageError(f"could not delete {key}: access denied")
        self._store.delete(key)


def test_orphans_past_one_that_cannot_be_removed_or_is_in_use_again_are_still_removed(
    backends, two_photos
):
    strays = [f"u9/stray{n}/original.jpg" for n in range(3)]
    for key in strays:
        backends.store.save(key, io.BytesIO(b"x"), content_type="image/jpeg")
    in_use = keys_of(backends, two_photos[0]["id"])[0]  # a row took it since the check
    report = consistency.Report(objects=9, photos=2, orphans=[strays[0], in_use, *strays[1:]])
    failing = replace(backends, store=FailingDeletes(backends.store, strays[0]))

    consistency.fix_storage(failing, report)

    assert report.removed_objects == strays[1:]
    assert report.problems == [
        f"could not remove {strays[0]}: could not delete {strays[0]}: access denied"
    ]
    assert backends.store.exists(strays[0]) and backends.store.exists(in_use)
    assert not any(backends.store.exists(key) for key in strays[1:])


def test_a_row_or_object_exactly_as_old_as_the_grace_is_judged(backends, two_photos):
    stray = "u9/stray/original.jpg"
    backends.store.save(stray, io.BytesIO(b"x"), content_type="image/jpeg")
    modified = next(o.modified for o in backends.store.list_objects() if o.key == stray)
    with backends.engine.begin() as conn:
        owner_id = photo_data.get_photo(conn, two_photos[0]["id"]).owner_id
        insert_photo_row(conn, owner_id, 77, created_at=modified.replace(tzinfo=None))

    at_the_edge = consistency.check_storage(
        backends, grace=timedelta(minutes=5), now=modified + timedelta(minutes=5)
    )
    just_before = consistency.check_storage(
        backends,
        grace=timedelta(minutes=5),
        now=modified + timedelta(minutes=5) - timedelta(microseconds=1),
    )

    assert stray in at_the_edge.orphans and len(at_the_edge.missing) == 1
    assert stray in just_before.recent_unused and just_before.missing == []
    assert modified.tzinfo is not None and datetime.now(UTC) >= modified


def leave_unfinished_write(backends, request) -> str:
    """What a save killed midway leaves: a temp file beside a photo, or a multipart upload."""
    store = backends.store
    if hasattr(store, "root"):
        folder = next((store.root / "u1").iterdir())
        (folder / ".upload-k1ll3d").write_bytes(b"half a photo")
        return f"u1/{folder.name}/.upload-k1ll3d"
    s3 = request.getfixturevalue("s3_admin")
    s3.create_multipart_upload(Bucket=store.bucket, Key=f"{store.prefix}u1/big/original.jpg")
    return "u1/big/original.jpg"


def test_unfinished_writes_are_reported_and_fix_discards_them(
    runner, backends, two_photos, request
):
    key = leave_unfinished_write(backends, request)

    found = check(runner)
    fixed = check(runner, "--fix")

    assert found.exit_code == 1
    assert f"unfinished writes a crash left: 1\n  {key} (started " in found.output
    assert fixed.exit_code == 0, fixed.output
    assert "discarded 1 unfinished writes" in fixed.output
    assert list(backends.store.list_unfinished()) == []
    assert len(stored_keys(backends.store)) == 6  # the photos' objects stay
    assert "agree" in check(runner).output


def test_a_write_in_progress_is_left_alone_during_the_grace_period(
    runner, backends, two_photos, request
):
    leave_unfinished_write(backends, request)

    result = runner.invoke(args=["storage", "check", "--fix"])

    assert result.exit_code == 0, result.output
    assert "younger than 180 minutes: 0 objects, 1 unfinished writes" in result.output
    assert len(list(backends.store.list_unfinished())) == 1


def test_renditions_are_remade_for_an_original_accepted_under_older_rules(
    runner, backends, two_photos
):
    """An original kept from before the container checks (bytes after its end) still gets its
    thumbnail back: only the pixel limits apply to what is already stored."""
    photo = two_photos[0]
    original, thumbnail, _preview = keys_of(backends, photo["id"])
    older = photo_bytes(seed=1) + b"PK\x03\x04 a zip that uploads now refuse"
    backends.store.save(original, io.BytesIO(older), content_type="image/jpeg")
    backends.store.delete(thumbnail)

    result = check(runner, "--fix")

    assert f"remade renditions of 1 photos: {photo['id']}" in result.output, result.output
    assert backends.store.exists(thumbnail)
