"""`flask labels ...`: labeling photos now, and the queue worker."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import AppGroup

from ..context import get_backends
from ..data import photos as photo_data
from ..queue.base import QueueError
from ..services import label_worker
from ..services.labeling import label_photo_with_retries

labels_cli = AppGroup("labels", help="Labeling photos.")


@labels_cli.command("relabel")
@click.option(
    "--status",
    type=click.Choice(["pending", "failed", "done"]),
    multiple=True,
    help="Relabel photos with this status (repeatable).",
)
@click.option("--all", "all_photos", is_flag=True, help="Relabel every photo.")
@click.argument("photo_ids", nargs=-1, type=int)
def labels_relabel(status: tuple[str, ...], all_photos: bool, photo_ids: tuple[int, ...]) -> None:
    """Label photos now (by id, by status, or all); the owner's own labels are kept."""
    backends = get_backends()
    if backends.labeler is None:
        raise click.ClickException("LABELER is none: set LABELER=onnx or rekognition first")
    ids = list(photo_ids)
    with backends.engine.connect() as conn:
        if all_photos:
            ids += photo_data.list_photo_ids(conn, limit=10**9)
        for s in status:
            ids += photo_data.list_photo_ids(conn, status=s, limit=10**9)
    if not ids:
        raise click.UsageError("name photo ids, --status pending/failed, or --all")
    counts: dict[str, int] = {}
    with click.progressbar(sorted(set(ids)), label="labelling") as bar:
        for photo_id in bar:
            result = label_photo_with_retries(backends, photo_id, backoff=(1.0,), force=True)
            counts[result] = counts.get(result, 0) + 1
    click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@labels_cli.command("worker")
@click.option("--wait", default=20, show_default=True, help="Long-poll seconds (1-20).")
def labels_worker(wait: int) -> None:
    """Label photos from the SQS queue until SIGTERM/Ctrl-C (LABEL_QUEUE=sqs)."""
    backends = get_backends()
    if backends.settings.label_queue != "sqs":
        raise click.ClickException("the worker reads SQS: set LABEL_QUEUE=sqs and SQS_QUEUE_URL")
    if backends.labeler is None:
        raise click.ClickException("LABELER is none: set LABELER=onnx or rekognition first")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Finish the message in hand, then stop: its labels are committed before it is deleted.
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"labelling from {backends.settings.sqs_queue_url} with {backends.labeler.name}")
    label_worker.run(backends, backends.queue, stop, wait_seconds=wait)
    click.echo("worker stopped")


@labels_cli.command("sweep")
@click.option("--older-than", default=10, show_default=True, help="Minutes since upload.")
def labels_sweep(older_than: int) -> None:
    """Queue again photos still pending long after upload (their job was lost)."""
    from datetime import timedelta

    try:
        count = label_worker.sweep(get_backends(), older_than=timedelta(minutes=older_than))
    except QueueError as exc:
        raise click.ClickException(f"the label queue is unavailable ({exc}); try again") from None
    click.echo(f"queued {count} pending photos again")
