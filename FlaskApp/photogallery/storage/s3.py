"""Photo bytes in Amazon S3 or an S3-compatible server (SeaweedFS, MinIO)."""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast
from urllib.parse import quote, urlsplit

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from photogallery.aws import ProcessClient
from photogallery.storage.base import (
    ObjectNotFound,
    StorageError,
    StoredObject,
    UnfinishedWrite,
)
from photogallery.storage.presign import QueryPresigner, probe_key
from photogallery.storage.url_memo import UrlMemo

log = logging.getLogger(__name__)

_MB = 1024 * 1024

# Multipart above 8 MB, in 5 MB parts (S3's smallest). s3transfer reads each part of a file
# object into memory, up to max_in_memory_upload_chunks of them (default 10); with two parts in
# flight, a 200 MB upload adds ~37 MB to a worker (bench/bench_s3_memory.py), not ~90 MB.
_TRANSFER = TransferConfig(
    multipart_threshold=8 * _MB,
    multipart_chunksize=5 * _MB,
    max_concurrency=2,
    max_io_queue=4,
    # Never switch to the CRT client if awscrt gets installed: its memory use differs.
    preferred_transfer_client="classic",
)
_TRANSFER.max_in_memory_upload_chunks = 2  # not a boto3 argument, but s3transfer reads it
_TRANSFER.max_in_memory_download_chunks = 2

# Only these are served inline; anything else is forced to download.
_IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic",
}
_INLINE_TYPES = frozenset(_IMAGE_TYPES.values())
_FALLBACK_TYPE = "application/octet-stream"

# URLs stay the same within a window so browsers can cache thumbnails between page loads.
URL_WINDOW = 600
_MAX_EXPIRES = 7 * 24 * 3600  # SigV4's limit

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchUpload"})
_SSE_MODES = frozenset({"", "AES256", "aws:kms"})


def content_type_for(key: str) -> str:
    """The content type a browser should see for ``key``, judged by its extension only."""
    return _IMAGE_TYPES.get(posixpath.splitext(key)[1].lower(), _FALLBACK_TYPE)


def content_disposition(filename: str, content_type: str) -> str:
    """An RFC 6266 header: inline only for known image types, percent-encoded UTF-8 name."""
    kind = "inline" if content_type in _INLINE_TYPES else "attachment"
    # Drop any path a client sent; quote() also encodes quotes, ';' and control chars.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "download"
    return f"{kind}; filename*=UTF-8''{quote(name, safe='')}"


