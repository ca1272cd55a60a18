"""Direct upload: the browser sends the file straight to S3 (SeaweedFS), the app records it."""

import pytest
import requests

from photogallery.data import photos as photo_data
from photogallery.services import direct_uploads
from tests.conftest import Auth, csrf_token_of, photo_bytes, stored_keys

pytestmark = pytest.mark.parametrize("stack", ["s3"], indirect=True)


@pytest.fixture
def app(make_app):
    return make_app(DIRECT_UPLOAD=True)


@pytest.fixture
def browser(user_client):
    """Alice's session, sending the CSRF token from the page's meta tag as the script does."""
    token = csrf_token_of(user_client)

    class Browser:
        def post_json(self, url, body):
            return user_client.post(url, json=body, headers={"X-CSRFToken": token})

        def start(self, data, name="cat.jpg", content_type="image/jpeg"):
            body = {"filename": name, "content_type": content_type, "size": len(data)}
            return self.post_json("/api/uploads", body)

        def send(self, ticket, data, name="cat.jpg"):
            files = {"file": (name, data, ticket["fields"]["Content-Type"])}
            return requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=10)

        def complete(self, ticket, description=""):
            return self.post_json(ticket["complete_url"], {"description": description})

        def upload(self, data, name="cat.jpg", description=""):
            ticket = self.start(data, name).get_json()
            assert self.send(ticket, data, name).status_code in (200, 201, 204)
            return self.complete(ticket, description)

    return Browser()


def test_a_photo_sent_to_s3_is_checked_thumbnailed_and_recorded(browser, backends, s3_admin):
    data = photo_bytes()
    response = browser.upload(data, "Été.jpg", description="Chelsea")

    assert response.status_code == 201
    photo = response.get_json()
    assert photo["description"] == "Chelsea" and photo["width"] == 640
    assert requests.get(photo["urls"]["original"], timeout=10).content == data
    stored = stored_keys(backends.store)
    assert len(stored) == 3 and not any(k.startswith("incoming/") for k in stored)
    original = next(k for k in stored if "/original." in k)
    head = s3_admin.head_object(Bucket=backends.store.bucket, Key=backends.store.prefix + original)
    assert head["ContentType"] == "image/jpeg" and head["ServerSideEncryption"] == "AES256"
    assert head["ContentDisposition"] == "inline; filename*=UTF-8''%C3%89t%C3%A9.jpg"


def test_the_stored_type_comes_from_the_bytes_not_the_claim(browser, backends):
    data = photo_bytes("PNG")
    ticket = browser.start(data, "shot.jpg", content_type="image/jpeg").get_json()
    browser.send(ticket, data)

    photo = browser.complete(ticket).get_json()

    assert photo["content_type"] == "image/png"
    assert any(k.endswith("/original.png") for k in stored_keys(backends.store))


def test_s3_refuses_a_file_larger_than_the_limit(make_app, s3_admin):
    client = make_app(DIRECT_UPLOAD=True, MAX_UPLOAD_MB=1).test_client()
    Auth(client).signup()
    headers = {"X-CSRFToken": csrf_token_of(client)}
    start = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 1000}
    ticket = client.post("/api/uploads", json=start, headers=headers).get_json()

    files = {"file": ("a.jpg", b"\xff\xd8\xff" + b"x" * (1024 * 1024 + 1), "image/jpeg")}
    sent = requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=10)

    assert sent.status_code == 400 and "EntityTooLarge" in sent.text
    completed = client.post(ticket["complete_url"], json={}, headers=headers)
    assert completed.status_code == 409 and "not arrived" in completed.get_json()["error"]


def test_s3_refuses_a_changed_content_type(browser, backends):
    ticket = browser.start(photo_bytes()).get_json()
    ticket["fields"]["Content-Type"] = "text/html"

    assert browser.send(ticket, b"<script>alert(1)</script>").status_code == 403
    assert stored_keys(backends.store) == []


def test_a_file_that_is_not_a_photo_is_refused_and_removed(browser, backends):
    response = browser.upload(b"just some notes", "notes.jpg")

    assert response.status_code == 400 and "not a photo" in response.get_json()["error"]
    assert stored_keys(backends.store) == []


def test_a_failed_database_insert_leaves_no_object(browser, backends, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away mid-upload")

    monkeypatch.setattr(photo_data, "add_photo", fail)

    assert browser.upload(photo_bytes()).status_code == 500
    assert stored_keys(backends.store) == []


def test_the_same_photo_twice_is_409_and_leaves_one_copy(browser, backends):
    first = browser.upload(photo_bytes()).get_json()["id"]

    again = browser.upload(photo_bytes(), "copy.jpg")

    assert again.status_code == 409 and again.get_json()["existing_id"] == first
    assert len(stored_keys(backends.store)) == 3


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"filename": "notes.txt", "content_type": "text/plain", "size": 10}, 415, "not a photo"),
        ({"filename": "big.jpg", "content_type": "image/jpeg", "size": 51 * 2**20}, 413, "50 MB"),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": "10"}, 400, "size"),
        ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 0}, 400, "size"),
    ],
)
def test_start_refuses_what_cannot_be_a_photo_within_the_limit(browser, body, status, words):
    response = browser.post_json("/api/uploads", body)

    assert response.status_code == status and words in response.get_json()["error"]


def test_a_size_written_as_a_whole_float_counts_as_an_integer(browser):
    """JSON Schema's "integer" takes 2048.0 and 2.048e3; the service gets the int."""
    for size in (2048.0, 2.048e3):
        response = browser.post_json(
            "/api/uploads", {"filename": "a.jpg", "content_type": "image/jpeg", "size": size}
        )
        assert response.status_code == 201, response.get_json()
    half = browser.post_json(
        "/api/uploads", {"filename": "a.jpg", "content_type": "image/jpeg", "size": 2048.5}
    )
    assert half.status_code == 400 and half.get_json()["error"] == "size must be an integer"


def test_a_heic_file_without_a_type_gets_one_from_its_name(browser):
    response = browser.post_json(
        "/api/uploads", {"filename": "IMG_1.HEIC", "content_type": "", "size": 10}
    )

    assert response.get_json()["fields"]["Content-Type"] == "image/heic"


def test_a_tampered_or_foreign_token_is_not_known(browser, app):
    ticket = browser.start(photo_bytes()).get_json()
    browser.send(ticket, photo_bytes())
    mallory = app.test_client()
    Auth(mallory).signup("mallory")
    token = csrf_token_of(mallory)

    foreign = mallory.post(ticket["complete_url"], json={}, headers={"X-CSRFToken": token})
    tampered = browser.post_json(f"/api/uploads/{ticket['token']}x/complete", {})

    assert foreign.status_code == 404 and tampered.status_code == 404


def test_an_expired_token_is_410(browser, monkeypatch):
    ticket = browser.start(photo_bytes()).get_json()
    monkeypatch.setattr(direct_uploads, "TOKEN_MAX_AGE", -1)

    response = browser.complete(ticket)

    assert response.status_code == 410 and "expired" in response.get_json()["error"]


def test_cookie_sessions_need_the_csrf_header(user_client):
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}

    assert user_client.post("/api/uploads", json=body).status_code == 400


def test_the_upload_page_loads_the_script_and_allows_the_bucket(user_client, backends):
    response = user_client.get("/upload")

    assert b'data-direct-upload="/api/uploads"' in response.data
    assert b"upload.js" in response.data
    endpoint = backends.store.endpoint_url
    assert f"connect-src 'self' {endpoint};" in response.headers["Content-Security-Policy"]
