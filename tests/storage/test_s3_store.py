"""S3Store against a real SeaweedFS S3 gateway (plus a few offline unit tests)."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.stub import Stubber

from photogallery.storage.base import ObjectNotFound, StorageError
from photogallery.storage.s3 import S3Store, content_disposition, content_type_for
from tests.conftest import stored_keys
from tests.fixtures.servers import S3Server, closed_port

JPEG = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    """One bucket per module; each test works under its own prefix."""
    return s3_server.new_bucket("photos")


@pytest.fixture
def store(s3_server: S3Server, bucket: str, aws_env: None) -> S3Store:
    """A store under a fresh prefix, with credentials from the environment."""
    return S3Store(
        bucket,
        prefix=f"t-{uuid.uuid4().hex[:8]}",
        region=s3_server.region,
        endpoint_url=s3_server.endpoint_url,
        url_expires=60,
    )


@pytest.fixture
def raw(s3_server: S3Server) -> Any:
    """A plain boto3 client, to look behind the store's back."""
    return s3_server.client()


def head(raw: Any, store: S3Store, key: str) -> dict[str, Any]:
    """The server's view of an object the store saved."""
    return raw.head_object(Bucket=store.bucket, Key=store.prefix + key)


# -- round trips -------------------------------------------------------------


def test_save_open_round_trip_keeps_type_disposition_and_sse(store: S3Store, raw: Any) -> None:
    store.save(
        "u1/a.jpg", io.BytesIO(JPEG), content_type="image/jpeg", download_name="Été 2024.jpg"
    )

    with store.open("u1/a.jpg") as body:
        assert body.read() == JPEG
    meta = head(raw, store, "u1/a.jpg")
    assert meta["ContentType"] == "image/jpeg"
    assert meta["ContentDisposition"] == "inline; filename*=UTF-8''%C3%89t%C3%A9%202024.jpg"
    assert meta["ServerSideEncryption"] == "AES256"
    assert store.exists("u1/a.jpg")
    assert store.size("u1/a.jpg") == len(JPEG)


def test_non_image_is_stored_as_attachment(store: S3Store, raw: Any) -> None:
    store.save("u1/evil.html", io.BytesIO(b"<script>alert(1)</script>"), content_type="text/html")

    assert head(raw, store, "u1/evil.html")["ContentDisposition"].startswith("attachment;")


def test_sse_can_be_disabled(s3_server: S3Server, bucket: str, aws_env: None, raw: Any) -> None:
    store = S3Store(bucket, region="us-east-1", endpoint_url=s3_server.endpoint_url, sse="")
    key = f"plain-{uuid.uuid4().hex}.png"
    store.save(key, io.BytesIO(b"png"), content_type="image/png")

    assert "ServerSideEncryption" not in raw.head_object(Bucket=bucket, Key=key)


def test_kms_is_refused_by_seaweedfs_without_kms(
    s3_server: S3Server, bucket: str, aws_env: None
) -> None:
    store = S3Store(
        bucket,
        region="us-east-1",
        endpoint_url=s3_server.endpoint_url,
        kms_key_id="alias/photos",
        max_attempts=1,
    )

    with pytest.raises(StorageError):
        store.save("k.jpg", io.BytesIO(JPEG), content_type="image/jpeg")


@pytest.mark.slow
def test_multipart_upload_round_trip(store: S3Store, raw: Any) -> None:
    data = os.urandom(20 * 1024 * 1024 + 123)
    store.save("u1/big.jpg", io.BytesIO(data), content_type="image/jpeg")

    meta = head(raw, store, "u1/big.jpg")
    assert meta["ETag"].strip('"').endswith("-5")  # four 5 MB parts and the rest
    assert meta["ServerSideEncryption"] == "AES256"
    assert meta["ContentDisposition"].startswith("inline;")
    digest = hashlib.sha256()
    with store.open("u1/big.jpg") as body:
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_copy_is_server_side_and_replaces_type_and_name(store: S3Store, raw: Any) -> None:
    store.save("incoming/x", io.BytesIO(JPEG), content_type="image/png")

    store.copy("incoming/x", "u1/c.jpg", content_type="image/jpeg", download_name="Cat.jpg")

    meta = head(raw, store, "u1/c.jpg")
    assert meta["ContentType"] == "image/jpeg"
    assert meta["ContentDisposition"] == "inline; filename*=UTF-8''Cat.jpg"
    assert meta["ServerSideEncryption"] == "AES256"
    assert store.size("u1/c.jpg") == len(JPEG) and store.exists("incoming/x")


