"""SQL for photos, their labels and the search index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from . import terms as search_terms
from .db import utcnow
from .models import Photo, PhotoLabel, built
from .packed_rows import packed, unpacked
from .schema import photo_labels, photo_terms, photos

Cursor = tuple[datetime, int]  # (created_at, id) of the last photo of the previous page
MAX_QUERY_TERMS = 8  # words of a search that count (the service cuts longer ones)


class DuplicatePhoto(Exception):
    """The owner already has a photo with these exact bytes."""


def add_photo(conn: Connection, **values: object) -> Photo:
    values.setdefault("created_at", utcnow())
    values.setdefault("description", "")
    values.update(label_status="pending", label_attempts=0)
    try:
        with conn.begin_nested():
            result = conn.execute(insert(photos).values(**values))
    except IntegrityError as exc:
        raise DuplicatePhoto(values.get("sha256")) from exc
    photo_id = result.inserted_primary_key[0]
    _replace_terms(conn, photo_id)
    return get_photo(conn, photo_id)


def get_photo(conn: Connection, photo_id: int, owner_id: int | None = None) -> Photo | None:
    query = select(photos).where(photos.c.id == photo_id)
    if owner_id is not None:
        query = query.where(photos.c.owner_id == owner_id)
    row = conn.execute(query).first()
    if row is None:
        return None
    return _with_labels(conn, [row])[0]


def find_by_sha256(conn: Connection, owner_id: int, sha256: str) -> Photo | None:
    query = select(photos.c.id).where(photos.c.owner_id == owner_id, photos.c.sha256 == sha256)
    photo_id = conn.execute(query).scalar()
    return get_photo(conn, photo_id) if photo_id else None


def list_photos(
    conn: Connection,
    owner_id: int,
    *,
    before: Cursor | None = None,
    limit: int = 48,
    query_terms: Sequence[str] = (),
) -> list[Photo]:
    """One page of an owner's photos, newest first, optionally only those with every term:
    one statement, the page's photos joined to their labels."""
    params: dict[str, object] = {"owner_id": owner_id, "limit": limit}
    params.update((f"term{i}", term) for i, term in enumerate(query_terms))
    if before:
        params.update(before_created=before[0], before_id=before[1])
    stmt = _page_statement(len(query_terms), bool(before))
    return _photos_with_labels(conn.execute(stmt, params))


@lru_cache(maxsize=2 * (MAX_QUERY_TERMS + 1))
def _page_statement(term_count: int, after_cursor: bool):
    """A page's statement for so many search terms, built once (building one costs more than
    running it): every value is a bound parameter. Each photo's labels come packed in one
    column of its row (data/packed_rows.py)."""
    owner_id = bindparam("owner_id")
    before = (bindparam("before_created"), bindparam("before_id")) if after_cursor else None
    if term_count:
        terms = [bindparam(f"term{i}") for i in range(term_count)]
        stmt = _search_query(owner_id, terms, before)
    else:
        stmt = select(photos).where(photos.c.owner_id == owner_id)
        if before:
            stmt = stmt.where(_before(photos.c.created_at, photos.c.id, before))
        stmt = stmt.order_by(photos.c.created_at.desc(), photos.c.id.desc())
    labels = (
        select(packed(*_LABEL_COLUMNS))
        .where(photo_labels.c.photo_id == photos.c.id, photo_labels.c.source != "removed")
        .scalar_subquery()
    )
    return stmt.add_columns(labels).limit(bindparam("limit"))


_LABEL_COLUMNS = (
    photo_labels.c.name,
    photo_labels.c.confidence,
    photo_labels.c.parents,
    photo_labels.c.source,
)


def _photos_with_labels(result) -> list[Photo]:
    """Photos from rows of (photo columns..., their labels packed) in page order."""
    fields = list(result.keys())[:-1]
    found: list[Photo] = []
    for row in result.all():  # one fetchall, not a fetch per row
        photo = built(Photo, dict(zip(fields, row, strict=False)))  # the labels come last
        photo.__dict__["labels"] = _packed_labels(row[-1])
        found.append(photo)
    return found


@lru_cache(maxsize=2048)
def _packed_labels(text: str | None) -> tuple[PhotoLabel, ...]:
    """A photo's labels from their packed text, in display order. Remembered (~1 KB each): a
    page is read again and again, its labels are immutable records, and the text is all of
    them, so a changed label is a new text."""
    return _specific_first([_label(*fields) for fields in unpacked(text)])


