"""NoEvents: EVENTS_TOPIC_ARN is not set, so nothing is published, by design."""

from __future__ import annotations

from .base import PhotoEvent


class NoEvents:
    """The default publisher: no topic configured means no subscribers to tell."""

    def publish(self, event: PhotoEvent) -> None:
        return None
