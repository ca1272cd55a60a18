"""Bulk import: every file of a folder tree or S3 prefix through the browser's upload pipeline.

Every file goes to uploads.add_photo (hash, dedupe, sniffing, limits, renditions, EXIF date,
labels queued), which finds a photo the owner already has by its sha256 before decoding or
storing anything, so a rerun resumes where the last one stopped. With more than one worker the
files are shared out to a process pool (spawned, so no boto3 client or database connection is
inherited) whose processes run at a lower priority than the web app on the same machine.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..backends import Backends, build_backends
from ..data import photos as photo_data
from ..data import users as user_data
from ..data.models import User
from ..images import sniff
from ..queue.inline import InlineQueue
from ..settings import Settings
from ..storage.base import StorageError
from .errors import DuplicateUpload, UploadBusy, UploadRejected
from .import_sources import ImportSource, SourceFile
from .labeling import bind_inline_queue
from .uploads import add_photo, clean_filename

log = logging.getLogger(__name__)

WORKER_NICENESS = 10  # pool workers yield the CPU to the web app's processes
LABEL_WAIT = 300.0  # seconds a worker waits for its photo's inline labeling before moving on
BUSY_RETRIES = 3
NOT_A_PHOTO = "is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC)"  # as images.process says

IMPORTED, EXISTS, REFUSED, WOULD_IMPORT = "imported", "exists", "refused", "would import"


@dataclass(frozen=True)
class Outcome:
    """What became of one file; ``photo_id`` is the new or already stored photo, ``sha256``
    that of a file a dry run would import (two such files with one hash are one photo)."""

    name: str
    status: str
    reason: str = ""
    photo_id: int | None = None
    sha256: str | None = None


@dataclass
class Summary:
    imported: int = 0
    already_imported: int = 0
    duplicates: int = 0
    would_import: int = 0
    refused: dict[str, list[str]] = field(default_factory=dict)  # reason → file names

    @property
    def refused_count(self) -> int:
        return sum(len(names) for names in self.refused.values())


@dataclass(frozen=True)
class Job:
    owner_id: int
    description: str
    dry_run: bool
    max_bytes: int


def find_owner(backends: Backends, name: str) -> User | None:
    """The local account ``name``, else the Cognito user with that username."""
    with backends.engine.connect() as conn:
        return user_data.get_local_user(conn, name) or user_data.get_user_by_username(
            conn, "cognito", name
        )


def run_import(
    backends: Backends,
    source: ImportSource,
    files: list[SourceFile],
    job: Job,
    *,
    workers: int = 1,
    on_outcome: Callable[[Outcome], None] = lambda _o: None,
) -> Summary:
    """Import ``files``: in this process when ``workers`` is 1, else in a pool of that size."""
    outcomes: list[Outcome] = []
    for outcome in _outcomes(backends, source, files, job, workers):
        outcomes.append(outcome)
        on_outcome(outcome)
    order = {f.name: i for i, f in enumerate(files)}
    return summarize(sorted(outcomes, key=lambda o: order[o.name]))


def _outcomes(backends, source, files, job, workers) -> Iterator[Outcome]:
    todo = []
    for file in files:
        refusal = _refusal_by_size(file, job.max_bytes)
        if refusal:
            yield Outcome(file.name, REFUSED, refusal)
        else:
            todo.append(file)
    if workers <= 1:
        for file in todo:
            yield import_file(backends, source, job, file)
        return
    context = multiprocessing.get_context("spawn")  # fork after engines/clients exist is unsafe
    with context.Pool(workers, _start_worker, (backends.settings, source, job)) as pool:
        yield from pool.imap_unordered(_worker_task, todo)


def _refusal_by_size(file: SourceFile, max_bytes: int) -> str:
    if file.size == 0:
        return "is empty"
    if file.size > max_bytes:
        return f"is larger than the {max_bytes // 2**20} MB allowed"
    return ""


def import_file(backends: Backends, source: ImportSource, job: Job, file: SourceFile) -> Outcome:
    """Hash → skip if the owner has it → add_photo; labeling done before returning."""
    try:
        with source.fetch(file) as f:
            outcome = _import_open_file(backends, job, file.name, f)
    except (OSError, StorageError) as exc:  # the disk's or the source bucket's
        return Outcome(file.name, REFUSED, f"could not be read ({exc.__class__.__name__})")
    except Exception as exc:  # one bad file or hiccup must not stop a 10,000-photo import
        log.exception("importing %s failed", file.name)
        return Outcome(file.name, REFUSED, f"failed ({exc.__class__.__name__}); try again")
    inline = isinstance(backends.queue, InlineQueue)
    if outcome.status == IMPORTED and inline and not backends.queue.drain(timeout=LABEL_WAIT):
        log.warning("labeling of %s still running; `flask labels sweep` finishes it", file.name)
    return outcome


def _import_open_file(backends: Backends, job: Job, name: str, f) -> Outcome:
    if job.dry_run:
        return _judge(backends, job, name, f)
    filename = name.rsplit("/", 1)[-1]
    for attempt in range(BUSY_RETRIES + 1):
        try:  # add_photo hashes first: a photo the owner has is found before any decoding
            photo = add_photo(backends, job.owner_id, f, filename, job.description)
            return Outcome(name, IMPORTED, photo_id=photo.id)
        except DuplicateUpload as exc:  # there before the run, or stored by this run meanwhile
            return Outcome(name, EXISTS, photo_id=exc.existing_id)
        except UploadBusy:
            if attempt == BUSY_RETRIES:
                return Outcome(name, REFUSED, "too large to decode now; try again")
            time.sleep(2**attempt)
        except UploadRejected as exc:
            return Outcome(name, REFUSED, _reason(str(exc), filename))
    raise AssertionError("unreachable")


def _judge(backends: Backends, job: Job, name: str, f) -> Outcome:
    """A dry run: what would become of the file, from its hash and first bytes only."""
    sha256 = hashlib.file_digest(f, "sha256").hexdigest()
    with backends.engine.connect() as conn:
        existing = photo_data.find_by_sha256(conn, job.owner_id, sha256)
    if existing:
        return Outcome(name, EXISTS, photo_id=existing.id)
    f.seek(0)
    if sniff(f.read(32)) is None:
        return Outcome(name, REFUSED, NOT_A_PHOTO)
    return Outcome(name, WOULD_IMPORT, sha256=sha256)


def _reason(message: str, filename: str) -> str:
    """The rejection without the file's name in front, so rejections group by reason."""
    prefix = clean_filename(filename) + " "
    return message[len(prefix) :] if message.startswith(prefix) else message


