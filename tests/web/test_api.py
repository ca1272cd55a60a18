"""The JSON API contract of DESIGN.md: users, tokens, photos, errors as JSON."""

import io
import re

import pytest
from PIL import Image

from tests.conftest import Auth, photo_bytes, stored_keys

PASSWORD = "correct horse battery"


@pytest.fixture
def token(client):
    assert (
        client.post("/api/users", json={"username": "api", "password": PASSWORD}).status_code == 201
    )
    response = client.post("/api/tokens", auth=("api", PASSWORD))
    assert response.status_code == 201
    return response.get_json()["token"]


@pytest.fixture
def api(client, token):
    class Api:
        headers = {"Authorization": f"Bearer {token}"}

        def get(self, url, **kw):
            return client.get(url, headers=self.headers, **kw)

        def post_photos(self, *files, description=None):
            data = {"file": [(io.BytesIO(b), name) for b, name in files]}
            if description is not None:
                data["description"] = description
            return client.post(
                "/api/photos", data=data, headers=self.headers, content_type="multipart/form-data"
            )

        def patch(self, url, json):
            return client.patch(url, json=json, headers=self.headers)

        def delete(self, url):
            return client.delete(url, headers=self.headers)

    return Api()


def test_upload_answers_201_with_each_photo_as_the_contract_says(api):
    response = api.post_photos(
        (photo_bytes(seed=1), "a.jpg"), (photo_bytes(seed=2), "b.jpg"), description="Two cats"
    )
    assert response.status_code == 201
    photos = response.get_json()["photos"]
    assert len(photos) == 2
    for photo in photos:
        assert {"id", "description", "label_status", "labels", "created_at", "urls"} <= set(photo)
        assert photo["description"] == "Two cats" and photo["label_status"] == "pending"
        assert set(photo["urls"]) == {"thumbnail", "preview", "original"}