def _label(name: str, confidence: float | str, parents: str, source: str) -> PhotoLabel:
    values = {
        "name": name,
        "confidence": float(confidence),  # packed labels bring it as text
        "parents": tuple(filter(None, parents.split("|"))) if parents else (),
        "source": source,
    }
    return built(PhotoLabel, values)


def _set_labels(photo: Photo, labels: list[PhotoLabel]) -> None:
    """Labels of a photo still being built by this module (never one handed out)."""
    photo.__dict__["labels"] = _specific_first(labels)


def neighbour_ids(conn: Connection, owner_id: int, photo: Photo) -> tuple[int | None, int | None]:
    """The ids of the next newer and the next older photo of the owner (gallery order)."""
    at = (photo.created_at, photo.id)
    older = select(photos.c.id).where(
        photos.c.owner_id == owner_id, _before(photos.c.created_at, photos.c.id, at)
    )
    older = older.order_by(photos.c.created_at.desc(), photos.c.id.desc()).limit(1)
    newer = select(photos.c.id).where(
        photos.c.owner_id == owner_id,
        photos.c.created_at >= photo.created_at,
        or_(photos.c.created_at > photo.created_at, photos.c.id > photo.id),
    )
    newer = newer.order_by(photos.c.created_at, photos.c.id).limit(1)
    return conn.execute(newer).scalar(), conn.execute(older).scalar()


def _before(created_col, id_col, cursor: Cursor):
    """Rows strictly older than the cursor, written so both SQLite and MySQL range-scan."""
    created_at, photo_id = cursor
    return and_(created_col <= created_at, or_(created_col < created_at, id_col < photo_id))


def _search_query(owner_id, query_terms: Sequence, before: tuple | None):
    first = photo_terms.alias("t0")
    stmt = (
        select(photos)
        .join(first, first.c.photo_id == photos.c.id)
        .where(first.c.owner_id == owner_id, first.c.term == query_terms[0])
    )
    for i, term in enumerate(query_terms[1:], start=1):
        other = photo_terms.alias(f"t{i}")
        stmt = stmt.where(
            exists().where(
                other.c.owner_id == owner_id,
                other.c.term == term,
                other.c.created_at == first.c.created_at,
                other.c.photo_id == first.c.photo_id,
            )
        )
    if before:
        stmt = stmt.where(_before(first.c.created_at, first.c.photo_id, before))
    return stmt.order_by(first.c.created_at.desc(), first.c.photo_id.desc())


def _with_labels(conn: Connection, rows: Sequence) -> list[Photo]:
    """Attach labels to photos with one query."""
    ids = [row.id for row in rows]
    labels: dict[int, list[PhotoLabel]] = {i: [] for i in ids}
    if ids:
        query = select(photo_labels.c.photo_id, *_LABEL_COLUMNS).where(
            photo_labels.c.photo_id.in_(ids), photo_labels.c.source != "removed"
        )  # ordered by _specific_first, not by the database
        for photo_id, *label in conn.execute(query):
            labels[photo_id].append(_label(*label))
    found = [built(Photo, dict(row._mapping)) for row in rows]
    for photo in found:
        _set_labels(photo, labels[photo.id])
    return found


def _specific_first(labels: list[PhotoLabel]) -> tuple[PhotoLabel, ...]:
    """Most confident first; on a tie the more specific label (Cat before Animal) leads."""
    if len(labels) < 2:
        return tuple(labels)
    return tuple(sorted(labels, key=_label_order))


def _label_order(label: PhotoLabel) -> tuple[float, int, str]:
    return (-round(label.confidence, 1), -len(label.parents), label.name)


def update_description(conn: Connection, photo_id: int, description: str) -> None:
    conn.execute(update(photos).where(photos.c.id == photo_id).values(description=description))
    _replace_terms(conn, photo_id)


def delete_photo(conn: Connection, photo_id: int) -> None:
    # Explicit child deletes: MySQL and SQLite both cascade, but not every SQLite connection
    # has foreign keys on (e.g. an operator's sqlite3 shell).
    conn.execute(delete(photo_terms).where(photo_terms.c.photo_id == photo_id))
    conn.execute(delete(photo_labels).where(photo_labels.c.photo_id == photo_id))
    conn.execute(delete(photos).where(photos.c.id == photo_id))


