"""The gallery: newest first, paged, private, searchable, editable, deletable."""

import re
from datetime import datetime

import pytest

from photogallery.data import photos as photo_data
from tests.conftest import Auth, photo_bytes, stored_keys


def photo_ids(html: bytes) -> list[int]:
    return [int(i) for i in re.findall(rb'href="/photos/(\d+)"', html)]


def gallery_pages(client, url: str = "/") -> list[list[int]]:
    """The photo ids of every page, following the "Older" links (at most 10 pages)."""
    pages = []
    for _ in range(10):
        html = client.get(url).data
        pages.append(photo_ids(html))
        older = re.search(rb'href="(/\?[^"]*cursor=[\w-]+)"', html)
        if older is None:
            return pages
        url = older.group(1).decode().replace("&amp;", "&")
    raise AssertionError(f"still paging after 10 pages: {pages}")


@pytest.mark.parametrize("stack", ["sqlite", "mysql"], indirect=True)
def test_gallery_pages_newest_first_without_skipping_or_repeating(make_app, upload, monkeypatch):
    client = make_app(PAGE_SIZE=2).test_client()
    Auth(client).login()  # alice, signed up by the `upload` fixture on the same database

    def upload_at(hour: int, seed: int) -> None:
        when = datetime(2026, 1, 1, hour, 0, 0, 123456)
        monkeypatch.setattr(photo_data, "utcnow", lambda: when)
        assert upload((photo_bytes(seed=seed), f"{seed}.jpg"), client=client).status_code == 302

    upload_at(1, seed=1)
    for seed in (2, 3, 4):  # three photos in one instant: the tie crosses a page boundary
        upload_at(2, seed)
    upload_at(3, seed=5)
    with client.application.extensions["photogallery"].engine.connect() as conn:
        old, a, b, c, new = photo_data.list_photo_ids(conn)
    assert gallery_pages(client) == [[new, c], [b, a], [old]]


def test_a_bad_cursor_explains_and_goes_back_to_the_first_page(user_client):
    response = user_client.get("/?cursor=not-a-cursor")
    assert response.status_code == 302
    assert b"not valid" in user_client.get(response.headers["Location"]).data


def test_photo_page_shows_preview_size_and_honest_label_status(upload, user_client):
    upload((photo_bytes(), "cat.jpg"), description="Chelsea")
    photo_id = photo_ids(user_client.get("/").data)[0]
    page = user_client.get(f"/photos/{photo_id}")
    assert page.status_code == 200
    assert b"Not labelled yet" in page.data and b"640 \xc3\x97 480" in page.data
    assert b"Chelsea" in page.data and b"/preview.jpg?" in page.data


def owners_photo(backends, photo_id: int):
    """The photo as its owner sees it, read back through the data layer."""
    with backends.engine.connect() as conn:
        return photo_data.get_photo(conn, photo_id)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_another_person_gets_404_for_my_photo_and_changes_nothing(upload, user_client, app):
    upload((photo_bytes(), "mine.jpg"), description="my words")
    photo_id = photo_ids(user_client.get("/").data)[0]
    user_client.post(f"/photos/{photo_id}/labels", data={"name": "Grandma"})
    backends = app.extensions["photogallery"]
    before = owners_photo(backends, photo_id)
    other = app.test_client()
    Auth(other).signup("mallory")
    writes = [
        (f"/photos/{photo_id}/description", {"description": "defaced"}),
        (f"/photos/{photo_id}/labels", {"name": "Defaced"}),
        (f"/photos/{photo_id}/labels/remove", {"name": "Grandma"}),
        (f"/photos/{photo_id}/delete", {}),
    ]
    assert other.get(f"/photos/{photo_id}").status_code == 404
    for url, data in writes:
        assert other.post(url, data=data).status_code == 404, url
    assert photo_ids(other.get("/").data) == []
    after = owners_photo(backends, photo_id)
    assert after == before
    assert after.description == "my words" and [lb.name for lb in after.labels] == ["Grandma"]
    assert len(stored_keys(backends.store)) == 3


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_searching_never_finds_another_persons_photos(upload, user_client, app):
    upload((photo_bytes(), "mine.jpg"), description="secret beach")
    photo_id = photo_ids(user_client.get("/").data)[0]
    user_client.post(f"/photos/{photo_id}/labels", data={"name": "Grandma"})
    assert photo_ids(user_client.get("/?q=beach").data) == [photo_id]
    other = app.test_client()
    Auth(other).signup("mallory")
    for query in ("beach", "secret beach", "grandma"):
        assert photo_ids(other.get(f"/?q={query}").data) == [], query


