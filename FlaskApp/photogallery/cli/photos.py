"""`flask photos import PATH_OR_S3_URI --user NAME`: bring in an existing library."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from ..context import get_backends
from ..services import imports
from ..services.errors import InvalidInput, UploadRejected
from ..services.import_sources import open_source
from ..services.uploads import clean_description
from .progress import Progress

photos_cli = AppGroup("photos", help="Photos in bulk.")
SHOWN_NAMES = 5  # file names listed under each reason for refusal


@photos_cli.command("import")
@click.argument("location")
@click.option("--user", "username", required=True, help="The account that will own the photos.")
@click.option("--description", default="", help="A description for every imported photo.")
@click.option("--dry-run", is_flag=True, help="Hash and check each file; store nothing.")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Processes making renditions (default: one per CPU; 1: in this process).",
)
def photos_import(
    location: str, username: str, description: str, dry_run: bool, workers: int | None
) -> None:
    """Import every photo under a folder or an s3://bucket/prefix, as if uploaded.

    A rerun skips what is already in. Exits with 1 when any file was refused."""
    backends = get_backends()
    owner = imports.find_owner(backends, username)
    if owner is None:
        raise click.ClickException(f"no user {username} (a local account or a Cognito username)")
    try:
        job = imports.Job(
            owner.id,
            clean_description(description),
            dry_run,
            backends.settings.max_upload_mb * 2**20,
        )
        source = open_source(location, backends.settings)
        listing = source.list_files()
    except (InvalidInput, UploadRejected) as exc:
        raise click.ClickException(str(exc)) from None
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(listing.skipped.items()))
    click.echo(
        f"{len(listing.files)} files in {source}" + (f" (skipped {skipped})" if skipped else ""),
        err=True,
    )
    workers = workers or os.cpu_count() or 1
    progress = Progress(len(listing.files))
    summary = imports.run_import(
        backends, source, listing.files, job, workers=workers, on_outcome=progress.step
    )
    _report(summary, dry_run)
    if summary.refused:
        raise click.exceptions.Exit(1)


def _report(summary: imports.Summary, dry_run: bool) -> None:
    counts = (
        (
            "would import" if dry_run else "imported",
            summary.would_import if dry_run else summary.imported,
        ),
        ("already imported", summary.already_imported),
        ("duplicates", summary.duplicates),
        ("would be refused" if dry_run else "refused", summary.refused_count),
    )
    click.echo(", ".join(f"{what}: {n}" for what, n in counts))
    for reason, names in sorted(summary.refused.items(), key=lambda item: -len(item[1])):
        more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
        click.echo(f"  {len(names)} {reason}: " + ", ".join(names[:SHOWN_NAMES]) + more)