class S3Store:
    """A ``Store`` backed by one S3 bucket, optionally under a key prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str,
        endpoint_url: str | None = None,
        url_expires: int = 3600,
        sse: str = "AES256",
        kms_key_id: str | None = None,
        client: Any = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        if sse not in _SSE_MODES:
            raise ValueError(f"sse must be one of {sorted(_SSE_MODES)}, not {sse!r}")
        if not region:
            # Caught here, at start-up, rather than as botocore's NoRegionError mid-request.
            raise ValueError("S3Store needs a region (AWS_REGION), e.g. us-west-2")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.region = region
        self.endpoint_url = endpoint_url
        self.url_expires = url_expires
        self._urls = UrlMemo()
        self.sse = "aws:kms" if kms_key_id else sse
        self.kms_key_id = kms_key_id
        config = Config(
            region_name=region,
            signature_version="s3v4",
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # S3-compatible servers rarely have wildcard DNS for virtual-hosted buckets.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        self._client = ProcessClient("s3", config=config, endpoint_url=endpoint_url, client=client)
        self._signer: tuple[Any, QueryPresigner] | None = None
        self._origin: str | None = None

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    # -- the Store protocol -------------------------------------------------

    def save(
        self,
        key: str,
        fileobj: BinaryIO,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        """Store the stream under ``key`` with a managed (multipart when large) upload."""
        extra = self._put_args(content_type, download_name or key)
        with self._errors("save", key):
            self._s3().upload_fileobj(
                fileobj, self.bucket, self._full(key), ExtraArgs=extra, Config=_TRANSFER
            )
        log.debug("saved %s (%s)", key, content_type)

    def copy(
        self,
        source_key: str,
        key: str,
        *,
        content_type: str,
        download_name: str | None = None,
    ) -> None:
        """Copy inside the bucket (no bytes through this process), replacing type and name."""
        extra = {
            **self._put_args(content_type, download_name or key),
            "MetadataDirective": "REPLACE",
        }
        source = {"Bucket": self.bucket, "Key": self._full(source_key)}
        with self._errors("copy to", key):
            self._s3().copy(source, self.bucket, self._full(key), ExtraArgs=extra, Config=_TRANSFER)
        log.debug("copied %s to %s", source_key, key)

    def open(self, key: str) -> BinaryIO:
        """Return the object's body as a stream; raise ObjectNotFound when missing."""
        with self._errors("open", key):
            resp = self._s3().get_object(Bucket=self.bucket, Key=self._full(key))
        return cast(BinaryIO, resp["Body"])

    def delete(self, key: str) -> None:
        """Remove the object; S3 already treats a missing key as success."""
        try:
            with self._errors("delete", key):
                self._s3().delete_object(Bucket=self.bucket, Key=self._full(key))
        except ObjectNotFound:
            pass

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """Byte size of the object; raise ObjectNotFound when missing."""
        return int(self._head(key)["ContentLength"])

    def url(self, key: str, *, download_name: str | None = None) -> str:
        """A presigned GET URL, signed locally, that never lets a browser render HTML.

        Signed at the start of a time window (and valid that much longer), so a page shows the
        same URLs on every load within it and the browser's cache keeps the thumbnails.
        """
        window = min(URL_WINDOW, self.url_expires // 6)
        now = int(time.time())
        signed_at = now - now % window if window else now
        with self._errors("sign URL for", key):
            presigner = self._presigner()
            # Credentials too: a URL signed before they were refreshed is not handed out after.
            when = (signed_at, presigner, presigner.credentials_id())
            return self._urls.get(
                (key, download_name), when, lambda: self._signed_url(key, download_name, signed_at)
            )

    def _signed_url(self, key: str, download_name: str | None, signed_at: int) -> str:
        ctype = content_type_for(key)
        params = {
            "response-cache-control": f"private, max-age={self.url_expires}",
            "response-content-disposition": content_disposition(download_name or key, ctype),
            "response-content-type": ctype,
        }
        window = min(URL_WINDOW, self.url_expires // 6)
        expires = min(self.url_expires + window, _MAX_EXPIRES)
        when = datetime.fromtimestamp(signed_at, UTC)
        return self._presigner().url(self._full(key), params, expires=expires, now=when)

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every object under ``prefix`` (1,000 per request), without the store's prefix."""
        with self._errors(f"list {self._full(prefix)!r} in", None):
            pages = self._s3().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self._full(prefix)):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    yield StoredObject(key, int(item["Size"]), item["LastModified"])

    def list_unfinished(self) -> Iterator[UnfinishedWrite]:
        """Multipart uploads never completed (a save killed midway): invisible, but billed.
        The bucket's lifecycle rule aborts them after a day too (Deploy/cloudformation.yaml)."""
        with self._errors(f"list multipart uploads {self._full('')!r} in", None):
            pages = self._s3().get_paginator("list_multipart_uploads")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Uploads", []):
                    key = item["Key"][len(self.prefix) :]
                    yield UnfinishedWrite(key, item["Initiated"], item["UploadId"])

    def discard_unfinished(self, write: UnfinishedWrite) -> None:
        """Abort the multipart upload (its parts go); one already gone is success."""
        try:
            with self._errors("abort the multipart upload to", write.key):
                self._s3().abort_multipart_upload(
                    Bucket=self.bucket, Key=self._full(write.key), UploadId=write.upload_id
                )
        except ObjectNotFound:
            pass

    def check(self) -> None:
        """Raise StorageError unless the bucket is reachable with our credentials."""
        with self._errors("check bucket", None):
            self._s3().head_bucket(Bucket=self.bucket)

    # -- beyond the protocol ------------------------------------------------

    def presigned_post(
        self, key: str, *, content_type: str, max_bytes: int, expires: int = 600
    ) -> dict[str, Any]:
        """A form (``url`` + ``fields``) a browser can POST one file of ``content_type`` to."""
        fields: dict[str, str] = {
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(key, content_type),
        }
        if self.sse:
            fields["x-amz-server-side-encryption"] = self.sse
        if self.kms_key_id:
            fields["x-amz-server-side-encryption-aws-kms-key-id"] = self.kms_key_id
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", 1, max_bytes])
        with self._errors("sign POST for", key):
            return self._s3().generate_presigned_post(
                self.bucket,
                self._full(key),
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires,
            )

    @property
    def origin(self) -> str:
        """Where browsers send this bucket's uploads (``scheme://host``), for the pages' CSP.
        botocore decides the address (virtual-hosted or path style); signing is local."""
        if self._origin is None:
            form = self._s3().generate_presigned_post(self.bucket, self._full("origin"))
            parts = urlsplit(form["url"])
            self._origin = f"{parts.scheme}://{parts.netloc}"
        return self._origin

    # -- helpers ------------------------------------------------------------

    def _s3(self) -> Any:
        return self._client.get()

    def _presigner(self) -> QueryPresigner:
        """This process's URL signer, bound to the client's location and credentials."""
        client = self._s3()
        signer = self._signer
        if signer is None or signer[0] is not client:
            probe = client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": probe_key()}, ExpiresIn=60
            )
            # The client's own credentials object, so instance-role credentials keep refreshing.
            credentials = client._request_signer._credentials
            if credentials is None:
                raise NoCredentialsError()
            presigner = QueryPresigner(probe, self.region, credentials.get_frozen_credentials)
            signer = self._signer = (client, presigner)
        return signer[1]

    def _full(self, key: str) -> str:
        """The bucket key for an app key."""
        return self.prefix + key

    def _head(self, key: str) -> dict[str, Any]:
        """HEAD the object; raise ObjectNotFound when missing."""
        with self._errors("stat", key):
            return self._s3().head_object(Bucket=self.bucket, Key=self._full(key))

    def _put_args(self, content_type: str, download_name: str) -> dict[str, str]:
        """ExtraArgs for uploads: type, disposition and server-side encryption."""
        args = {
            "ContentType": content_type,
            "ContentDisposition": content_disposition(download_name, content_type),
        }
        if self.sse:
            args["ServerSideEncryption"] = self.sse
        if self.kms_key_id:
            args["SSEKMSKeyId"] = self.kms_key_id
        return args

    @contextmanager
    def _errors(self, action: str, key: str | None) -> Iterator[None]:
        """Turn botocore failures into StorageError/ObjectNotFound without leaking secrets."""
        where = f"s3://{self.bucket}/{self._full(key)}" if key else f"s3://{self.bucket}"
        try:
            yield
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _NOT_FOUND_CODES and key is not None:
                raise ObjectNotFound(f"no object at {where}") from exc
            log.warning("S3 %s %s failed: %s (HTTP %s)", action, where, code, status)
            raise StorageError(f"could not {action} {where}: {code} (HTTP {status})") from exc
        except (BotoCoreError, Boto3Error) as exc:
            # Message names the error type only: some botocore messages embed URLs.
            log.warning("S3 %s %s failed: %s", action, where, type(exc).__name__)
            raise StorageError(f"could not {action} {where}: {type(exc).__name__}") from exc