def set_labels(
    conn: Connection,
    photo_id: int,
    labels: Iterable[PhotoLabel],
    *,
    model: str,
) -> None:
    """Replace the model's labels (keeping the owner's own) and mark the photo labelled."""
    conn.execute(
        delete(photo_labels).where(
            photo_labels.c.photo_id == photo_id, photo_labels.c.source == "model"
        )
    )
    kept = {r.name.casefold() for r in _label_rows(conn, photo_id)}
    rows = [
        dict(
            photo_id=photo_id,
            name=label.name[:100],
            confidence=round(float(label.confidence), 3),
            parents="|".join(label.parents)[:500],
            source="model",
        )
        for label in _unique(labels)
        if label.name.casefold() not in kept
    ]
    if rows:
        conn.execute(insert(photo_labels), rows)
    conn.execute(
        update(photos)
        .where(photos.c.id == photo_id)
        .values(label_status="done", label_error=None, label_model=model[:100], labeled_at=utcnow())
    )
    _replace_terms(conn, photo_id)


def add_owner_label(conn: Connection, photo_id: int, name: str) -> None:
    """The owner's own label: shown at 100%, searchable, kept by every relabeling."""
    existing = _label_row(conn, photo_id, name)
    if existing is None:
        conn.execute(
            insert(photo_labels).values(
                photo_id=photo_id, name=name, confidence=100.0, parents="", source="user"
            )
        )
    else:
        conn.execute(
            update(photo_labels)
            .where(photo_labels.c.id == existing.id)
            .values(source="user", confidence=100.0)
        )
    _replace_terms(conn, photo_id)


def remove_label(conn: Connection, photo_id: int, name: str) -> bool:
    """Hide a label for good: a ``removed`` row stops relabeling from bringing it back."""
    existing = _label_row(conn, photo_id, name)
    if existing is None or existing.source == "removed":
        return False
    conn.execute(
        update(photo_labels).where(photo_labels.c.id == existing.id).values(source="removed")
    )
    _replace_terms(conn, photo_id)
    return True


def _label_row(conn: Connection, photo_id: int, name: str):
    rows = _label_rows(conn, photo_id)
    return next((r for r in rows if r.name.casefold() == name.casefold()), None)


def _unique(labels: Iterable[PhotoLabel]) -> list[PhotoLabel]:
    seen: dict[str, PhotoLabel] = {}
    for label in labels:
        seen.setdefault(label.name.casefold(), label)
    return list(seen.values())


def _label_rows(conn: Connection, photo_id: int):
    return conn.execute(select(photo_labels).where(photo_labels.c.photo_id == photo_id)).all()


def mark_label_attempt(conn: Connection, photo_id: int, *, error: str, final: bool) -> None:
    """Record a failed labeling attempt; ``final`` turns the status to failed."""
    values: dict[str, object] = {
        "label_attempts": photos.c.label_attempts + 1,
        "label_error": error[:500],
    }
    if final:
        values["label_status"] = "failed"
    conn.execute(update(photos).where(photos.c.id == photo_id).values(**values))


def list_photo_ids(conn: Connection, *, status: str | None = None, limit: int = 1000) -> list[int]:
    query = select(photos.c.id).order_by(photos.c.id).limit(limit)
    if status:
        query = query.where(photos.c.label_status == status)
    return list(conn.execute(query).scalars())


def list_stale_pending(conn: Connection, before: datetime, limit: int) -> list[int]:
    """Photos still pending that were uploaded before ``before`` (their job was lost)."""
    query = (
        select(photos.c.id)
        .where(photos.c.label_status == "pending", photos.c.created_at < before)
        .order_by(photos.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def _replace_terms(conn: Connection, photo_id: int) -> None:
    """Rebuild a photo's search terms from its description and labels."""
    photo = conn.execute(
        select(photos.c.owner_id, photos.c.created_at, photos.c.description).where(
            photos.c.id == photo_id
        )
    ).first()
    names: list[str] = []
    for r in _label_rows(conn, photo_id):
        if r.source == "removed":
            continue
        names.append(r.name)
        names.extend(p for p in r.parents.split("|") if p)
    found = search_terms.photo_terms(photo.description, names)
    conn.execute(delete(photo_terms).where(photo_terms.c.photo_id == photo_id))
    if found:
        conn.execute(
            insert(photo_terms),
            [
                dict(
                    owner_id=photo.owner_id, term=t, created_at=photo.created_at, photo_id=photo_id
                )
                for t in sorted(found)
            ],
        )
