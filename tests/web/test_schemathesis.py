"""Schemathesis drives the app from its own /api/openapi.json: no 500, answers as documented.

In-process over WSGI, signed in as a test user with a bearer token (HTTP Basic for
/api/tokens), so the signed-in operations are really exercised. What only the app can make
valid is grounded in real data: schema-valid examples get a real photo id of that user, a real
page cursor and real photos to upload; schema-invalid ones keep what was generated (half their
valid photo ids become real ones, so the invalid part is what gets refused).

`make test` runs a few examples per operation (FUZZ_EXAMPLES, default 10, derandomized so CI
is repeatable); `make fuzz` runs many more, randomly, and prints the answers per operation.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection
from schemathesis.transport.serialization import Binary

from photogallery.data import photos as photo_data
from photogallery.services import gallery
from photogallery.services.auth import accounts
from photogallery.services.errors import InvalidInput, NotFound
from photogallery.web.openapi import OPENAPI
from tests.conftest import insert_photo_row, photo_bytes

PASSWORD = "correct horse battery"
FUZZING = "FUZZ_EXAMPLES" in os.environ  # `make fuzz`: many random examples
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


class AppUnderTest:
    """The WSGI app of the running test: the schema is built at import, an app per test."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


APP = AppUnderTest()
# The document the app serves at /api/openapi.json (test_the_fuzzed_document_is_the_served_one);
# schemathesis's fixture-loaded schemas do not run under pytest 9, so it is loaded at import.
schema = schemathesis.openapi.from_dict(OPENAPI)
schema.app = APP  # every request, the checks' own probes included, goes to the test's app


@dataclass
class Alice:
    """The signed-in test user, and real data of hers to ground generated requests in."""

    backends: object
    id: int
    headers: dict[str, str]  # Authorization per security scheme
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_photo_id(self) -> int:
        with self.backends.engine.begin() as conn:
            return insert_photo_row(conn, self.id, next(self.numbers), description="fuzz").id

    def real_cursor(self) -> str:
        with self.backends.engine.connect() as conn:
            return gallery.encode_cursor(photo_data.get_photo(conn, self.new_photo_id()))

    def label(self, photo_id: object, name: str) -> None:
        """Label the photo ``name`` when the service takes it (not all strings are labels)."""
        with contextlib.suppress(InvalidInput, NotFound, TypeError):
            gallery.add_label(self.backends, self.id, photo_id, name)

    def real_photo(self) -> Binary:
        """A small real JPEG, wrapped as schemathesis wraps generated binary strings."""
        return Binary(photo_bytes(size=(64, 48), seed=next(self.numbers)))


@pytest.fixture
def fuzz_app(make_app):
    # The fuzzer sends wrong credentials by the hundred on purpose; throttling them is
    # tests/web/test_sign_in_throttle.py's subject, not this one's.
    APP.app = make_app(
        SIGN_IN_MAX_FAILURES="1000",
        SIGN_IN_MAX_FAILURES_PER_ADDRESS="1000000",
        SIGN_IN_MAX_FAILURES_PER_ACCOUNT="1000000",
    )
    yield APP.app
    APP.app = None


@pytest.fixture
def alice(fuzz_app) -> Alice:
    backends = fuzz_app.extensions["photogallery"]
    user = accounts.create_local_user(backends, "alice", PASSWORD)
    token = accounts.create_api_token(backends, user.id, "fuzz")
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    return Alice(backends, user.id, {"bearer": f"Bearer {token}", "basic": f"Basic {basic}"})


def positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE


def ground(case, alice: Alice) -> list:
    """Replace generated values that only the app can make valid with real ones.

    Returns the checks the replacement makes meaningless: schemathesis re-reads an edited body
    with binary parts as schema-invalid, so a grounded upload is not "negative data".
    """
    photo_id = (case.path_parameters or {}).get("photo_id")
    if isinstance(photo_id, int) and 1 <= photo_id < 10**18 and (positive(case) or photo_id % 2):
        case.path_parameters["photo_id"] = alice.new_photo_id()
    if not positive(case):
        return []  # schema-invalid parts stay as generated: they must be refused
    if isinstance(case.path_parameters.get("name"), str):  # the label to remove: give it one
        alice.label(case.path_parameters["photo_id"], case.path_parameters["name"])
    if "cursor" in (case.query or {}):
        case.query["cursor"] = alice.real_cursor()
    if case.operation.path == "/api/users" and isinstance(case.body, dict):
        # JSON Schema cannot say "not a common password": a schema-valid one may be refused
        # (tests/services/auth/test_passwords.py); a strong one must create the account.
        case.body["password"] = f"{secrets.token_urlsafe(12)} correct horse"
    files = case.body.get("file") if isinstance(case.body, dict) else None
    if case.operation.path == "/api/photos" and isinstance(files, list):
        case.body["file"] = [alice.real_photo() for _ in files]
        return [negative_data_rejection]
    return []


ANSWERS: dict[str, Counter] = {}  # status codes per operation, for the summary


@pytest.fixture(scope="module", autouse=True)
def summary():
    """After the run, the answers each operation gave (shown with -s, as `make fuzz` runs)."""
    yield
    total = sum(sum(c.values()) for c in ANSWERS.values())
    print(f"\nschemathesis: {total} requests answered as documented")
    for label, statuses in sorted(ANSWERS.items()):
        print(f"  {label}: " + ", ".join(f"{s}x{n}" for s, n in sorted(statuses.items())))


def test_the_fuzzed_document_is_the_served_one(fuzz_app):
    assert fuzz_app.test_client().get("/api/openapi.json").get_json() == OPENAPI


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FUZZING,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_documented(case, alice):
    was_positive = positive(case)
    excluded = ground(case, alice)
    scheme = "basic" if case.operation.path == "/api/tokens" else "bearer"
    # A generated, maybe malformed, Authorization of a negative case may be what must be refused.
    keep_theirs = not was_positive and "Authorization" in (case.headers or {})
    headers = {} if keep_theirs else {"Authorization": alice.headers[scheme]}
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    ANSWERS.setdefault(case.operation.label, Counter())[response.status_code] += 1
