"""Photo events without a topic server: what a body holds, which bodies the worker takes,
and the settings that stop start-up."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from photogallery import create_app
from photogallery.events.base import EventsError, PhotoEvent
from photogallery.events.local import NoEvents
from photogallery.events.sns import SnsPublisher
from photogallery.queue.sqs import NOT_A_JOB, parse_body
from photogallery.services import consistency
from photogallery.settings import ConfigError
from tests.fixtures.servers import closed_port, use_test_credentials
from tests.services.test_labeling import api_client, sample_jpeg

ARN = "arn:aws:sns:eu-west-1:123456789012:photo-events"


class RecordingPublisher:
    """Keeps what the app publishes (the real topic is tested in test_sns_fan_out.py)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def publish(self, event: PhotoEvent) -> None:
        self.bodies.append(json.loads(event.to_json()))


@pytest.mark.parametrize("stack", ["sqlite", "s3"], indirect=True)
def test_event_bodies_hold_ids_keys_and_labels_but_no_url_or_token(make_app):
    app = make_app(LABELER="onnx")
    backends = app.extensions["photogallery"]
    backends.events = recorder = RecordingPublisher()
    client = api_client(app)
    photo = client.post("/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    photo_id = photo.get_json()["photos"][0]["id"]
    assert backends.queue.drain()
    assert client.delete(f"/api/photos/{photo_id}").status_code == 204

    uploaded, labelled, deleted = recorder.bodies
    assert [b["type"] for b in recorder.bodies] == [
        "photo.uploaded",
        "photo.labelled",
        "photo.deleted",
    ]
    common = {"type", "version", "photo_id", "owner_id", "keys", "time"}
    assert set(uploaded) == set(deleted) == common and set(labelled) == common | {"labels"}
    assert set(uploaded["keys"]) == {"original", "thumbnail", "preview"}
    assert uploaded["keys"]["thumbnail"].endswith("/thumbnail.jpg")
    assert {"name", "confidence"} == set(labelled["labels"][0])
    text = json.dumps(recorder.bodies)
    urls = photo.get_json()["photos"][0]["urls"]
    assert not any(url in text or url.split("?")[0] in text for url in urls.values())
    for leak in ("://", "?", "token", "Signature", "Bearer"):
        assert leak not in text


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_photo_deleted_by_storage_check_fix_is_announced(make_app):
    app = make_app()
    backends = app.extensions["photogallery"]
    backends.events = recorder = RecordingPublisher()
    client = api_client(app)
    photo = client.post("/api/photos", data={"file": (io.BytesIO(sample_jpeg("camera")), "c.jpg")})
    photo_id = photo.get_json()["photos"][0]["id"]
    original = recorder.bodies[0]["keys"]["original"]
    backends.store.delete(original)  # lost: the row goes at the next fix

    report = consistency.check_storage(backends, grace=timedelta(0))
    consistency.fix_storage(backends, report, force=True)

    assert [(b["type"], b["photo_id"]) for b in recorder.bodies] == [
        ("photo.uploaded", photo_id),
        ("photo.deleted", photo_id),
    ]
    assert recorder.bodies[1]["keys"]["original"] == original


@pytest.mark.parametrize(
    ("body", "job"),
    [
        ('{"photo_id": 5}', 5),
        ('{"type": "photo.uploaded", "version": 1, "photo_id": 5, "owner_id": 1}', 5),
        ('{"type": "photo.labelled", "version": 1, "photo_id": 5}', NOT_A_JOB),
        ('{"type": "photo.deleted", "version": 1, "photo_id": 5}', NOT_A_JOB),
    ],
)
def test_the_worker_takes_a_direct_job_or_a_raw_photo_event(body, job):
    assert parse_body(body) == job


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[5]",
        '{"photo_id": true}',
        '{"photo_id": "5"}',
        '{"type": "photo.uploaded", "version": 2, "photo_id": 5}',  # a format we do not know
        '{"type": "photo.uploaded", "version": true, "photo_id": 5}',
        '{"type": "photo.uploaded", "photo_id": 5}',
        '{"type": "photo.uploaded", "version": 1, "photo_id": 0}',
        '{"type": "photo.tagged", "version": 1, "photo_id": 5}',
        '{"type": "photo.deleted", "version": 1}',
        # SNS's envelope: the subscription must use raw message delivery.
        '{"Type": "Notification", "Message": "{\\"photo_id\\": 5}"}',
    ],
)
def test_the_worker_refuses_anything_else_as_malformed(body):
    assert parse_body(body) is None


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    """Dummy credentials, so a failure is the endpoint's, not a missing key's."""
    use_test_credentials(monkeypatch, tmp_path, "testing", "testing")


def test_a_publish_to_a_topic_that_does_not_answer_raises_events_error(credentials):
    publisher = SnsPublisher(ARN, endpoint_url=f"http://127.0.0.1:{closed_port()}")
    event = PhotoEvent("photo.uploaded", 1, 1, {"original": "u1/a/original.jpg"})
    with pytest.raises(EventsError, match=r"photo\.uploaded: EndpointConnectionError"):
        publisher.publish(event)


def test_a_garbled_answer_from_the_topic_raises_events_error_not_a_parser_error(credentials):
    """An empty 404 (as a proxy in the way answers): botocore's parser error is no BotoCoreError."""

    class EmptyError(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), EmptyError)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        publisher = SnsPublisher(ARN, endpoint_url=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(EventsError, match="ResponseParserError"):
            publisher.publish(PhotoEvent("photo.deleted", 1, 1, {}))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "arn",
    [
        "photo-events",
        "arn:aws:sqs:eu-west-1:123456789012:photo-events",
        "arn:aws:sns:eu-west-1:1234:photo-events",
        "arn:aws:sns:eu-west-1:123456789012:photo-events.fifo",
        "https://sns.eu-west-1.amazonaws.com/123456789012/photo-events",
    ],
)
def test_a_bad_events_topic_arn_stops_start_up_naming_it(settings, arn):
    with pytest.raises(ConfigError, match="EVENTS_TOPIC_ARN: must be a standard SNS topic ARN"):
        create_app({**settings, "EVENTS_TOPIC_ARN": arn})


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_label_jobs_from_events_without_a_topic_and_sqs_stops_start_up(settings):
    with pytest.raises(ConfigError, match="LABEL_JOBS_FROM_EVENTS: needs EVENTS_TOPIC_ARN"):
        create_app({**settings, "LABEL_JOBS_FROM_EVENTS": "true"})
    with pytest.raises(ConfigError, match="LABEL_JOBS_FROM_EVENTS: needs EVENTS_TOPIC_ARN"):
        create_app({**settings, "LABEL_JOBS_FROM_EVENTS": "true", "EVENTS_TOPIC_ARN": ARN})


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_without_a_topic_nothing_is_published_and_with_one_sns_is_used_in_its_region(make_app):
    assert isinstance(make_app().extensions["photogallery"].events, NoEvents)
    events = make_app(EVENTS_TOPIC_ARN=ARN).extensions["photogallery"].events
    assert isinstance(events, SnsPublisher)
    assert events._client.get().meta.region_name == "eu-west-1"
