"""Hostile JSON on every JSON endpoint: each case is a 4xx naming the problem, and nothing stored.

The endpoints are the operations of /api/openapi.json that take a JSON body, and the per-field
cases come from each field's schema there, so a new endpoint or field is covered (or the test
saying every endpoint has a sound request fails). One app serves the whole module: each case
compares the stored state just before and just after its request.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from photogallery.data.schema import api_tokens, photo_labels, photo_terms, photos, users
from photogallery.services import direct_uploads, uploads
from photogallery.services.auth import accounts
from photogallery.web.openapi import OPENAPI
from photogallery.web.validation import MAX_DEPTH, MAX_JSON_BYTES
from tests.conftest import photo_bytes, sqlite_app, stored_keys

PASSWORD = "correct horse battery"

# A request each endpoint accepts: the base the per-field cases spoil one field of.
SOUND = {
    ("/api/users", "post"): {"username": "newcomer", "password": PASSWORD},
    ("/api/tokens", "post"): {"name": "backup"},
    ("/api/photos/{photo_id}", "patch"): {"description": "a new description"},
    ("/api/photos/{photo_id}/labels", "post"): {"name": "Grandma"},
    ("/api/uploads", "post"): {"filename": "cat.jpg", "content_type": "image/jpeg", "size": 100},
    ("/api/uploads/{token}/complete", "post"): {"description": "arrived"},
}
# What the sound request answers: direct upload is off on local storage, after the checks.
SOUND_STATUS = {("/api/uploads", "post"): 404}


def json_operations() -> dict[tuple[str, str], dict]:
    """(path, method) → schema of every operation in the document with a JSON body."""
    found = {}
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if method != "parameters"
                else {}
            )
            if "application/json" in content:
                found[path, method] = content["application/json"]["schema"]
    return found


ENDPOINTS = sorted(json_operations())


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    status: int
    words: str  # in the error message (case-insensitive)
    content_type: str | None = "application/json"


def _raw(field: str, value_text: str) -> bytes:
    return f'{{"{field}": {value_text}}}'.encode()


def generic_cases(endpoint: tuple[str, str]) -> list[Case]:
    """Malformed bodies, whatever the endpoint's fields."""
    schema = json_operations()[endpoint]
    field = next(iter(schema["properties"]))
    sound = json.dumps(SOUND[endpoint]).encode()
    deep = "[" * 1000 + "]" * 1000
    cases = [
        Case("list", b"[1, 2]", 400, "the body must be a JSON object"),
        Case("string", b'"hello"', 400, "the body must be a JSON object"),
        Case("number", b"5", 400, "the body must be a JSON object"),
        Case("null", b"null", 400, "the body must be a JSON object"),
        Case("true", b"true", 400, "the body must be a JSON object"),
        Case("nested 1000 lists (2 kB)", deep.encode(), 400, "nested more than"),
        Case("nested 1000 in a field", _raw(field, deep), 400, "nested more than"),
        Case("nested 1000 objects", ('{"a":' * 1000 + "1" + "}" * 1000).encode(), 400, "nested"),
        Case(f"nested {MAX_DEPTH + 1}", _raw(field, "[" * MAX_DEPTH + "]" * MAX_DEPTH), 400,
             f"nested more than {MAX_DEPTH}"),
        Case("truncated", sound[:-3], 400, "not valid JSON"),
        Case("trailing garbage", sound + b" x", 400, "not valid JSON"),
        Case("two documents", sound + sound, 400, "not valid JSON"),
        Case("single quotes", sound.replace(b'"', b"'"), 400, "not valid JSON"),
        Case("comment", b"/* hi */" + sound, 400, "not valid JSON"),
        Case("invalid UTF-8", _raw(field, '"caf\xe9"').replace(b"\xc3\xa9", b"\xe9"), 400, "UTF-8"),
        Case("overlong UTF-8", _raw(field, '"x"').replace(b'"x"', b'"\xc0\xaf"'), 400, "UTF-8"),
        Case("UTF-16", sound.decode().encode("utf-16"), 400, "UTF-8"),
        Case("byte order mark", b"\xef\xbb\xbf" + sound, 400, "not valid JSON"),
        Case("lone surrogate", _raw(field, '"\\ud800abc"'), 400, "lone"),
        Case("surrogate in a name", b'{"\\udfff": 1}', 400, "lone"),
        Case("NaN", _raw(field, "NaN"), 400, "NaN is not a JSON number"),
        Case("Infinity", _raw(field, "Infinity"), 400, "Infinity is not a JSON number"),
        Case("-Infinity", _raw(field, "-Infinity"), 400, "-Infinity is not a JSON number"),
        Case("1e400", _raw(field, "1e400"), 400, "too large"),
        Case("5000 digits", _raw(field, "9" * 5000), 400, "more than 100 digits"),
        Case("-5000 digits", _raw(field, "-" + "9" * 5000), 400, "more than 100 digits"),
        Case("name twice", sound[:-1] + b', "%s": "x"}' % field.encode(), 400, "appears twice"),
        Case("unknown field", sound[:-1] + b', "admin": true}', 400, "unknown field 'admin'"),
        Case("huge unknown name", sound[:-1] + b', "%s": 1}' % (b"k" * 10_000), 400,
             "unknown field 'kkkk"),
        Case("over 64 kB", _raw(field, '"' + "x" * MAX_JSON_BYTES + '"'), 413,
             f"at most {MAX_JSON_BYTES // 1024} kB"),
        Case("text/plain", sound, 415, "Content-Type: application/json", "text/plain"),
        Case("form encoded", sound, 415, "Content-Type: application/json",
             "application/x-www-form-urlencoded"),
        Case("no content type", sound, 415, "Content-Type: application/json", None),
        Case("multipart", sound, 415, "Content-Type: application/json",
             "multipart/form-data; boundary=x"),
    ]  # fmt: skip
    if schema.get("required"):
        wanted = f"send a JSON object with {', '.join(schema['required'])}"
        cases += [
            Case("empty body", b"", 400, wanted),
            Case("blank body", b" \r\n\t ", 400, wanted),
            Case("empty object", b"{}", 400, f"{schema['required'][0]} is required"),
        ]
    return cases


