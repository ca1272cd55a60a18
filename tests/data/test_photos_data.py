"""The data layer on SQLite and on a real MariaDB/MySQL server."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from photogallery.data import photos as photo_data
from photogallery.data import users as user_data
from photogallery.data.models import PhotoLabel
from photogallery.data.schema import photo_labels, photo_terms
from tests.conftest import insert_photo_row


@pytest.fixture
def conn(backends):
    with backends.engine.begin() as conn:
        yield conn


def add_user(conn, name="alice"):
    return user_data.add_user(conn, provider="local", subject=name, username=name)


def add_photo(conn, owner, n, created_at=None, description=""):
    created_at = created_at or datetime(2026, 1, 1) + timedelta(seconds=n)
    return insert_photo_row(conn, owner.id, n, description=description, created_at=created_at)


TIED = (2, 3, 4, 5)  # these photos share one created_at, between photos 7 and 8


def add_photos_with_a_tie(conn, owner, description=""):
    """Ten photos; returns their ids by n. Newest first: 9, 8, 5, 4, 3, 2, 7, 6, 1, 0."""
    same_time = datetime(2026, 1, 1, 0, 0, 7, 500000)
    ids = {}
    for n in (9, 8, 7, 6, 2, 3, 4, 5, 1, 0):  # ids do not follow time, except within the tie
        ids[n] = add_photo(conn, owner, n, same_time if n in TIED else None, description).id
    return [ids[n] for n in range(10)]


def all_pages(conn, owner_id, limit, query_terms=()):
    """Every page in order, following cursors; a cursor that never ends fails, not hangs."""
    pages, before = [], None
    for _ in range(20):
        page = photo_data.list_photos(
            conn, owner_id, before=before, limit=limit, query_terms=query_terms
        )
        if not page:
            return pages
        pages.append([p.id for p in page])
        before = (page[-1].created_at, page[-1].id)
    raise AssertionError(f"still paging after 20 pages: {pages}")


def test_pages_are_newest_first_and_keyset_cursors_never_skip_or_repeat(conn):
    alice = add_user(conn)
    ids = add_photos_with_a_tie(conn, alice)
    expected = [[9, 8, 5], [4, 3, 2], [7, 6, 1], [0]]  # the tie crosses the first boundary
    assert all_pages(conn, alice.id, limit=3) == [[ids[n] for n in page] for page in expected]
    expected = [[9, 8, 5, 4], [3, 2, 7, 6], [1, 0]]  # ... and here the second one
    assert all_pages(conn, alice.id, limit=4) == [[ids[n] for n in page] for page in expected]


def test_microseconds_survive_the_round_trip(conn):
    alice = add_user(conn)
    when = datetime(2026, 5, 5, 12, 0, 0, 654321)
    assert add_photo(conn, alice, 1, when).created_at == when


def test_a_person_sees_only_their_own_photos(conn):
    alice, bob = add_user(conn), add_user(conn, "bob")
    photo = add_photo(conn, alice, 1)
    assert photo_data.get_photo(conn, photo.id, bob.id) is None
    assert photo_data.list_photos(conn, bob.id) == []


def test_same_bytes_twice_for_one_owner_is_a_duplicate(conn):
    alice, bob = add_user(conn), add_user(conn, "bob")
    add_photo(conn, alice, 1)
    with pytest.raises(photo_data.DuplicatePhoto):
        add_photo(conn, alice, 1)
    assert add_photo(conn, bob, 1).owner_id == bob.id  # another person may have the same photo


def test_search_finds_labels_parents_and_description_words(conn):
    alice = add_user(conn)
    cat = add_photo(conn, alice, 1, description="Chelsea on the sofa")
    dog = add_photo(conn, alice, 2)
    photo_data.set_labels(conn, cat.id, [PhotoLabel("Cat", 97.5, ("Pet", "Animal"))], model="m1")
    photo_data.set_labels(conn, dog.id, [PhotoLabel("Dog", 90.0, ("Pet", "Animal"))], model="m1")

    def found(*words):
        return [p.id for p in photo_data.list_photos(conn, alice.id, query_terms=words)]

    assert found("cat") == [cat.id]
    assert found("animal") == [dog.id, cat.id]
    assert found("sofa") == [cat.id]
    assert found("animal", "sofa") == [cat.id]
    assert found("giraffe") == []


def test_search_pages_with_the_same_cursor_as_the_gallery(conn):
    alice = add_user(conn)
    ids = add_photos_with_a_tie(conn, alice, description="beach day")
    add_photo(conn, alice, 10, description="mountains")
    expected = [[9, 8, 5, 4], [3, 2, 7, 6], [1, 0]]
    pages = all_pages(conn, alice.id, limit=4, query_terms=["beach"])
    assert pages == [[ids[n] for n in page] for page in expected]
    assert all_pages(conn, alice.id, limit=4, query_terms=["beach", "day"]) == pages


def test_labels_are_stored_with_confidence_and_parents_and_status_done(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    labels = [PhotoLabel("Cat", 97.123, ("Pet", "Animal")), PhotoLabel("Sofa", 60.0)]
    photo_data.set_labels(conn, photo.id, labels, model="efficientnet@abc")
    stored = photo_data.get_photo(conn, photo.id)
    assert stored.label_status == "done" and stored.label_model == "efficientnet@abc"
    assert stored.labels[0] == PhotoLabel("Cat", 97.123, ("Pet", "Animal"), "model")


def test_relabeling_replaces_model_labels_but_keeps_the_owners(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    conn.execute(
        photo_labels.insert().values(
            photo_id=photo.id, name="Grandma", confidence=100, parents="", source="user"
        )
    )
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Cat", 90)], model="m1")
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Dog", 80)], model="m2")
    names = {label.name for label in photo_data.get_photo(conn, photo.id).labels}
    assert names == {"Grandma", "Dog"}


def test_failed_attempts_count_up_and_the_final_one_marks_failed(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    photo_data.mark_label_attempt(conn, photo.id, error="throttled", final=False)
    photo_data.mark_label_attempt(conn, photo.id, error="bad image", final=True)
    stored = photo_data.get_photo(conn, photo.id)
    assert (stored.label_attempts, stored.label_status, stored.label_error) == (
        2,
        "failed",
        "bad image",
    )


def test_delete_removes_labels_and_search_terms(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1, description="sunset")
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Sky", 90)], model="m")
    photo_data.delete_photo(conn, photo.id)
    assert photo_data.get_photo(conn, photo.id) is None
    for table in (photo_labels, photo_terms):
        count = conn.execute(select(func.count()).select_from(table)).scalar()
        assert count == 0


def test_usernames_are_unique_per_provider(conn):
    add_user(conn)
    with pytest.raises(user_data.UsernameTaken):
        add_user(conn)
    assert user_data.add_user(conn, provider="cognito", subject="sub-1", username="alice").id


def test_unicode_descriptions_round_trip(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1, description="Café 🐈 Köln")
    assert photo_data.get_photo(conn, photo.id).description == "Café 🐈 Köln"
    assert [p.id for p in photo_data.list_photos(conn, alice.id, query_terms=["café"])] == [
        photo.id
    ]


def test_on_a_confidence_tie_the_specific_label_comes_first(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    labels = [
        PhotoLabel("Animal", 92.2),
        PhotoLabel("Pet", 92.2, ("Animal",)),
        PhotoLabel("Cat", 92.2, ("Pet", "Feline", "Animal", "Mammal")),
        PhotoLabel("Sofa", 95.0),
    ]
    photo_data.set_labels(conn, photo.id, labels, model="m")
    names = [label.name for label in photo_data.get_photo(conn, photo.id).labels]
    assert names == ["Sofa", "Cat", "Pet", "Animal"]


def test_deleting_one_photo_leaves_the_others_labels_and_search_terms(conn):
    alice = add_user(conn)
    gone, kept = add_photo(conn, alice, 1, description="sunset"), add_photo(conn, alice, 2)
    photo_data.set_labels(conn, gone.id, [PhotoLabel("Sky", 90)], model="m")
    photo_data.set_labels(conn, kept.id, [PhotoLabel("Cat", 90, ("Animal",))], model="m")
    photo_data.delete_photo(conn, gone.id)
    assert [lb.name for lb in photo_data.get_photo(conn, kept.id).labels] == ["Cat"]
    found = photo_data.list_photos(conn, alice.id, query_terms=("animal",))
    assert [p.id for p in found] == [kept.id]


def test_removing_one_label_hides_only_that_label(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    labels = [PhotoLabel("Cat", 90, ("Animal",)), PhotoLabel("Sofa", 70)]
    photo_data.set_labels(conn, photo.id, labels, model="m")
    assert photo_data.remove_label(conn, photo.id, "Sofa") is True
    assert [lb.name for lb in photo_data.get_photo(conn, photo.id).labels] == ["Cat"]
    assert photo_data.remove_label(conn, photo.id, "Sofa") is False  # already removed
    search = photo_data.list_photos(conn, alice.id, query_terms=("cat",))
    assert [p.id for p in search] == [photo.id]


def test_local_and_cognito_users_with_the_same_name_are_never_confused(conn):
    # The Cognito account comes first, so a lookup that forgets the provider finds it.
    cognito = user_data.add_user(conn, provider="cognito", subject="alice", username="alice")
    local = add_user(conn, "alice")
    assert user_data.get_local_user(conn, "alice").id == local.id
    assert user_data.get_user_by_subject(conn, "cognito", "alice").id == cognito.id
    assert user_data.get_user_by_subject(conn, "local", "alice").id == local.id


def labels_of(conn, photo_id):
    return [
        (lb.name, lb.confidence, lb.source) for lb in photo_data.get_photo(conn, photo_id).labels
    ]


def search(conn, owner, *words):
    return [p.id for p in photo_data.list_photos(conn, owner.id, query_terms=words)]


def test_the_owner_confirming_a_model_label_makes_it_theirs_at_full_confidence(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Cat", 61.5, ("Animal",))], model="m")

    photo_data.add_owner_label(conn, photo.id, "cat")  # another case: the same label

    assert labels_of(conn, photo.id) == [("Cat", 100.0, "user")]
    assert search(conn, alice, "cat") == [photo.id]
    photo_data.set_labels(conn, photo.id, [], model="m2")  # relabeling keeps it
    assert labels_of(conn, photo.id) == [("Cat", 100.0, "user")]


def test_adding_back_a_removed_label_shows_and_finds_it_again(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Dog", 80.0)], model="m")
    photo_data.remove_label(conn, photo.id, "Dog")
    assert labels_of(conn, photo.id) == [] and search(conn, alice, "dog") == []

    photo_data.add_owner_label(conn, photo.id, "Dog")

    assert labels_of(conn, photo.id) == [("Dog", 100.0, "user")]
    assert search(conn, alice, "dog") == [photo.id]


def test_a_new_owner_label_is_searchable_at_once_without_a_relabel(conn):
    alice = add_user(conn)
    photo, other = add_photo(conn, alice, 1), add_photo(conn, alice, 2)

    photo_data.add_owner_label(conn, photo.id, "Grandma")

    assert labels_of(conn, photo.id) == [("Grandma", 100.0, "user")]
    assert search(conn, alice, "grandma") == [photo.id]
    assert labels_of(conn, other.id) == []


def test_removing_a_label_the_photo_never_had_changes_nothing(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Cat", 90.0)], model="m")

    assert photo_data.remove_label(conn, photo.id, "Dog") is False
    assert labels_of(conn, photo.id) == [("Cat", 90.0, "model")]
    assert search(conn, alice, "cat") == [photo.id]


def test_a_search_needs_every_term_on_one_photo(conn):
    alice = add_user(conn)
    both = add_photo(conn, alice, 1, description="cat on a sofa near the window")
    add_photo(conn, alice, 2, description="cat on the lawn")
    add_photo(conn, alice, 3, description="sofa in the window")

    assert search(conn, alice, "cat", "sofa") == [both.id]
    assert search(conn, alice, "sofa", "cat", "window") == [both.id]
    assert search(conn, alice, "cat", "window", "lawn") == []


def test_description_changes_are_searchable_at_once(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1, description="beach")

    photo_data.update_description(conn, photo.id, "mountain hike")

    assert search(conn, alice, "mountain") == [photo.id] and search(conn, alice, "beach") == []
    assert photo_data.get_photo(conn, photo.id).description == "mountain hike"


def test_finding_by_content_hash_is_per_owner(conn):
    alice, bob = add_user(conn), add_user(conn, "bob")
    photo = add_photo(conn, alice, 1)

    assert photo_data.find_by_sha256(conn, alice.id, photo.sha256).id == photo.id
    assert photo_data.find_by_sha256(conn, bob.id, photo.sha256) is None
    assert photo_data.find_by_sha256(conn, alice.id, "0" * 64) is None


def test_delete_removes_labels_and_terms_even_where_foreign_keys_are_off(backends):
    """An operator's sqlite3 shell or a MySQL session may run without cascades."""
    off, on = (
        ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON")
        if backends.engine.url.get_backend_name() == "sqlite"
        else ("SET foreign_key_checks=0", "SET foreign_key_checks=1")
    )
    with backends.engine.connect() as conn:
        conn.exec_driver_sql(off)
        conn.commit()
        try:
            with conn.begin():
                alice = add_user(conn)
                gone = add_photo(conn, alice, 1, description="sunset")
                kept = add_photo(conn, alice, 2, description="sky")
                for photo in (gone, kept):
                    photo_data.set_labels(conn, photo.id, [PhotoLabel("Sky", 90)], model="m")
                photo_data.delete_photo(conn, gone.id)
                left = {
                    table.name: conn.execute(select(table.c.photo_id).distinct()).scalars().all()
                    for table in (photo_labels, photo_terms)
                }
        finally:
            conn.exec_driver_sql(on)
            conn.commit()

    assert left == {"photo_labels": [kept.id], "photo_terms": [kept.id]}


