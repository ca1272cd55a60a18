"""The JSON API (described by /api/openapi.json). Errors are {"error": "<message>"}."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ..context import get_backends
from ..data.models import Photo
from ..services import gallery, suggestions
from ..services.auth import accounts
from ..services.errors import SignupClosed
from .csrf import csrf
from .openapi import OPENAPI
from .safety import client_address
from .upload import add_uploaded_files
from .validation import check_request, json_body, query_value

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.create_user", "api.create_token", "api.openapi"}


def error(message: str, status: int, **extra):
    return jsonify(error=message, **extra), status


@bp.before_request
def protect_cookie_sessions():
    """Cookie-authenticated changes need the CSRF token; calls signed in by a bearer token do not
    (a browser never adds one by itself). Merely sending the header exempts nothing."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        return None  # nobody's cookies to misuse: the view answers 401 "sign in first"
    if current_user.via_token:
        return None
    csrf.protect()
    return None


@bp.before_request
def signup_open():
    """A closed sign-up is a 403 whatever the body holds: availability before content."""
    if request.endpoint == "api.create_user" and not get_backends().settings.allow_signup:
        raise SignupClosed()


bp.before_request(check_request)  # after the CSRF check: fields and types as the document has them


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
        "camera": photo.camera,
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
    body = json_body()
    user = accounts.create_local_user(get_backends(), body["username"], body["password"])
    return jsonify(id=user.id, username=user.username), 201


@bp.post("/tokens")
def create_token():
    """A personal API token for the local account in the HTTP Basic credentials."""
    auth = request.authorization
    user = (
        accounts.sign_in(get_backends(), auth.username or "", auth.password or "", client_address())
        if auth and auth.type == "basic"
        else None
    )
    if user is None:
        response = jsonify(error="send the username and password with HTTP Basic authentication")
        response.headers["WWW-Authenticate"] = 'Basic realm="photos"'
        return response, 401
    name = json_body().get("name", "API token")
    token = accounts.create_api_token(get_backends(), user.id, name)
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
        limit=query_value("limit"),
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
        body, status = error(problems[0].reason, problems[0].status, errors=errors)
        return body, status, problems[0].headers()
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
    description = json_body()["description"]
    photo = gallery.update_description(get_backends(), current_user.id, photo_id, description)
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
    photo = gallery.add_label(get_backends(), current_user.id, photo_id, json_body()["name"])
    return jsonify(photo_json(photo))


@bp.delete("/photos/<int:photo_id>/labels/<path:name>")
@signed_in
def remove_label(photo_id: int, name: str):
    """Remove a label from a photo; relabeling will not bring it back."""
    photo = gallery.remove_label(get_backends(), current_user.id, photo_id, name)
    return jsonify(photo_json(photo))
