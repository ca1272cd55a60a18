"""`flask storage ...`: bucket/database consistency and moving the library between stores."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from flask.cli import AppGroup

from ..backends import build_store
from ..context import get_backends
from ..data import photo_files
from ..services import consistency, deletions
from ..services.library_migration import Migration, MigrationReport
from ..storage.base import StorageError, Store

storage_cli = AppGroup("storage", help="Photo storage: consistency checks and migration.")


def where(store: Store) -> str:
    """A store's location for people: s3://bucket/prefix/ or a folder (each store's str)."""
    return str(store)


@storage_cli.command("check")
@click.option(
    "--fix",
    is_flag=True,
    help="Remove objects no photo uses and those of deleted photos, delete photos whose "
    "original is lost, remake lost thumbnails and previews, discard unfinished writes.",
)
@click.option("--force", is_flag=True, help="With --fix: go ahead even if over half would go.")
@click.option(
    "--grace-minutes",
    type=click.IntRange(min=0),
    default=int(consistency.DEFAULT_GRACE.total_seconds() // 60),
    show_default=True,
    help="Leave objects, photos and writes younger than this alone (uploads in progress).",
)
def storage_check(fix: bool, force: bool, grace_minutes: int) -> None:
    """Report objects without photo rows, photo rows without objects, objects of deleted
    photos and unfinished writes (exit 1 if any)."""
    backends = get_backends()
    with _storage_errors():
        report = consistency.check_storage(backends, grace=timedelta(minutes=grace_minutes))
    click.echo(f"storage {where(backends.store)}: {report.objects} objects; {report.photos} photos")
    _print_findings(report, grace_minutes)
    if report.consistent:
        click.echo("storage and database agree")
        return
    if not fix:
        click.echo("run again with --fix to repair")
        raise SystemExit(1)
    try:
        with _storage_errors():
            consistency.fix_storage(backends, report, force=force)
    except consistency.UnsafeFix as exc:
        raise click.ClickException(str(exc)) from None
    _print_fixes(report)
    if report.problems:
        raise SystemExit(1)


def _print_findings(report: consistency.Report, grace_minutes: int) -> None:
    click.echo(f"objects without a photo: {len(report.orphans)}")
    for key in report.orphans:
        click.echo(f"  {key}")
    if report.pending:
        click.echo(f"objects of deleted photos still stored: {len(report.pending)}")
        for key in report.pending:
            click.echo(f"  {key}")
    click.echo(f"photos with missing objects: {len(report.missing)}")
    for missing in report.missing:
        photo = missing.photo
        what = "original lost" if missing.original_lost else "renditions lost"
        click.echo(
            f"  photo {photo.id} of user {photo.owner_id} ({what}): {' '.join(missing.keys)}"
        )
    if report.unfinished:
        click.echo(f"unfinished writes a crash left: {len(report.unfinished)}")
        for write in report.unfinished:
            click.echo(f"  {write.key} (started {write.started:%Y-%m-%d %H:%M} UTC)")
    recent = len(report.recent_unused) + report.recent_unfinished
    if recent:
        click.echo(
            f"left alone, younger than {grace_minutes} minutes: {len(report.recent_unused)} "
            f"objects, {report.recent_unfinished} unfinished writes"
        )


def _print_fixes(report: consistency.Report) -> None:
    click.echo(f"removed {len(report.removed_objects)} objects")
    if report.discarded_writes:
        click.echo(f"discarded {len(report.discarded_writes)} unfinished writes")
    deleted = ", ".join(map(str, report.deleted_photos)) or "none"
    click.echo(f"deleted {len(report.deleted_photos)} photos whose original was lost: {deleted}")
    repaired = ", ".join(map(str, report.repaired_photos)) or "none"
    click.echo(f"remade renditions of {len(report.repaired_photos)} photos: {repaired}")
    for problem in report.problems:
        click.echo(f"  problem: {problem}", err=True)


@storage_cli.command("sweep")
def storage_sweep() -> None:
    """Remove the objects of deleted photos that storage refused before (exit 1 if any fail)."""
    backends = get_backends()
    report = deletions.sweep(backends)
    if not (report.removed or report.failed or report.in_use):
        click.echo("nothing to remove")
        return
    click.echo(f"removed {len(report.removed)} objects of deleted photos")
    for key in report.in_use:
        click.echo(f"  kept {key}: a photo uses it (its deletion record is dropped)", err=True)
    if report.failed:
        left = len(report.failed) + report.untried
        click.echo(f"{len(report.failed)} could not be removed; {left} left for the next sweep")
        raise SystemExit(1)


@storage_cli.command("migrate")
@click.option(
    "--to", "kind", type=click.Choice(["s3", "local"]), required=True, help="The target store."
)
@click.option("--bucket", envvar="PHOTOS_BUCKET", help="Target bucket [PHOTOS_BUCKET].")
@click.option("--prefix", envvar="S3_PREFIX", help="Key prefix in the target bucket [S3_PREFIX].")
@click.option(
    "--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="Bucket region [AWS_REGION]."
)
@click.option("--endpoint-url", envvar="S3_ENDPOINT_URL", help="S3-compatible server.")
@click.option("--photos-dir", envvar="PHOTOS_DIR", help="Target folder [PHOTOS_DIR].")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=8, show_default=True, help="Photos at once."
)
def storage_migrate(kind: str, workers: int, **options: str | None) -> None:
    """Copy every photo to another store; safe to run again (skips what is already there)."""
    backends = get_backends()
    source, target = backends.store, build_store(_target_settings(kind, options))
    if where(source) == where(target):
        raise click.UsageError(f"the photos are already in {where(target)}")
    with _storage_errors():
        report = _migrate(backends, source, target, workers)
    _print_migration(report)
    if report.missing or report.failed:
        raise SystemExit(1)
    click.echo(f"done: set STORAGE={kind} (and its settings) and restart the app")


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A store that is down or refuses is a message, not a traceback."""
    try:
        yield
    except StorageError as exc:
        raise click.ClickException(f"storage failed: {exc}") from None


def _migrate(backends, source: Store, target: Store, workers: int) -> MigrationReport:
    target.check()
    with backends.engine.connect() as conn:
        total = photo_files.count_photos(conn)
        click.echo(f"copying {total} photos from {where(source)} to {where(target)}")
        migration = Migration(source, target)
        with click.progressbar(length=total, label="photos") as bar:
            return migration.run(
                photo_files.iter_photo_files(conn), workers=workers, done=bar.update
            )


def _target_settings(kind: str, options: dict[str, str | None]):
    """The app's settings with the storage part replaced by the options (or environment)."""
    current = get_backends().settings
    if kind == "local":
        return dataclasses.replace(
            current, storage="local", photos_dir=options["photos_dir"] or current.photos_dir
        )
    if not options["bucket"]:
        raise click.UsageError("name the bucket: --bucket or PHOTOS_BUCKET")
    return dataclasses.replace(
        current,
        storage="s3",
        photos_bucket=options["bucket"],
        s3_prefix=(options["prefix"] or "").strip("/"),
        aws_region=options["region"] or current.aws_region,
        s3_endpoint_url=options["endpoint_url"] or None,
    )


def _print_migration(report: MigrationReport) -> None:
    megabytes = report.bytes_copied / 1024 / 1024
    click.echo(
        f"copied {report.copied} objects ({megabytes:.1f} MB), "
        f"skipped {report.skipped} already there, "
        f"{len(report.missing)} missing from the source, {len(report.failed)} failed"
    )
    for key in report.missing:
        click.echo(f"  missing: {key}", err=True)
    for key in report.failed:
        click.echo(f"  failed: {key}", err=True)
