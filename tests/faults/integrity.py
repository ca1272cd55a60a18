"""Rows ↔ objects ↔ labels: the check every fault test runs once its fault is lifted."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from photogallery.data import terms
from photogallery.data.schema import photo_labels, photo_terms, photos
from photogallery.services import consistency


def broken(backends) -> list[str]:
    """What does not add up, one sentence each; empty when the library is whole.

    Every row's objects exist, every object has a row and no write or deletion is left
    unfinished (the consistency check, no grace);
    every ``done`` photo has the model's labels, once each; every photo's search terms are
    exactly those of its description and labels; no label or term points at a missing photo.
    """
    report = consistency.check_storage(backends, grace=timedelta(0))
    problems = [f"object without a photo row: {key}" for key in report.orphans]
    problems += [f"photo {m.photo.id} lost {' '.join(m.keys)}" for m in report.missing]
    problems += [f"object of a deleted photo still stored: {key}" for key in report.pending]
    problems += [f"unfinished write: {write}" for write in report.unfinished]
    with backends.engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(photos))}
        labels = defaultdict(list)
        for label in conn.execute(select(photo_labels)):
            labels[label.photo_id].append(label)
        found_terms = defaultdict(set)
        for term in conn.execute(select(photo_terms)):
            found_terms[term.photo_id].add((term.owner_id, term.term, term.created_at))
    for photo_id in (labels.keys() | found_terms.keys()) - rows.keys():
        problems.append(f"labels or search terms of a photo that does not exist: {photo_id}")
    for photo in rows.values():
        problems += _label_problems(photo, labels[photo.id], found_terms[photo.id])
    return problems


def _label_problems(photo, labels, found_terms) -> list[str]:
    problems = []
    names = [label.name.casefold() for label in labels]
    if len(names) != len(set(names)):
        problems.append(f"photo {photo.id} has a label twice: {sorted(names)}")
    from_model = [label for label in labels if label.source == "model"]
    if photo.label_status == "done" and not from_model:
        problems.append(f"photo {photo.id} is done but has no labels")
    if photo.label_status != "done" and from_model:
        problems.append(f"photo {photo.id} is {photo.label_status} but has the model's labels")
    shown = [label for label in labels if label.source != "removed"]
    words = [label.name for label in shown]
    words += [parent for label in shown for parent in label.parents.split("|") if parent]
    expected = {
        (photo.owner_id, term, photo.created_at)
        for term in terms.photo_terms(photo.description, words)
    }
    if found_terms != expected:
        problems.append(
            f"photo {photo.id}'s search terms are off: missing "
            f"{sorted(t for _, t, _ in expected - found_terms)}, extra "
            f"{sorted(t for _, t, _ in found_terms - expected)}"
        )
    return problems


def assert_whole(app) -> None:
    """`flask storage check` finds nothing (no grace) and neither does ``broken``."""
    result = app.test_cli_runner().invoke(args=["storage", "check", "--grace-minutes", "0"])
    assert result.exit_code == 0 and "storage and database agree" in result.output, result.output
    assert broken(app.extensions["photogallery"]) == []
