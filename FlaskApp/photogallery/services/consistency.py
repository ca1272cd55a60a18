"""Bucket and database agree: find (and fix) objects without rows and rows without objects,
objects of deleted photos the store refused to remove, and writes a crash left unfinished
(temp files on disk, multipart uploads on S3).

Fixing is conservative. Objects and rows younger than a grace period are not judged (an upload
stores its objects before it commits its row, and a direct upload waits in ``incoming/`` until
completed). An object is removed only when no row uses it, checked again right before the
delete. A row
whose original is gone cannot be shown or downloaded again, so it is deleted (the report names
it, for restoring from a backup or bucket versioning); a row that lost only its thumbnail or
preview gets them made again from the original. A fix that would remove more than half of
everything (past ten), or every row, is refused unless forced: that is a wrong bucket, prefix,
folder or database, not rot.
"""

from __future__ import annotations

import io
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .. import images
from ..backends import Backends
from ..data import pending_deletions as pending_data
from ..data import photo_files
from ..data import photos as photo_data
from ..data.photo_files import PhotoFiles
from ..events.base import DELETED
from ..storage.base import StorageError, StoredObject, UnfinishedWrite, download
from . import deletions, photo_events, uploads

log = logging.getLogger(__name__)
DEFAULT_GRACE = timedelta(hours=3)  # longer than a direct upload's token lives


class UnsafeFix(Exception):
    """The fix would remove too much to be plausible; nothing was changed."""


@dataclass(frozen=True)
class MissingObjects:
    """A photo row some of whose objects are not in the store."""

    photo: PhotoFiles
    keys: tuple[str, ...]

    @property
    def original_lost(self) -> bool:
        return self.photo.original_key in self.keys


@dataclass
class Report:
    """What the check found and, after a fix, what it changed."""

    objects: int = 0
    photos: int = 0
    orphans: list[str] = field(default_factory=list)  # objects no row uses, past the grace
    pending: list[str] = field(default_factory=list)  # of deleted photos, the sweep's to remove
    recent_unused: list[str] = field(default_factory=list)  # within the grace: left alone
    unfinished: list[UnfinishedWrite] = field(default_factory=list)  # crashed saves, past grace
    recent_unfinished: int = 0  # saves in progress, or too recent to judge
    missing: list[MissingObjects] = field(default_factory=list)
    removed_objects: list[str] = field(default_factory=list)
    discarded_writes: list[str] = field(default_factory=list)
    deleted_photos: list[int] = field(default_factory=list)
    repaired_photos: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what a fix could not do

    @property
    def consistent(self) -> bool:
        return not (self.orphans or self.missing or self.pending or self.unfinished)


def check_storage(
    backends: Backends, *, grace: timedelta = DEFAULT_GRACE, now: datetime | None = None
) -> Report:
    """Compare one listing of the store with every photo row; change nothing."""
    cutoff = (now or datetime.now(UTC)) - grace
    stored: dict[str, StoredObject] = {o.key: o for o in backends.store.list_objects()}
    report = Report(objects=len(stored))
    used: set[str] = set()
    with backends.engine.connect() as conn:
        for photo in photo_files.iter_photo_files(conn):
            report.photos += 1
            used.update(photo.keys)
            lost = tuple(key for key in photo.keys if key not in stored)
            # A row committed after the listing began has objects the listing could not see.
            if lost and photo.created_at <= cutoff.replace(tzinfo=None):
                report.missing.append(MissingObjects(photo, lost))
        pending = pending_data.pending_keys(conn)
    report.pending = sorted(pending & stored.keys())
    for key in sorted(stored.keys() - used - pending):
        (report.orphans if stored[key].modified <= cutoff else report.recent_unused).append(key)
    for write in backends.store.list_unfinished():
        if write.started <= cutoff:
            report.unfinished.append(write)
        else:
            report.recent_unfinished += 1
    return report


