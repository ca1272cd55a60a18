"""Label jobs on Amazon SQS (or anything speaking its API, e.g. moto in tests)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photogallery.aws import ProcessClient
from photogallery.observability import metrics
from photogallery.queue.base import QueueError

log = logging.getLogger(__name__)

_MAX_BATCH = 10  # SQS limits
_MAX_WAIT = 20


@dataclass(frozen=True)
class Message:
    """One received job; ``photo_id`` is None when the body is not a valid job."""

    photo_id: int | None
    receipt_handle: str
    receive_count: int
    message_id: str = ""


def parse_body(body: str) -> int | None:
    """The photo id in a ``{"photo_id": N}`` body, or None when malformed."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    photo_id = data.get("photo_id") if isinstance(data, dict) else None
    # bool is an int subclass; "true" is not a photo id.
    if isinstance(photo_id, int) and not isinstance(photo_id, bool) and photo_id > 0:
        return photo_id
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
        with self._errors("enqueue photo"):
            self._sqs().send_message(
                QueueUrl=self.queue_url, MessageBody=json.dumps({"photo_id": photo_id})
            )
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
