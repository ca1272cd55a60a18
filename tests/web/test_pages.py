"""The pages as people meet them: never cached when private, forms that keep what was typed,
an icon, alt text per photo, labels as chips, one heading and a skip link, empty states."""

import re

import pytest
from PIL import Image

from photogallery.data import photos as photo_data
from photogallery.data.models import PhotoLabel
from tests.conftest import photo_bytes

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def photo_ids(html: bytes) -> list[int]:
    return [int(i) for i in re.findall(rb'href="/photos/(\d+)"', html)]


def label(backends, photo_id: int, *labels: PhotoLabel) -> None:
    with backends.engine.begin() as conn:
        photo_data.set_labels(conn, photo_id, labels, model="test")


def test_signed_in_pages_and_answers_are_never_stored(upload, user_client):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    for page in ("/", "/?q=cat", "/upload", "/settings", f"/photos/{photo_id}", "/api/photos"):
        response = user_client.get(page)
        assert response.status_code == 200, page
        assert "no-store" in response.headers.get("Cache-Control", ""), page


def test_the_sign_in_page_after_sign_out_is_not_stored_either(user_client, auth):
    auth.logout()
    assert "no-store" in user_client.get("/login").headers.get("Cache-Control", "")


def test_a_failed_sign_in_keeps_the_username_but_never_the_password(client, auth):
    auth.signup()
    auth.logout()
    response = client.post("/login", data={"username": "alice", "password": "wrong one!"})
    assert response.status_code == 401
    assert b'value="alice"' in response.data and b"wrong one!" not in response.data


def test_a_refused_sign_up_keeps_the_username(client, auth):
    response = client.post(
        "/signup", data={"username": "carol", "password": "short", "password2": "short"}
    )
    assert response.status_code == 400 and b"at least 8 characters" in response.data
    assert b'value="carol"' in response.data and b"short" not in response.data.split(b"</h1>")[1]
    response = client.post(
        "/signup",
        data={"username": "dave", "password": "correct horse", "password2": "other horse!"},
    )
    assert b"differ" in response.data and b'value="dave"' in response.data


def test_favicon_is_a_real_image(client, tmp_path):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/png"
    path = tmp_path / "icon.png"
    path.write_bytes(response.data)
    with Image.open(path) as icon:
        assert icon.size == (32, 32)
    page = client.get("/login").get_data(as_text=True)
    svg = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    answer = client.get(svg)
    assert answer.status_code == 200 and b"<svg" in answer.data


def test_alt_text_is_each_photos_own_not_the_shared_upload_description(
    upload, user_client, backends
):
    three = [(photo_bytes(seed=n), f"{n}.jpg") for n in (1, 2, 3)]
    upload(*three, description="Trip")
    _newest, middle, oldest = photo_ids(user_client.get("/").data)
    label(backends, oldest, PhotoLabel("Cat", 92.0, ("Animal",)), PhotoLabel("Animal", 92.0))
    user_client.post(f"/photos/{middle}/description", data={"description": "Grandma waving"})
    page = user_client.get("/").get_data(as_text=True)
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', page)
    # Its own words; else what is in it; the upload's shared words only when nothing else.
    assert alts == ["Trip", "Grandma waving", "Cat, Animal"]


def test_labels_are_chips_with_confidence_and_parents_folded_in(upload, user_client, backends):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    parents = ("Feline", "Mammal", "Animal")
    label(
        backends,
        photo_id,
        PhotoLabel("Cat", 92.0, parents),
        *(PhotoLabel(name, 92.0) for name in parents),
        PhotoLabel("Sofa", 40.0, ("Furniture",)),
    )
    page = user_client.get(f"/photos/{photo_id}").get_data(as_text=True)
    chips = re.findall(r'<li class="chip[^"]*"[^>]*data-label="([^"]+)"', page)
    assert chips == ["Cat", "Sofa"]
    assert "92%" in page and "40%" in page
    assert "Feline, Mammal, Animal" in page
    assert "<table" not in page


def test_every_page_has_one_h1_and_a_skip_link(upload, user_client, client):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    for page in ("/", "/?q=nothing", "/upload", "/settings", f"/photos/{photo_id}", "/nowhere"):
        html = user_client.get(page).get_data(as_text=True)
        assert len(re.findall(r"<h1[ >]", html)) == 1, page
        assert '<a class="skip" href="#main">' in html and '<main id="main"' in html, page


def test_an_empty_gallery_invites_a_drop(user_client):
    html = user_client.get("/").get_data(as_text=True)
    assert "No photos yet" in html and "drop" in html


def test_dark_mode_follows_the_system(client):
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "@media (prefers-color-scheme: dark)" in css
    assert '<meta name="color-scheme" content="light dark">' in client.get("/login").get_data(
        as_text=True
    )


def test_the_grid_is_grouped_by_month_taken_else_uploaded(user_client, backends):
    from datetime import datetime

    from photogallery.services.auth import accounts
    from tests.conftest import insert_photo_row

    owner = accounts.authenticate(backends, "alice", "correct horse battery").id
    with backends.engine.begin() as conn:
        insert_photo_row(conn, owner, 1, created_at=datetime(2026, 3, 2))
        insert_photo_row(
            conn, owner, 2, created_at=datetime(2026, 3, 5), taken_at=datetime(2019, 7, 1)
        )
        insert_photo_row(conn, owner, 3, created_at=datetime(2026, 3, 9))
    html = user_client.get("/").get_data(as_text=True)
    assert re.findall(r"<h2>([^<]+)</h2>", html) == ["March 2026", "July 2019", "March 2026"]


def test_a_refused_upload_keeps_the_description(user_client):
    from io import BytesIO

    data = {"file": [(BytesIO(b"just some notes"), "notes.jpg")], "description": "Summer trip"}
    response = user_client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and b"not a photo" in response.data
    assert b'value="Summer trip"' in response.data


def test_a_photos_page_links_the_newer_and_older_photo(upload, user_client):
    three = [(photo_bytes(seed=n), f"{n}.jpg") for n in (1, 2, 3)]
    upload(*three)
    newest, middle, oldest = photo_ids(user_client.get("/").data)
    page = user_client.get(f"/photos/{middle}").get_data(as_text=True)
    assert f'<a rel="prev" href="/photos/{newest}"' in page
    assert f'<a rel="next" href="/photos/{oldest}"' in page
    first = user_client.get(f"/photos/{newest}").get_data(as_text=True)
    assert 'rel="prev"' not in first and f'<a rel="next" href="/photos/{middle}"' in first


def test_grid_thumbnails_offer_the_preview_for_wide_or_dense_screens(upload, user_client, backends):
    upload((photo_bytes(seed=1), "1.jpg"), (photo_bytes(seed=2), "2.jpg"))
    page = user_client.get("/").get_data(as_text=True)
    imgs = re.findall(r"<img [^>]*>", page)
    assert len(imgs) == 2
    for img, photo_id in zip(imgs, photo_ids(page.encode()), strict=True):
        with backends.engine.connect() as conn:
            photo = photo_data.get_photo(conn, photo_id)
        thumbnail, preview = (
            backends.store.url(k) for k in (photo.thumbnail_key, photo.preview_key)
        )
        assert f'srcset="{thumbnail} 400w, {preview} 1600w"' in img.replace("&amp;", "&")
        # As the grid's CSS lays it out: 3 columns up to 643px wide, then at most 240px each.
        assert 'sizes="(max-width: 643px) 33vw, 240px"' in img
        assert f'src="{thumbnail}"' in img.replace("&amp;", "&")
        assert 'loading="lazy"' in img and 'width="400" height="400"' in img