def test_listing_pages_with_cursor_and_limit(api):
    for n in range(3):
        api.post_photos((photo_bytes(seed=n + 1), f"{n}.jpg"))
    first = api.get("/api/photos?limit=2").get_json()
    assert len(first["photos"]) == 2 and first["next_cursor"]
    rest = api.get(f"/api/photos?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(rest["photos"]) == 1 and rest["next_cursor"] is None
    ids = [p["id"] for p in first["photos"] + rest["photos"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_exactly_limit_photos_give_no_next_cursor(api):
    for n in range(2):
        api.post_photos((photo_bytes(seed=n + 1), f"{n}.jpg"))
    page = api.get("/api/photos?limit=2").get_json()
    assert len(page["photos"]) == 2 and page["next_cursor"] is None
    assert api.get("/api/photos?limit=2&q=cat").get_json()["next_cursor"] is None


def test_search_with_q(api):
    api.post_photos((photo_bytes(seed=1), "a.jpg"), description="sunset")
    api.post_photos((photo_bytes(seed=2), "b.jpg"), description="breakfast")
    found = api.get("/api/photos?q=sunset").get_json()["photos"]
    assert [p["description"] for p in found] == ["sunset"]


def test_get_patch_delete_one_photo(api, backends):
    photo_id = api.post_photos((photo_bytes(), "a.jpg")).get_json()["photos"][0]["id"]
    assert api.get(f"/api/photos/{photo_id}").get_json()["id"] == photo_id
    patched = api.patch(f"/api/photos/{photo_id}", {"description": "new words"})
    assert patched.status_code == 200 and patched.get_json()["description"] == "new words"
    assert api.delete(f"/api/photos/{photo_id}").status_code == 204
    assert api.get(f"/api/photos/{photo_id}").status_code == 404
    assert stored_keys(backends.store) == []


@pytest.mark.parametrize(
    ("files", "status", "words"),
    [
        ([(b"not an image", "x.jpg")], 400, "not a photo"),
        ([], 400, "multipart parts named 'file'"),
    ],
)
def test_upload_errors_are_json_with_a_message(api, files, status, words):
    response = api.post_photos(*files)
    assert response.status_code == status and words in response.get_json()["error"]


def test_duplicate_upload_is_409_with_the_existing_id(api):
    first = api.post_photos((photo_bytes(), "a.jpg")).get_json()["photos"][0]["id"]
    response = api.post_photos((photo_bytes(), "again.jpg"))
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["existing_id"] == first


def test_unauthenticated_and_bad_tokens_get_401_json(client):
    for headers in ({}, {"Authorization": "Bearer pg_wrong"}, {"Authorization": "Bearer nope"}):
        response = client.get("/api/photos", headers=headers)
        assert response.status_code == 401 and "error" in response.get_json()


def test_token_needs_the_right_password(client):
    client.post("/api/users", json={"username": "api", "password": PASSWORD})
    assert client.post("/api/tokens", auth=("api", "wrong password")).status_code == 401
    assert client.post("/api/tokens").status_code == 401


def test_user_creation_errors(client, make_app):
    assert client.post("/api/users", json={"username": "x"}).status_code == 400
    client.post("/api/users", json={"username": "api", "password": PASSWORD})
    taken = client.post("/api/users", json={"username": "api", "password": PASSWORD})
    assert taken.status_code == 409 and "taken" in taken.get_json()["error"]
    closed = make_app(ALLOW_SIGNUP="false").test_client()
    assert (
        closed.post("/api/users", json={"username": "b", "password": PASSWORD}).status_code == 403
    )


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_photos_of_another_user_are_404_and_stay_unchanged(api, client):
    sent = api.post_photos((photo_bytes(), "a.jpg"), description="mine")
    photo_id = sent.get_json()["photos"][0]["id"]
    labelled = client.post(
        f"/api/photos/{photo_id}/labels", json={"name": "Grandma"}, headers=api.headers
    )
    assert labelled.status_code == 200
    before = api.get(f"/api/photos/{photo_id}").get_json()
    client.post("/api/users", json={"username": "eve", "password": PASSWORD})
    eve = client.post("/api/tokens", auth=("eve", PASSWORD)).get_json()["token"]
    headers = {"Authorization": f"Bearer {eve}"}
    url = f"/api/photos/{photo_id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"description": "x"}, headers=headers).status_code == 404
    assert client.post(f"{url}/labels", json={"name": "X"}, headers=headers).status_code == 404
    assert client.delete(f"{url}/labels/Grandma", headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get("/api/photos?q=mine", headers=headers).get_json()["photos"] == []
    after = api.get(url).get_json()
    assert after["description"] == "mine" and [lb["name"] for lb in after["labels"]] == ["Grandma"]
    assert {k: v for k, v in after.items() if k != "urls"} == {
        k: v for k, v in before.items() if k != "urls"
    }


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_revoking_another_persons_token_id_leaves_it_working(api, client, token):
    eve = client.application.test_client()
    eve.post("/api/users", json={"username": "eve", "password": PASSWORD})
    eve.post("/login", data={"username": "eve", "password": PASSWORD})
    assert b"pg_" in eve.post("/settings", data={"name": "eve's"}).data
    for token_id in range(1, 5):  # every id eve can guess, the api user's first among them
        eve.post("/settings", data={"action": "revoke", "id": str(token_id)})
    assert api.get("/api/photos").status_code == 200


def test_bad_limit_and_patch_body_are_400(api):
    assert api.get("/api/photos?limit=0").status_code == 400
    photo_id = api.post_photos((photo_bytes(), "a.jpg")).get_json()["photos"][0]["id"]
    assert api.patch(f"/api/photos/{photo_id}", {"description": 5}).status_code == 400


def test_openapi_document_is_valid_and_lists_the_contract(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/openapi.json").get_json()
    validate(doc)
    assert {"/api/users", "/api/tokens", "/api/photos", "/api/photos/{photo_id}"} <= set(
        doc["paths"]
    )


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_openapi_describes_exactly_the_api_rules_of_the_app(app, client):
    """Every /api rule and method of app.url_map is in the document, and nothing else is."""
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
            served[path] = served.get(path, set()) | methods
    doc = client.get("/api/openapi.json").get_json()
    described = {
        path: {m for m in item if m in ("get", "post", "put", "patch", "delete")}
        for path, item in doc["paths"].items()
    }
    assert described == served


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("name", "status"), [("x" * 100, 200), ("x" * 101, 400), ("   ", 400)])
def test_a_label_is_1_to_100_characters(api, client, name, status):
    photo_id = api.post_photos((photo_bytes(), "a.jpg")).get_json()["photos"][0]["id"]
    url = f"/api/photos/{photo_id}/labels"
    response = client.post(url, json={"name": name}, headers=api.headers)
    assert response.status_code == status
    labels = client.get(f"/api/photos/{photo_id}", headers=api.headers).get_json()["labels"]
    assert [lb["name"] for lb in labels] == ([name] if status == 200 else [])


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_errors_say_what_is_wrong_with_a_description_label_or_cursor(api):
    photo_id = api.post_photos((photo_bytes(), "a.jpg")).get_json()["photos"][0]["id"]

    too_long = api.patch(f"/api/photos/{photo_id}", {"description": "x" * 2001})
    no_label = api.delete(f"/api/photos/{photo_id}/labels/Giraffe")
    bad_cursor = api.get("/api/photos?cursor=bm90LWEtY3Vyc29y")

    assert (too_long.status_code, too_long.get_json()) == (
        400,
        {"error": "description must be at most 2000 characters"},
    )
    assert (no_label.status_code, no_label.get_json()) == (
        404,
        {"error": "this photo has no label 'Giraffe'"},
    )
    assert (bad_cursor.status_code, bad_cursor.get_json()) == (
        400,
        {"error": "the page cursor is not valid; start from the first page"},
    )


def test_page_cursors_of_every_length_round_trip_without_padding():
    from datetime import datetime, timedelta

    from photogallery.data.models import Photo
    from photogallery.services.gallery import decode_cursor, encode_cursor

    fields = dict.fromkeys(Photo.__dataclass_fields__)
    start = datetime(2026, 1, 1, 12, 0, 0)
    for n in range(1, 400):
        created = start + timedelta(microseconds=n * 7919) if n % 2 else start
        cursor = encode_cursor(Photo(**{**fields, "id": n * 37, "created_at": created}))
        assert "=" not in cursor
        assert decode_cursor(cursor) == (created, n * 37), cursor


def camera_jpeg(make: str, model: str) -> bytes:
    img = Image.open(io.BytesIO(photo_bytes(seed=7)))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    exif.get_ifd(0x8769)[36867] = "2024:07:14 18:30:05"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def photo_page(client, photo_id: int) -> str:
    Auth(client).login("api", PASSWORD)
    response = client.get(f"/photos/{photo_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_camera_is_in_the_photo_json_and_on_its_page(api, client):
    response = api.post_photos((camera_jpeg("Canon", "Canon EOS R5"), "r5.jpg"))
    assert response.status_code == 201
    photo = response.get_json()["photos"][0]
    assert photo["camera"] == "Canon EOS R5" and photo["taken_at"] == "2024-07-14T18:30:05"
    assert api.get(f"/api/photos/{photo['id']}").get_json()["camera"] == "Canon EOS R5"
    assert "Canon EOS R5" in photo_page(client, photo["id"])


def test_a_photo_without_exif_shows_no_camera(api, client):
    photo = api.post_photos((photo_bytes(seed=8), "plain.jpg")).get_json()["photos"][0]
    assert photo["camera"] is None and photo["taken_at"] is None
    assert "camera" not in photo_page(client, photo["id"]).lower()


def test_a_hostile_camera_is_cut_cleaned_and_escaped(api, client):
    make = "<script>alert(1)</script>\x1b\x07"
    response = api.post_photos((camera_jpeg(make, "<b>x</b>" * 100), "evil.jpg"))
    photo = response.get_json()["photos"][0]
    assert len(photo["camera"]) == 200
    assert photo["camera"].startswith("<script>alert(1)</script> <b>x</b>")
    assert not any(ord(c) < 32 for c in photo["camera"])
    html = photo_page(client, photo["id"])
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
