"""The JSON API (described by /api/openapi.json). Errors are {"error": "<message>"}."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ..context import get_backends
from ..data.models import Photo
from ..services import gallery, suggestions
from ..services.auth import accounts
from .csrf import csrf
from .openapi import OPENAPI
from .upload import add_uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.create_user", "api.create_token", "api.openapi"}


def error(message: str, status: int, **extra):
    return jsonify(error=message, **extra), status


@bp.before_request
def protect_cookie_sessions():
    """Cookie-authenticated changes need the CSRF token; bearer tokens cannot be forged."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in PUBLIC:
        return None
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    if not current_user.is_authenticated:
        return None  # nobody's cookies to misuse: the view answers 401 "sign in first"
    csrf.protect()
    return None


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            response = jsonify(error="sign in first, or send Authorization: Bearer <API token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="photos"'
            return response, 401
        return view(*args, **kwargs)

    return wrapper


def photo_json(photo: Photo) -> dict:
    return {
        "id": photo.id,
        "description": photo.description,
        "filename": photo.original_filename,
        "content_type": photo.content_type,
        "byte_size": photo.byte_size,
        "width": photo.width,
        "height": photo.height,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "created_at": photo.created_at.isoformat() + "Z",
        "label_status": photo.label_status,
        "label_error": photo.label_error if photo.label_status == "failed" else None,
        "labels": [
            {
                "name": lb.name,
                "confidence": lb.confidence,
                "parents": list(lb.parents),
                "source": lb.source,
            }
            for lb in photo.labels
        ],
        "urls": gallery.photo_urls(get_backends(), photo),
    }


@bp.get("/openapi.json")
def openapi():
    """This API, described as OpenAPI 3."""
    return jsonify(OPENAPI)


@bp.post("/users")
def create_user():
    """Create a local account (when sign-up is open)."""
    body = request.get_json(silent=True) or {}
    user = accounts.create_local_user(
        get_backends(), str(body.get("username", "")), str(body.get("password", ""))
    )
    return jsonify(id=user.id, username=user.username), 201


@bp.post("/tokens")
def create_token():
    """A personal API token for the local account in the HTTP Basic credentials."""
    auth = request.authorization
    user = (
        accounts.authenticate(get_backends(), auth.username or "", auth.password or "")
        if auth and auth.type == "basic"
        else None
    )
    if user is None:
        response = jsonify(error="send the username and password with HTTP Basic authentication")
        response.headers["WWW-Authenticate"] = 'Basic realm="photos"'
        return response, 401
    body = request.get_json(silent=True) or {}
    token = accounts.create_api_token(get_backends(), user.id, str(body.get("name", "API token")))
    return jsonify(token=token), 201


@bp.get("/photos")
@signed_in
def list_photos():
    """The signed-in person's photos, newest first, optionally matching ``q``."""
    page = gallery.list_photos(
        get_backends(),
        current_user.id,
        query=request.args.get("q", ""),
        cursor=request.args.get("cursor") or None,
        limit=request.args.get("limit", type=int),
    )
    return jsonify(photos=[photo_json(p) for p in page.photos], next_cursor=page.next_cursor)


@bp.get("/suggestions")
@signed_in
def suggest():
    """Search suggestions from the signed-in person's own terms that start with ``q``."""
    found = suggestions.suggest(
        get_backends(),
        current_user.id,
        request.args.get("q", ""),
        limit=request.args.get("limit", 8, type=int),
    )
    return jsonify(
        suggestions=[{"term": s.term, "label": s.label, "count": s.count} for s in found]
    )


@bp.post("/photos")
@signed_in
def upload_photos():
    """Upload one or more photos (multipart parts named ``file``)."""
    added, problems = add_uploaded_files(current_user.id)
    errors = [{"error": p.reason, **p.details()} for p in problems]
    if not added:
        if not problems:
            return error("send one or more photos as multipart parts named 'file'", 400)
        return error(problems[0].reason, problems[0].status, errors=errors)
    return jsonify(photos=[photo_json(p) for p in added], errors=errors), 201


@bp.get("/photos/<int:photo_id>")
@signed_in
def get_photo(photo_id: int):
    """One photo."""
    return jsonify(photo_json(gallery.get_photo(get_backends(), current_user.id, photo_id)))


@bp.patch("/photos/<int:photo_id>")
@signed_in
def patch_photo(photo_id: int):
    """Change a photo's description."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("description"), str):
        return error('send JSON like {"description": "..."}', 400)
    photo = gallery.update_description(
        get_backends(), current_user.id, photo_id, body["description"]
    )
    return jsonify(photo_json(photo))


@bp.delete("/photos/<int:photo_id>")
@signed_in
def delete_photo(photo_id: int):
    """Delete a photo and every stored copy of it."""
    if gallery.delete_photo(get_backends(), current_user.id, photo_id):
        return "", 204
    # Accepted: the photo is gone from the gallery, its stored files follow when storage is back.
    return jsonify(message=gallery.FILES_PENDING), 202


@bp.post("/photos/<int:photo_id>/labels")
@signed_in
def add_label(photo_id: int):
    """Add the owner's own label to a photo."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return error('send JSON like {"name": "Grandma"}', 400)
    photo = gallery.add_label(get_backends(), current_user.id, photo_id, body["name"])
    return jsonify(photo_json(photo))


@bp.delete("/photos/<int:photo_id>/labels/<path:name>")
@signed_in
def remove_label(photo_id: int, name: str):
    """Remove a label from a photo; relabeling will not bring it back."""
    photo = gallery.remove_label(get_backends(), current_user.id, photo_id, name)
    return jsonify(photo_json(photo))
