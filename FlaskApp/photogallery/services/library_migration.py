"""Copy every photo's objects from one store to another (local disk ⇄ S3), resumably.

Keys stay the same, so after a migration only STORAGE (and its settings) change. An object
already in the target with the source's size is skipped, so an interrupted run just runs again.
Each copy is verified by size; a copy that does not match is removed from the target and
reported. One listing of each store replaces a request per object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from ..data.photo_files import PhotoFiles
from ..storage.base import StorageError, Store

log = logging.getLogger(__name__)


@dataclass
class MigrationReport:
    """What a migration did, object by object."""

    copied: int = 0
    skipped: int = 0  # already in the target with the same size
    bytes_copied: int = 0
    missing: list[str] = field(default_factory=list)  # a row uses it; the source lacks it
    failed: list[str] = field(default_factory=list)  # copy failed or its size did not match
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str, key: str, size: int = 0) -> None:
        """Record one object's outcome: copied, skipped, missing or failed (thread-safe)."""
        with self._lock:
            if outcome == "copied":
                self.copied += 1
                self.bytes_copied += size
            elif outcome == "skipped":
                self.skipped += 1
            else:
                {"missing": self.missing, "failed": self.failed}[outcome].append(key)


class Migration:
    """Copies photos from ``source`` to ``target``, several at a time."""

    def __init__(self, source: Store, target: Store) -> None:
        self.source = source
        self.target = target
        self.report = MigrationReport()
        self._source_sizes = {o.key: o.size for o in source.list_objects()}
        self._target_sizes = {o.key: o.size for o in target.list_objects()}

    def run(
        self, photos: Iterator[PhotoFiles], *, workers: int = 8, done: Callable[[int], None]
    ) -> MigrationReport:
        """Copy each photo's objects; call ``done(1)`` after each photo (a progress bar)."""
        batches = iter(lambda: list(islice(photos, 500)), [])  # pool.map would queue them all
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for batch in batches:
                for _ in pool.map(self.copy_photo, batch):
                    done(1)
        return self.report

    def copy_photo(self, photo: PhotoFiles) -> None:
        """Copy the original (with its type and name) and both renditions."""
        self.copy_object(photo.original_key, photo.content_type, photo.original_filename)
        self.copy_object(photo.preview_key, "image/jpeg", None)
        self.copy_object(photo.thumbnail_key, "image/jpeg", None)

    def copy_object(self, key: str, content_type: str, download_name: str | None) -> None:
        size = self._source_sizes.get(key)
        if size is None:
            self.report.count("missing", key)
            return
        if self._target_sizes.get(key) == size:
            self.report.count("skipped", key)
            return
        try:
            copied = self._copy_and_measure(key, content_type, download_name)
            if copied != size:
                log.warning("copy of %s has %s bytes, not %s; removed", key, copied, size)
                self.target.delete(key)
        except StorageError as exc:
            log.warning("could not copy %s: %s", key, exc)
            copied = None
        self.report.count("copied" if copied == size else "failed", key, size)

    def _copy_and_measure(self, key: str, content_type: str, download_name: str | None) -> int:
        with self.source.open(key) as body:
            self.target.save(key, body, content_type=content_type, download_name=download_name)
        return self.target.size(key)
