"""Every route that reads or changes a photo, a label, a token or a search, proven both ways.

The routes come from ``app.url_map``: a second person (bob) calling one on alice's ids is refused
and alice's data is unchanged afterwards (read back through the services), while alice's own
identical call succeeds, so a refusal can never come from a malformed request.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from photogallery.data.models import Photo
from photogallery.services import direct_uploads, gallery, uploads
from photogallery.services.auth import accounts
from photogallery.services.errors import NotFound
from tests.conftest import Auth, photo_bytes

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)

PASSWORD = "correct horse battery"
# Every rule with a variable in its path (a photo id, a label name, an upload token, an object
# key) reaches something a person owns, except the static files'.
PUBLIC_WITH_ARGUMENTS = {"static"}
# Rules that reach owned data through the query string or the form, which url_map cannot show:
# the gallery's search, the API's listing and search, and revoking a token by its id.
OWNED_VIA_QUERY_OR_FORM = {
    ("gallery.index", "GET"),
    ("api.list_photos", "GET"),
    ("api.suggest", "GET"),
    ("auth.settings_page", "GET"),
    ("auth.settings_page", "POST"),
}
BEARER_BLUEPRINTS = {"api", "direct_upload"}  # called with an API token, as scripts do


@dataclass
class Person:
    name: str
    id: int
    client: object  # a test client signed in through the pages
    token: str  # a personal API token
    photo: Photo


@dataclass
class World:
    backends: object
    alice: Person
    bob: Person
    token_id: int  # of alice's token
    upload_token: str  # alice's direct upload waiting to be completed
    upload_key: str


def _person(app, backends, name: str, description: str, seed: int) -> Person:
    client = app.test_client()
    assert Auth(client).signup(name).status_code == 302
    user = accounts.authenticate(backends, name, PASSWORD)
    photo = uploads.add_photo(
        backends, user.id, io.BytesIO(photo_bytes(seed=seed)), f"{name}-cat.jpg", description
    )
    token = accounts.create_api_token(backends, user.id, f"{name}-laptop")
    return Person(name, user.id, client, token, photo)


@pytest.fixture
def world(make_app) -> World:
    """alice: a described, labelled photo, a token, a direct upload pending; bob: his own."""
    app = make_app()
    backends = app.extensions["photogallery"]
    alice = _person(app, backends, "alice", "Grandma's garden party", seed=1)
    for label in ("Picnic", "Sunday"):
        gallery.add_label(backends, alice.id, alice.photo.id, label)
    bob = _person(app, backends, "bob", "garden shed", seed=2)
    # A direct upload alice started: its object arrived, its signed ticket names her.
    key = f"{direct_uploads.INCOMING}u{alice.id}/{secrets.token_hex(16)}"
    backends.store.save(key, io.BytesIO(photo_bytes(seed=3)), content_type="image/jpeg")
    ticket = direct_uploads._serializer(backends).dumps({"o": alice.id, "k": key, "n": "new.jpg"})
    token_id = accounts.list_api_tokens(backends, alice.id)[0]["id"]
    return World(backends, alice, bob, token_id, ticket, key)


def _grafted_media_url(w: World, p: Person) -> str:
    """Alice's thumbnail key with the caller's own valid signature (for their own thumbnail)."""
    signed = urlsplit(w.backends.store.url(p.photo.thumbnail_key))
    return f"/media/{w.alice.photo.thumbnail_key}?{signed.query}"


@dataclass(frozen=True)
class Call:
    """How a person calls one rule on alice's ids, and what bob gets back."""

    build: Callable[[World, Person], dict]  # keyword arguments of client.open
    refused: int  # bob's status: 404, or the route's documented answer


def _photo(suffix: str = "", **kw) -> Callable[[World, Person], dict]:
    return lambda w, p: {"path": f"/photos/{w.alice.photo.id}{suffix}", **kw}


def _api_photo(suffix: str = "", **kw) -> Callable[[World, Person], dict]:
    return lambda w, p: {"path": f"/api/photos/{w.alice.photo.id}{suffix}", **kw}


