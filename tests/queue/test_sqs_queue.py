"""SqsQueue against moto's SQS server over HTTP (plus a few offline unit tests)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from photogallery.queue.base import QueueError
from photogallery.queue.sqs import SqsQueue, parse_body
from tests.fixtures.servers import SqsServer, closed_port, use_test_credentials
from tests.observability.recording import recorded_figures


@pytest.fixture
def aws_env(sqs_server: SqsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Credentials for the default chain via env vars only, never a developer's ~/.aws."""
    use_test_credentials(monkeypatch, tmp_path, sqs_server.access_key, sqs_server.secret_key)


def make_queue(server: SqsServer, url: str) -> SqsQueue:
    """A SqsQueue on ``url`` using credentials from the environment."""
    return SqsQueue(url, region=server.region, endpoint_url=server.endpoint_url)


@pytest.fixture
def queue(sqs_server: SqsServer, aws_env: None) -> SqsQueue:
    """A fresh queue whose messages reappear 1 s after an unacknowledged receive."""
    url = sqs_server.new_queue("labels", {"VisibilityTimeout": "1"})
    return make_queue(sqs_server, url)


def test_enqueue_receive_delete_round_trip(queue: SqsQueue) -> None:
    queue.enqueue(42)

    (message,) = queue.receive(wait_seconds=2)
    assert message.photo_id == 42
    assert message.receive_count == 1
    queue.delete(message.receipt_handle)

    time.sleep(1.2)  # past the visibility timeout: a deleted message must not come back
    assert queue.receive(wait_seconds=0) == []


def test_a_received_job_records_its_age_from_sqs_sent_timestamp(queue: SqsQueue) -> None:
    queue.enqueue(5)
    time.sleep(1.1)

    with recorded_figures() as figures:
        assert len(queue.receive(wait_seconds=2)) == 1

    [(lag,)] = figures.of("queue_lag")
    assert 1.0 <= lag < 10  # SentTimestamp is SQS's clock (moto's here), in milliseconds


def test_receive_batches_several_messages(queue: SqsQueue) -> None:
    for photo_id in (1, 2, 3):
        queue.enqueue(photo_id)

    got: list[int | None] = []
    while len(got) < 3:
        batch = queue.receive(max_messages=10, wait_seconds=1, visibility_timeout=30)
        assert batch, "messages went missing"
        got += [m.photo_id for m in batch]

    assert sorted(p for p in got if p is not None) == [1, 2, 3]


def test_empty_receive_long_polls(queue: SqsQueue) -> None:
    started = time.monotonic()

    assert queue.receive(wait_seconds=1) == []

    assert time.monotonic() - started >= 0.9


def test_undeleted_message_is_redelivered(queue: SqsQueue) -> None:
    queue.enqueue(7)
    (first,) = queue.receive(wait_seconds=1)

    (again,) = queue.receive(wait_seconds=3)

    assert again.photo_id == 7
    assert again.receive_count == 2
    assert again.message_id == first.message_id
    queue.delete(again.receipt_handle)


def test_poison_message_moves_to_dead_letter_queue(sqs_server: SqsServer, aws_env: None) -> None:
    client = sqs_server.client()
    url, dlq_url = sqs_server.new_queue_with_dlq("labels", max_receive_count=2)
    queue, dead = make_queue(sqs_server, url), make_queue(sqs_server, dlq_url)
    client.send_message(QueueUrl=url, MessageBody="this is not json")

    counts = []
    for _ in range(2):  # the consumer keeps failing and never deletes it
        (message,) = queue.receive(wait_seconds=3)
        assert message.photo_id is None
        counts.append(message.receive_count)

    assert counts == [1, 2]
    assert queue.receive(wait_seconds=2) == []
    (dead_message,) = dead.receive(wait_seconds=1)
    assert dead_message.photo_id is None
    assert dead_message.message_id == message.message_id


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", "null", '{"photo": 1}', '{"photo_id": "7"}', '{"photo_id": true}'],
)
def test_malformed_body_comes_back_without_photo_id(
    sqs_server: SqsServer, queue: SqsQueue, body: str
) -> None:
    sqs_server.client().send_message(QueueUrl=queue.queue_url, MessageBody=body)

    (message,) = queue.receive(wait_seconds=1)

    assert message.photo_id is None
    assert message.receipt_handle
    queue.delete(message.receipt_handle)


