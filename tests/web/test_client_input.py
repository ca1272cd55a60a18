"""Whatever a client puts in a URL, a query string or a form is a 4xx that says why, never a 500.

JSON bodies have their own corpus in test_hostile_json.py.
"""

from __future__ import annotations

import base64
import io
import re
import time

import pytest

from photogallery.services import gallery, uploads
from photogallery.services.auth import accounts
from tests.conftest import Auth, photo_bytes, sqlite_app, stored_keys

PASSWORD = "correct horse battery"
# Past the largest id the database holds (BIGINT): just past it, far past, and 5,000 digits.
HUGE_IDS = [str(2**63), str(2**64), str(10**30), "9" * 5000]


def sign_up_alice(app):
    """alice signed in through the pages, with one photo and a personal API token."""
    backends = app.extensions["photogallery"]
    client = app.test_client()
    assert Auth(client).signup("alice", PASSWORD).status_code == 302
    user = accounts.authenticate(backends, "alice", PASSWORD)
    photo = uploads.add_photo(backends, user.id, io.BytesIO(photo_bytes()), "cat.jpg", "mine")
    token = accounts.create_api_token(backends, user.id, "laptop")
    return client, user, photo, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice(app):
    """alice on a fresh app of the test's stack, for tests that change things."""
    return sign_up_alice(app)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """alice on one SQLite app for the whole module, for the tests that change nothing."""
    app = sqlite_app(tmp_path_factory.mktemp("client-input"))
    yield sign_up_alice(app)
    app.extensions["photogallery"].engine.dispose()


