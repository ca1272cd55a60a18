"""Security headers: no page can be framed by another site (clickjacking)."""

import pytest

from tests.conftest import Auth

pytestmark = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def assert_not_frameable(response, page: str) -> None:
    assert response.headers.get("X-Frame-Options") == "DENY", page
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "frame-ancestors 'none'" in directives, page


def test_pages_signed_out_refuse_to_be_framed(client):
    for page in ("/login", "/signup", "/no/such/page"):
        response = client.get(page)
        assert response.mimetype == "text/html", page
        assert_not_frameable(response, page)


def test_pages_signed_in_refuse_to_be_framed(client):
    Auth(client).signup()
    for page in ("/", "/upload", "/settings", "/photos/1"):
        assert_not_frameable(client.get(page), page)