def test_check_passes_for_existing_queue(queue: SqsQueue) -> None:
    queue.check()


def test_check_fails_for_missing_queue(sqs_server: SqsServer, aws_env: None) -> None:
    missing = f"{sqs_server.endpoint_url}/123456789012/no-such-queue"

    with pytest.raises(QueueError):
        make_queue(sqs_server, missing).check()


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.enqueue(1),
        lambda q: q.receive(wait_seconds=0),
        lambda q: q.delete("handle"),
        lambda q: q.check(),
    ],
    ids=["enqueue", "receive", "delete", "check"],
)
def test_queue_error_when_endpoint_is_down(aws_env: None, call: Any) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    queue = SqsQueue(
        f"{endpoint}/123456789012/labels",
        region="us-east-1",
        endpoint_url=endpoint,
        connect_timeout=1,
        max_attempts=2,
    )
    started = time.monotonic()

    with pytest.raises(QueueError, match="EndpointConnectionError"):
        call(queue)

    assert time.monotonic() - started < 5


# -- offline unit tests ------------------------------------------------------


def _stubbed() -> tuple[SqsQueue, Any]:
    """A queue on a client that never touches the network."""
    client = boto3.session.Session().client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    return SqsQueue("https://sqs.example/1/q", region="us-east-1", client=client), client


def test_enqueue_sends_json_body() -> None:
    queue, client = _stubbed()
    with Stubber(client) as stub:
        expected = {"QueueUrl": "https://sqs.example/1/q", "MessageBody": '{"photo_id": 5}'}
        stub.add_response("send_message", {"MessageId": "m1"}, expected)
        queue.enqueue(5)
        stub.assert_no_pending_responses()


def test_receive_long_polls_and_asks_for_receive_count() -> None:
    queue, client = _stubbed()
    expected = {
        "QueueUrl": "https://sqs.example/1/q",
        "MaxNumberOfMessages": 10,
        "WaitTimeSeconds": 20,
        "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        "MessageAttributeNames": ["All"],  # a trace context travels there (TRACING=otlp)
        "VisibilityTimeout": 60,
    }
    raw: dict[str, Any] = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": '{"photo_id": 9}'}
    raw["Attributes"] = {"ApproximateReceiveCount": "3"}
    with Stubber(client) as stub:
        stub.add_response("receive_message", {"Messages": [raw]}, expected)
        (message,) = queue.receive(visibility_timeout=60)
    assert (message.photo_id, message.receipt_handle, message.receive_count) == (9, "r1", 3)


def test_client_error_becomes_queue_error() -> None:
    queue, client = _stubbed()
    with Stubber(client) as stub:
        stub.add_client_error("send_message", "AccessDenied", http_status_code=403)
        with pytest.raises(QueueError, match="AccessDenied"):
            queue.enqueue(1)


@pytest.mark.parametrize("bad", ["7", 7.0, True, None])
def test_enqueue_rejects_non_int(bad: Any) -> None:
    queue, _ = _stubbed()
    with pytest.raises(TypeError):
        queue.enqueue(bad)


@pytest.mark.parametrize(
    ("body", "expected"),
    [('{"photo_id": 3}', 3), ('{"photo_id": 0}', None), ('{"photo_id": -1}', None), ("{", None)],
)
def test_parse_body(body: str, expected: int | None) -> None:
    assert parse_body(body) == expected


def test_wait_longer_than_read_timeout_is_refused() -> None:
    queue = SqsQueue("https://sqs.example/1/q", region="us-east-1", read_timeout=5)
    with pytest.raises(ValueError, match="read_timeout"):
        queue.receive(wait_seconds=10)