WRONG_TYPES = {
    "string": [
        ("integer", "12345678"),
        ("10**30", str(10**30)),
        ("float", "1.5"),
        ("true", "true"),
        ("null", "null"),
        ("list", '["x"]'),
        ("object", '{"a": 1}'),
    ],
    "integer": [
        ("string", '"12"'),
        ("float", "1.5"),
        ("1.2345e3", "1.2345e3"),
        ("true", "true"),
        ("null", "null"),
        ("list", "[1]"),
        ("object", '{"a": 1}'),
    ],
}


def field_cases(endpoint: tuple[str, str]) -> list[Case]:
    """Each field of the schema spoilt in turn, the others sound: the message names it."""
    schema = json_operations()[endpoint]
    cases = []
    for field, rules in schema["properties"].items():
        kind = rules["type"]
        for label, text in WRONG_TYPES[kind]:
            body = {**SOUND[endpoint], field: "PLACEHOLDER"}
            raw = json.dumps(body).replace('"PLACEHOLDER"', text).encode()
            cases.append(Case(f"{field} {label}", raw, 400, f"{field} must be {_a(kind)}"))
        if "pattern" in rules:
            body = json.dumps({**SOUND[endpoint], field: " -not that-"}).encode()
            words = f"{field} must be {rules['description']}"
            cases.append(Case(f"{field} not matching", body, 400, words))
        if "maxLength" in rules:
            n = rules["maxLength"]
            body = json.dumps({**SOUND[endpoint], field: "x" * (n + 1)}).encode()
            cases.append(Case(f"{field} too long", body, 400, f"{field} must be at most {n}"))
        if rules.get("minLength", 0) > 0:
            n = rules["minLength"]
            body = json.dumps({**SOUND[endpoint], field: "x" * (n - 1)}).encode()
            cases.append(Case(f"{field} too short", body, 400, f"{field} must be at least {n}"))
        if "minimum" in rules:
            n = rules["minimum"]
            for below in (n - 1, -(2**63)):
                body = json.dumps({**SOUND[endpoint], field: below}).encode()
                cases.append(Case(f"{field}={below}", body, 400, f"{field} must be at least {n}"))
        if field in schema.get("required", []):
            body = json.dumps({k: v for k, v in SOUND[endpoint].items() if k != field}).encode()
            cases.append(Case(f"{field} missing", body, 400, f"{field} is required"))
    return cases