@pytest.mark.slow
def test_copy_of_a_large_object_goes_in_parts(store: S3Store, raw: Any) -> None:
    data = os.urandom(9 * 1024 * 1024)
    store.save("incoming/big", io.BytesIO(data), content_type="image/jpeg")

    store.copy("incoming/big", "u1/big.jpg", content_type="image/jpeg")

    assert head(raw, store, "u1/big.jpg")["ContentType"] == "image/jpeg"
    with store.open("u1/big.jpg") as body:
        assert hashlib.sha256(body.read()).digest() == hashlib.sha256(data).digest()


def test_copy_of_a_missing_object_raises_object_not_found(store: S3Store) -> None:
    with pytest.raises(ObjectNotFound):
        store.copy("incoming/none", "u1/none.jpg", content_type="image/jpeg")


def test_list_objects_gives_sizes_and_times_in_one_listing(store: S3Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.save("u1/a.jpg", io.BytesIO(JPEG), content_type="image/jpeg")
    store.save("u1/b.jpg", io.BytesIO(b"xy"), content_type="image/jpeg")

    listed = {o.key: o for o in store.list_objects("u1/")}

    assert {k: o.size for k, o in listed.items()} == {"u1/a.jpg": len(JPEG), "u1/b.jpg": 2}
    assert all(o.modified >= before for o in listed.values())


@pytest.mark.slow
def test_a_large_upload_holds_only_a_few_parts_in_memory(store: S3Store, tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for _ in range(48):
            f.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            store.save("u1/big.bin", f, content_type="image/jpeg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert store.size("u1/big.bin") == 48 * 1024 * 1024
    # Well under the file's size (30 MB measured); s3transfer's defaults peak at 63 MB here.
    assert peak < 40 * 1024 * 1024


def test_delete_leaves_nothing_and_missing_is_fine(store: S3Store) -> None:
    store.save("u1/gone.jpg", io.BytesIO(JPEG), content_type="image/jpeg")

    store.delete("u1/gone.jpg")
    store.delete("u1/gone.jpg")
    store.delete("never/was.jpg")

    assert not store.exists("u1/gone.jpg")
    assert stored_keys(store, "u1/") == []


@pytest.mark.parametrize("verb", ["open", "size"])
def test_missing_key_raises_object_not_found(store: S3Store, verb: str) -> None:
    with pytest.raises(ObjectNotFound):
        getattr(store, verb)("nope/missing.jpg")


def test_listing_strips_store_prefix_and_filters(s3_server: S3Server, store: S3Store) -> None:
    other = S3Store(
        store.bucket, prefix="other", region="us-east-1", endpoint_url=s3_server.endpoint_url
    )
    for key in ("u1/a.jpg", "u1/b.png", "u2/c.jpg"):
        store.save(key, io.BytesIO(JPEG), content_type="image/jpeg")
    other.save("u1/x.jpg", io.BytesIO(JPEG), content_type="image/jpeg")

    assert stored_keys(store) == ["u1/a.jpg", "u1/b.png", "u2/c.jpg"]
    assert stored_keys(store, "u1/") == ["u1/a.jpg", "u1/b.png"]
    assert stored_keys(store, "u9/") == []


def test_unfinished_multipart_uploads_are_listed_and_aborted(store: S3Store, raw: Any) -> None:
    # What a process killed in the middle of a large save leaves: an upload with a part, no object.
    key = store.prefix + "u1/big/original.jpg"
    started = raw.create_multipart_upload(Bucket=store.bucket, Key=key)["UploadId"]
    part = b"x" * (5 * 1024 * 1024)
    raw.upload_part(Bucket=store.bucket, Key=key, UploadId=started, PartNumber=1, Body=part)

    (unfinished,) = store.list_unfinished()

    assert unfinished.key == "u1/big/original.jpg" and unfinished.upload_id == started
    assert abs(unfinished.started - datetime.now(UTC)) < timedelta(minutes=5)
    assert list(store.list_objects()) == []  # invisible to the object listing
    store.discard_unfinished(unfinished)
    assert list(store.list_unfinished()) == []
    store.discard_unfinished(unfinished)  # already gone: success


# -- presigned GET URLs ------------------------------------------------------


def test_presigned_url_downloads_over_http(store: S3Store) -> None:
    store.save("u1/p.jpg", io.BytesIO(JPEG), content_type="image/jpeg")

    resp = requests.get(store.url("u1/p.jpg", download_name="holiday.jpg"), timeout=10)

    assert resp.status_code == 200
    assert resp.content == JPEG
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["Content-Disposition"] == "inline; filename*=UTF-8''holiday.jpg"


def test_url_of_unknown_type_is_octet_stream_attachment(store: S3Store) -> None:
    store.save("u1/page.html", io.BytesIO(b"<h1>hi</h1>"), content_type="text/html")

    resp = requests.get(store.url("u1/page.html"), timeout=10)

    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment;")


def test_expired_url_is_refused(s3_server: S3Server, store: S3Store) -> None:
    store.save("u1/e.jpg", io.BytesIO(JPEG), content_type="image/jpeg")
    short = S3Store(
        store.bucket,
        prefix=store.prefix,
        region="us-east-1",
        endpoint_url=s3_server.endpoint_url,
        url_expires=2,  # X-Amz-Date has whole seconds: 1 s could be over at once
    )
    url = short.url("u1/e.jpg")
    assert requests.get(url, timeout=10).status_code == 200

    time.sleep(3)

    assert requests.get(url, timeout=10).status_code == 403


def _flip_signature(url: str) -> str:
    """Change one character of the X-Amz-Signature value."""
    start = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    return url[:start] + ("0" if url[start] != "0" else "1") + url[start + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        _flip_signature,
        lambda url: url.replace("/u1/t.jpg?", "/u1/other.jpg?"),
        lambda url: url.replace("image%2Fjpeg", "text%2Fhtml"),
        lambda url: url.replace("inline", "attachment"),
    ],
    ids=["signature", "key", "response-content-type", "response-content-disposition"],
)
def test_tampered_url_is_refused(store: S3Store, tamper: Any) -> None:
    store.save("u1/t.jpg", io.BytesIO(JPEG), content_type="image/jpeg")
    store.save("u1/other.jpg", io.BytesIO(JPEG), content_type="image/jpeg")
    url = store.url("u1/t.jpg")
    tampered = tamper(url)
    assert tampered != url

    assert requests.get(tampered, timeout=10).status_code == 403


def test_unsigned_request_is_refused(s3_server: S3Server, store: S3Store) -> None:
    store.save("u1/anon.jpg", io.BytesIO(JPEG), content_type="image/jpeg")

    url = f"{s3_server.endpoint_url}/{store.bucket}/{store.prefix}u1/anon.jpg"
    assert requests.get(url, timeout=10).status_code == 403


# -- presigned POST ----------------------------------------------------------


def _post(form: dict[str, Any], data: bytes, content_type: str = "image/jpeg") -> Any:
    """Submit a presigned POST form the way a browser would."""
    files = {"file": ("upload.jpg", data, content_type)}
    return requests.post(form["url"], data=form["fields"], files=files, timeout=10)


def test_presigned_post_uploads(store: S3Store, raw: Any) -> None:
    form = store.presigned_post("u1/direct.jpg", content_type="image/jpeg", max_bytes=1024)

    resp = _post(form, JPEG)

    assert resp.status_code in (200, 201, 204), resp.text
    assert store.size("u1/direct.jpg") == len(JPEG)
    meta = head(raw, store, "u1/direct.jpg")
    assert meta["ContentType"] == "image/jpeg"
    assert meta["ContentDisposition"].startswith("inline;")
    assert meta["ServerSideEncryption"] == "AES256"


def test_presigned_post_refuses_too_large_file(store: S3Store) -> None:
    form = store.presigned_post("u1/huge.jpg", content_type="image/jpeg", max_bytes=100)

    resp = _post(form, JPEG + b"x" * 100)

    assert resp.status_code == 400
    assert "EntityTooLarge" in resp.text
    assert not store.exists("u1/huge.jpg")


@pytest.mark.parametrize("field", ["Content-Type", "key"])
def test_presigned_post_refuses_changed_fields(store: S3Store, field: str) -> None:
    form = store.presigned_post("u1/p.jpg", content_type="image/jpeg", max_bytes=1024)
    form["fields"][field] = {"Content-Type": "text/html", "key": "elsewhere.jpg"}[field]

    resp = _post(form, JPEG)

    assert resp.status_code == 403
    assert not store.exists("u1/p.jpg")


# -- failures ----------------------------------------------------------------


def test_check_passes_for_reachable_bucket(store: S3Store) -> None:
    store.check()


def test_check_fails_for_missing_bucket(s3_server: S3Server, aws_env: None) -> None:
    store = S3Store("no-such-bucket-x1", region="us-east-1", endpoint_url=s3_server.endpoint_url)

    with pytest.raises(StorageError) as info:
        store.check()
    assert not isinstance(info.value, ObjectNotFound)


def test_check_fails_quickly_when_endpoint_is_down(s3_server: S3Server, aws_env: None) -> None:
    store = S3Store(
        "photos",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        connect_timeout=1,
        read_timeout=2,
        max_attempts=2,
    )
    started = time.monotonic()

    with pytest.raises(StorageError) as info:
        store.check()

    assert time.monotonic() - started < 5
    assert s3_server.secret_key not in str(info.value)
    assert "EndpointConnectionError" in str(info.value)


def test_wrong_secret_is_refused_without_leaking_it(
    s3_server: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch, aws_env: None
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
    store = S3Store(bucket, region="us-east-1", endpoint_url=s3_server.endpoint_url)

    with pytest.raises(StorageError) as info:
        store.save("w.jpg", io.BytesIO(JPEG), content_type="image/jpeg")

    assert "SignatureDoesNotMatch" in str(info.value)
    assert "wrong-secret-value" not in str(info.value)


# -- offline unit tests ------------------------------------------------------


def _offline_client() -> Any:
    """A client for a port nothing listens on: any network call would fail."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="offline-secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def test_url_is_signed_locally_with_safe_response_headers() -> None:
    store = S3Store("photos", prefix="p/", region="us-east-1", client=_offline_client())

    url = store.url("u1/x.webp", download_name='a"b;c.webp')

    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/photos/p/u1/x.webp"
    assert query["X-Amz-Expires"] == ["4200"]  # URL_EXPIRES + the window URLs are kept for
    assert query["response-content-type"] == ["image/webp"]
    assert query["response-content-disposition"] == ["inline; filename*=UTF-8''a%22b%3Bc.webp"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a/b.JPG", "image/jpeg"),
        ("a/b.jpeg", "image/jpeg"),
        ("b.heic", "image/heic"),
        ("b.svg", "application/octet-stream"),
        ("b.html", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type_for(key: str, expected: str) -> None:
    assert content_type_for(key) == expected


def test_content_disposition_drops_paths_and_encodes() -> None:
    header = content_disposition("..\\..\\etc/passwd\r\n.png", "image/png")

    assert header == "inline; filename*=UTF-8''passwd%0D%0A.png"
    assert content_disposition("x.svg", "image/svg+xml").startswith("attachment;")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("404", 404, ObjectNotFound), ("403", 403, StorageError), ("500", 500, StorageError)],
)
def test_client_errors_are_mapped(code: str, status: int, error: type[Exception]) -> None:
    client = _offline_client()
    store = S3Store("photos", region="us-east-1", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code=code, http_status_code=status)
        with pytest.raises(error) as info:
            store.size("k.jpg")
    assert type(info.value) is error
    assert "offline-secret" not in str(info.value)


class _RecordingClient:
    """Captures upload_fileobj arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def upload_fileobj(self, fileobj: Any, bucket: str, key: str, **kwargs: Any) -> None:
        self.calls.append({"bucket": bucket, "key": key, **kwargs})


def test_kms_settings_reach_the_upload() -> None:
    client = _RecordingClient()
    store = S3Store(
        "photos", prefix="p", region="eu-west-1", kms_key_id="alias/photos", client=client
    )

    store.save("k.png", io.BytesIO(b"x"), content_type="image/png")

    (call,) = client.calls
    assert call["key"] == "p/k.png"
    assert call["ExtraArgs"]["ServerSideEncryption"] == "aws:kms"
    assert call["ExtraArgs"]["SSEKMSKeyId"] == "alias/photos"
    assert call["Config"].multipart_threshold == 8 * 1024 * 1024


def test_client_is_created_once_across_threads(s3_server: S3Server, aws_env: None) -> None:
    store = S3Store("photos", region="us-east-1", endpoint_url=s3_server.endpoint_url)

    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(lambda _: store._s3(), range(16)))

    assert len({id(client) for client in clients}) == 1


def test_a_store_without_a_region_fails_at_construction_not_mid_request() -> None:
    with pytest.raises(ValueError, match="AWS_REGION"):
        S3Store("photos", region="")


def test_unknown_sse_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="sse"):
        S3Store("photos", region="us-east-1", sse="aes")


def test_origin_is_where_browsers_send_uploads(store: S3Store, s3_server: S3Server) -> None:
    # Path-style on an S3-compatible server: the endpoint itself.
    assert store.origin == s3_server.endpoint_url
    presigned = store.presigned_post("incoming/x.jpg", content_type="image/jpeg", max_bytes=10)
    assert presigned["url"].startswith(store.origin + "/")


def test_origin_on_aws_is_the_bucket_host(aws_env: None) -> None:
    store = S3Store("my-photos", region="eu-central-1")  # signing is local: no request is sent
    assert store.origin == "https://my-photos.s3.amazonaws.com"
