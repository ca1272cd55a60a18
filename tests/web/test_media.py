"""Local photo URLs: signed, expiring, and never rendered as anything but an image.

S3 serves its own presigned URLs: tests/web/test_s3_media.py proves the same things for them.
"""

import time

import pytest

from tests.conftest import LOCAL_STACKS, photo_bytes

pytestmark = pytest.mark.parametrize("stack", LOCAL_STACKS, indirect=True)


def first_photo_urls(api_client):
    return api_client.get("/api/photos").get_json()["photos"][0]["urls"]


def test_signed_url_serves_the_image_with_safe_headers(upload, user_client):
    upload((photo_bytes(), "cat.jpg"))
    urls = first_photo_urls(user_client)
    response = user_client.get(urls["thumbnail"])
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    original = user_client.get(urls["original"])
    assert original.data == photo_bytes()
    assert "filename=cat.jpg" in original.headers["Content-Disposition"]


def test_a_tampered_url_is_refused(upload, user_client):
    upload((photo_bytes(), "cat.jpg"))
    url = first_photo_urls(user_client)["preview"]
    assert user_client.get(url.replace("preview.jpg", "original.jpg")).status_code == 403
    assert user_client.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB")).status_code == 403


def test_a_changed_download_name_is_refused(upload, user_client):
    upload((photo_bytes(), "cat.jpg"))
    urls = first_photo_urls(user_client)
    assert "d=cat.jpg" in urls["original"] and user_client.get(urls["original"]).status_code == 200
    renamed = urls["original"].replace("d=cat.jpg", "d=invoice.pdf.exe")
    assert user_client.get(renamed).status_code == 403
    assert user_client.get(urls["original"].replace("&d=cat.jpg", "")).status_code == 403
    assert user_client.get(urls["thumbnail"] + "&d=cat.html").status_code == 403


def test_an_expired_url_is_refused(upload, user_client, backends):
    upload((photo_bytes(), "cat.jpg"))
    key = first_photo_urls(user_client)["thumbnail"].split("?")[0].removeprefix("/media/")
    past = int(time.time()) - 10
    signature = backends.store.signature(key, past, "")
    assert user_client.get(f"/media/{key}?e={past}&s={signature}").status_code == 403


def test_urls_work_without_a_session_until_they_expire(upload, user_client, app):
    upload((photo_bytes(), "cat.jpg"))
    url = first_photo_urls(user_client)["thumbnail"]
    assert app.test_client().get(url).status_code == 200  # like an S3 presigned URL
