"""Photos in S3 (SeaweedFS): the app's presigned URLs work over HTTP, and only as signed."""

import io
import os
import time

import pytest
import requests
from PIL import Image

from tests.conftest import photo_bytes, stored_keys

pytestmark = pytest.mark.parametrize("stack", ["s3"], indirect=True)


def only_photo(user_client):
    return user_client.get("/api/photos").get_json()["photos"][0]


def test_upload_and_download_round_trip_through_presigned_urls(upload, user_client):
    data = photo_bytes()
    upload((data, "holiday.jpg"))
    urls = only_photo(user_client)["urls"]

    original = requests.get(urls["original"], timeout=10)
    thumbnail = requests.get(urls["thumbnail"], timeout=10)

    assert original.status_code == 200 and original.content == data
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["Content-Disposition"] == "inline; filename*=UTF-8''holiday.jpg"
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 400


def test_pages_link_straight_to_s3_without_going_through_the_app(upload, user_client, backends):
    upload((photo_bytes(), "cat.jpg"))
    page = user_client.get(f"/photos/{only_photo(user_client)['id']}").get_data(as_text=True)

    assert f"{backends.store.endpoint_url}/{backends.store.bucket}/" in page
    assert "X-Amz-Signature=" in page and "/media/" not in page


def test_objects_are_encrypted_and_typed_from_the_bytes(upload, backends, s3_admin):
    upload((photo_bytes("PNG"), "screenshot.jpg"))

    for key in stored_keys(backends.store):
        head = s3_admin.head_object(Bucket=backends.store.bucket, Key=backends.store.prefix + key)
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ContentType"] == ("image/png" if "original" in key else "image/jpeg")


def test_an_expired_url_is_refused(upload, user_client, backends, monkeypatch):
    upload((photo_bytes(), "cat.jpg"))
    monkeypatch.setattr(backends.store, "url_expires", 2)  # URL_EXPIRES is at least 60 s
    url = only_photo(user_client)["urls"]["thumbnail"]
    assert requests.get(url, timeout=10).status_code == 200

    time.sleep(3)

    assert requests.get(url, timeout=10).status_code == 403


def test_a_tampered_url_is_refused(upload, user_client):
    upload((photo_bytes(), "cat.jpg"))
    url = only_photo(user_client)["urls"]["preview"]

    other_key = url.replace("/preview.jpg?", "/original.jpg?")
    as_html = url.replace("image%2Fjpeg", "text%2Fhtml")

    assert requests.get(url, timeout=10).status_code == 200
    assert requests.get(other_key, timeout=10).status_code == 403
    assert requests.get(as_html, timeout=10).status_code == 403


@pytest.mark.slow
def test_a_large_photo_goes_up_in_parts(upload, backends, s3_admin):
    noise = Image.frombytes("RGB", (2000, 2000), os.urandom(2000 * 2000 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG", compress_level=1)
    assert buf.tell() > 8 * 1024 * 1024  # above the multipart threshold

    assert upload((buf.getvalue(), "noise.png")).status_code == 302

    (original,) = [k for k in stored_keys(backends.store) if "/original." in k]
    head = s3_admin.head_object(Bucket=backends.store.bucket, Key=backends.store.prefix + original)
    assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) > 1  # parts in the ETag
    assert head["ContentLength"] == buf.tell()
