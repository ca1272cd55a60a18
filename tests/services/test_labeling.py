"""Labeling: real labels on real photos, never blocking an upload, retried, corrected by people."""

import html
import io
import threading
import time

import pytest
from boto3.session import Session
from botocore.stub import Stubber

from photogallery.labelers.rekognition import RekognitionLabeler
from photogallery.services import labeling
from tests.conftest import Auth
from tests.labelers.test_rekognition_labeler import RESPONSE
from tests.observability.recording import recorded_figures

PASSWORD = "correct horse battery"


def sample_jpeg(name: str) -> bytes:
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(getattr(data, name)()).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def api_client(app):
    client = app.test_client()
    client.post("/api/users", json={"username": "lab", "password": PASSWORD})
    token = client.post("/api/tokens", auth=("lab", PASSWORD)).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def upload(client, data: bytes, name: str = "photo.jpg") -> dict:
    response = client.post("/api/photos", data={"file": (io.BytesIO(data), name)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["photos"][0]


def drain(app) -> None:
    assert app.extensions["photogallery"].queue.drain(timeout=60)


@pytest.fixture
def onnx_app(make_app):
    return make_app(LABELER="onnx")


@pytest.fixture
def rekognition(make_app):
    """An app whose labeler is Rekognition on a stubbed botocore client."""
    app = make_app(LABELER="rekognition", AWS_REGION="us-west-2")
    client = Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "rekognition", region_name="us-west-2"
    )
    app.extensions["photogallery"].labeler = RekognitionLabeler(region="us-west-2", client=client)
    with Stubber(client) as stub:
        yield app, client, stub


def labels_of(client, photo_id: int) -> dict[str, dict]:
    return {lb["name"]: lb for lb in client.get(f"/api/photos/{photo_id}").get_json()["labels"]}


def test_a_cat_photo_is_labelled_cat_and_found_by_cat_and_animal(onnx_app):
    client = api_client(onnx_app)
    photo = upload(client, sample_jpeg("chelsea"), "chelsea.jpg")
    assert photo["label_status"] == "pending"
    drain(onnx_app)
    labelled = client.get(f"/api/photos/{photo['id']}").get_json()
    assert labelled["label_status"] == "done"
    cat = {lb["name"]: lb for lb in labelled["labels"]}["Cat"]
    assert cat["confidence"] > 50 and "Animal" in cat["parents"]
    for query, found in (("cat", True), ("animal", True), ("cats", True), ("dog", False)):
        ids = [p["id"] for p in client.get(f"/api/photos?q={query}").get_json()["photos"]]
        assert (photo["id"] in ids) is found, query


def test_a_coffee_photo_is_labelled_coffee(onnx_app):
    client = api_client(onnx_app)
    photo = upload(client, sample_jpeg("coffee"), "coffee.jpg")
    drain(onnx_app)
    assert "Coffee" in labels_of(client, photo["id"])


def test_upload_answers_before_a_slow_labeler_finishes(rekognition):
    app, client, stub = rekognition
    gate = threading.Event()
    client.meta.events.register(
        "before-parameter-build.rekognition.DetectLabels", lambda **_: gate.wait(10)
    )
    stub.add_response("detect_labels", RESPONSE)
    api = api_client(app)
    started = time.perf_counter()
    photo = upload(api, sample_jpeg("chelsea"))
    assert time.perf_counter() - started < 5 and photo["label_status"] == "pending"
    assert api.get(f"/api/photos/{photo['id']}").get_json()["label_status"] == "pending"
    gate.set()
    drain(app)
    assert "Cat" in labels_of(api, photo["id"])


def test_throttling_is_retried_then_labels_are_recorded(rekognition):
    app, _client, stub = rekognition
    app.extensions["photogallery"].queue = _NoQueue()
    api = api_client(app)
    photo = upload(api, sample_jpeg("chelsea"))
    stub.add_client_error("detect_labels", service_error_code="ThrottlingException")
    stub.add_response("detect_labels", RESPONSE)
    backends = app.extensions["photogallery"]
    assert labeling.label_photo_with_retries(backends, photo["id"], backoff=(0,)) == "done"
    detail = api.get(f"/api/photos/{photo['id']}").get_json()
    assert detail["label_status"] == "done" and "Cat" in labels_of(api, photo["id"])


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_labeling_records_failed_attempts_by_kind_and_the_latency_of_answers(rekognition):
    app, _client, stub = rekognition
    app.extensions["photogallery"].queue = _NoQueue()
    photo = upload(api_client(app), sample_jpeg("chelsea"))
    stub.add_client_error("detect_labels", service_error_code="ThrottlingException")
    stub.add_response("detect_labels", RESPONSE)

    with recorded_figures() as figures:
        labeling.label_photo_with_retries(app.extensions["photogallery"], photo["id"], backoff=(0,))

    assert figures.of("label_failure") == [("LabelerError",)]
    [(seconds,)] = figures.of("labeling")
    assert 0 <= seconds < 10


def test_an_image_rekognition_rejects_ends_failed_with_the_reason(rekognition):
    app, _client, stub = rekognition
    app.extensions["photogallery"].queue = _NoQueue()
    api = api_client(app)
    photo = upload(api, sample_jpeg("chelsea"))
    stub.add_client_error("detect_labels", service_error_code="InvalidImageFormatException")
    backends = app.extensions["photogallery"]
    assert labeling.label_photo_with_retries(backends, photo["id"], backoff=(0, 0)) == "failed"
    detail = api.get(f"/api/photos/{photo['id']}").get_json()
    assert detail["label_status"] == "failed" and "format" in detail["label_error"]
    page = Auth(app.test_client())
    page.login("lab", PASSWORD)
    assert b"Could not be labelled" in page.client.get(f"/photos/{photo['id']}").data


def test_repeated_transient_failures_end_failed_after_max_attempts(rekognition):
    app, _client, stub = rekognition
    app.extensions["photogallery"].queue = _NoQueue()
    api = api_client(app)
    photo = upload(api, sample_jpeg("chelsea"))
    for _ in range(labeling.MAX_ATTEMPTS):
        stub.add_client_error("detect_labels", service_error_code="InternalServerError")
    backends = app.extensions["photogallery"]
    backoff = (0,) * labeling.MAX_ATTEMPTS
    assert labeling.label_photo_with_retries(backends, photo["id"], backoff=backoff) == "failed"
    detail = api.get(f"/api/photos/{photo['id']}").get_json()
    assert detail["label_status"] == "failed" and "InternalServerError" in detail["label_error"]


def test_a_redelivered_job_does_not_call_the_labeler_again(rekognition):
    app, _client, stub = rekognition
    app.extensions["photogallery"].queue = _NoQueue()
    api = api_client(app)
    photo = upload(api, sample_jpeg("chelsea"))
    stub.add_response("detect_labels", RESPONSE)  # one response: a second call would fail
    backends = app.extensions["photogallery"]
    assert labeling.label_photo(backends, photo["id"]) == "done"
    assert labeling.label_photo(backends, photo["id"]) == "done"
    stub.assert_no_pending_responses()
    assert len(labels_of(api, photo["id"])) == 2


def test_owners_corrections_survive_relabeling(onnx_app):
    client = api_client(onnx_app)
    photo = upload(client, sample_jpeg("chelsea"))
    drain(onnx_app)
    assert client.delete(f"/api/photos/{photo['id']}/labels/Cat").status_code == 200
    assert (
        client.post(f"/api/photos/{photo['id']}/labels", json={"name": "Chelsea"}).status_code
        == 200
    )
    result = onnx_app.test_cli_runner().invoke(args=["labels", "relabel", str(photo["id"])])
    assert result.exit_code == 0 and "1 done" in result.output
    labels = labels_of(client, photo["id"])
    assert "Cat" not in labels and labels["Chelsea"]["source"] == "user"
    assert labels["Chelsea"]["confidence"] == 100
    found = lambda q: [p["id"] for p in client.get(f"/api/photos?q={q}").get_json()["photos"]]  # noqa: E731
    assert found("chelsea") == [photo["id"]] and found("cat") == []


def test_label_corrections_on_the_photo_page(onnx_app):
    page = onnx_app.test_client()
    Auth(page).signup()
    page.post("/upload", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    drain(onnx_app)
    photo_id = page.get("/api/photos").get_json()["photos"][0]["id"]
    page.post(f"/photos/{photo_id}/labels", data={"name": "  Sofa   time "})
    page.post(f"/photos/{photo_id}/labels/remove", data={"name": "Cat"})
    html = page.get(f"/photos/{photo_id}").data
    assert b"Sofa time" in html and b'<span class="score">yours</span>' in html
    assert b">Cat<" not in html


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_empty_label_is_not_stored_and_the_page_says_why(onnx_app):
    page = onnx_app.test_client()
    Auth(page).signup()
    page.post("/upload", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    drain(onnx_app)
    photo_id = page.get("/api/photos").get_json()["photos"][0]["id"]
    before = labels_of(page, photo_id)
    for name in ("", "   "):
        response = page.post(f"/photos/{photo_id}/labels", data={"name": name})
        assert response.status_code == 302
        shown = html.unescape(page.get(response.headers["Location"]).get_data(as_text=True))
        assert "Label not added: a label is 1 to 100 characters." in shown
    assert labels_of(page, photo_id) == before


def test_pending_photos_left_by_a_crash_are_picked_up_by_relabel(make_app):
    crashed = make_app(LABELER="none")
    client = api_client(crashed)
    photo = upload(client, sample_jpeg("chelsea"))
    assert photo["label_status"] == "pending"
    recovered = make_app(LABELER="onnx")
    result = recovered.test_cli_runner().invoke(args=["labels", "relabel", "--status", "pending"])
    assert result.exit_code == 0 and "1 done" in result.output
    assert "Cat" in labels_of(api_client_for(recovered), photo["id"])


def api_client_for(app):
    client = app.test_client()
    token = client.post("/api/tokens", auth=("lab", PASSWORD)).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


class _NoQueue:
    """Jobs are run by the test itself, step by step."""

    def enqueue(self, photo_id: int) -> None:
        pass
