"""Where a bulk import reads photos from: a folder tree on disk or a prefix in an S3 bucket.

Both list their files in a stable order (sorted by path or key) and hand out one file at a time
as a seekable local file, so a library is never held in memory. Hidden files and folders (a name
starting with ".") are skipped. Symbolic links are not followed: a link to a file or a folder is
skipped and counted, so an import never reads outside the tree nor loops.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from ..settings import Settings
from ..storage.base import StorageError
from .errors import InvalidInput


@dataclass(frozen=True)
class SourceFile:
    """One file to import: ``ref`` finds it in its source, ``name`` is its path for people."""

    ref: str
    name: str
    size: int


@dataclass
class Listing:
    files: list[SourceFile]
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many (hidden, symlink)


class ImportSource(Protocol):
    """A folder tree or an S3 prefix; picklable, so pool workers can fetch from it."""

    def list_files(self) -> Listing: ...

    def fetch(self, file: SourceFile) -> AbstractContextManager[BinaryIO]: ...


class FolderSource:
    """Every regular file under ``root``, depth first, names sorted."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InvalidInput(f"{root} is not a folder")

    def __str__(self) -> str:
        return str(self.root)

    def list_files(self) -> Listing:
        listing = Listing([])
        for folder, dirs, names in os.walk(self.root):  # followlinks=False: linked dirs stay
            kept = [d for d in dirs if not _skipped(Path(folder, d), d, listing)]
            dirs[:] = sorted(kept)
            for name in sorted(names):
                path = Path(folder, name)
                if _skipped(path, name, listing):
                    continue
                info = path.lstat()
                if stat.S_ISREG(info.st_mode):
                    relative = path.relative_to(self.root).as_posix()
                    listing.files.append(SourceFile(str(path), relative, info.st_size))
                else:
                    _count(listing, "not a regular file")
        return listing

    @contextmanager
    def fetch(self, file: SourceFile) -> Iterator[BinaryIO]:
        with open(file.ref, "rb") as f:
            yield f


def _skipped(path: Path, name: str, listing: Listing) -> bool:
    if name.startswith("."):
        _count(listing, "hidden")
        return True
    if path.is_symlink():
        _count(listing, "symbolic link")
        return True
    return False


def _count(listing: Listing, why: str) -> None:
    listing.skipped[why] = listing.skipped.get(why, 0) + 1


class S3Source:
    """Every object under ``s3://bucket/prefix``, on the S3 endpoint the app's settings name
    (S3_ENDPOINT_URL, AWS_REGION), read through an S3Store with the default credential chain."""

    def __init__(self, uri: str, settings: Settings) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidInput(f"{uri} is not an s3://bucket/prefix address")
        self.bucket = parts.netloc
        self.prefix = parts.path.lstrip("/")
        self.region = settings.aws_region
        if not self.region:
            raise InvalidInput("importing from S3 needs AWS_REGION")
        self.endpoint_url = settings.s3_endpoint_url
        self._store = None  # made in each process on first use (after the pool starts)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_store": None}  # its boto3 client does not cross processes

    def list_files(self) -> Listing:
        listing = Listing([])
        try:
            for item in self._bucket().list_objects(self.prefix):
                name = item.key[len(self.prefix) :].lstrip("/") or item.key.rsplit("/", 1)[-1]
                if item.key.endswith("/"):
                    continue  # a "folder" marker some tools create
                if any(part.startswith(".") for part in name.split("/")):
                    _count(listing, "hidden")
                    continue
                listing.files.append(SourceFile(item.key, name, item.size))
        except StorageError as exc:
            raise InvalidInput(f"could not list {self}: {exc}") from None
        return listing

    @contextmanager
    def fetch(self, file: SourceFile) -> Iterator[BinaryIO]:
        """Stream the object into a temporary file (deleted afterwards)."""
        with tempfile.TemporaryFile(prefix="photos-import-") as f:
            with closing(self._bucket().open(file.ref)) as body:
                shutil.copyfileobj(body, f, 2**20)
            f.seek(0)
            yield f

    def _bucket(self):
        if self._store is None:
            from ..storage.s3 import S3Store  # boto3 only when S3 is used

            self._store = S3Store(self.bucket, region=self.region, endpoint_url=self.endpoint_url)
        return self._store


def open_source(location: str, settings: Settings) -> FolderSource | S3Source:
    """An S3Source for ``s3://...``, else a FolderSource."""
    if location.startswith("s3://"):
        return S3Source(location, settings)
    return FolderSource(location)
