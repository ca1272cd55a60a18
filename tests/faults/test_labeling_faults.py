"""Labeling misbehaving: Rekognition throttling, the SQS queue down, the worker killed mid-job.
Uploads never fail for it; the photo waits (pending), ends labelled once, or says why not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from boto3.session import Session
from botocore.stub import Stubber

from photogallery.labelers.rekognition import RekognitionLabeler
from photogallery.services import label_worker, labeling
from tests.conftest import photo_bytes
from tests.faults.conftest import api_client, page_client, upload_api, upload_form
from tests.faults.integrity import assert_whole
from tests.fixtures.servers import HOST
from tests.labelers.test_rekognition_labeler import RESPONSE

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]
LABELS = {"Cat", "Sofa"}  # what RESPONSE names


def stub_rekognition(app) -> Stubber:
    """Give the app a Rekognition labeler on a stubbed client; jobs retry without sleeping."""
    client = Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "rekognition", region_name="us-west-2"
    )
    backends = app.extensions["photogallery"]
    backends.labeler = RekognitionLabeler(region="us-west-2", client=client)
    if hasattr(backends.queue, "bind"):
        backends.queue.bind(partial(labeling.label_photo_with_retries, backends, backoff=(0,) * 3))
    return Stubber(client)


def photo_of(client, photo_id: int) -> dict:
    return client.get(f"/api/photos/{photo_id}").get_json()


def test_a_throttled_labeler_never_fails_the_upload_and_says_why_the_photo_is_unlabelled(
    make_app,
):
    app = make_app(LABELER="rekognition", AWS_REGION="us-west-2")
    browser = page_client(app)
    with stub_rekognition(app) as stub:
        for _ in range(labeling.MAX_ATTEMPTS):
            stub.add_client_error("detect_labels", service_error_code="ThrottlingException")
        response = upload_form(browser, photo_bytes(seed=1))
        assert app.extensions["photogallery"].queue.drain(timeout=30)
        stub.assert_no_pending_responses()

        assert response.status_code == 302  # "Added 1 photo."
        (photo,) = browser.get("/api/photos").get_json()["photos"]
        assert photo["label_status"] == "failed"
        assert "ThrottlingException" in photo["label_error"]
        assert "will retry" not in photo["label_error"]  # it will not, by itself
        assert f"gave up after {labeling.MAX_ATTEMPTS} attempts" in photo["label_error"]
        page = browser.get(f"/photos/{photo['id']}").get_data(as_text=True)
        assert "Could not be labelled: Rekognition" in page

        stub.add_response("detect_labels", RESPONSE)  # the throttling is over
        result = app.test_cli_runner().invoke(args=["labels", "relabel", "--status", "failed"])
    assert result.exit_code == 0 and "1 done" in result.output
    assert {lb["name"] for lb in photo_of(browser, photo["id"])["labels"]} == LABELS
    assert_whole(app)


def test_throttling_that_passes_ends_labelled_once(make_app):
    app = make_app(LABELER="rekognition", AWS_REGION="us-west-2")
    script = api_client(app)
    with stub_rekognition(app) as stub:
        for _ in range(labeling.MAX_ATTEMPTS - 1):
            stub.add_client_error("detect_labels", service_error_code="ThrottlingException")
        stub.add_response("detect_labels", RESPONSE)
        response = upload_api(script, photo_bytes(seed=1))
        assert app.extensions["photogallery"].queue.drain(timeout=30)

    assert response.status_code == 201
    photo = photo_of(script, response.get_json()["photos"][0]["id"])
    assert photo["label_status"] == "done" and {lb["name"] for lb in photo["labels"]} == LABELS
    assert_whole(app)


def sqs_settings(sqs, queue_url: str) -> dict[str, str]:
    return {
        "LABEL_QUEUE": "sqs",
        "SQS_QUEUE_URL": queue_url,
        "SQS_ENDPOINT_URL": sqs.endpoint_url,
        "AWS_REGION": sqs.region,
    }


def test_with_the_queue_down_uploads_succeed_and_the_sweep_labels_them_later(
    make_app, private_moto
):
    sqs, server = private_moto
    queue_url = sqs.new_queue("labels", {"VisibilityTimeout": "2"})
    app = make_app(LABELER="rekognition", **sqs_settings(sqs, queue_url))
    script, browser = api_client(app), page_client(app)
    runner = app.test_cli_runner()

    with stub_rekognition(app) as stub, server.stopped():
        started = time.monotonic()
        api = upload_api(script, photo_bytes(seed=1))
        seconds = time.monotonic() - started
        form = upload_form(browser, photo_bytes(seed=2))
        sweep_while_down = runner.invoke(args=["labels", "sweep", "--older-than", "0"])

    assert api.status_code == 201 and form.status_code == 302
    assert seconds < 10, f"an upload waited {seconds:.1f} s for the queue"
    assert api.get_json()["photos"][0]["label_status"] == "pending"
    assert sweep_while_down.exit_code == 1 and "queue" in sweep_while_down.output
    assert "Traceback" not in sweep_while_down.output
    # moto forgets its queues when it stops: the operator's queue is there again (same URL).
    assert sqs.client().create_queue(QueueName=queue_url.rsplit("/", 1)[1])["QueueUrl"] == queue_url

    with stub:
        stub.add_response("detect_labels", RESPONSE)
        stub.add_response("detect_labels", RESPONSE)
        swept = runner.invoke(args=["labels", "sweep", "--older-than", "0"])
        backends = app.extensions["photogallery"]
        messages = backends.queue.receive(wait_seconds=2)
        assert label_worker.process(backends, backends.queue, messages) == 2
    assert messages_in(sqs, queue_url) == 0

    assert swept.exit_code == 0 and "queued 2 pending photos again" in swept.output
    photos = (
        script.get("/api/photos").get_json()["photos"]
        + browser.get("/api/photos").get_json()["photos"]
    )
    assert [p["label_status"] for p in photos] == ["done", "done"]
    assert_whole(app)


class SlowRekognition(ThreadingHTTPServer):
    """Rekognition over HTTP (DetectLabels' documented answer) that holds each call until
    released: a worker can be killed while it waits for the labels."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _RekognitionHandler)
        self.called = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"


class _RekognitionHandler(BaseHTTPRequestHandler):
    server: SlowRekognition

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.calls += 1
        self.server.called.set()
        self.server.release.wait(30)
        body = json.dumps(RESPONSE).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the worker that asked was killed

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_rekognition():
    server = SlowRekognition()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def start_worker(settings: dict[str, str], tmp_path: Path, rekognition_url: str):
    """`flask labels worker` in its own process, configured by its environment only."""
    ini = tmp_path / "worker.ini"
    ini.write_text("[photos]\n")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PHOTOS_", "S3_"))}
    env = {
        **keep,
        **{k: str(v) for k, v in settings.items() if k != "TESTING"},
        "PHOTOS_CONFIG": str(ini),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL_REKOGNITION": rekognition_url,
    }
    cmd = [sys.executable, "-m", "flask", "--app", "FlaskApp/application.py"]
    return subprocess.Popen(
        [*cmd, "labels", "worker", "--wait", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.1)


def test_a_worker_killed_mid_job_leaves_the_photo_pending_and_the_next_labels_it_once(
    make_app, settings, sqs_server, slow_rekognition, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Redelivered 4 s after the killed worker took it: longer than the next worker takes to
    # label it on a busy machine, so it is never delivered twice to a living worker.
    queue_url = sqs_server.new_queue("labels", {"VisibilityTimeout": "4"})
    extra = {"LABELER": "rekognition", **sqs_settings(sqs_server, queue_url)}
    app = make_app(**extra)
    script = api_client(app)
    photo_id = upload_api(script, photo_bytes(seed=1)).get_json()["photos"][0]["id"]
    worker_settings = {**settings, **extra}

    first = start_worker(worker_settings, tmp_path, slow_rekognition.url)
    try:
        assert slow_rekognition.called.wait(30), "the worker never asked Rekognition"
    finally:
        first.send_signal(signal.SIGKILL)  # mid-job: the labels are on their way back
        first.communicate(timeout=10)
    assert photo_of(script, photo_id)["label_status"] == "pending"

    slow_rekognition.release.set()
    second = start_worker(worker_settings, tmp_path, slow_rekognition.url)
    try:
        wait_for(lambda: photo_of(script, photo_id)["label_status"] == "done", 30, "labelled")
    finally:
        second.send_signal(signal.SIGTERM)  # finishes the message in hand, then stops
        output = second.communicate(timeout=30)[0].decode()
    assert second.returncode == 0 and "worker stopped" in output, output

    assert {lb["name"] for lb in photo_of(script, photo_id)["labels"]} == LABELS
    assert slow_rekognition.calls == 2  # the killed job's, and the one that finished
    assert messages_in(sqs_server, queue_url) == 0  # its message is gone for good
    assert_whole(app)


def messages_in(sqs, queue_url: str) -> int:
    """Messages waiting or being worked on (invisible) in the queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = sqs.client().get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)
    return sum(int(found["Attributes"][name]) for name in names)
