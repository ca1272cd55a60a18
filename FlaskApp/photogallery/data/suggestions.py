"""SQL for search suggestions: an owner's terms that start with what is typed, with counts."""

from __future__ import annotations

from sqlalchemy import Connection, Select, func, select

from .schema import photo_terms


def prefix_query(owner_id: int, prefix: str, limit: int) -> Select:
    """One range read of the (owner_id, term, …) primary key: term >= "ca" and term < "cb"."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    uses = func.count().label("uses")
    return (
        select(photo_terms.c.term, uses)
        .where(
            photo_terms.c.owner_id == owner_id,
            photo_terms.c.term >= prefix,
            photo_terms.c.term < after,
        )
        .group_by(photo_terms.c.term)
        .order_by(uses.desc(), photo_terms.c.term)
        .limit(limit)
    )


def list_terms(conn: Connection, owner_id: int, prefix: str, limit: int) -> list[tuple[str, int]]:
    """(term, number of photos) of the owner's terms starting with ``prefix``, most used first."""
    return [(row.term, row.uses) for row in conn.execute(prefix_query(owner_id, prefix, limit))]
