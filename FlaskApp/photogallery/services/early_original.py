"""The original of an upload is stored while its renditions are made: writing 3 MB to disk or
S3 waits on I/O, decoding is CPU, so the two overlap (a 12 MP JPEG's upload, ~12 ms less)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import BinaryIO

from .. import threads

WORKERS = 4  # stores in flight at once per process; more uploads than that store in turn


class PositionalReader(io.RawIOBase):
    """Reads a real file through its descriptor with ``os.pread``: its own position, so the
    request thread may seek and read the same file (to decode it) at the same time. It reads a
    descriptor of its own (a dup): Pillow closes the upload's file when it refuses it, which
    must not pull the file from under a helper still reading it."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = os.dup(fd)
        self._at = 0

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = os.preadv(self._fd, [buffer], self._at)
        self._at += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        start = {os.SEEK_SET: 0, os.SEEK_CUR: self._at}.get(whence)
        self._at = (os.fstat(self._fd).st_size if start is None else start) + offset
        return self._at

    def tell(self) -> int:
        return self._at


def separate_reader(fileobj: BinaryIO) -> PositionalReader | None:
    """A reader of ``fileobj``'s bytes independent of its position, or None for in-memory
    files (a BytesIO has no descriptor; it is then stored after the renditions, as before)."""
    try:
        fileobj.flush()  # buffered writes must reach the descriptor before pread sees them
        return PositionalReader(fileobj.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def start(save: Callable[[], None]) -> Future[None]:
    """Run ``save`` on this process's store threads."""
    return threads.pool("store-original", WORKERS).submit(save)
