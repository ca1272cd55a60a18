"""LABEL_QUEUE=sqs against a real SQS server (moto over HTTP): worker, redelivery, DLQ, Lambda."""

import io
import json
import time

import pytest

from photogallery.labelers.base import LabelerError
from photogallery.queue.sqs import SqsQueue
from photogallery.services import label_worker
from tests.fixtures.servers import use_test_credentials
from tests.services.test_labeling import api_client, labels_of, sample_jpeg


@pytest.fixture
def queues(sqs_server, monkeypatch, tmp_path):
    """A label queue (1 s visibility) whose poison messages go to a DLQ after 3 receives."""
    use_test_credentials(monkeypatch, tmp_path, sqs_server.access_key, sqs_server.secret_key)
    return sqs_server.new_queue_with_dlq("labels", max_receive_count=3)


@pytest.fixture
def sqs_app(make_app, sqs_server, queues):
    url, _dlq = queues
    return make_app(
        LABELER="onnx",
        LABEL_QUEUE="sqs",
        SQS_QUEUE_URL=url,
        SQS_ENDPOINT_URL=sqs_server.endpoint_url,
        AWS_REGION=sqs_server.region,
    )


def receive_all(queue: SqsQueue, wait: int = 2):
    """The visible messages. ``wait=0`` to check for none: moto answers a short poll from every
    message it holds, where a long poll on an empty queue waits the whole time."""
    return queue.receive(wait_seconds=wait)


def test_upload_queues_one_job_after_commit_and_the_worker_labels_then_deletes(sqs_app):
    client = api_client(sqs_app)
    photo = client.post("/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    photo_id = photo.get_json()["photos"][0]["id"]
    backends = sqs_app.extensions["photogallery"]
    (message,) = receive_all(backends.queue)
    assert message.photo_id == photo_id
    assert label_worker.process(backends, backends.queue, [message]) == 1
    assert "Cat" in labels_of(client, photo_id)
    time.sleep(1.5)
    assert receive_all(backends.queue, wait=0) == []  # deleted, not redelivered


def test_a_worker_killed_before_deleting_gives_the_same_labels_once(sqs_app):
    client = api_client(sqs_app)
    response = client.post(
        "/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")}
    )
    photo_id = response.get_json()["photos"][0]["id"]
    backends = sqs_app.extensions["photogallery"]
    (first,) = receive_all(backends.queue)
    assert label_worker.handle(backends, first.photo_id)  # labels committed... then the crash
    labels_before = labels_of(client, photo_id)
    time.sleep(1.2)
    (again,) = receive_all(backends.queue)
    assert again.photo_id == photo_id and again.receive_count == 2
    assert label_worker.process(backends, backends.queue, [again]) == 1
    assert labels_of(client, photo_id) == labels_before


def test_a_poison_message_ends_in_the_dead_letter_queue(sqs_app, sqs_server, queues):
    _url, dlq_url = queues
    backends = sqs_app.extensions["photogallery"]
    sqs_server.client().send_message(QueueUrl=backends.queue.queue_url, MessageBody="garbage")
    for _ in range(3):
        (message,) = receive_all(backends.queue, wait=3)
        assert label_worker.process(backends, backends.queue, [message]) == 0
    time.sleep(1.2)
    assert receive_all(backends.queue, wait=0) == []
    dead = SqsQueue(dlq_url, region=sqs_server.region, endpoint_url=sqs_server.endpoint_url)
    (poison,) = dead.receive(wait_seconds=2)
    assert poison.photo_id is None


def test_a_failing_job_is_delayed_with_backoff_not_redelivered_at_once(sqs_app, monkeypatch):
    client = api_client(sqs_app)
    client.post("/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    backends = sqs_app.extensions["photogallery"]
    monkeypatch.setattr(label_worker, "RETRY_DELAYS", (3, 3, 3))
    monkeypatch.setattr(backends.store, "open", _storage_down)
    (message,) = receive_all(backends.queue)
    assert label_worker.process(backends, backends.queue, [message]) == 0
    time.sleep(1.5)  # past the queue's 1 s visibility timeout, inside the 3 s backoff
    assert receive_all(backends.queue, wait=0) == []
    (later,) = receive_all(backends.queue, wait=4)
    assert later.receive_count == 2


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_photo_that_can_never_be_labelled_finishes_failed_and_its_message_goes(
    sqs_app, monkeypatch
):
    client = api_client(sqs_app)
    response = client.post(
        "/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")}
    )
    photo_id = response.get_json()["photos"][0]["id"]
    backends = sqs_app.extensions["photogallery"]

    def refuse(image, *, key=None):
        raise LabelerError("the image format is not supported", retryable=False)

    monkeypatch.setattr(backends.labeler, "detect_labels", refuse)
    (message,) = receive_all(backends.queue)
    assert label_worker.process(backends, backends.queue, [message]) == 1
    photo = client.get(f"/api/photos/{photo_id}").get_json()
    assert photo["label_status"] == "failed"
    time.sleep(1.5)  # past the queue's 1 s visibility timeout: a kept message would be back
    assert receive_all(backends.queue, wait=0) == []


def test_sweep_queues_photos_still_pending_long_after_upload(sqs_app):
    client = api_client(sqs_app)
    client.post("/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")})
    backends = sqs_app.extensions["photogallery"]
    receive_all(backends.queue)  # the original job is lost (received, never handled)
    from datetime import timedelta

    assert label_worker.sweep(backends, older_than=timedelta(minutes=10)) == 0
    assert label_worker.sweep(backends, older_than=timedelta(seconds=0)) == 1


def test_the_lambda_handler_reports_only_the_failed_records(sqs_app, monkeypatch, queues):
    import lambda_function

    client = api_client(sqs_app)
    response = client.post(
        "/api/photos", data={"file": (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")}
    )
    photo_id = response.get_json()["photos"][0]["id"]
    monkeypatch.setattr(lambda_function, "_app", sqs_app)
    event = {
        "Records": [
            {"messageId": "m-1", "body": json.dumps({"photo_id": photo_id})},
            {"messageId": "m-2", "body": "not a job"},
        ]
    }
    assert lambda_function.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}]
    }
    assert "Cat" in labels_of(client, photo_id)


def test_the_lambda_handler_builds_the_app_from_the_environment(monkeypatch, tmp_path):
    import lambda_function

    monkeypatch.setattr(lambda_function, "_app", None)
    for name, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path}/l.db",
        "LABELER": "none",
        "PHOTOS_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    assert lambda_function.handler({"Records": []}, None) == {"batchItemFailures": []}
    assert lambda_function._get_app() is lambda_function._get_app()


def test_worker_command_explains_what_it_needs(runner):
    result = runner.invoke(args=["labels", "worker"])
    assert result.exit_code != 0 and "LABEL_QUEUE=sqs" in result.output


def _storage_down(key):
    from photogallery.storage.base import StorageError

    raise StorageError("storage unreachable")
