"""The queue consumer: SQS messages in, labels committed, then (only then) messages deleted.

Shared by `flask labels worker` (long-polling on EC2) and the Lambda handler (SQS event source).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import timedelta

from ..backends import Backends
from ..data import photos as photo_data
from ..data.db import utcnow
from ..labelers.base import LabelerError
from ..observability import tracing
from ..queue.base import QueueError
from ..queue.sqs import NOT_A_JOB, Message
from ..storage.base import StorageError
from .labeling import label_photo

log = logging.getLogger(__name__)
RETRY_DELAYS = (30, 120, 600)  # seconds before a failed job is tried again
SWEEP_EVERY = 300.0
STALE_AFTER = timedelta(minutes=10)


def handle(backends: Backends, photo_id: int | None) -> bool:
    """Label one job's photo; True when the job is finished and its message may go."""
    if photo_id is None:
        return False  # malformed: left for the dead-letter queue, never silently dropped
    if photo_id == NOT_A_JOB:
        return True  # another kind of photo event: nothing to label
    try:
        status = label_photo(backends, photo_id)
    except (LabelerError, StorageError) as exc:
        log.info("photo %s will be retried: %s", photo_id, exc)
        return False
    return status in ("done", "failed", "gone", "pending")


def process(backends: Backends, queue, messages: Iterable[Message]) -> int:
    """Handle received messages; delete the finished, delay the failed. Returns handled count."""
    done = 0
    for message in messages:
        with tracing.job_span("label photo", message.attributes, {"photo.id": message.photo_id}):
            finished = handle(backends, message.photo_id)
        if finished:
            queue.delete(message.receipt_handle)
            done += 1
        elif message.photo_id is not None:
            delay = RETRY_DELAYS[min(message.receive_count, len(RETRY_DELAYS)) - 1]
            queue.retry_later(message.receipt_handle, delay)
    return done


def sweep(backends: Backends, *, older_than: timedelta = STALE_AFTER, limit: int = 500) -> int:
    """Queue again photos still pending long after upload (a crash lost their job)."""
    if backends.labeler is None:
        return 0
    with backends.engine.connect() as conn:
        ids = photo_data.list_stale_pending(conn, utcnow() - older_than, limit)
    for photo_id in ids:
        backends.queue.enqueue(photo_id)
    if ids:
        log.info("sweep queued %d pending photos again", len(ids))
    return len(ids)


def run(backends: Backends, queue, stop: threading.Event, *, wait_seconds: int = 20) -> None:
    """Long-poll until ``stop`` is set; a queue outage is waited out, not fatal."""
    next_sweep = 0.0
    while not stop.is_set():
        try:
            with tracing.suppressed():  # housekeeping and empty long polls are no traces
                if time.monotonic() >= next_sweep:
                    sweep(backends)
                    next_sweep = time.monotonic() + SWEEP_EVERY
                messages = queue.receive(wait_seconds=wait_seconds)
            process(backends, queue, messages)
        except QueueError as exc:
            log.warning("queue unavailable, waiting: %s", exc)
            stop.wait(5)
