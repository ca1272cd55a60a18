"""Bucket and database agree: find (and fix) objects without rows and rows without objects.

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
from ..data import photo_files
from ..data import photos as photo_data
from ..data.photo_files import PhotoFiles
from ..storage.base import StorageError, StoredObject, download
from . import uploads

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
    recent_unused: list[str] = field(default_factory=list)  # within the grace: left alone
    missing: list[MissingObjects] = field(default_factory=list)
    removed_objects: list[str] = field(default_factory=list)
    deleted_photos: list[int] = field(default_factory=list)
    repaired_photos: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what a fix could not do

    @property
    def consistent(self) -> bool:
        return not self.orphans and not self.missing


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
    for key in sorted(stored.keys() - used):
        (report.orphans if stored[key].modified <= cutoff else report.recent_unused).append(key)
    return report


def fix_storage(backends: Backends, report: Report, *, force: bool = False) -> Report:
    """Remove orphan objects, delete rows whose original is lost, remake lost renditions."""
    lost_rows = [m for m in report.missing if m.original_lost]
    if not force:
        _refuse_implausible(report, len(lost_rows))
    for missing in report.missing:
        if missing.original_lost:
            _delete_row(backends, missing, report)
        else:
            _remake_renditions(backends, missing, report)
    _remove_orphans(backends, report.orphans, report)
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


def _delete_row(backends: Backends, missing: MissingObjects, report: Report) -> None:
    photo = missing.photo
    with backends.engine.begin() as conn:
        photo_data.delete_photo(conn, photo.id)
    report.deleted_photos.append(photo.id)
    log.warning(
        "deleted photo %s of user %s: its original %s is lost",
        photo.id,
        photo.owner_id,
        photo.original_key,
    )
    leftovers = [key for key in photo.keys if key not in missing.keys]
    _remove_orphans(backends, leftovers, report)


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
