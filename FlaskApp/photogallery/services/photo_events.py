"""Publishing photo events after their commit, never failing what was committed."""

from __future__ import annotations

import logging

from ..backends import Backends
from ..data.models import Photo
from ..data.photo_files import PhotoFiles
from ..events.base import EventsError, PhotoEvent

log = logging.getLogger(__name__)


def announce(
    backends: Backends, kind: str, photo: Photo | PhotoFiles, *, labels: bool = False
) -> bool:
    """Publish ``kind`` for a committed photo; False (logged, the event lost) when it failed.

    The photo is safe whatever happens here: the database is the truth and events are
    notifications of it, so an SNS outage costs subscribers an event, never the owner a photo.
    """
    event = PhotoEvent(
        type=kind,
        photo_id=photo.id,
        owner_id=photo.owner_id,
        keys={
            "original": photo.original_key,
            "thumbnail": photo.thumbnail_key,
            "preview": photo.preview_key,
        },
        labels=_labels(photo) if labels else None,
    )
    try:
        backends.events.publish(event)
    except EventsError as exc:
        log.warning("%s of photo %s was not published: %s", kind, photo.id, exc)
        return False
    return True


def _labels(photo: Photo | PhotoFiles) -> tuple[tuple[str, float], ...]:
    return tuple((lb.name, lb.confidence) for lb in getattr(photo, "labels", ()))
