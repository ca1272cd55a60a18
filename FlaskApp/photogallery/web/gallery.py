"""Pages: the gallery grid with search, one photo, its description and deletion."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..context import get_backends
from ..services import gallery
from ..services.errors import InvalidInput
from . import present
from .upload import direct_upload_url

bp = Blueprint("gallery", __name__)


@bp.get("/")
@login_required
def index():
    """The gallery grid, newest first, or the photos matching a search."""
    backends = get_backends()
    query = request.args.get("q", "").strip()
    try:
        page = gallery.list_photos(
            backends, current_user.id, query=query, cursor=request.args.get("cursor")
        )
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("gallery.index", q=query or None))
    # The grid shows the thumbnail, or the preview where a column needs more pixels (srcset):
    # two signed URLs per photo, not three. Attributes are joined here, so that the template
    # escapes one value per attribute (~500 escapes a page were a tenth of its time).
    shared = present.shared_descriptions(page.photos)
    links = present.ChipLinks(url_for("gallery.index"))
    photos_url = url_for("gallery.photo", photo_id=0).removesuffix("0")  # links add the id
    items = []
    for photo in page.photos:
        thumbnail_url = backends.store.url(photo.thumbnail_key)
        srcset = f"{thumbnail_url} 400w, {backends.store.url(photo.preview_key)} 1600w"
        alt = present.alt_text(photo, shared)
        href = f"{photos_url}{photo.id}"
        items.append((photo, href, thumbnail_url, srcset, alt, links.for_labels(photo.labels)))
    return render_template(
        "gallery.html",
        items=items,
        groups=present.month_groups(items),
        query=query,
        next_cursor=page.next_cursor,
        photos_url=photos_url,
        direct_upload_url=direct_upload_url(),
    )


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """One photo with its labels."""
    backends = get_backends()
    found = gallery.get_photo(backends, current_user.id, photo_id)
    return render_template(
        "photo.html",
        photo=found,
        urls=gallery.photo_urls(backends, found),
        alt=present.alt_text(found),
        chips=present.chips(found.labels),
        neighbours=gallery.neighbours(backends, current_user.id, found),
    )


@bp.post("/photos/<int:photo_id>/description")
@login_required
def describe(photo_id: int):
    """Save a photo's description."""
    try:
        gallery.update_description(
            get_backends(), current_user.id, photo_id, request.form.get("description", "")
        )
        flash("Description saved.", "success")
    except InvalidInput as exc:
        flash(f"Not saved: {exc}.", "error")
    return redirect(url_for("gallery.photo", photo_id=photo_id))


@bp.post("/photos/<int:photo_id>/delete")
@login_required
def delete(photo_id: int):
    """Delete a photo."""
    if gallery.delete_photo(get_backends(), current_user.id, photo_id):
        flash("Photo deleted.", "success")
    else:
        flash(gallery.FILES_PENDING, "success")
    return redirect(url_for("gallery.index"))


@bp.post("/photos/<int:photo_id>/labels")
@login_required
def add_label(photo_id: int):
    """Add the owner's own label."""
    try:
        gallery.add_label(get_backends(), current_user.id, photo_id, request.form.get("name", ""))
    except InvalidInput as exc:
        flash(f"Label not added: {exc}.", "error")
    return redirect(url_for("gallery.photo", photo_id=photo_id))


@bp.post("/photos/<int:photo_id>/labels/remove")
@login_required
def remove_label(photo_id: int):
    """Remove a wrong label."""
    name = request.form.get("name", "")
    gallery.remove_label(get_backends(), current_user.id, photo_id, name)
    flash(f"Removed the label {name}.", "success")
    return redirect(url_for("gallery.photo", photo_id=photo_id))
