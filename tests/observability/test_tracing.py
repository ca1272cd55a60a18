"""TRACING=otlp: the app's real exporter posts to a real OTLP/HTTP receiver started here."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import photogallery
from photogallery import ConfigError, create_app
from photogallery.observability import tracing
from photogallery.services import label_worker
from tests.conftest import photo_bytes, sqlite_app
from tests.fixtures.otlp_receiver import OtlpReceiver, ReceivedSpan

PASSWORD = "correct horse battery"
SERVER, CONSUMER = 2, 5  # OTLP span kinds


@pytest.fixture(scope="module")
def receiver():
    server = OtlpReceiver()
    yield server
    server.stop()


@pytest.fixture
def traced(receiver, tmp_path, monkeypatch):
    """Builds apps with TRACING=otlp exporting to the receiver; stops tracing afterwards."""
    # What an operator may turn on: the scrubber must still keep these headers out.
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    made = []

    def _make(**settings):
        app = sqlite_app(
            tmp_path, TRACING="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, **settings
        )
        made.append(app)
        return app

    receiver.clear()
    yield _make
    tracing.stop()
    for app in made:
        app.extensions["photogallery"].engine.dispose()


def received(receiver: OtlpReceiver) -> list[ReceivedSpan]:
    tracing.flush()
    return list(receiver.spans)


def bearer_token(client) -> str:
    assert client.post("/api/users", json={"username": "ann", "password": PASSWORD}).status_code
    return client.post("/api/tokens", auth=("ann", PASSWORD)).get_json()["token"]


def server_span(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    (span,) = [s for s in spans if s.kind == SERVER and s.name == name]
    return span


def descendants(spans: list[ReceivedSpan], root: ReceivedSpan) -> list[ReceivedSpan]:
    found, frontier = [], {root.span_id}
    while frontier:
        children = [s for s in spans if s.parent_id in frontier]
        found += children
        frontier = {s.span_id for s in children}
    return found


def every_text(spans: list[ReceivedSpan]) -> str:
    """Every name, attribute value, event and status of ``spans``, as one string."""
    return json.dumps(
        [[s.name, s.attributes, s.events, s.status_message] for s in spans], default=str
    )


@pytest.fixture
def s3_sqs_settings(s3_server, app_bucket, aws_env, sqs_server):
    return {
        "STORAGE": "s3",
        "PHOTOS_BUCKET": app_bucket,
        "S3_PREFIX": f"trace-{time.time_ns()}",
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_REGION": s3_server.region,
        "LABEL_QUEUE": "sqs",
        "SQS_QUEUE_URL": sqs_server.new_queue("traced"),
        "SQS_ENDPOINT_URL": sqs_server.endpoint_url,
        "LABELER": "onnx",
    }


def test_one_upload_is_one_xray_trace_through_s3_database_queue_and_the_worker(
    traced, receiver, s3_sqs_settings, caplog
):
    app = traced(**s3_sqs_settings)
    client = app.test_client()
    token = bearer_token(client)
    headers = {"Authorization": f"Bearer {token}", "Cookie": "session=cookie-secret-value"}
    caplog.set_level(logging.INFO, logger="photogallery.access")
    answer = client.post(
        "/api/photos?description=from-query",
        data={"file": (io.BytesIO(photo_bytes()), "cat.jpg")},
        headers=headers,
    )
    assert answer.status_code == 201, answer.get_json()
    signed_url = answer.get_json()["photos"][0]["urls"]["original"]
    assert "X-Amz-Signature" in signed_url
    spans = received(receiver)
    upload = server_span(spans, "POST /api/photos")
    inside = descendants(spans, upload)
    assert {s.name for s in inside} >= {"S3.PutObject", "SQS.SendMessage"}
    assert any(s.attributes.get("db.system") == "sqlite" for s in inside)
    assert all(s.trace_id == upload.trace_id for s in inside)
    assert abs(int(upload.trace_id[:8], 16) - time.time()) < 600  # X-Ray: epoch seconds first
    # The request id of the logs is this trace's id, in X-Ray's form.
    xray_id = f"1-{upload.trace_id[:8]}-{upload.trace_id[8:]}"
    assert answer.headers["X-Request-Id"] == xray_id
    lines = [r for r in caplog.records if r.name == "photogallery.access"]
    (access,) = [r for r in lines if r.access["route"] == "/api/photos"]
    assert access.request_id == xray_id

    backends = app.extensions["photogallery"]
    messages = backends.queue.receive(wait_seconds=2)
    assert label_worker.process(backends, backends.queue, messages) == 1
    spans = received(receiver)
    (job,) = [s for s in spans if s.kind == CONSUMER and s.name == "label photo"]
    assert job.trace_id == upload.trace_id and job.parent_id == upload.span_id
    assert "S3.GetObject" in {s.name for s in descendants(spans, job)}

    text = every_text(spans)
    for secret in (token, PASSWORD, "cookie-secret-value", signed_url, "X-Amz-", "from-query"):
        assert secret not in text
    assert "/v1/traces" not in text  # the exporter's own posts are not traced


@pytest.mark.parametrize(
    "header, parent",
    [
        ("Root=1-{root};Parent=53995c3f42cd8ad8;Sampled=1", "53995c3f42cd8ad8"),
        ("Root=1-{root}", ""),  # what the ALB adds to a request that came without one
        ("Self=1-67891234-12456789abcdef012345678;Root=1-{root}", ""),
    ],
)
def test_an_incoming_xray_header_continues_that_trace(traced, receiver, header, parent):
    root = f"{int(time.time()):08x}-{'ab' * 12}"
    client = traced().test_client()

    client.get("/login", headers={"X-Amzn-Trace-Id": header.format(root=root)})

    span = server_span(received(receiver), "GET /login")
    assert span.trace_id == root.replace("-", "")
    assert span.parent_id == parent


def test_load_balancer_health_checks_make_no_spans(traced, receiver):
    client = traced().test_client()

    client.get("/health"), client.get("/ready"), client.get("/login")

    assert [s.name for s in received(receiver) if s.kind == SERVER] == ["GET /login"]


def test_the_lambda_handler_continues_the_trace_its_record_carries(traced, receiver, monkeypatch):
    import lambda_function

    monkeypatch.setattr(lambda_function, "_app", traced())
    root, parent = f"{int(time.time()):08x}-{'cd' * 12}", "53995c3f42cd8ad8"
    header = f"Root=1-{root};Parent={parent};Sampled=1"
    record = {
        "messageId": "m1",
        "body": json.dumps({"photo_id": 404}),  # gone: the job is finished all the same
        "messageAttributes": {"X-Amzn-Trace-Id": {"stringValue": header, "dataType": "String"}},
    }

    assert lambda_function.handler({"Records": [record]}, None) == {"batchItemFailures": []}

    (job,) = [s for s in receiver.spans if s.name == "label photo"]  # exported before returning
    assert (job.trace_id, job.parent_id) == (root.replace("-", ""), parent)
    assert job.attributes["photo.id"] == 404


def test_signed_media_urls_and_sign_in_codes_never_reach_a_span(traced, receiver):
    app = traced()
    client = app.test_client()
    client.post("/signup", data={"username": "bo", "password": PASSWORD, "password2": PASSWORD})
    client.post("/upload", data={"file": (io.BytesIO(photo_bytes()), "c.jpg")})
    media = app.extensions["photogallery"].store.url("no/such/key.jpg")
    assert "s=" in media
    client.get(media)
    client.get("/callback?code=the-auth-code&state=the-state")

    text = every_text(received(receiver))

    for secret in (media.split("?")[1], "the-auth-code", "the-state", PASSWORD):
        assert secret not in text
    assert "GET /media" in text


def test_a_worker_forked_after_start_up_exports_its_spans_by_itself(traced, receiver, monkeypatch):
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # ms between the export thread's runs
    client = traced().test_client()
    client.get("/login")  # the export thread is running in the parent

    child = os.fork()
    if child == 0:  # a uWSGI worker forked from a master that loaded the app (no lazy-apps)
        status = 1
        try:
            client.get("/signup")
            time.sleep(1)  # no flush: the child's own export thread must send it
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)

    assert status == 0
    assert "GET /signup" in [s.name for s in receiver.spans]


def test_tracing_none_imports_no_opentelemetry_and_patches_nothing(tmp_path):
    code = f"""
import sys
from photogallery import create_app
app = create_app({{"TESTING": True, "DATABASE_URL": "sqlite:///{tmp_path}/p.db",
                  "PHOTOS_DIR": "{tmp_path}/photos", "LABELER": "none"}})
app.test_client().get("/login")
import botocore.client
assert type(botocore.client.BaseClient.__dict__["_make_api_call"]).__name__ == "function"
print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(photogallery.__file__).parents[1])}
    env = {k: v for k, v in env.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"TRACING": "xray"}, "TRACING"),
        ({"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, "OTEL_EXPORTER"),
    ],
)
def test_an_invalid_tracing_setting_stops_start_up_naming_it(tmp_path, settings, named):
    with pytest.raises(ConfigError) as error:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", **settings})
    assert named in str(error.value)
