"""`flask storage migrate --to s3|local`: the whole library moves, resumably, sizes verified."""

import io
import secrets

import pytest
import requests

from photogallery.storage.local import LocalStore
from photogallery.storage.s3 import S3Store
from tests.conftest import Auth, photo_bytes, stored_keys
from tests.fixtures.servers import closed_port


@pytest.fixture
def target(s3_server, app_bucket, aws_env):
    """Where the library goes in S3: a fresh prefix in the session bucket."""
    prefix = f"migrated-{secrets.token_hex(4)}"
    store = S3Store(
        app_bucket, prefix=prefix, region=s3_server.region, endpoint_url=s3_server.endpoint_url
    )
    args = ["--bucket", app_bucket, "--prefix", prefix, "--region", s3_server.region]
    return store, [*args, "--endpoint-url", s3_server.endpoint_url]


def sizes(store):
    return {o.key: o.size for o in store.list_objects()}


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_local_library_moves_to_s3_and_is_served_from_there(
    runner, backends, upload, target, make_app, s3_admin
):
    upload((photo_bytes(seed=1), "Été.jpg"), (photo_bytes("PNG", seed=2), "b.png"))
    s3, args = target

    result = runner.invoke(args=["storage", "migrate", "--to", "s3", *args])

    assert result.exit_code == 0, result.output
    assert "copied 6 objects" in result.output and "set STORAGE=s3" in result.output
    assert sizes(s3) == sizes(backends.store)
    original = next(k for k in stored_keys(s3) if k.endswith("original.png"))
    head = s3_admin.head_object(Bucket=s3.bucket, Key=s3.prefix + original)
    assert head["ContentType"] == "image/png" and head["ContentDisposition"].endswith("b.png")
    client = make_app(**s3_settings(s3)).test_client()
    Auth(client).login()
    urls = client.get("/api/photos").get_json()["photos"][1]["urls"]
    assert requests.get(urls["original"], timeout=10).content == photo_bytes(seed=1)


def s3_settings(store):
    return {
        "STORAGE": "s3",
        "PHOTOS_BUCKET": store.bucket,
        "S3_PREFIX": store.prefix,
        "S3_ENDPOINT_URL": store.endpoint_url,
        "AWS_REGION": store.region,
    }


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_second_run_copies_only_what_is_missing_or_differs(runner, backends, upload, target):
    upload((photo_bytes(), "a.jpg"))
    s3, args = target
    runner.invoke(args=["storage", "migrate", "--to", "s3", *args])
    thumbnail = next(k for k in stored_keys(s3) if k.endswith("thumbnail.jpg"))
    s3.save(thumbnail, io.BytesIO(b"cut short"), content_type="image/jpeg")

    again = runner.invoke(args=["storage", "migrate", "--to", "s3", *args])

    assert again.exit_code == 0, again.output
    assert "copied 1 objects" in again.output and "skipped 2 already there" in again.output
    assert sizes(s3) == sizes(backends.store)


@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_an_s3_library_moves_back_to_disk(runner, backends, upload, tmp_path):
    upload((photo_bytes(), "a.jpg"))
    folder = tmp_path / "back"

    result = runner.invoke(args=["storage", "migrate", "--to", "local", "--photos-dir", folder])

    assert result.exit_code == 0, result.output
    local = LocalStore(str(folder), secret="x" * 32)
    assert sizes(local) == sizes(backends.store) and len(sizes(local)) == 3


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_objects_missing_from_the_source_are_reported(runner, backends, upload, target):
    upload((photo_bytes(), "a.jpg"))
    gone = next(k for k in stored_keys(backends.store) if k.endswith("preview.jpg"))
    backends.store.delete(gone)

    result = runner.invoke(args=["storage", "migrate", "--to", "s3", *target[1]])

    assert result.exit_code == 1
    assert "1 missing from the source" in result.output and f"missing: {gone}" in result.output


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_migrating_to_the_same_place_or_without_a_bucket_is_refused(runner, backends, aws_env):
    same = runner.invoke(args=["storage", "migrate", "--to", "local"])
    no_bucket = runner.invoke(args=["storage", "migrate", "--to", "s3"], env={"PHOTOS_BUCKET": ""})

    assert same.exit_code == 2 and "already in" in same.output
    assert no_bucket.exit_code == 2 and "--bucket or PHOTOS_BUCKET" in no_bucket.output


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_unreachable_target_is_a_message_not_a_traceback(runner, backends, upload, aws_env):
    upload((photo_bytes(), "a.jpg"))
    down = f"http://127.0.0.1:{closed_port()}"
    args = ["--bucket", "photos", "--region", "us-east-1", "--endpoint-url", down]

    result = runner.invoke(args=["storage", "migrate", "--to", "s3", *args])

    assert result.exit_code == 1 and "storage failed" in result.output
    assert "EndpointConnectionError" in result.output and "Traceback" not in result.output
