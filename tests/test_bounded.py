"""The one bound on what a process remembers (photogallery/bounded.py)."""

from photogallery.bounded import remember


def test_a_full_memo_starts_over_and_never_holds_more_than_its_limit():
    memo: dict = {}
    for n in range(3):
        assert remember(memo, n, f"v{n}", limit=3) == f"v{n}"
    assert memo == {0: "v0", 1: "v1", 2: "v2"}
    remember(memo, 3, "v3", limit=3)
    assert memo == {3: "v3"}
