"""Health checks for the load balancer."""

import pytest

from tests.conftest import LOCAL_STACKS
from tests.fixtures.servers import closed_port


def test_health_is_ok_without_touching_dependencies(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_ready_checks_database_and_storage(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "storage": "ok"}


def test_ready_names_the_database_when_it_is_down(make_app, tmp_path):
    app = make_app(DATABASE_URL="mysql+mysqlconnector://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/ready")
    assert response.status_code == 503 and response.get_json()["failing"] == ["database"]


@pytest.mark.parametrize("stack", LOCAL_STACKS, indirect=True)
def test_ready_names_storage_when_the_photo_folder_is_unusable(make_app, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    app = make_app(PHOTOS_DIR=str(blocker / "photos"))
    response = app.test_client().get("/ready")
    assert response.status_code == 503 and response.get_json()["failing"] == ["storage"]


def test_pages_answer_503_not_500_when_the_database_is_down(make_app):
    app = make_app(DATABASE_URL="mysql+mysqlconnector://nobody@127.0.0.1:1/none")
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 503 and b"unavailable" in response.data


@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_ready_names_storage_when_the_s3_endpoint_is_down(make_app):
    app = make_app(S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}")
    response = app.test_client().get("/ready")
    body = response.get_json()
    assert response.status_code == 503 and body["failing"] == ["storage"]
    assert "EndpointConnectionError" in body["checks"]["storage"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.parametrize("stack", ["s3"], indirect=True)
def test_ready_names_storage_when_the_bucket_is_missing(make_app):
    response = make_app(PHOTOS_BUCKET="no-such-bucket-here").test_client().get("/ready")
    assert response.status_code == 503 and response.get_json()["failing"] == ["storage"]


def test_ready_says_to_migrate_when_the_schema_is_behind(settings, tmp_path):
    from photogallery import create_app

    settings["DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    response = create_app(settings).test_client().get("/ready")
    assert response.status_code == 503 and response.get_json()["failing"] == ["database"]
    assert "db upgrade" in response.get_json()["checks"]["database"]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_ready_answers_503_while_draining_and_pages_still_serve(make_app, tmp_path):
    drain = tmp_path / "draining"
    client = make_app(DRAIN_FILE=str(drain)).test_client()
    assert client.get("/ready").status_code == 200
    drain.touch()  # what Deploy/bin/photos-web does on SIGTERM
    response = client.get("/ready")
    assert response.status_code == 503 and response.get_json()["failing"] == ["draining"]
    assert client.get("/health").status_code == 200  # requests in flight and new ones still work
    assert client.get("/login").status_code == 200
    drain.unlink()
    assert client.get("/ready").status_code == 200


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_ready_and_writes_fail_when_the_sqlite_file_goes_under_a_running_app(
    app, client, tmp_path, how
):
    from io import BytesIO

    from tests.conftest import photo_bytes

    client.post("/api/users", json={"username": "ann", "password": "correct horse battery"})
    token = client.post("/api/tokens", auth=("ann", "correct horse battery")).get_json()["token"]
    assert client.get("/ready").status_code == 200
    database = tmp_path / "photos.db"
    for path in tmp_path.glob("photos.db*"):  # the file and its WAL: what `rm` of the folder does
        path.unlink()
    if how == "replaced":
        database.write_bytes(b"")  # an empty file now where the database was

    ready = client.get("/ready")
    upload = client.post(
        "/api/photos",
        data={"file": (BytesIO(photo_bytes()), "a.jpg")},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert ready.status_code == 503 and ready.get_json()["failing"] == ["database"]
    assert f"database file {database}" in ready.get_json()["checks"]["database"]
    # Not a 201 for a photo whose row would vanish with the unlinked file at the next restart.
    assert upload.status_code == 503
    assert upload.get_json() == {"error": "The photo database is unavailable; try again shortly."}
