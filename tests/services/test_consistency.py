"""`flask storage check [--fix]`: objects without rows and rows without objects, on disk and S3."""

import io

import pytest

from photogallery.data import photos as photo_data
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
