"""LocalStore: photos in a folder, served by the app through signed, expiring URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from .base import ObjectNotFound, StorageError, StoredObject, UnfinishedWrite
from .url_memo import UrlMemo

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
_EXPIRES = re.compile(r"[0-9]{1,15}")
# URLs stay the same within a window so browsers can cache thumbnails between page loads.
URL_WINDOW = 600
# Saves write a temp file beside the object, then rename it; a crash leaves the temp file.
TEMP_PREFIX = ".upload-"


class LocalStore:
    """A folder on local disk. URLs point at the app's ``/media`` route, signed with HMAC."""

    def __init__(
        self, root: str, *, secret: str, url_expires: int = 3600, url_prefix: str = "/media"
    ) -> None:
        self.root = Path(root)
        self._secret = hashlib.sha256(b"photogallery-media\0" + secret.encode()).digest()
        self.url_expires = url_expires
        self.url_prefix = url_prefix.rstrip("/")
        self._urls = UrlMemo()

    def __str__(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ObjectNotFound(key)
        return self.root / key

    def save(
        self,
        key: str,
        fileobj: BinaryIO,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
            with os.fdopen(fd, "wb") as out:
                # 64 KB reads reuse freed memory; 1 MB ones are fresh pages each under the fixed
                # mmap threshold of Deploy/bin/photos-web (a 3 MB original: 800 page faults).
                shutil.copyfileobj(fileobj, out, 64 * 1024)
            os.replace(tmp, path)
        except BaseException as exc:
            # Whatever stopped the write (a full disk, the source failing, an interrupt), the temp
            # file goes; only a killed process leaves one, for `flask storage check` to find.
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StorageError(f"could not write {key}: {exc.strerror}") from exc
            raise

    def copy(
        self,
        source_key: str,
        key: str,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        with self.open(source_key) as source:
            self.save(key, source, content_type=content_type, download_name=download_name)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc.strerror}") from exc

    def delete(self, key: str) -> None:
        self._remove(self._path(key), key)

    def _remove(self, path: Path, key: str) -> None:
        """Unlink ``path`` and the folders it leaves empty; a missing file is success."""
        try:
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"could not delete {key}: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except ObjectNotFound:
            return False

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def url(self, key: str, *, download_name: str | None = None) -> str:
        expires = (int(time.time()) + self.url_expires) // URL_WINDOW * URL_WINDOW + URL_WINDOW
        return self._urls.get(
            (key, download_name), expires, lambda: self._signed_url(key, expires, download_name)
        )

    def _signed_url(self, key: str, expires: int, download_name: str | None) -> str:
        params = {"e": expires, "s": self.signature(key, expires, download_name or "")}
        if download_name:
            params["d"] = download_name
        return f"{self.url_prefix}/{key}?{urlencode(params)}"

    def signature(self, key: str, expires: int, download_name: str) -> str:
        message = f"{key}\n{expires}\n{download_name}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def verify(self, key: str, expires: str, signature: str, download_name: str) -> bool:
        """Whether a ``/media`` request carries a valid, unexpired signature."""
        # ASCII digits, few enough for int(): "²" passes isdigit() and 5,000 digits raise.
        if not _EXPIRES.fullmatch(expires) or int(expires) < time.time():
            return False
        expected = self.signature(key, int(expires), download_name)
        return hmac.compare_digest(expected, signature)

    def local_path(self, key: str) -> Path:
        """The file behind ``key`` (the media route streams it)."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        for item in self._walk(prefix):
            if not Path(item.key).name.startswith(TEMP_PREFIX):
                yield item

    def list_unfinished(self) -> Iterator[UnfinishedWrite]:
        """Temp files of saves in progress, or of saves a crash interrupted (older ones)."""
        for item in self._walk(""):
            if Path(item.key).name.startswith(TEMP_PREFIX):
                yield UnfinishedWrite(item.key, item.modified)

    def discard_unfinished(self, write: UnfinishedWrite) -> None:
        parent, _, name = write.key.rpartition("/")
        if not name.startswith(TEMP_PREFIX) or ".." in name:
            raise ValueError(f"{write.key} is not a temp file")  # never an object by mistake
        self._remove((self._path(parent) if parent else self.root) / name, write.key)

    def _walk(self, prefix: str) -> Iterator[StoredObject]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                path = Path(dirpath, name)
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # deleted while we walked
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                yield StoredObject(str(path.relative_to(self.root)), stat.st_size, modified)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageError(f"photo folder {self.root} is not writable")
        except OSError as exc:
            raise StorageError(f"photo folder {self.root} unusable: {exc.strerror}") from exc
