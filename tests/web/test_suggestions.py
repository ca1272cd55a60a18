"""Search as you type: suggestions from the person's own labels and words, with counts."""

import pytest
from sqlalchemy import text

from photogallery.data import photos as photo_data
from photogallery.data import suggestions as suggestion_data
from photogallery.data.models import PhotoLabel
from photogallery.services.auth import accounts
from tests.conftest import Auth, insert_photo_row

PASSWORD = "correct horse battery"


def owner_id(backends, name: str = "alice") -> int:
    return accounts.authenticate(backends, name, PASSWORD).id


def add_photos(backends, owner: int, *label_sets: tuple[str, ...], start: int = 1) -> None:
    with backends.engine.begin() as conn:
        for n, names in enumerate(label_sets, start=start):
            photo = insert_photo_row(conn, owner, n)
            labels = [PhotoLabel(name, 90.0) for name in names]
            photo_data.set_labels(conn, photo.id, labels, model="test")


@pytest.mark.parametrize("stack", ["sqlite", "mysql"], indirect=True)
def test_a_prefix_suggests_the_owners_terms_with_counts_most_used_first(user_client, backends):
    alice = owner_id(backends)
    add_photos(backends, alice, ("Cat",), ("Cat", "Car"), ("Cat",), ("Dog",))
    answer = user_client.get("/api/suggestions?q=ca")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "suggestions": [
            {"term": "cat", "label": "Cat", "count": 3},
            {"term": "car", "label": "Car", "count": 1},
        ]
    }
    # "Cats" and "CA" find the same; "dog" is there but not under "ca".
    assert user_client.get("/api/suggestions?q=CA").get_json() == answer.get_json()
    assert user_client.get("/api/suggestions?q=do").get_json()["suggestions"][0]["count"] == 1


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_suggestions_never_come_from_another_persons_photos(user_client, backends, app):
    add_photos(backends, owner_id(backends), ("Cat",))
    other = app.test_client()
    Auth(other).signup("bob")
    add_photos(backends, owner_id(backends, "bob"), ("Camel",), start=10)
    assert [s["label"] for s in other.get("/api/suggestions?q=ca").get_json()["suggestions"]] == [
        "Camel"
    ]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_empty_or_wordless_prefix_suggests_nothing_and_limit_is_checked(user_client, backends):
    add_photos(backends, owner_id(backends), ("Cat",))
    for q in ("", "  ", "!!"):
        answer = user_client.get("/api/suggestions", query_string={"q": q})
        assert answer.status_code == 200 and answer.get_json() == {"suggestions": []}, q
    bad = user_client.get("/api/suggestions?q=ca&limit=500")
    assert bad.status_code == 400 and "limit" in bad.get_json()["error"]


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_suggestions_query_is_an_index_range_read(backends):
    with backends.engine.connect() as conn:
        stmt = suggestion_data.prefix_query(1, "ca", 8)
        sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # A SEARCH of the primary key's (owner_id, term) range, never a SCAN of the table.
    assert "photo_terms_1 (owner_id=? AND term>? AND term<?)" in plan, plan
    assert "SCAN" not in plan, plan


def test_suggestions_need_sign_in(client):
    assert client.get("/api/suggestions?q=ca").status_code == 401
