"""Photo events through moto's SNS → SQS fan-out over HTTP: the label queue subscribed with a
filter policy (LABEL_JOBS_FROM_EVENTS) and a second queue receiving every event."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from photogallery.data import photos as photo_data
from photogallery.services import label_worker
from tests.fixtures.servers import SqsServer, closed_port, use_test_credentials
from tests.services.test_labeling import api_client, sample_jpeg

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def queue_arn(server: SqsServer, url: str) -> str:
    attrs = server.client().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attrs["Attributes"]["QueueArn"]


def subscribe(server: SqsServer, topic: str, queue_url: str, **attributes: str) -> None:
    server.client_for("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(server, queue_url),
        Attributes={"RawMessageDelivery": "true", **attributes},
    )


@pytest.fixture
def fan_out(sqs_server, monkeypatch, tmp_path):
    """A topic; the label queue takes photo.uploaded only, the 'all' queue every event."""
    use_test_credentials(monkeypatch, tmp_path, sqs_server.access_key, sqs_server.secret_key)
    topic = sqs_server.client_for("sns").create_topic(Name=f"photos-{uuid.uuid4().hex[:12]}")
    arn = topic["TopicArn"]
    labels = sqs_server.new_queue("labels", {"VisibilityTimeout": "1"})
    everything = sqs_server.new_queue("all")
    subscribe(sqs_server, arn, labels, FilterPolicy=json.dumps({"type": ["photo.uploaded"]}))
    subscribe(sqs_server, arn, everything)
    return arn, labels, everything


def events_app(make_app, sqs_server, fan_out, **extra):
    arn, labels, _ = fan_out
    settings = {
        "LABELER": "onnx",
        "LABEL_QUEUE": "sqs",
        "SQS_QUEUE_URL": labels,
        "SQS_ENDPOINT_URL": sqs_server.endpoint_url,
        "AWS_REGION": sqs_server.region,
        "EVENTS_TOPIC_ARN": arn,
        "SNS_ENDPOINT_URL": sqs_server.endpoint_url,
        "LABEL_JOBS_FROM_EVENTS": "true",
    }
    return make_app(**(settings | extra))


def received(server: SqsServer, url: str, wait: int = 1) -> list[dict]:
    """Every message now on the queue (deleted as read), oldest first."""
    sqs, messages = server.client(), []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        wait = 0
    return messages


def backends_owner(app, photo_id: int) -> int:
    """The owner of a photo, from the row (the API does not show it)."""
    with app.extensions["photogallery"].engine.connect() as conn:
        return photo_data.get_photo(conn, photo_id).owner_id


def upload_cat(client) -> int:
    photo = (io.BytesIO(sample_jpeg("chelsea")), "c.jpg")
    response = client.post("/api/photos", data={"file": photo})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["photos"][0]["id"]


def test_an_upload_is_labelled_from_its_event_and_every_event_reaches_the_other_queue(
    make_app, sqs_server, fan_out
):
    app = events_app(make_app, sqs_server, fan_out)
    backends = app.extensions["photogallery"]
    client = api_client(app)
    photo_id = upload_cat(client)
    owner_id = backends_owner(app, photo_id)

    jobs = backends.queue.receive(wait_seconds=2)
    assert [job.photo_id for job in jobs] == [photo_id]  # one job: the event, no direct send
    assert label_worker.process(backends, backends.queue, jobs) == 1
    photo = client.get(f"/api/photos/{photo_id}").get_json()
    assert photo["label_status"] == "done" and "Cat" in {lb["name"] for lb in photo["labels"]}
    assert client.delete(f"/api/photos/{photo_id}").status_code == 204

    messages = received(sqs_server, fan_out[2])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["type"] for b in bodies] == ["photo.uploaded", "photo.labelled", "photo.deleted"]
    assert [m["MessageAttributes"]["type"]["StringValue"] for m in messages] == [
        b["type"] for b in bodies
    ]
    assert {(b["photo_id"], b["owner_id"], json.dumps(b["keys"])) for b in bodies} == {
        (photo_id, owner_id, json.dumps(bodies[0]["keys"]))
    }
    assert "Cat" in {lb["name"] for lb in bodies[1]["labels"]}
    assert received(sqs_server, fan_out[1]) == []  # the filter kept labelled/deleted away


def test_a_label_queue_without_filter_policy_acknowledges_the_other_events(
    make_app, sqs_server, fan_out
):
    app = events_app(make_app, sqs_server, fan_out)
    backends = app.extensions["photogallery"]
    for kind in ("photo.labelled", "photo.deleted"):
        body = {"type": kind, "version": 1, "photo_id": 7, "owner_id": 1, "keys": {}}
        sqs_server.client().send_message(QueueUrl=fan_out[1], MessageBody=json.dumps(body))
    jobs = backends.queue.receive(wait_seconds=2)
    assert len(jobs) == 2
    assert label_worker.process(backends, backends.queue, jobs) == 2
    assert received(sqs_server, fan_out[1]) == []  # deleted, not redelivered


def test_when_the_topic_is_down_the_upload_succeeds_and_its_label_job_is_sent_directly(
    make_app, sqs_server, fan_out, caplog
):
    down = f"http://127.0.0.1:{closed_port()}"
    app = events_app(make_app, sqs_server, fan_out, SNS_ENDPOINT_URL=down)
    backends = app.extensions["photogallery"]
    client = api_client(app)

    photo_id = upload_cat(client)

    assert client.get(f"/api/photos/{photo_id}").status_code == 200
    assert f"photo.uploaded of photo {photo_id} was not published" in caplog.text
    jobs = backends.queue.receive(wait_seconds=2)
    assert [job.photo_id for job in jobs] == [photo_id]  # the fallback: a direct job
    assert label_worker.process(backends, backends.queue, jobs) == 1
    assert client.get(f"/api/photos/{photo_id}").get_json()["label_status"] == "done"


def test_the_lambda_handler_labels_from_a_delivered_event_and_acknowledges_the_others(
    make_app, sqs_server, fan_out, monkeypatch
):
    import lambda_function

    app = events_app(make_app, sqs_server, fan_out)
    monkeypatch.setattr(lambda_function, "_app", app)
    client = api_client(app)
    photo_id = upload_cat(client)
    (uploaded,) = received(sqs_server, fan_out[2])  # the body exactly as SNS delivered it
    deleted = json.loads(uploaded["Body"]) | {"type": "photo.deleted", "photo_id": photo_id + 1}
    records = [
        {"messageId": "m-1", "body": uploaded["Body"]},
        {"messageId": "m-2", "body": json.dumps(deleted)},
    ]

    assert lambda_function.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert client.get(f"/api/photos/{photo_id}").get_json()["label_status"] == "done"
