"""Serves LocalStore objects behind signed, expiring URLs (S3 serves its own)."""

from __future__ import annotations

from flask import Blueprint, abort, request, send_file

from ..context import get_backends
from ..images import KINDS
from ..storage.base import ObjectNotFound
from ..storage.local import LocalStore

bp = Blueprint("media", __name__)
MIMETYPES = {ext: content_type for content_type, (ext, _formats) in KINDS.items()}


@bp.get("/media/<path:key>")
def media(key: str):
    store = get_backends().store
    if not isinstance(store, LocalStore):
        abort(404)
    name = request.args.get("d", "")
    if not store.verify(key, request.args.get("e", ""), request.args.get("s", ""), name):
        abort(403)
    try:
        path = store.local_path(key)
    except ObjectNotFound:
        abort(404)
    # Only image types, so a stored file never renders as a page.
    mimetype = MIMETYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
    response = send_file(
        path, mimetype=mimetype, download_name=name or path.name, conditional=True, max_age=3600
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
