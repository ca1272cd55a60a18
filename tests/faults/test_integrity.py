"""The rows ↔ objects ↔ labels check finds each kind of damage the fault tests look for."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import delete, insert, update

from photogallery.data import photos as photo_data
from photogallery.data import users as user_data
from photogallery.data.models import PhotoLabel
from photogallery.data.schema import photo_labels, photo_terms, photos
from photogallery.services import uploads
from tests.conftest import photo_bytes
from tests.faults.integrity import broken

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def stray_object(backends, photo_id):
    backends.store.save("u1/stray/original.jpg", io.BytesIO(b"x"), content_type="image/jpeg")


def lost_preview(backends, photo_id):
    with backends.engine.connect() as conn:
        backends.store.delete(photo_data.get_photo(conn, photo_id).preview_key)


def done_without_labels(backends, photo_id):
    with backends.engine.begin() as conn:
        conn.execute(update(photos).values(label_status="done"))


def label_twice(backends, photo_id):
    with backends.engine.begin() as conn:  # the schema refuses the same name twice, not "cat"
        for name in ("Cat", "cat"):
            conn.execute(
                insert(photo_labels).values(
                    photo_id=photo_id, name=name, confidence=90, parents="", source="user"
                )
            )


def term_missing(backends, photo_id):
    with backends.engine.begin() as conn:
        photo_data.set_labels(conn, photo_id, [PhotoLabel("Cat", 90.0, ("Animal",))], model="m")
        conn.execute(delete(photo_terms).where(photo_terms.c.term == "animal"))


def pending_with_model_labels(backends, photo_id):
    with backends.engine.begin() as conn:
        photo_data.set_labels(conn, photo_id, [PhotoLabel("Cat", 90.0)], model="m")
        conn.execute(update(photos).values(label_status="pending"))


@pytest.mark.parametrize(
    ("damage", "found"),
    [
        (stray_object, "object without a photo row: u1/stray/original.jpg"),
        (lost_preview, "lost u1/"),
        (done_without_labels, "is done but has no labels"),
        (label_twice, "has a label twice"),
        (term_missing, "search terms are off: missing ['animal']"),
        (pending_with_model_labels, "is pending but has the model's labels"),
    ],
)
def test_each_kind_of_damage_is_found(backends, damage, found):
    with backends.engine.begin() as conn:
        owner = user_data.add_user(conn, provider="local", subject="a", username="a")
    photo_id = uploads.add_photo(backends, owner.id, io.BytesIO(photo_bytes()), "a.jpg").id
    assert broken(backends) == []

    damage(backends, photo_id)

    assert any(found in problem for problem in broken(backends)), broken(backends)
