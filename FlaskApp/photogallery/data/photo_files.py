"""SQL for the storage side of photos: which object keys the rows reference."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from .schema import photos


@dataclass(frozen=True)
class PhotoFiles:
    """One photo's stored objects and what a store needs to write them again."""

    id: int
    owner_id: int
    original_filename: str
    content_type: str
    byte_size: int
    original_key: str
    thumbnail_key: str
    preview_key: str
    created_at: datetime  # naive UTC, as stored

    @property
    def keys(self) -> tuple[str, str, str]:
        return (self.original_key, self.thumbnail_key, self.preview_key)


_COLUMNS = [getattr(photos.c, name) for name in PhotoFiles.__dataclass_fields__]


def count_photos(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(photos)).scalar_one()


def iter_photo_files(conn: Connection, batch: int = 1000) -> Iterator[PhotoFiles]:
    """Every photo in id order, read a batch at a time (keyset paging, no long-held cursor)."""
    last = 0
    while True:
        query = select(*_COLUMNS).where(photos.c.id > last).order_by(photos.c.id).limit(batch)
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield PhotoFiles(**row._mapping)
        last = rows[-1].id


def referenced_keys(conn: Connection, keys: Collection[str]) -> set[str]:
    """Those of ``keys`` some photo row uses (checked again right before deleting objects)."""
    keys = list(keys)
    found: set[str] = set()
    for first in range(0, len(keys), 300):
        batch = set(keys[first : first + 300])
        columns = (photos.c.original_key, photos.c.thumbnail_key, photos.c.preview_key)
        query = select(*columns).where(or_(*(column.in_(sorted(batch)) for column in columns)))
        for row in conn.execute(query):
            found.update(key for key in row if key in batch)
    return found