def fix_storage(backends: Backends, report: Report, *, force: bool = False) -> Report:
    """Remove orphan objects, delete rows whose original is lost, remake lost renditions, and
    sweep the objects of deleted photos."""
    lost_rows = [m for m in report.missing if m.original_lost]
    if not force:
        _refuse_implausible(report, len(lost_rows))
    swept = deletions.sweep(backends)
    report.removed_objects.extend(swept.removed)
    report.problems.extend(f"could not remove {key} of a deleted photo" for key in swept.failed)
    for missing in report.missing:
        if missing.original_lost:
            _delete_row(backends, missing, report)
        else:
            _remake_renditions(backends, missing, report)
    _remove_orphans(backends, report.orphans, report)
    _discard_unfinished(backends, report)
    return report


def _refuse_implausible(report: Report, lost_rows: int) -> None:
    orphans = len(report.orphans)
    # Every object an orphan is a wrong or emptied database, however small the library.
    if report.objects and (orphans > max(10, report.objects // 2) or orphans == report.objects):
        raise UnsafeFix(
            f"{orphans} of {report.objects} objects have no photo row: is this the "
            "right database, bucket and S3_PREFIX? Nothing was changed (--force to go ahead)."
        )
    # Every row gone is a wrong or emptied folder, however small the library.
    if report.photos and (lost_rows > max(10, report.photos // 2) or lost_rows == report.photos):
        raise UnsafeFix(
            f"{lost_rows} of {report.photos} photos have lost their original: is this the right "
            "bucket, S3_PREFIX or PHOTOS_DIR? Nothing was changed (--force to go ahead)."
        )


def _remove_orphans(backends: Backends, keys: list[str], report: Report) -> None:
    with backends.engine.connect() as conn:
        still_used = photo_files.referenced_keys(conn, keys)
    for key in keys:
        if key in still_used:
            continue  # a row took it since the check (cannot happen with app keys; cheap to ask)
        try:
            backends.store.delete(key)
        except StorageError as exc:
            report.problems.append(f"could not remove {key}: {exc}")
            continue
        report.removed_objects.append(key)
        log.info("removed orphan object %s", key)


def _discard_unfinished(backends: Backends, report: Report) -> None:
    for write in report.unfinished:
        try:
            backends.store.discard_unfinished(write)
        except StorageError as exc:
            report.problems.append(f"could not discard the unfinished write {write.key}: {exc}")
            continue
        report.discarded_writes.append(write.key)
        log.info("discarded the unfinished write %s from %s", write.key, write.started)


def _delete_row(backends: Backends, missing: MissingObjects, report: Report) -> None:
    photo = missing.photo
    leftovers = [key for key in photo.keys if key not in missing.keys]
    with backends.engine.begin() as conn:
        photo_data.delete_photo(conn, photo.id)
        pending_data.add_keys(conn, leftovers, photo_id=photo.id)
    report.deleted_photos.append(photo.id)
    photo_events.announce(backends, DELETED, photo)
    log.warning(
        "deleted photo %s of user %s: its original %s is lost",
        photo.id,
        photo.owner_id,
        photo.original_key,
    )
    failed = deletions.remove_objects(backends, leftovers)
    report.removed_objects.extend(key for key in leftovers if key not in failed)
    report.problems.extend(f"could not remove {key} (a sweep retries it)" for key in failed)


def _remake_renditions(backends: Backends, missing: MissingObjects, report: Report) -> None:
    photo = missing.photo
    limits = uploads.image_limits(backends.settings)
    try:
        with tempfile.TemporaryFile() as local:
            download(backends.store, photo.original_key, local)
            # Not strict: the original was accepted under the rules of its day.
            image = images.process(
                local, limits=limits, budget=backends.decode_budget, strict=False
            )
        for key, rendition in (
            (photo.preview_key, image.preview),
            (photo.thumbnail_key, image.thumbnail),
        ):
            if key in missing.keys:
                backends.store.save(key, io.BytesIO(rendition.data), content_type="image/jpeg")
    except (StorageError, images.ImageRejected, images.DecodeBusy) as exc:  # ObjectNotFound too
        report.problems.append(f"could not remake renditions of photo {photo.id}: {exc}")
        return
    report.repaired_photos.append(photo.id)
    log.info("remade %s of photo %s", ", ".join(missing.keys), photo.id)
