"""AWS Lambda entry point for label jobs (SQS event source), sharing the worker's code.

Configure the function with ``ReportBatchItemFailures`` so only the failed records return to
the queue; set the same settings as the web app (DATABASE_*, STORAGE, PHOTOS_BUCKET, LABELER...).
"""

from __future__ import annotations

import logging

from photogallery import create_app
from photogallery.observability import tracing
from photogallery.queue.sqs import parse_body
from photogallery.services import label_worker

log = logging.getLogger(__name__)
_app = None


def _get_app():
    """Built once per Lambda container, reused across invocations."""
    global _app  # one app per warm container is the point
    if _app is None:
        _app = create_app()
    return _app


def handler(event: dict, context: object) -> dict:
    """Label every record; report the ones to retry as batch item failures."""
    app = _get_app()
    backends = app.extensions["photogallery"]
    failures = []
    with app.app_context():
        for record in event.get("Records", []):
            photo_id = parse_body(record.get("body", ""))
            with tracing.job_span(
                "label photo", record.get("messageAttributes"), {"photo.id": photo_id}
            ):
                finished = label_worker.handle(backends, photo_id)
            if not finished:
                failures.append({"itemIdentifier": record.get("messageId", "")})
    tracing.flush()  # the container is frozen between invocations: export now
    if failures:
        log.warning("%d of %d label jobs will be retried", len(failures), len(event["Records"]))
    return {"batchItemFailures": failures}
