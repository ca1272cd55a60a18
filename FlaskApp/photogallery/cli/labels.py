"""`flask labels ...`: labeling photos now, and the queue worker."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..backends import get_backends
from ..data import photos as photo_data
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
            result = label_photo_with_retries(backends, photo_id, backoff=(1.0,))
            counts[result] = counts.get(result, 0) + 1
    click.echo(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