def test_search_by_description_words(upload, user_client):
    upload((photo_bytes(seed=1), "a.jpg"), description="Birthday party at the beach")
    upload((photo_bytes(seed=2), "b.jpg"), description="Mountain hike")
    assert len(photo_ids(user_client.get("/?q=beach").data)) == 1
    assert len(photo_ids(user_client.get("/?q=BIRTHDAYS").data)) == 1
    empty = user_client.get("/?q=giraffe")
    assert photo_ids(empty.data) == [] and b"No photos match" in empty.data


def test_editing_the_description_makes_it_searchable(upload, user_client):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    user_client.post(f"/photos/{photo_id}/description", data={"description": "Grandma's garden"})
    assert photo_ids(user_client.get("/?q=garden").data) == [photo_id]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_adding_and_removing_a_label_updates_search_at_once(upload, user_client):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    assert photo_ids(user_client.get("/?q=grandma").data) == []
    user_client.post(f"/photos/{photo_id}/labels", data={"name": "Grandma"})
    assert photo_ids(user_client.get("/?q=grandma").data) == [photo_id]
    user_client.post(f"/photos/{photo_id}/labels/remove", data={"name": "Grandma"})
    assert photo_ids(user_client.get("/?q=grandma").data) == []


def test_delete_removes_the_photo_and_every_stored_object(upload, user_client, backends):
    upload((photo_bytes(), "a.jpg"))
    photo_id = photo_ids(user_client.get("/").data)[0]
    assert len(stored_keys(backends.store)) == 3
    assert user_client.post(f"/photos/{photo_id}/delete").status_code == 302
    assert user_client.get(f"/photos/{photo_id}").status_code == 404
    assert stored_keys(backends.store) == []


def test_unknown_pages_get_a_friendly_404(user_client):
    response = user_client.get("/no/such/page")
    assert response.status_code == 404 and b"There is nothing here" in response.data


def add_rows(backends, count: int) -> tuple[int, list[int]]:
    """A person with ``count`` photo rows, one second apart; their ids newest first."""
    from photogallery.data import users as user_data
    from tests.conftest import insert_photo_row

    with backends.engine.begin() as conn:
        owner = user_data.add_user(conn, provider="local", subject="pat", username="pat")
        ids = [insert_photo_row(conn, owner.id, n).id for n in range(count)]
    return owner.id, ids[::-1]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("limit", [1, 2, 5, 6])
def test_the_gallery_service_pages_every_photo_once_and_ends_without_a_cursor(backends, limit):
    from photogallery.services import gallery

    owner_id, newest_first = add_rows(backends, 5)
    pages, cursor = [], None
    for _ in range(10):
        page = gallery.list_photos(backends, owner_id, cursor=cursor, limit=limit)
        pages.append([p.id for p in page.photos])
        cursor = page.next_cursor
        if cursor is None:
            break

    expected = [newest_first[i : i + limit] for i in range(0, 5, limit)]
    assert pages == expected  # exactly `limit` photos left: a full last page, no empty one


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_gallery_service_takes_1_to_500_photos_a_page(backends):
    from photogallery.services import gallery
    from photogallery.services.errors import InvalidInput

    owner_id, newest_first = add_rows(backends, 50)

    def page(limit):
        found = gallery.list_photos(backends, owner_id, limit=limit)
        return [p.id for p in found.photos], found.next_cursor is not None

    assert page(1) == (newest_first[:1], True)
    assert page(49) == (newest_first[:49], True)
    assert page(50) == (newest_first, False)
    assert page(500) == (newest_first, False)
    for limit in (0, 501):
        with pytest.raises(InvalidInput) as refused:
            gallery.list_photos(backends, owner_id, limit=limit)
        assert str(refused.value) == "limit must be between 1 and 500"


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_gallery_service_says_what_is_wrong_with_a_label_or_description(backends):
    from photogallery.services import gallery
    from photogallery.services.errors import InvalidInput, NotFound

    owner_id, [photo_id] = add_rows(backends, 1)

    refusals = [
        (InvalidInput, lambda: gallery.add_label(backends, owner_id, photo_id, "x" * 101)),
        (
            InvalidInput,
            lambda: gallery.update_description(backends, owner_id, photo_id, "x" * 2001),
        ),
        (NotFound, lambda: gallery.remove_label(backends, owner_id, photo_id, "Giraffe")),
    ]
    messages = []
    for kind, call in refusals:
        with pytest.raises(kind) as refused:
            call()
        messages.append(str(refused.value))

    assert messages == [
        "a label is 1 to 100 characters",
        "the description is longer than 2000 characters",
        "this photo has no label 'Giraffe'",
    ]
