"""The scrubber on its own: what a span attribute may keep (the end-to-end proof is in
test_tracing.py, on spans the real exporter sent)."""

from photogallery.observability.tracing_scrub import scrub_attributes, scrub_text

PRESIGNED = (
    "https://photos.s3.amazonaws.com/u1/2/original.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIA%2F20261202&X-Amz-Signature=0123abcd"
)


def test_urls_and_paths_lose_their_query_strings_wherever_they_appear():
    assert scrub_text(PRESIGNED) == "https://photos.s3.amazonaws.com/u1/2/original.jpg"
    assert scrub_text("/media/u1/t.jpg?e=1796&s=abc") == "/media/u1/t.jpg"
    assert scrub_text("GET /callback?code=c0de&state=st4te") == "GET /callback"
    assert scrub_text(f"could not fetch {PRESIGNED} (403)") == (
        "could not fetch https://photos.s3.amazonaws.com/u1/2/original.jpg (403)"
    )


def test_sql_placeholders_stay():
    sql = "UPDATE api_tokens SET last_used_at=? WHERE token_hash = ?"
    assert scrub_text(sql) == sql


def test_secret_keys_query_keys_and_bytes_are_dropped():
    attributes = {
        "http.request.header.authorization": ("Bearer pg_secret",),
        "http.request.header.cookie": ("session=abc",),
        "http.response.header.set-cookie": ("session=abc",),
        "url.query": "s=abc&e=1",
        "url.full": PRESIGNED,
        "http.target": "/media/k.jpg?s=abc&e=1",
        "aws.s3.body": b"\xff\xd8\xff",
        "db.statement": "SELECT 1",
        "rpc.method": "PutObject",
        "error": "refused Bearer pg_abcdefgh123 for ann",
    }

    kept = scrub_attributes(attributes)

    assert kept == {
        "url.full": "https://photos.s3.amazonaws.com/u1/2/original.jpg",
        "http.target": "/media/k.jpg",
        "db.statement": "SELECT 1",
        "rpc.method": "PutObject",
        "error": "refused Bearer [removed] for ann",
    }
