"""Upload: validate → store original, preview, thumbnail → commit the row → queue labeling."""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import time
import unicodedata
from collections.abc import Callable
from functools import partial
from typing import BinaryIO

from .. import images, threads
from ..backends import Backends
from ..data import photos as photo_data
from ..data.models import Photo
from ..events.base import UPLOADED
from ..observability import metrics
from ..queue.base import QueueError
from ..settings import Settings
from ..storage.base import StorageError
from . import early_original, photo_events
from .errors import DuplicateUpload, UploadBusy, UploadRejected

log = logging.getLogger(__name__)
MAX_DESCRIPTION = 2000


# Puts one object in the store: ``save(key, content_type=..., download_name=...)``.
Saver = Callable[..., None]


def add_photo(
    backends: Backends, owner_id: int, fileobj: BinaryIO, filename: str, description: str = ""
) -> Photo:
    """Store one uploaded photo; raise UploadRejected (or DuplicateUpload) with a reason."""
    return _add(backends, owner_id, fileobj, filename, description, _streamer(backends, fileobj))


def add_photo_from_store(
    backends: Backends,
    owner_id: int,
    fileobj: BinaryIO,
    filename: str,
    description: str,
    *,
    source_key: str,
) -> Photo:
    """Like add_photo for bytes already stored under ``source_key`` (a direct upload).

    ``fileobj`` is a local copy to check and thumbnail; the original is copied inside the store.
    """
    copy = partial(backends.store.copy, source_key)
    return _add(backends, owner_id, fileobj, filename, description, copy)


def _add(backends, owner_id, fileobj, filename, description, save_original: Saver) -> Photo:
    """Validate → make renditions → store → record → queue labeling, the same for every path."""
    started = time.perf_counter()
    name = clean_filename(filename)
    description = clean_description(description)  # before any work: it may be refused
    size = fileobj.seek(0, io.SEEK_END)
    if size == 0:
        raise UploadRejected(f"{name} is empty")
    limits = image_limits(backends.settings)
    sha256, inspected = _hash_and_inspect(fileobj, limits)
    existing = _find_duplicate(backends, owner_id, sha256)
    if existing:  # before any decoding: an import run again finds each photo it has cheaply
        raise DuplicateUpload(f"{name} is already in your gallery", existing.id)
    if isinstance(inspected, images.ImageRejected):
        raise UploadRejected(f"{name} {inspected}")
    content_type = inspected.content_type
    keys = _new_keys(owner_id, images.KINDS[content_type][0])
    original = _store_original_early(save_original, keys["original_key"], content_type, name)
    rendering = time.perf_counter()
    try:
        image = images.render(fileobj, inspected, limits=limits, budget=backends.decode_budget)
    except BaseException as exc:
        _abandon(backends, original, keys["original_key"])
        if isinstance(exc, images.ImageRejected):
            raise UploadRejected(f"{name} {exc}") from None
        if isinstance(exc, images.DecodeBusy):
            raise UploadBusy(
                f"{name} could not be processed now: the server is busy with other large "
                "photos; try again in a minute"
            ) from None
        raise
    renditions_seconds = time.perf_counter() - rendering
    photo = _store_and_record(
        backends, owner_id, keys, (save_original, original), name, size, sha256, image, description
    )
    announced = photo_events.announce(backends, UPLOADED, photo)
    if not (announced and backends.settings.label_jobs_from_events):
        _queue_labeling(backends, photo.id)  # else the label queue's subscription brings the job
    metrics.upload_done(size, time.perf_counter() - started, renditions_seconds)
    return photo


def _hash_and_inspect(
    fileobj: BinaryIO, limits: images.Limits
) -> tuple[str, images.Inspected | images.ImageRejected]:
    """The upload's sha256, and its type and layout checked (or why it is refused: a duplicate
    is reported first). A file on disk is hashed on the helper thread while this one walks its
    structure: a 12 MP JPEG's ~2 ms each, at once."""
    reader = early_original.separate_reader(fileobj)
    if reader is None:  # in memory: one after the other
        return _digest(fileobj), _inspect(fileobj, limits)
    with reader:
        hashing = threads.Beside(_digest, reader)
        try:
            inspected = _inspect(fileobj, limits)
        finally:  # even on an error: the helper must be done with the reader before it is closed
            sha256 = hashing.result()
    return sha256, inspected


def _inspect(fileobj: BinaryIO, limits: images.Limits) -> images.Inspected | images.ImageRejected:
    try:
        return images.inspect(fileobj, limits=limits)
    except images.ImageRejected as exc:
        return exc


def _new_keys(owner_id: int, extension: str) -> dict[str, str]:
    base = f"u{owner_id}/{secrets.token_hex(12)}"
    return {
        "original_key": f"{base}/original.{extension}",
        "preview_key": f"{base}/preview.jpg",
        "thumbnail_key": f"{base}/thumbnail.jpg",
    }