def summarize(outcomes: Iterable[Outcome]) -> Summary:
    """Counts, in the files' order: a file whose photo this run stored (or would store) from an
    earlier file is a duplicate; one whose photo was there before the run is already imported."""
    summary = Summary()
    made_now = {o.photo_id for o in outcomes if o.status == IMPORTED}
    would_make: set[str] = set()
    for o in outcomes:
        if o.status == IMPORTED:
            summary.imported += 1
        elif o.status == WOULD_IMPORT and o.sha256 not in would_make:
            summary.would_import += 1
            would_make.add(o.sha256)
        elif o.status == WOULD_IMPORT or (o.status == EXISTS and o.photo_id in made_now):
            summary.duplicates += 1
        elif o.status == EXISTS:
            summary.already_imported += 1
        else:
            summary.refused.setdefault(o.reason, []).append(o.name)
    return summary


# -- the pool's side -------------------------------------------------------------------------

_worker: tuple[Backends, ImportSource, Job] | str = "not started"  # or why it could not start


def _start_worker(settings: Settings, source: ImportSource, job: Job) -> None:
    """Build this process's own backends from the app's settings, at a lower priority; the
    source is kept too, so its S3 client is made once per process, not once per file."""
    global _worker
    os.nice(WORKER_NICENESS)
    try:
        backends = build_backends(settings)
    except Exception as exc:  # raised here, the pool would start new workers forever
        log.exception("an import worker could not start")
        _worker = f"could not be imported: a worker failed to start ({exc.__class__.__name__})"
        return
    bind_inline_queue(backends)  # as context.init_app wires the app's
    _worker = (backends, source, job)


def _worker_task(file: SourceFile) -> Outcome:
    if isinstance(_worker, str):
        return Outcome(file.name, REFUSED, _worker)
    backends, source, job = _worker
    return import_file(backends, source, job, file)