def _a(kind: str) -> str:
    return {"string": "a string", "integer": "an integer"}[kind]


CASES = [(endpoint, case) for endpoint in ENDPOINTS for case in generic_cases(endpoint)] + [
    (endpoint, case) for endpoint in ENDPOINTS for case in field_cases(endpoint)
]


@dataclass
class World:
    app: object
    backends: object
    client: object
    bearer: dict
    photo_id: int
    upload_token: str

    def url(self, path: str) -> str:
        return path.format(photo_id=self.photo_id, token=self.upload_token)

    def headers(self, path: str) -> dict:
        if path == "/api/users":
            return {}
        if path == "/api/tokens":
            return {"Authorization": "Basic " + _basic("alice", PASSWORD)}
        return self.bearer

    def stored(self) -> dict:
        """Everything a request could have stored, tokens' last use aside."""
        with self.backends.engine.connect() as conn:
            rows = {
                "users": conn.execute(select(users.c.id, users.c.username)).all(),
                "tokens": conn.execute(select(api_tokens.c.id, api_tokens.c.name)).all(),
                "photos": conn.execute(select(photos.c.id, photos.c.description)).all(),
                "labels": conn.execute(select(photo_labels)).all(),
                "terms": conn.execute(select(photo_terms)).all(),
            }
        return {**rows, "objects": stored_keys(self.backends.store)}


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = sqlite_app(tmp_path_factory.mktemp("hostile-json"))
    backends = app.extensions["photogallery"]
    alice = accounts.create_local_user(backends, "alice", PASSWORD)
    photo = uploads.add_photo(backends, alice.id, io.BytesIO(photo_bytes()), "cat.jpg", "mine")
    token = accounts.create_api_token(backends, alice.id, "laptop")
    key = f"{direct_uploads.INCOMING}u{alice.id}/{secrets.token_hex(16)}"
    backends.store.save(key, io.BytesIO(photo_bytes(seed=3)), content_type="image/jpeg")
    ticket = direct_uploads._serializer(backends).dumps({"o": alice.id, "k": key, "n": "new.jpg"})
    bearer = {"Authorization": f"Bearer {token}"}
    yield World(app, backends, app.test_client(), bearer, photo.id, ticket)
    backends.engine.dispose()


def test_every_json_endpoint_has_a_sound_request():
    assert set(ENDPOINTS) == set(SOUND)
    assert len(CASES) >= 250


@pytest.mark.parametrize(
    ("endpoint", "case"), CASES, ids=[f"{p} {m} {c.name}" for (p, m), c in CASES]
)
def test_hostile_json_is_refused_naming_the_problem_and_nothing_is_stored(world, endpoint, case):
    path, method = endpoint
    headers = world.headers(path)
    if case.content_type is not None:
        headers = {**headers, "Content-Type": case.content_type}
    before = world.stored()

    response = world.client.open(world.url(path), method=method, data=case.body, headers=headers)

    assert response.status_code == case.status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert case.words.lower() in error.lower(), error
    assert len(error) < 300  # names the problem; never echoes the (possibly huge) value
    assert world.stored() == before


@pytest.mark.parametrize(("path", "method"), sorted(SOUND), ids=lambda v: v)
def test_the_sound_request_of_each_endpoint_is_accepted(world, path, method):
    """The other way: the refusals above come from the spoilt part, not a malformed request."""
    response = world.client.open(
        world.url(path), method=method, json=SOUND[path, method], headers=world.headers(path)
    )
    assert response.status_code == SOUND_STATUS.get((path, method), response.status_code)
    assert response.status_code < 400 or (path, method) in SOUND_STATUS
    if response.status_code >= 400:
        assert "not enabled" in response.get_json()["error"]  # past the checks, in the service
    assert not re.search(r"must be|is required|not valid JSON", response.get_data(as_text=True))
