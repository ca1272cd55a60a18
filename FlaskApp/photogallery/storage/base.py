"""The storage interface: a handful of verbs, like django-storages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol


class StorageError(Exception):
    """The store could not do what was asked (down, misconfigured, refused)."""


class ObjectNotFound(StorageError):
    """No object is stored under that key."""


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

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (for consistency checks and migration)."""

    def check(self) -> None:
        """Raise StorageError when the store is not reachable (for /ready)."""
