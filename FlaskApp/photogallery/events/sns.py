"""Photo events on an Amazon SNS topic (or anything speaking its API, e.g. moto in tests)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..aws import ProcessClient
from .base import EventsError, PhotoEvent

log = logging.getLogger(__name__)

# Extra SNS MessageAttributes for each publish (e.g. the trace context), made per call.
AttributesHook = Callable[[], Mapping[str, Mapping[str, str]]]


class SnsPublisher:
    """An ``EventPublisher`` on one standard SNS topic.

    Every message carries the attribute ``type`` (``photo.uploaded``...), so a subscription's
    filter policy picks the kinds it wants. Timeouts are short: publishing runs in the
    request, after the commit, and an SNS outage must not hold uploads for long.
    """

    def __init__(
        self,
        topic_arn: str,
        *,
        endpoint_url: str | None = None,
        client: Any = None,
        extra_attributes: AttributesHook | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        max_attempts: int = 2,
    ) -> None:
        self.topic_arn = topic_arn
        self._extra_attributes = extra_attributes
        config = Config(
            region_name=topic_arn.split(":")[3],  # the topic's own region (settings checked it)
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._client = ProcessClient("sns", config=config, endpoint_url=endpoint_url, client=client)

    def publish(self, event: PhotoEvent) -> None:
        attributes = dict(self._extra_attributes() if self._extra_attributes else {})
        attributes["type"] = {"DataType": "String", "StringValue": event.type}
        try:
            self._client.get().publish(
                TopicArn=self.topic_arn, Message=event.to_json(), MessageAttributes=attributes
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise EventsError(f"SNS refused {event.type}: {code} (HTTP {status})") from exc
        except (BotoCoreError, ResponseParserError) as exc:  # the latter: a garbled answer
            raise EventsError(f"SNS unreachable for {event.type}: {type(exc).__name__}") from exc
        log.debug("published %s of photo %d", event.type, event.photo_id)
