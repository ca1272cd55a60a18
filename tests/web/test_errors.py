"""One place answers every service error: JSON for the API, a page for people."""

import pytest

from photogallery.services.errors import (
    DuplicateUpload,
    InvalidInput,
    NotFound,
    SignupClosed,
    UploadRejected,
    UsernameTaken,
)

CASES = [
    (NotFound(), 404, "no such photo"),
    (InvalidInput("a label is 1 to 100 characters"), 400, "a label is 1 to 100 characters"),
    (UsernameTaken("the username ann is taken"), 409, "the username ann is taken"),
    (SignupClosed(), 403, "sign-up is closed on this site"),
    (UploadRejected("cat.jpg is larger than the 5 MB allowed", 413), 413, "larger than"),
    (DuplicateUpload("cat.jpg is already in your gallery", 7), 409, "already in your gallery"),
]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("error", "status", "message"), CASES)
def test_a_service_error_becomes_its_status_as_json_and_as_a_page(make_app, error, status, message):
    app = make_app()

    def refuse():
        raise error

    app.add_url_rule("/api/refuse", "api_refuse", refuse)
    app.add_url_rule("/refuse", "refuse", refuse)
    client = app.test_client()
    api = client.get("/api/refuse")
    assert api.status_code == status and message in api.get_json()["error"]
    assert api.get_json().get("existing_id") == getattr(error, "existing_id", None)
    page = client.get("/refuse")
    assert page.status_code == status and page.mimetype == "text/html"
    assert message in page.get_data(as_text=True)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_method_not_allowed_says_which_are(client):
    """RFC 9110: a 405 carries Allow, for the API's JSON answer and for pages alike."""
    for path in ("/api/photos", "/upload"):
        response = client.open(path, method="PUT")
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