def int_rules(app) -> list[tuple[str, str]]:
    """(method, rule) of every rule with an integer in its path, from app.url_map."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            found += [(m, rule.rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


@pytest.mark.parametrize("huge", HUGE_IDS, ids=lambda n: f"{len(n)}digits")
def test_an_id_past_the_database_range_is_404_on_every_route(shared, huge):
    client, user, photo, bearer = shared
    backends = client.application.extensions["photogallery"]
    rules = int_rules(client.application)
    assert len(rules) >= 10  # the photo routes were found
    for method, rule in rules:
        path = re.sub(r"<int:\w+>", huge, rule).replace("<path:name>", "Cat")
        headers = bearer if rule.startswith("/api/") else {}
        response = client.open(path, method=method, headers=headers, data={"name": "x"})
        assert response.status_code == 404, (method, rule, response.status_code)
    assert gallery.get_photo(backends, user.id, photo.id).description == "mine"


def test_the_largest_ids_are_simply_not_found(shared):
    client, _user, _photo, bearer = shared
    for huge in ("9" * 18, str(2**63 - 1)):  # the longest id a URL takes; the database's largest
        assert client.get(f"/api/photos/{huge}", headers=bearer).status_code == 404
        assert client.get(f"/photos/{huge}").status_code == 404
        patched = client.patch(f"/api/photos/{huge}", json={"description": "x"}, headers=bearer)
        assert patched.status_code == 404


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Each decodes, but names an id or a date no database row can have; or does not decode at all.
BAD_CURSORS = {
    "2^63": _cursor(f"2026-01-01T00:00:00|{2**63}"),
    "10^30": _cursor(f"2026-01-01T00:00:00|{10**30}"),
    "-2^63-1": _cursor(f"2026-01-01T00:00:00|-{2**63 + 1}"),
    "5000 digits": _cursor("2026-01-01T00:00:00|" + "9" * 5000),
    "year 99999": _cursor("99999-01-01T00:00:00|1"),
    "not base64": "%%%",
    "long": "x" * 5000,
}


@pytest.mark.parametrize("stack", ["sqlite", "mysql"], indirect=True)
def test_a_cursor_out_of_range_is_400_naming_the_cursor(alice):
    client, _user, _photo, bearer = alice
    for name, cursor in BAD_CURSORS.items():
        api = client.get("/api/photos", query_string={"cursor": cursor}, headers=bearer)
        assert api.status_code == 400 and "cursor" in api.get_json()["error"], name
        page = client.get("/", query_string={"cursor": cursor}, follow_redirects=True)
        assert page.status_code == 200 and b"cursor is not valid" in page.data, name


@pytest.mark.parametrize(
    ("limit", "words"),
    [
        ("abc", "limit must be an integer"),
        ("1e3", "limit must be an integer"),
        ("2.5", "limit must be an integer"),
        ("", "limit must be an integer"),
        (" 5", "limit must be an integer"),
        ("9" * 5000, "limit must be at most 500"),
        ("501", "limit must be at most 500"),
        ("0", "limit must be at least 1"),
        ("-1", "limit must be at least 1"),
    ],
)
def test_a_limit_that_is_not_1_to_500_is_400_naming_limit(shared, limit, words):
    client, _user, _photo, bearer = shared
    response = client.get("/api/photos", query_string={"limit": limit}, headers=bearer)
    assert response.status_code == 400 and words in response.get_json()["error"]


def test_limits_of_1_and_500_are_accepted(shared):
    client, _user, photo, bearer = shared
    for limit in ("1", "500", "007"):
        response = client.get("/api/photos", query_string={"limit": limit}, headers=bearer)
        assert response.status_code == 200
        assert [p["id"] for p in response.get_json()["photos"]] == [photo.id]


@pytest.mark.parametrize("expires", ["9" * 5000, "9" * 20, "-1", "1e9", "", "\u00b2", "\u0661"])
def test_a_media_url_with_a_malformed_expiry_is_refused_without_an_error(shared, expires):
    client, _user, photo, _bearer = shared
    backends = client.application.extensions["photogallery"]
    key = photo.thumbnail_key
    valid = int(time.time()) + 600
    signature = backends.store.signature(key, valid, "")
    response = client.get(f"/media/{key}?e={expires}&s={signature}")
    assert response.status_code == 403
    assert client.get(f"/media/{key}?e={valid}&s={signature}").status_code == 200


# Revoking a token from the settings page.


def _tokens(backends, user_id):
    return [(t["id"], t["name"]) for t in accounts.list_api_tokens(backends, user_id)]


@pytest.mark.parametrize("token_id", ["999", str(2**63), str(2**64), "9" * 5000, "abc", ""])
def test_revoking_a_token_that_does_not_exist_says_so_and_changes_nothing(shared, token_id):
    client, user, _photo, _bearer = shared
    backends = client.application.extensions["photogallery"]
    before = _tokens(backends, user.id)
    response = client.post("/settings", data={"action": "revoke", "id": token_id})
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "Token revoked." not in page and "was not found" in page
    assert _tokens(backends, user.id) == before


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_revoking_an_existing_token_says_revoked(alice, backends):
    client, user, _photo, bearer = alice
    [(token_id, _name)] = _tokens(backends, user.id)
    client.post("/settings", data={"action": "revoke", "id": str(token_id)})
    assert "Token revoked." in client.get("/settings").get_data(as_text=True)
    assert _tokens(backends, user.id) == []
    fresh = client.application.test_client()  # bearer only: no session cookie
    assert fresh.get("/api/photos", headers=bearer).status_code == 401


# Form limits: the message says which limit was passed.


def test_a_huge_description_is_refused_naming_the_description(shared):
    client, user, photo, bearer = shared
    backends = client.application.extensions["photogallery"]
    before = stored_keys(backends.store)
    data = {"file": (io.BytesIO(photo_bytes(seed=5)), "b.jpg"), "description": "d" * 600_000}
    for url, headers in (("/api/photos", bearer), ("/upload", {})):
        response = client.post(url, data=data, headers=headers, content_type="multipart/form-data")
        assert response.status_code == 413, url
        text = response.get_data(as_text=True)
        assert "description" in text and "2000 characters" in text, url
        assert "MB" not in text, url
        data["file"] = (io.BytesIO(photo_bytes(seed=5)), "b.jpg")
    assert stored_keys(backends.store) == before
    assert [p.id for p in gallery.list_photos(backends, user.id).photos] == [photo.id]


def test_a_huge_form_field_is_refused_naming_the_field(shared):
    client, _user, _photo, bearer = shared
    data = {"file": (io.BytesIO(photo_bytes(seed=5)), "b.jpg"), "note": "n" * 600_000}
    response = client.post(
        "/api/photos", data=data, headers=bearer, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "'note'" in response.get_json()["error"] and "MB" not in response.get_json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"x" * 600_000
        + b'\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--b--\r\n',
        b'--b\r\nContent-Disposition: form-data; name="a"\r\nX: ' + b"y" * 600_000 + b"\r\n\r\n",
        b"--b\r\nContent-Disposition: form-data\r\n\r\n" + b"v" * 600_000 + b"\r\n--b--\r\n",
    ],
    ids=["preamble", "part headers", "unnamed field"],
)
def test_a_huge_unnamed_part_of_a_form_is_refused_saying_so(shared, body):
    client, _user, _photo, bearer = shared
    response = client.post(
        "/api/photos", data=body, headers=bearer, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "A part of the form is larger than the 500 kB allowed for text."
    )


def test_too_many_form_parts_are_refused_saying_so(shared):
    client, user, photo, bearer = shared
    backends = client.application.extensions["photogallery"]
    data = {f"f{i}": "x" for i in range(1001)}
    data["file"] = (io.BytesIO(photo_bytes(seed=5)), "b.jpg")
    response = client.post(
        "/api/photos", data=data, headers=bearer, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert "too many parts" in error and "1000" in error and "MB" not in error
    assert [p.id for p in gallery.list_photos(backends, user.id).photos] == [photo.id]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_body_over_the_upload_limit_still_names_the_mb_limit(make_app):
    client = make_app(MAX_UPLOAD_MB="1").test_client()
    Auth(client).signup("bob", PASSWORD)
    data = {"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "big.jpg")}
    response = client.post("/api/photos", data=data, content_type="multipart/form-data")
    assert response.status_code == 413 and "1 MB" in response.get_json()["error"]


# The Host header.


def test_a_merged_slash_redirect_never_points_at_a_forged_host(shared):
    client, _user, photo, _bearer = shared
    response = client.get(f"/photos//{photo.id}", headers={"Host": "evil.example"})
    assert response.status_code in (301, 308)
    assert "evil.example" not in response.headers["Location"]
    assert response.headers["Location"] == f"/photos/{photo.id}"


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_with_base_url_only_its_host_is_served(make_app):
    app = make_app(BASE_URL="https://photos.example.org")
    client = app.test_client()
    forged = client.get("/photos//1", headers={"Host": "evil.example"})
    assert forged.status_code == 400 and "evil.example" not in forged.headers.get("Location", "")
    assert "host" in forged.get_data(as_text=True)
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    ok = client.get("/photos//1", headers={"Host": "photos.example.org"})
    assert ok.status_code == 308
    assert ok.headers["Location"] in ("/photos/1", "https://photos.example.org/photos/1")
    assert client.get("/login", headers={"Host": "photos.example.org"}).status_code == 200
    # A load balancer's health check names the instance's address, not the site's.
    assert client.get("/health", headers={"Host": "10.0.3.7:80"}).status_code == 200
    assert client.get("/login", headers={"Host": "10.0.3.7:80"}).status_code == 400
    # This machine's own names stay usable (make run, curl on the instance, tests).
    assert client.get("/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/login").status_code == 200  # the test client's "localhost"