CALLS: dict[tuple[str, str], Call] = {
    ("gallery.photo", "GET"): Call(_photo(), 404),
    ("gallery.describe", "POST"): Call(_photo("/description", data={"description": "bob"}), 404),
    ("gallery.delete", "POST"): Call(_photo("/delete"), 404),
    ("gallery.add_label", "POST"): Call(_photo("/labels", data={"name": "Bobs"}), 404),
    ("gallery.remove_label", "POST"): Call(_photo("/labels/remove", data={"name": "Picnic"}), 404),
    ("api.get_photo", "GET"): Call(_api_photo(), 404),
    ("api.patch_photo", "PATCH"): Call(_api_photo(json={"description": "bob"}), 404),
    ("api.delete_photo", "DELETE"): Call(_api_photo(), 404),
    ("api.add_label", "POST"): Call(_api_photo("/labels", json={"name": "Bobs"}), 404),
    ("api.remove_label", "DELETE"): Call(_api_photo("/labels/Picnic"), 404),
    # Search and listing answer 200 with only the caller's own photos (bob's says "garden" too).
    ("gallery.index", "GET"): Call(
        lambda w, p: {"path": "/", "query_string": {"q": "garden"}}, 200
    ),
    ("api.list_photos", "GET"): Call(
        lambda w, p: {"path": "/api/photos", "query_string": {"q": "garden"}}, 200
    ),
    ("api.suggest", "GET"): Call(
        lambda w, p: {"path": "/api/suggestions", "query_string": {"q": "gra"}}, 200
    ),
    # The tokens page lists only the caller's tokens; revoking another's id changes nothing.
    ("auth.settings_page", "GET"): Call(lambda w, p: {"path": "/settings"}, 200),
    ("auth.settings_page", "POST"): Call(
        lambda w, p: {"path": "/settings", "data": {"action": "revoke", "id": w.token_id}}, 302
    ),
    ("direct_upload.complete", "POST"): Call(
        lambda w, p: {"path": f"/api/uploads/{w.upload_token}/complete", "json": {}}, 404
    ),
    # Signed URLs are capabilities: bob's valid signature does not open alice's key.
    ("media.media", "GET"): Call(lambda w, p: {"path": _grafted_media_url(w, p)}, 403),
}


def owned_rules(app) -> set[tuple[str, str]]:
    """(endpoint, method) of every rule that reaches data a person owns."""
    found = set(OWNED_VIA_QUERY_OR_FORM)
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint not in PUBLIC_WITH_ARGUMENTS:
            found |= {(rule.endpoint, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def call(w: World, person: Person, endpoint: str, method: str):
    kwargs = CALLS[endpoint, method].build(w, person)
    if endpoint.split(".")[0] in BEARER_BLUEPRINTS:
        kwargs["headers"] = {"Authorization": f"Bearer {person.token}"}
    return person.client.open(method=method, **kwargs)


def owner_view(w: World) -> dict:
    """All of alice's data that a route could reach, read as alice through the services."""
    b, alice = w.backends, w.alice
    try:
        photo = gallery.get_photo(b, alice.id, alice.photo.id)
        shown = (photo.description, sorted((lb.name, lb.source) for lb in photo.labels))
    except NotFound:
        shown = None
    user = accounts.user_for_token(b, alice.token)
    return {
        "photo": shown,
        "photos": [p.id for p in gallery.list_photos(b, alice.id).photos],
        "objects": [k for k in alice.photo.keys if b.store.exists(k)],
        "found by": {
            q: [p.id for p in gallery.list_photos(b, alice.id, query=q).photos]
            for q in ("grandma", "garden", "picnic", "sunday")
        },
        "tokens": [(t["id"], t["name"]) for t in accounts.list_api_tokens(b, alice.id)],
        "token signs in": user is not None and user.id == alice.id,
        "pending upload": b.store.exists(w.upload_key),
    }


def alice_markers(w: World) -> list[bytes]:
    """What only alice's data contains (description, label, names, her objects' folder)."""
    folder = w.alice.photo.thumbnail_key.split("/")[1]
    return [m.encode() for m in ("Grandma", "Sunday", "alice-cat", "alice-laptop", folder)]


def shows_alice(w: World, response) -> bool:
    """Whether a response carries any of alice's data (or is her photo's bytes)."""
    body = response.get_data()
    return body.startswith(b"\xff\xd8") or any(m in body for m in alice_markers(w))


def test_the_table_covers_exactly_the_rules_that_reach_owned_data(app):
    """A new route with a variable in its path (or a changed one) must be added to CALLS."""
    assert owned_rules(app) == set(CALLS)


@pytest.mark.parametrize(("endpoint", "method"), sorted(CALLS), ids=lambda v: v)
def test_a_second_person_is_refused_and_the_owner_data_is_unchanged(world, endpoint, method):
    before = owner_view(world)
    assert before["photo"] and before["token signs in"] and before["pending upload"]

    refused = call(world, world.bob, endpoint, method)

    assert refused.status_code == CALLS[endpoint, method].refused
    assert not shows_alice(world, refused)
    assert owner_view(world) == before


@pytest.mark.parametrize(("endpoint", "method"), sorted(CALLS), ids=lambda v: v)
def test_the_owner_same_call_succeeds(world, endpoint, method):
    """The other way: the identical request reaches alice's data when alice sends it."""
    before = owner_view(world)

    response = call(world, world.alice, endpoint, method)

    assert response.status_code < 400
    if method == "GET":
        assert shows_alice(world, response)
    else:
        assert owner_view(world) != before


def test_search_as_a_second_person_finds_only_their_own_photos(world):
    b = world.backends
    for q in ("", "garden", "grandma", "picnic", "sunday"):
        found = gallery.list_photos(b, world.bob.id, query=q).photos
        assert {p.id for p in found} <= {world.bob.photo.id}, q
    html = world.bob.client.get("/?q=garden").get_data(as_text=True)
    assert re.findall(r'href="/photos/(\d+)"', html) == [str(world.bob.photo.id)]
