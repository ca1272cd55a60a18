"""JSON endpoints of direct upload: sign a browser POST to S3, then record what arrived."""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from flask_login import current_user

from ..context import get_backends
from ..services import direct_uploads
from .api import photo_json, protect_cookie_sessions, signed_in
from .validation import check_request, json_body

bp = Blueprint("direct_upload", __name__, url_prefix="/api/uploads")
bp.before_request(protect_cookie_sessions)
bp.before_request(check_request)


@bp.post("")
@signed_in
def start():
    """Answer 201 with ``url`` and ``fields`` to POST the file to, and a ``token``."""
    body = json_body()
    ticket = direct_uploads.start_upload(
        get_backends(),
        current_user.id,
        body["filename"],
        body.get("content_type", ""),
        body["size"],
    )
    complete_url = url_for("direct_upload.complete", token=ticket.token)
    return jsonify(
        token=ticket.token,
        url=ticket.url,
        fields=ticket.fields,
        max_bytes=ticket.max_bytes,
        expires_in=ticket.expires_in,
        complete_url=complete_url,
    ), 201


@bp.post("/<token>/complete")
@signed_in
def complete(token: str):
    """Check and record the photo sent to S3; answer 201 with the photo."""
    description = json_body().get("description", "")
    photo = direct_uploads.complete_upload(get_backends(), current_user.id, token, description)
    response = jsonify(photo_json(photo))
    response.headers["Location"] = url_for("api.get_photo", photo_id=photo.id)
    return response, 201
