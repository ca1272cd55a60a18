"""The photo-events interface: what an event holds and who publishes it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

VERSION = 1  # of the JSON body; a consumer refuses a version it does not know
UPLOADED = "photo.uploaded"
LABELLED = "photo.labelled"
DELETED = "photo.deleted"
TYPES = (UPLOADED, LABELLED, DELETED)


class EventsError(Exception):
    """An event could not be published (the topic is down, missing, or refuses us)."""


@dataclass(frozen=True)
class PhotoEvent:
    """One thing that happened to a photo, after its commit. Ids and storage keys only:
    never URLs (they would expire, and grant access) nor tokens."""

    type: str
    photo_id: int
    owner_id: int
    keys: dict[str, str]  # original, thumbnail, preview
    labels: tuple[tuple[str, float], ...] | None = None  # (name, confidence), photo.labelled only
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> str:
        body: dict[str, object] = {
            "type": self.type,
            "version": VERSION,
            "photo_id": self.photo_id,
            "owner_id": self.owner_id,
            "keys": self.keys,
        }
        if self.labels is not None:
            body["labels"] = [{"name": n, "confidence": c} for n, c in self.labels]
        body["time"] = self.time.astimezone(UTC).isoformat(timespec="milliseconds")
        return json.dumps(body, separators=(",", ":"))


class EventPublisher(Protocol):
    """Sends photo events to whoever subscribed."""

    def publish(self, event: PhotoEvent) -> None:
        """Publish one event; raise EventsError when it could not be sent."""
