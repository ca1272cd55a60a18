"""Browsing one person's photos: pages, search, one photo, edits and deletes."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import datetime

from ..backends import Backends
from ..data import pending_deletions as pending_data
from ..data import photos as photo_data
from ..data import terms
from ..data.models import Photo
from ..data.reads import read
from ..data.schema import MAX_ID
from ..events.base import DELETED
from . import deletions, photo_events
from .errors import InvalidInput, NotFound, UploadRejected
from .uploads import clean_description

log = logging.getLogger(__name__)
MAX_QUERY_WORDS = photo_data.MAX_QUERY_TERMS
MAX_LABEL = 100
RETRY_ON_DELETE = 20  # objects left by earlier failed deletes that each working delete retries
# What a person reads when a delete could not remove the stored files yet.
FILES_PENDING = (
    "Photo deleted. Its files could not be removed yet; they will be removed "
    "automatically once storage answers again."
)


@dataclass(frozen=True)
class Page:
    photos: list[Photo]
    next_cursor: str | None


def list_photos(
    backends: Backends,
    owner_id: int,
    *,
    query: str = "",
    cursor: str | None = None,
    limit: int | None = None,
) -> Page:
    """A page of photos, newest first; ``query`` keeps those matching every word."""
    limit = backends.settings.page_size if limit is None else limit
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500")
    query_terms = terms.words(query)[:MAX_QUERY_WORDS]
    before = decode_cursor(cursor) if cursor else None
    found = read(
        backends.engine,
        lambda conn: photo_data.list_photos(
            conn, owner_id, before=before, limit=limit + 1, query_terms=query_terms
        ),
    )
    more = len(found) > limit
    found = found[:limit]
    return Page(found, encode_cursor(found[-1]) if more else None)


def get_photo(backends: Backends, owner_id: int, photo_id: int) -> Photo:
    with backends.engine.connect() as conn:
        photo = photo_data.get_photo(conn, photo_id, owner_id)
    if photo is None:
        raise NotFound()
    return photo


def neighbours(backends: Backends, owner_id: int, photo: Photo) -> tuple[int | None, int | None]:
    """(newer, older) photo ids around ``photo``, for previous and next."""
    with backends.engine.connect() as conn:
        return photo_data.neighbour_ids(conn, owner_id, photo)


def update_description(backends: Backends, owner_id: int, photo_id: int, text: str) -> Photo:
    try:
        description = clean_description(text)
    except UploadRejected as exc:
        raise InvalidInput(exc.reason) from None
    with backends.engine.begin() as conn:
        if photo_data.get_photo(conn, photo_id, owner_id) is None:
            raise NotFound()
        photo_data.update_description(conn, photo_id, description)
    return get_photo(backends, owner_id, photo_id)


def add_label(backends: Backends, owner_id: int, photo_id: int, name: str) -> Photo:
    """The owner adds a label of their own (kept through relabeling)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= MAX_LABEL:
        raise InvalidInput(f"a label is 1 to {MAX_LABEL} characters")
    with backends.engine.begin() as conn:
        _owned(conn, owner_id, photo_id)
        photo_data.add_owner_label(conn, photo_id, name)
    return get_photo(backends, owner_id, photo_id)


def remove_label(backends: Backends, owner_id: int, photo_id: int, name: str) -> Photo:
    """The owner removes a wrong label; relabeling will not bring it back."""
    with backends.engine.begin() as conn:
        _owned(conn, owner_id, photo_id)
        if not photo_data.remove_label(conn, photo_id, name):
            raise NotFound(f"this photo has no label {name!r}")
    return get_photo(backends, owner_id, photo_id)


def _owned(conn, owner_id: int, photo_id: int) -> None:
    if photo_data.get_photo(conn, photo_id, owner_id) is None:
        raise NotFound()


def delete_photo(backends: Backends, owner_id: int, photo_id: int) -> bool:
    """Remove the row (and its labels), then every stored object of the photo.

    Returns False when the store failed: the photo is gone, its objects wait for the sweep."""
    with backends.engine.begin() as conn:
        photo = photo_data.get_photo(conn, photo_id, owner_id)
        if photo is None:
            raise NotFound()
        photo_data.delete_photo(conn, photo_id)
        # With the row: never a row pointing at removed objects, never objects nobody removes.
        pending_data.add_keys(conn, photo.keys, photo_id=photo_id)
    photo_events.announce(backends, DELETED, photo)
    if deletions.remove_objects(backends, photo.keys):
        log.warning("photo %s deleted; its objects wait for the sweep", photo_id)
        return False
    deletions.sweep(backends, limit=RETRY_ON_DELETE)  # the store works: earlier leftovers too
    return True


def photo_urls(backends: Backends, photo: Photo) -> dict[str, str]:
    store = backends.store
    return {
        "thumbnail": store.url(photo.thumbnail_key),
        "preview": store.url(photo.preview_key),
        "original": store.url(photo.original_key, download_name=photo.original_filename),
    }


def encode_cursor(photo: Photo) -> str:
    raw = f"{photo.created_at.isoformat()}|{photo.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, photo_id = raw.split("|")
        before = datetime.fromisoformat(created), int(photo_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        before = None
    if before is None or not 1 <= before[1] <= MAX_ID:  # a larger id cannot even be bound
        raise InvalidInput("the page cursor is not valid; start from the first page")
    return before
