"""The log check of tests/fixtures/log_secrets.py finds what it must and only that (it fails the
run when a web test's logs hold a secret; here its detector is tried on its own)."""

from __future__ import annotations

from tests.fixtures.log_secrets import Secrets


def leaks(secrets: Secrets, *lines: str) -> list[str]:
    secrets.records = [("t", line) for line in lines]
    return [what for _test, what in secrets.leaks()]


def test_values_the_tests_sent_or_received_are_found_in_any_record():
    secrets = Secrets()
    secrets.add_password("correct horse battery", "alice")
    secrets.add("an API token", "pg_" + "a1B2" * 10)
    secrets.add("a cookie", "1|" + "f" * 64)  # Flask-Login's remember cookie
    secrets.add("the app's FLASK_SECRET", "test-secret-" + "x" * 32)

    found = leaks(
        secrets,
        "INFO x: sign-up of alice with correct horse battery",
        "WARNING x: made token pg_" + "a1B2" * 10 + ".",
        "ERROR x: cookie was " + "f" * 64,
        "Traceback ...\nValueError: key test-secret-" + "x" * 32,
    )

    assert [what.split(" in: ")[0] for what in found] == [
        "a password", "an API token", "a cookie", "the app's FLASK_SECRET"
    ]  # fmt: skip
    assert not [what for what in found if "a1B2a1B2" in what or "horse" in what]  # no leak here


def test_signed_urls_and_jwts_are_found_without_knowing_them():
    found = leaks(
        Secrets(),
        "GET /media/u1/a/original.jpg?e=1796193000&s=co_OKcAbCdEfGhIjKlMnOp HTTP/1.1",
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=0123456789abcdef0",
        "id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
    )

    assert [what.split(" in: ")[0] for what in found] == ["a signed URL", "a signed URL", "a JWT"]


def test_ordinary_log_lines_are_not_taken_for_secrets():
    secrets = Secrets()
    secrets.add_password("password", "bob")  # too short to tell from the word
    secrets.add_password("alice-the-great", "alice-the-great")  # the username itself
    secrets.add("a cookie", "")

    assert (
        leaks(
            secrets,
            "WARNING x: wrong password for alice-the-great",
            'GET /media/u1/a/original.jpg HTTP/1.1" 200',
            "INFO x: removed 3 objects of deleted photos",
        )
        == []
    )


def test_a_short_cookie_the_fuzzer_made_up_is_no_secret_but_a_real_one_still_is():
    """schemathesis sends cookies such as "direct_upload": a word every direct upload's log
    line holds. Cookies count by their long token-like parts only."""
    secrets = Secrets()
    secrets.add("a cookie", "direct_upload", phrase=False)
    secrets.add("a cookie", "eyJfZnJlc2giOmZhbHNlfQ.Z2Z0cw." + "s" * 27, phrase=False)

    found = leaks(
        secrets,
        "INFO photogallery.services.direct_uploads: direct upload incoming/u1/ab started",
        "ERROR x: session eyJfZnJlc2giOmZhbHNlfQ.Z2Z0cw." + "s" * 27,
    )

    assert [what.split(" in: ")[0] for what in found] == ["a cookie"]
    assert "ERROR x" in found[0]
