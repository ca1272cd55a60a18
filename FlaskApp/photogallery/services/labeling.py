"""Labeling: run the labeler on a photo's preview, record labels, retry with backoff."""

from __future__ import annotations

import logging
import time
from functools import partial

from ..backends import Backends
from ..data import photos as photo_data
from ..data.models import PhotoLabel
from ..events.base import LABELLED
from ..labelers.base import LabelerError
from ..observability import metrics
from ..queue.inline import InlineQueue
from ..storage.base import ObjectNotFound, StorageError
from . import photo_events

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = (2.0, 8.0, 30.0)


def label_photo(backends: Backends, photo_id: int, *, force: bool = False) -> str:
    """Label one photo; return its status. Raise LabelerError/StorageError when worth retrying.

    Idempotent: a job delivered twice finds the photo ``done`` and does nothing (unless
    ``force``, for relabeling), and a rerun replaces the model's labels rather than adding.
    """
    labeler = backends.labeler
    if labeler is None:
        return "pending"
    with backends.engine.connect() as conn:
        photo = photo_data.get_photo(conn, photo_id)
    if photo is None:
        return "gone"  # deleted before its job ran: nothing to do
    if photo.label_status == "done" and not force:
        return "done"
    try:
        image = _read(backends, photo.preview_key) if labeler.needs_bytes else None
        asked = time.perf_counter()
        result = labeler.detect_labels(image, key=photo.preview_key)
        metrics.labeling_done(time.perf_counter() - asked)
    except (LabelerError, StorageError) as exc:
        metrics.label_failed(exc)
        retryable = getattr(exc, "retryable", True) and not isinstance(exc, ObjectNotFound)
        attempts = photo.label_attempts + 1
        final = not retryable or attempts >= MAX_ATTEMPTS
        # The owner reads this when the photo ends failed: say that trying stopped.
        error = f"{exc}; gave up after {attempts} attempts" if final and retryable else str(exc)
        with backends.engine.begin() as conn:
            photo_data.mark_label_attempt(conn, photo_id, error=error, final=final)
        log.warning(
            "labeling photo %s failed (%s): %s", photo_id, "final" if final else "will retry", exc
        )
        if final:
            return "failed"
        raise
    labels = [PhotoLabel(lb.name, lb.confidence, lb.parents) for lb in result.labels]
    with backends.engine.begin() as conn:
        if photo_data.get_photo(conn, photo_id) is None:
            return "gone"
        photo_data.set_labels(conn, photo_id, labels, model=result.model_version)
        labelled = photo_data.get_photo(conn, photo_id)  # with the owner's own labels too
    log.info("labelled photo %s: %d labels", photo_id, len(labels))
    photo_events.announce(backends, LABELLED, labelled, labels=True)
    return "done"


def _read(backends: Backends, key: str) -> bytes:
    with backends.store.open(key) as f:
        return f.read()


def label_photo_with_retries(
    backends: Backends,
    photo_id: int,
    *,
    backoff: tuple[float, ...] = BACKOFF_SECONDS,
    force: bool = False,
) -> str:
    """Label in-process, sleeping between retryable failures (the inline queue's worker)."""
    for delay in (*backoff, None):
        try:
            return label_photo(backends, photo_id, force=force)
        except (LabelerError, StorageError):
            if delay is None:
                break
            time.sleep(delay)
    return "failed"


def bind_inline_queue(backends: Backends) -> None:
    """An in-process queue labels with these backends; bound after Backends exists, since the
    job needs them and the queue is part of them."""
    if isinstance(backends.queue, InlineQueue):
        backends.queue.bind(partial(label_photo_with_retries, backends))
