"""Pages: the upload form (one or many photos at once)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..context import get_backends
from ..services import direct_uploads, uploads
from ..services.errors import UploadRejected

bp = Blueprint("upload", __name__)


def add_uploaded_files(owner_id: int):
    """Store every ``file`` part of the request; return (photos, problems) for the caller."""
    backends = get_backends()
    description = request.form.get("description", "")
    added, problems = [], []
    for part in request.files.getlist("file"):
        if not part.filename and not part.content_length:
            continue  # an empty file input
        try:
            added.append(
                uploads.add_photo(backends, owner_id, part.stream, part.filename or "", description)
            )
        except UploadRejected as exc:
            problems.append(exc)
    return added, problems


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def form():
    if request.method == "GET":
        return upload_page()
    added, problems = add_uploaded_files(current_user.id)
    for problem in problems:
        flash(problem.reason + ".", "error")
    if added:
        flash(f"Added {len(added)} photo{'s' if len(added) != 1 else ''}.", "success")
        return redirect(url_for("gallery.index"))
    if not problems:
        flash("Choose one or more photos to upload.", "error")
        return upload_page(400)
    page, status = upload_page(problems[0].status)
    return page, status, problems[0].headers()


def upload_page(status: int = 200):
    """The form; with direct upload on, its script sends files straight to the bucket."""
    typed = request.form.get("description", "")  # kept when the upload is refused
    page = render_template("upload.html", direct_upload_url=direct_upload_url(), description=typed)
    return page, status


def direct_upload_url() -> str | None:
    """Where the pages' script asks for a presigned POST, when direct upload is on."""
    enabled = direct_uploads.is_enabled(get_backends())
    return url_for("direct_upload.start") if enabled else None
