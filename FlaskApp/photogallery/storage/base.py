"""The storage interface: a handful of verbs, like django-storages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from shutil import copyfileobj
from typing import BinaryIO, Protocol


class StorageError(Exception):
    """The store could not do what was asked (down, misconfigured, refused)."""


class ObjectNotFound(StorageError):
    """No object is stored under that key."""


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing reports it (no extra request per object)."""

    key: str
    size: int
    modified: datetime  # timezone-aware UTC


@dataclass(frozen=True)
class UnfinishedWrite:
    """What a save killed midway leaves: a temp file, or an S3 multipart upload never completed."""

    key: str  # where it was going (a temp file: its own path), for reports
    started: datetime  # timezone-aware UTC; a temp file: its last write
    upload_id: str = ""  # S3's multipart upload id


class Store(Protocol):
    """Where photo bytes live. Keys are app-generated, e.g. ``u12/ab34.../original.jpg``."""

    def save(
        self,
        key: str,
        fileobj: BinaryIO,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        """Store the stream under ``key`` without reading it all into memory."""

    def copy(
        self,
        source_key: str,
        key: str,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        """Copy an object inside the store (server-side for S3), with new type and name."""

    def open(self, key: str) -> BinaryIO:
        """Return a readable binary stream; raise ObjectNotFound when missing."""

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is success."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    def size(self, key: str) -> int:
        """Byte size of the object; raise ObjectNotFound when missing."""

    def url(self, key: str, *, download_name: str | None = None) -> str:
        """A signed, expiring GET URL, computed locally (no network call)."""

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every object under ``prefix`` with size and age (for consistency checks, migration)."""

    def list_unfinished(self) -> Iterator[UnfinishedWrite]:
        """Writes a crash left behind (and those in progress: judge them by ``started``)."""

    def discard_unfinished(self, write: UnfinishedWrite) -> None:
        """Remove what an unfinished write left; one already gone is success."""

    def check(self) -> None:
        """Raise StorageError when the store is not reachable (for /ready)."""


def download(store: Store, key: str, fileobj: BinaryIO) -> None:
    """Copy an object into a local file, 1 MB at a time, and rewind the file."""
    with store.open(key) as body:
        copyfileobj(body, fileobj, 1024 * 1024)
    fileobj.seek(0)