def _store_original_early(save: Saver, key: str, content_type: str, name: str):
    """Start storing the original beside the decode (None: in memory, stored after it)."""
    if getattr(save, "sequential", False):
        return None
    return early_original.start(partial(save, key, content_type=content_type, download_name=name))


def _abandon(backends: Backends, original, key: str) -> None:
    """The upload failed before its row: the original stored early must not stay an orphan."""
    if original is None:
        return
    try:
        original.result()
    except StorageError:
        return  # nothing stored (already logged by the store)
    _remove(backends, [key])


def image_limits(settings: Settings) -> images.Limits:
    """What an uploaded image may be, from the MAX_IMAGE_* settings."""
    return images.Limits(
        max_pixels=settings.max_image_megapixels * 10**6,
        max_frames=settings.max_image_frames,
        max_metadata_bytes=settings.max_image_metadata_kb * 1024,
    )


def _store_and_record(
    backends, owner_id, keys, original, name, size, sha256, image, description
) -> Photo:
    """``original``: (its saver, its early store's Future or None to store it now)."""
    stored: list[str] = []
    save_original, early = original
    try:
        if early is None:
            _save(stored, keys["original_key"], save_original, image.content_type, name)
        else:
            _wait_for(early, keys["original_key"])
            stored.append(keys["original_key"])
        for kind, rendition in (("preview_key", image.preview), ("thumbnail_key", image.thumbnail)):
            saver = _streamer(backends, io.BytesIO(rendition.data))
            _save(stored, keys[kind], saver, "image/jpeg", None)
        with backends.engine.begin() as conn:
            return photo_data.add_photo(
                conn,
                owner_id=owner_id,
                original_filename=name,
                content_type=image.content_type,
                byte_size=size,
                width=image.width,
                height=image.height,
                sha256=sha256,
                description=clean_description(description),
                taken_at=image.taken_at,
                camera=image.camera,
                **keys,
            )
    except photo_data.DuplicatePhoto:
        _remove(backends, stored)  # a concurrent upload of the same bytes won the race
        existing = _find_duplicate(backends, owner_id, sha256)
        raise DuplicateUpload(
            f"{name} is already in your gallery", existing.id if existing else 0
        ) from None
    except BaseException:
        _remove(backends, stored)  # nothing half-made is left behind
        raise


def _streamer(backends: Backends, fileobj: BinaryIO) -> Saver:
    """A Saver that streams ``fileobj`` from its start into the store: through a reader of its
    own when the file has a descriptor (so it may run beside the decode), else from the file
    itself (``sequential``: only once nothing else reads it)."""
    reader = early_original.separate_reader(fileobj)

    def save(key: str, *, content_type: str, download_name: str | None) -> None:
        source = reader or fileobj
        source.seek(0)
        backends.store.save(key, source, content_type=content_type, download_name=download_name)

    save.sequential = reader is None
    return save


def _wait_for(early, key: str) -> None:
    try:
        early.result()
    except StorageError:
        log.exception("storing %s failed", key)
        raise


def _save(stored: list[str], key: str, saver: Saver, content_type: str, download_name) -> None:
    try:
        saver(key, content_type=content_type, download_name=download_name)
    except StorageError:
        log.exception("storing %s failed", key)
        raise
    stored.append(key)


def _remove(backends: Backends, keys: list[str]) -> None:
    for key in keys:
        try:
            backends.store.delete(key)
        except StorageError:
            log.exception("could not remove %s after a failed upload; it is an orphan now", key)


def _queue_labeling(backends: Backends, photo_id: int) -> None:
    if backends.labeler is None and backends.settings.label_queue == "inline":
        return
    try:
        backends.queue.enqueue(photo_id)
    except QueueError:
        # The photo is safe and stays "pending"; `flask labels relabel --pending` picks it up.
        log.exception("could not queue labeling of photo %s", photo_id)


def _find_duplicate(backends: Backends, owner_id: int, sha256: str) -> Photo | None:
    with backends.engine.connect() as conn:
        return photo_data.find_by_sha256(conn, owner_id, sha256)


def _digest(fileobj: BinaryIO) -> str:
    fileobj.seek(0)
    # One buffer read into again, not a new 1 MB bytes a read: with the fixed mmap threshold
    # of Deploy/bin/photos-web each of those is fresh pages (a 3 MB upload: 1,500 faults).
    return hashlib.file_digest(fileobj, "sha256").hexdigest()


def clean_filename(filename: str | None) -> str:
    """A display name: no path, no control characters, at most 255 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    return name.strip()[:255] or "photo"


def clean_description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise UploadRejected(f"the description is longer than {MAX_DESCRIPTION} characters")
    return text