def test_removing_the_first_label_keeps_the_later_ones_searchable(conn):
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    labels = [PhotoLabel("Armchair", 70), PhotoLabel("Cat", 90, ("Animal",)), PhotoLabel("Rug", 60)]
    photo_data.set_labels(conn, photo.id, labels, model="m")

    photo_data.remove_label(conn, photo.id, "Armchair")  # first in name order too

    assert search(conn, alice, "armchair") == []
    assert search(conn, alice, "cat") == search(conn, alice, "rug") == [photo.id]
    assert search(conn, alice, "animal") == [photo.id]


def test_a_page_reads_every_label_as_reading_the_photo_alone_does(conn):
    """A page packs each photo's labels into one column (data/packed_rows.py): nothing is cut
    (MySQL's GROUP_CONCAT stops at 1,024 bytes unless told otherwise), and names, parents,
    sources and confidences come back as they were stored."""
    alice = add_user(conn)
    many, few, bare = (add_photo(conn, alice, n) for n in (1, 2, 3))
    long_names = [
        PhotoLabel(f"Label {n:02d} " + "x" * 80, 50 + n / 7, ("Parent é", "Ω")) for n in range(40)
    ]
    photo_data.set_labels(conn, many.id, long_names, model="m")
    photo_data.set_labels(
        conn, few.id, [PhotoLabel("Cat", 97.123456789, ("Pet", "Animal"))], model="m"
    )
    photo_data.add_owner_label(conn, few.id, "Grandma\u2019s \u201ccat\u201d")
    photo_data.add_owner_label(conn, few.id, "Sofa")
    photo_data.remove_label(conn, few.id, "Sofa")
    page = {p.id: p for p in photo_data.list_photos(conn, alice.id)}
    assert len(page[many.id].labels) == 40
    for photo in (many, few, bare):
        assert page[photo.id] == photo_data.get_photo(conn, photo.id)
    assert [lb.name for lb in page[few.id].labels] == ["Grandma\u2019s \u201ccat\u201d", "Cat"]
    assert page[bare.id].labels == ()


def test_a_page_read_again_shows_labels_changed_in_between(conn):
    """Pages remember the label records they built, by the labels' own text, never by photo."""
    alice = add_user(conn)
    photo = add_photo(conn, alice, 1)
    photo_data.set_labels(conn, photo.id, [PhotoLabel("Cat", 90.0)], model="m")
    assert [lb.name for lb in photo_data.list_photos(conn, alice.id)[0].labels] == ["Cat"]
    photo_data.set_labels(
        conn, photo.id, [PhotoLabel("Cat", 40.0), PhotoLabel("Dog", 80.0)], model="m"
    )
    photo_data.remove_label(conn, photo.id, "Cat")
    (again,) = photo_data.list_photos(conn, alice.id)
    assert again.labels == (PhotoLabel("Dog", 80.0, (), "model"),)
