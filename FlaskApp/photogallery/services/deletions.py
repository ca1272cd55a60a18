"""Removing a deleted photo's objects: at once when the store answers, else by a later sweep.

A photo's row goes in the same transaction that records its object keys (``pending_deletions``),
so a failing store never leaves objects that nobody will remove, nor a row pointing at removed
objects. `remove_objects` tries at once; `sweep` retries what remains: `flask storage sweep`
(uWSGI runs it every few minutes on EC2), `flask storage check --fix`, and every delete that
works. Deleting an object that is already gone is success, so a sweep can always run again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from ..backends import Backends
from ..data import pending_deletions as pending_data
from ..data import photo_files
from ..storage.base import StorageError

log = logging.getLogger(__name__)
SWEEP_BATCH = 1000
GIVE_UP_AFTER = 5  # failures in a row: the store is down, the rest wait for the next sweep


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # kept for the next sweep
    untried: int = 0  # left for the next sweep after GIVE_UP_AFTER failures in a row
    in_use: list[str] = field(default_factory=list)  # a photo row uses it: record dropped only


def remove_objects(backends: Backends, keys: Collection[str]) -> list[str]:
    """Delete recorded objects and forget those that went; return the keys that failed."""
    report = SweepReport()
    for key in keys:
        _remove(backends, key, report)
    _settle(backends, report)
    return report.failed


def sweep(backends: Backends, limit: int = SWEEP_BATCH) -> SweepReport:
    """Retry the oldest ``limit`` recorded objects; stop early when the store keeps failing."""
    with backends.engine.connect() as conn:
        batch = [item.object_key for item in pending_data.list_pending(conn, limit)]
        in_use = photo_files.referenced_keys(conn, batch) if batch else set()
    report, failures_in_a_row = SweepReport(), 0
    for position, key in enumerate(batch):
        if failures_in_a_row >= GIVE_UP_AFTER:
            report.untried = len(batch) - position
            break
        if key in in_use:  # cannot happen with the app's keys; a row's object is never removed
            log.error("object %s is recorded for deletion but a photo uses it: kept", key)
            report.in_use.append(key)
            continue
        failures_in_a_row = 0 if _remove(backends, key, report) else failures_in_a_row + 1
    _settle(backends, report)
    return report


def _remove(backends: Backends, key: str, report: SweepReport) -> bool:
    try:
        backends.store.delete(key)
    except StorageError as exc:
        log.warning("could not remove %s of a deleted photo (a sweep retries it): %s", key, exc)
        report.failed.append(key)
        with backends.engine.begin() as conn:
            pending_data.note_failure(conn, key, str(exc))
        return False
    report.removed.append(key)
    return True


def _settle(backends: Backends, report: SweepReport) -> None:
    with backends.engine.begin() as conn:
        pending_data.remove_keys(conn, report.removed + report.in_use)
    if report.removed:
        log.info("removed %d objects of deleted photos", len(report.removed))
