"""CSRF: forms and cookie-authenticated API calls need the token; bearer calls do not."""

import io
import re

import pytest

from photogallery.data import photos as photo_data
from photogallery.data import users as user_data
from tests.conftest import photo_bytes

PASSWORD = "correct horse battery"


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def token_from(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def test_a_form_post_without_the_token_is_refused_clearly(csrf_client):
    response = csrf_client.post("/signup", data={"username": "a", "password": PASSWORD})
    assert response.status_code == 400 and b"reload the page" in response.data


def test_forms_work_with_the_token(csrf_client):
    token = token_from(csrf_client.get("/signup").data)
    data = {"username": "alice", "password": PASSWORD, "password2": PASSWORD, "csrf_token": token}
    assert csrf_client.post("/signup", data=data).status_code == 302


def test_cookie_api_calls_need_the_csrf_header_but_bearer_calls_do_not(csrf_client):
    token = token_from(csrf_client.get("/signup").data)
    csrf_client.post(
        "/signup",
        data={
            "username": "alice",
            "password": PASSWORD,
            "password2": PASSWORD,
            "csrf_token": token,
        },
    )
    page = csrf_client.get("/upload").data
    token = token_from(page)
    files = {"file": (io.BytesIO(photo_bytes()), "a.jpg")}
    assert csrf_client.post("/api/photos", data=files).status_code == 400
    files = {"file": (io.BytesIO(photo_bytes()), "a.jpg")}
    ok = csrf_client.post("/api/photos", data=files, headers={"X-CSRFToken": token})
    assert ok.status_code == 201
    api_token = csrf_client.post("/settings", data={"csrf_token": token, "name": "t"})
    bearer = re.search(rb"(pg_[\w-]+)", api_token.data).group(1).decode()
    fresh = csrf_client.application.test_client()
    files = {"file": (io.BytesIO(photo_bytes(seed=3)), "b.jpg")}
    response = fresh.post("/api/photos", data=files, headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 201


def test_a_stale_token_on_the_api_says_so_for_scripts_to_refresh_it(csrf_client):
    token = token_from(csrf_client.get("/signup").data)
    csrf_client.post(
        "/signup",
        data={
            "username": "alice",
            "password": PASSWORD,
            "password2": PASSWORD,
            "csrf_token": token,
        },
    )
    response = csrf_client.patch(
        "/api/photos/1", json={"description": "x"}, headers={"X-CSRFToken": "stale"}
    )
    assert response.status_code == 400
    assert response.get_json()["reason"] == "csrf" and "reload" in response.get_json()["error"]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_photo_forms_without_the_token_are_refused_and_change_nothing(csrf_client, backends):
    token = token_from(csrf_client.get("/signup").data)
    password = {"password": PASSWORD, "password2": PASSWORD}
    csrf_client.post("/signup", data={"username": "alice", **password, "csrf_token": token})
    token = token_from(csrf_client.get("/upload").data)
    data = {"file": (io.BytesIO(photo_bytes()), "a.jpg"), "description": "mine"}
    assert csrf_client.post("/upload", data={**data, "csrf_token": token}).status_code == 302
    with backends.engine.connect() as conn:
        [photo_id] = photo_data.list_photo_ids(conn)
    label = {"name": "Grandma", "csrf_token": token}
    assert csrf_client.post(f"/photos/{photo_id}/labels", data=label).status_code == 302
    forms = [
        (f"/photos/{photo_id}/description", {"description": "forged"}),
        (f"/photos/{photo_id}/labels", {"name": "Forged"}),
        (f"/photos/{photo_id}/labels/remove", {"name": "Grandma"}),
        (f"/photos/{photo_id}/delete", {}),
    ]
    for url, form in forms:
        response = csrf_client.post(url, data=form)
        assert response.status_code == 400 and b"reload the page" in response.data, url
    with backends.engine.connect() as conn:
        photo = photo_data.get_photo(conn, photo_id)
    assert photo.description == "mine" and [lb.name for lb in photo.labels] == ["Grandma"]


def signed_in_with_a_token(client, username: str) -> str:
    """Sign ``client`` up as ``username`` (CSRF off) and return a personal API token of theirs."""
    password = "correct horse battery"
    form = {"username": username, "password": password, "password2": password}
    assert client.post("/signup", data=form).status_code == 302
    return client.post("/api/tokens", auth=(username, password)).get_json()["token"]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer pg_forged", "Basic YTpi", "Bearer", "Digest x"]
)
def test_a_bad_authorization_header_is_401_even_with_a_valid_session_cookie(
    client, backends, authorization
):
    signed_in_with_a_token(client, "alice")
    client.application.config["WTF_CSRF_ENABLED"] = True
    headers = {"Authorization": authorization}
    files = {"file": (io.BytesIO(photo_bytes()), "a.jpg")}

    upload = client.post("/api/photos", data=files, headers=headers)
    listing = client.get("/api/photos", headers=headers)
    page = client.get("/", headers=headers)

    assert upload.status_code == 401 and "sign in first" in upload.get_json()["error"]
    assert listing.status_code == 401
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    with backends.engine.connect() as conn:
        assert photo_data.list_photo_ids(conn) == []
    assert client.get("/api/photos").status_code == 200  # the cookie alone still works


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_valid_bearer_token_decides_who_calls_whatever_the_cookie_says(client, backends):
    signed_in_with_a_token(client, "alice")
    bob = signed_in_with_a_token(client.application.test_client(), "bob")
    client.application.config["WTF_CSRF_ENABLED"] = True
    files = {"file": (io.BytesIO(photo_bytes()), "a.jpg")}

    response = client.post("/api/photos", data=files, headers={"Authorization": f"Bearer {bob}"})

    assert response.status_code == 201  # signed in by the token: no CSRF token needed
    with backends.engine.connect() as conn:
        [photo_id] = photo_data.list_photo_ids(conn)
        owner = photo_data.get_photo(conn, photo_id).owner_id
        assert owner == user_data.get_local_user(conn, "bob").id
    assert client.get("/api/photos").get_json()["photos"] == []  # alice's cookie: none of hers


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_api_writes_by_nobody_are_401_not_a_csrf_refusal(csrf_client, app):
    """With CSRF on, an API change sent without any credentials asks for them (401)."""
    public = {"api.create_user", "api.create_token"}  # they answer for their own credentials
    writes = [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint not in public
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    ]
    assert len(writes) >= 6
    csrf_client.get("/login")  # a session cookie of nobody in particular
    for method, rule in writes:
        path = rule.replace("<int:photo_id>", "1").replace("<path:name>", "x")
        response = csrf_client.open(path.replace("<token>", "x"), method=method, json={})
        assert response.status_code == 401, (method, rule)
        assert "sign in" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert csrf_client.post("/api/tokens").status_code == 401


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_cookie_json_call_with_the_token_reaches_its_checked_body(csrf_client, backends):
    """The CSRF check reads the form; the JSON body is still there for the API's checks."""
    token = token_from(csrf_client.get("/signup").data)
    password = {"password": "correct horse battery", "password2": "correct horse battery"}
    csrf_client.post("/signup", data={"username": "alice", **password, "csrf_token": token})
    token = token_from(csrf_client.get("/upload").data)
    data = {"file": (io.BytesIO(photo_bytes()), "a.jpg"), "csrf_token": token}
    assert csrf_client.post("/upload", data=data).status_code == 302
    with backends.engine.connect() as conn:
        [photo_id] = photo_data.list_photo_ids(conn)
    headers = {"X-CSRFToken": token}
    url = f"/api/photos/{photo_id}"
    ok = csrf_client.patch(url, json={"description": "by cookie"}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["description"] == "by cookie"
    wrong = csrf_client.patch(url, json={"description": 5}, headers=headers)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "description must be a string"
