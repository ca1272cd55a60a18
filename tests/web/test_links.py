"""Templates' links are built once per process (web/links.py) yet always match where the app
is mounted and what they were asked for."""

import re

import pytest

HREF = re.compile(r'href="([^"]+)"')


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_links_remembered_at_one_mount_point_are_not_handed_out_at_another(user_client):
    at_root = user_client.get("/").text
    under_prefix = user_client.get("/", base_url="http://localhost/photos/").text
    again_at_root = user_client.get("/").text

    assert 'href="/upload"' in at_root and 'href="/photos/upload"' in under_prefix
    assert all(h.startswith(("/photos/", "#")) for h in HREF.findall(under_prefix))
    assert HREF.findall(again_at_root) == HREF.findall(at_root)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_remembered_link_is_the_one_for_its_own_values(user_client, backends):
    from photogallery.services.auth import accounts
    from tests.conftest import insert_photo_row

    owner = accounts.authenticate(backends, "alice", "correct horse battery").id
    with backends.engine.begin() as conn:
        ids = [insert_photo_row(conn, owner, n).id for n in range(3)]
    for photo_id in ids:
        page = user_client.get(f"/photos/{photo_id}").text
        assert f'action="/photos/{photo_id}/description"' in page
        others = set(ids) - {photo_id}
        assert {
            int(i) for i in re.findall(r'rel="(?:prev|next)" href="/photos/(\d+)"', page)
        } <= others
