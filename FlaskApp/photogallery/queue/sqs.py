"""Label jobs on Amazon SQS (or anything speaking its API, e.g. moto in tests)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photogallery.aws import ProcessClient
from photogallery.events import base as events
from photogallery.observability import metrics, tracing
from photogallery.queue.base import QueueError

log = logging.getLogger(__name__)

_MAX_BATCH = 10  # SQS limits
_MAX_WAIT = 20
# A photo event that is no label job (photo.labelled, photo.deleted reach the label queue when
# its subscription has no filter policy): acknowledged and dropped. Photo ids start at 1.
NOT_A_JOB = 0


@dataclass(frozen=True)
class Message:
    """One received job; ``photo_id`` is None when the body is not a valid job, NOT_A_JOB
    when it is a photo event with nothing to label."""

    photo_id: int | None
    receipt_handle: str
    receive_count: int
    message_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # MessageAttributes (trace context)


def parse_body(body: str) -> int | None:
    """The photo to label, from a direct job ``{"photo_id": N}`` or a raw ``photo.uploaded``
    event (the label queue subscribed to the events topic); NOT_A_JOB for the other photo
    events; None when malformed (left for the dead-letter queue)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "type" in data:
        return _event_job(data)
    return _photo_id(data.get("photo_id"))


def _event_job(event: dict[str, Any]) -> int | None:
    """A photo event of the version we know; anything else is malformed."""
    version = event.get("version")
    photo_id = _photo_id(event.get("photo_id"))
    if type(version) is not int or version != events.VERSION or photo_id is None:
        return None
    if event["type"] == events.UPLOADED:
        return photo_id
    return NOT_A_JOB if event["type"] in events.TYPES else None


def _photo_id(value: object) -> int | None:
    # bool is an int subclass; "true" is not a photo id.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


class SqsQueue:
    """A ``LabelQueue`` on one SQS queue, plus the consumer side (receive/delete)."""

    def __init__(
        self,
        queue_url: str,
        *,
        region: str,
        endpoint_url: str | None = None,
        client: Any = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.queue_url = queue_url
        self.region = region
        self.endpoint_url = endpoint_url
        self._read_timeout = read_timeout
        config = Config(
            region_name=region,
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._client = ProcessClient("sqs", config=config, endpoint_url=endpoint_url, client=client)

    def enqueue(self, photo_id: int) -> None:
        """Queue one "label photo N" job."""
        if isinstance(photo_id, bool) or not isinstance(photo_id, int):
            raise TypeError(f"photo_id must be an int, not {type(photo_id).__name__}")
        params: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MessageBody": json.dumps({"photo_id": photo_id}),
        }
        if trace := tracing.message_attributes():  # the upload's trace, for the worker to join
            params["MessageAttributes"] = trace
        with self._errors("enqueue photo"):
            self._sqs().send_message(**params)
        log.debug("queued label job for photo %d", photo_id)

    def receive(
        self,
        max_messages: int = _MAX_BATCH,
        wait_seconds: int = _MAX_WAIT,
        visibility_timeout: int | None = None,
    ) -> list[Message]:
        """Long-poll for up to ``max_messages`` jobs; an empty list means none arrived."""
        wait = max(0, min(wait_seconds, _MAX_WAIT))
        if wait >= self._read_timeout:
            # Otherwise every empty long poll would end in a read timeout and a retry.
            raise ValueError(f"wait_seconds={wait} must be below read_timeout")
        params: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": max(1, min(max_messages, _MAX_BATCH)),
            "WaitTimeSeconds": wait,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
            "MessageAttributeNames": ["All"],
        }
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = visibility_timeout
        with self._errors("receive from"):
            resp = self._sqs().receive_message(**params)
        return [self._message(raw) for raw in resp.get("Messages", [])]

    def delete(self, receipt_handle: str) -> None:
        """Acknowledge a job so it is not delivered again."""
        with self._errors("delete message from"):
            self._sqs().delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """Make a failed job visible again after ``delay_seconds`` (backoff between tries)."""
        delay = max(0, min(int(delay_seconds), 12 * 3600))  # SQS's visibility maximum
        with self._errors("delay message on"):
            self._sqs().change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
            )

    def check(self) -> None:
        """Raise QueueError unless the queue is reachable with our credentials."""
        with self._errors("check"):
            self._sqs().get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])

    def _message(self, raw: dict[str, Any]) -> Message:
        """Turn a raw SQS message into a Message, flagging malformed bodies."""
        photo_id = parse_body(raw.get("Body", ""))
        if photo_id is None:
            log.warning("malformed label job %s on %s", raw.get("MessageId"), self.queue_url)
        count = raw.get("Attributes", {}).get("ApproximateReceiveCount", "1")
        if sent := raw.get("Attributes", {}).get("SentTimestamp"):  # ms since the epoch
            metrics.queue_lag(time.time() - int(sent) / 1000)
        return Message(
            photo_id=photo_id,
            receipt_handle=raw["ReceiptHandle"],
            receive_count=int(count),
            message_id=raw.get("MessageId", ""),
            attributes=raw.get("MessageAttributes", {}),
        )

    def _sqs(self) -> Any:
        return self._client.get()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn botocore failures into QueueError without leaking secrets."""
        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            log.warning("SQS %s %s failed: %s (HTTP %s)", action, self.queue_url, code, status)
            raise QueueError(
                f"could not {action} {self.queue_url}: {code} (HTTP {status})"
            ) from exc
        except BotoCoreError as exc:
            log.warning("SQS %s %s failed: %s", action, self.queue_url, type(exc).__name__)
            raise QueueError(f"could not {action} {self.queue_url}: {type(exc).__name__}") from exc
