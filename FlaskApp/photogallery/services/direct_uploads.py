"""Direct upload: the browser POSTs a photo straight to S3, then the app checks and records it.

No table is needed: the pending upload lives in a signed, expiring token that names the
incoming key, its owner and the file name. S3 enforces size and type through the POST policy;
the app still checks the bytes exactly as for a form upload (uploads.add_photo_from_store).
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
import tempfile
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import images
from ..backends import Backends
from ..data.models import Photo
from ..storage.base import ObjectNotFound, StorageError, download
from . import uploads
from .errors import UploadRejected

log = logging.getLogger(__name__)

INCOMING = "incoming/"  # a bucket lifecycle rule may expire this prefix after a day
POST_EXPIRES = 15 * 60  # seconds the browser has to start sending the file
TOKEN_MAX_AGE = 2 * 3600  # seconds until the upload must be completed
_SALT = "photogallery-direct-upload"
_HEIC = {".heic": "image/heic", ".heif": "image/heic"}  # browsers often send no type for these


@runtime_checkable
class PostSigner(Protocol):
    """A store that can sign a browser form upload (S3Store)."""

    @property
    def origin(self) -> str:
        """Where browsers send the uploads (``scheme://host``)."""

    def presigned_post(
        self, key: str, *, content_type: str, max_bytes: int, expires: int = 600
    ) -> dict[str, Any]:
        """A form (``url`` + ``fields``) a browser can POST one file to."""


@dataclass(frozen=True)
class UploadTicket:
    """What the browser needs to send one file to S3 and then report it done."""

    token: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_in: int


def is_enabled(backends: Backends) -> bool:
    """Whether direct upload is switched on and the store can sign browser uploads."""
    return backends.settings.direct_upload and isinstance(backends.store, PostSigner)


def upload_origin(backends: Backends) -> str:
    """Where browsers send direct uploads (for the page's Content-Security-Policy)."""
    return cast(PostSigner, backends.store).origin


def start_upload(
    backends: Backends, owner_id: int, filename: str, content_type: str, size: object
) -> UploadTicket:
    """Sign a POST for one photo to a fresh incoming key; raise UploadRejected when refused."""
    if not is_enabled(backends):
        raise UploadRejected("direct upload is not enabled here; POST the file to /api/photos", 404)
    name = uploads.clean_filename(filename)
    kind = _accepted_type(name, content_type)
    max_bytes = backends.settings.max_upload_mb * 1024 * 1024
    _check_size(name, size, max_bytes)
    key = f"{INCOMING}u{owner_id}/{secrets.token_hex(16)}"
    form = cast(PostSigner, backends.store).presigned_post(
        key, content_type=kind, max_bytes=max_bytes, expires=POST_EXPIRES
    )
    token = _serializer(backends).dumps({"o": owner_id, "k": key, "n": name})
    log.info("direct upload %s started by user %s", key, owner_id)
    return UploadTicket(token, form["url"], form["fields"], max_bytes, POST_EXPIRES)


def complete_upload(backends: Backends, owner_id: int, token: str, description: str) -> Photo:
    """Check, thumbnail and record the photo the browser sent; the incoming object always goes."""
    pending = _load(backends, token, owner_id)
    key = pending["k"]
    try:
        with tempfile.TemporaryFile() as local:
            _download(backends, key, local)
            return uploads.add_photo_from_store(
                backends, owner_id, local, pending["n"], description, source_key=key
            )
    finally:
        _discard(backends, key)


def _accepted_type(name: str, claimed: str) -> str:
    """The Content-Type the POST policy will demand: a photo type, from the claim or the name."""
    claimed = (claimed or "").strip().lower()
    if claimed in images.KINDS:
        return claimed
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    guessed = _HEIC.get(extension) or mimetypes.types_map.get(extension, "")
    if guessed in images.KINDS:
        return guessed
    raise UploadRejected(f"{name} is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC)", 415)


def _check_size(name: str, size: object, max_bytes: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UploadRejected("send the file's size in bytes as a positive whole number")
    if size > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise UploadRejected(f"{name} is larger than the {limit} MB allowed", 413)


def _serializer(backends: Backends) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(backends.settings.secret_key, salt=_SALT)


def _load(backends: Backends, token: str, owner_id: int) -> dict[str, Any]:
    """The pending upload in ``token``, if it is genuine, unexpired and this person's."""
    try:
        pending = _serializer(backends).loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise UploadRejected("this upload expired; please upload the photo again", 410) from None
    except BadSignature:
        raise UploadRejected("this upload is not known here", 404) from None
    if pending.get("o") != owner_id:
        raise UploadRejected("this upload is not known here", 404)
    return pending


def _download(backends: Backends, key: str, local: Any) -> None:
    """Copy the incoming object to a local temporary file, 1 MB at a time."""
    store = backends.store
    limit = backends.settings.max_upload_mb * 1024 * 1024
    try:
        if store.size(key) > limit:  # S3 enforced it; a second look costs one HEAD
            raise UploadRejected("the photo is larger than allowed", 413)
        download(store, key, local)
    except ObjectNotFound:
        raise UploadRejected(
            "the photo has not arrived; send it to the upload URL first", 409
        ) from None


def _discard(backends: Backends, key: str) -> None:
    try:
        backends.store.delete(key)
    except StorageError:
        # `flask storage check --fix` (and the bucket's lifecycle rule) remove it later.
        log.exception("could not remove incoming object %s", key)
