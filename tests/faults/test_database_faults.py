"""MariaDB stopped, and restarted under a request: people get a clear 503, never a 500 or a
traceback, the next request after the restart works, and nothing is left half-made."""

from __future__ import annotations

import pytest

from photogallery.data import photos as photo_data
from tests.conftest import photo_bytes, stored_keys
from tests.faults.conftest import api_client, page_client, upload_api, upload_form
from tests.faults.integrity import assert_whole

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)  # photos on disk
DOWN = "The photo database is unavailable; try again shortly."


@pytest.fixture
def db_app(make_app, private_mariadb):
    return make_app(DATABASE_URL=private_mariadb.url)


def answer(response) -> tuple[int, str]:
    """(status, message) as a person reads it: the JSON error, or the error page's text."""
    if response.is_json:
        return response.status_code, response.get_json().get("error", "")
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    message = DOWN if DOWN in body else body[:200]
    return response.status_code, message


def requests_of(browser, script, photo_id: int) -> dict[str, object]:
    """What a person and a script do, each a call returning the response."""
    return {
        "sign in": lambda: browser.application.test_client().post(
            "/login", data={"username": "browser", "password": "x" * 12}
        ),
        "gallery page": lambda: browser.get("/"),
        "photo page": lambda: browser.get(f"/photos/{photo_id}"),
        "upload form": lambda: upload_form(browser, photo_bytes(seed=7)),
        "delete form": lambda: browser.post(f"/photos/{photo_id}/delete"),
        "API list": lambda: script.get("/api/photos"),
        "API upload": lambda: upload_api(script, photo_bytes(seed=8), "new.jpg"),
        "API delete": lambda: script.delete(f"/api/photos/{photo_id}"),
    }


def test_with_the_database_stopped_every_request_answers_503_and_nothing_is_stored(
    db_app, private_mariadb
):
    browser, script = page_client(db_app), api_client(db_app)
    photo_id = upload_api(script, photo_bytes(seed=1)).get_json()["photos"][0]["id"]
    keys_before = stored_keys(db_app.extensions["photogallery"].store)

    with private_mariadb.server.stopped():
        answers = {
            name: answer(call()) for name, call in requests_of(browser, script, photo_id).items()
        }
        ready = db_app.test_client().get("/ready")

    assert answers == {name: (503, DOWN) for name in answers}
    assert ready.status_code == 503 and ready.get_json()["failing"] == ["database"]
    assert stored_keys(db_app.extensions["photogallery"].store) == keys_before
    assert browser.get("/").status_code == 200  # the same session works once it is back
    assert script.get(f"/api/photos/{photo_id}").status_code == 200
    assert_whole(db_app)


def test_every_pooled_connection_dead_after_a_restart_the_next_request_works(
    db_app, private_mariadb
):
    browser, script = page_client(db_app), api_client(db_app)
    upload_api(script, photo_bytes(seed=1))
    engine = db_app.extensions["photogallery"].engine
    held = [engine.connect() for _ in range(3)]  # fill the pool with connections...
    for conn in held:
        conn.close()  # ...back in the pool, idle, when the server goes away
    assert engine.pool.checkedin() >= 3

    private_mariadb.server.restart()

    assert browser.get("/").status_code == 200
    assert script.get("/api/photos").status_code == 200
    assert upload_api(script, photo_bytes(seed=2)).status_code == 201
    assert_whole(db_app)


def test_a_restart_in_the_middle_of_an_upload_answers_503_and_the_retry_is_stored(
    db_app, private_mariadb, monkeypatch
):
    script = api_client(db_app)
    store = db_app.extensions["photogallery"].store
    real_add = photo_data.add_photo

    def restart_then_add(conn, **values):
        # The upload's objects are stored and its transaction has a connection: now it dies.
        private_mariadb.server.restart()
        return real_add(conn, **values)

    monkeypatch.setattr(photo_data, "add_photo", restart_then_add)
    response = upload_api(script, photo_bytes(seed=3))
    assert answer(response) == (503, DOWN)
    assert stored_keys(store) == []  # the objects it had stored are removed again

    monkeypatch.setattr(photo_data, "add_photo", real_add)
    retry = upload_api(script, photo_bytes(seed=3))
    assert retry.status_code == 201, retry.get_json()
    assert len(stored_keys(store)) == 3
    assert_whole(db_app)
