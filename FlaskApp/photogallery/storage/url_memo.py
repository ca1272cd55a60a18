"""Signed URLs remembered for the time window they were signed for.

Both stores sign at a window's boundary (so a page shows the same URLs on every load within
it and the browser's cache keeps the thumbnails): within one window a key's URL comes out the
same, so it is signed once and reused, never past its window. The expiry is exactly what
signing it again would give.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..bounded import remember

MAX_URLS = 20_000  # ~4 MB a process; a gallery page has ~100 URLs


class UrlMemo:
    """URLs by (what they sign, window): a URL of an earlier window is never handed out."""

    def __init__(self, limit: int = MAX_URLS) -> None:
        self.limit = limit
        self._urls: dict[Hashable, tuple[Hashable, str]] = {}

    def get(self, what: Hashable, window: Hashable, sign: Callable[[], str]) -> str:
        """The URL ``sign()`` gives for ``what`` in ``window``, signed at most once a window."""
        found = self._urls.get(what)
        if found is not None and found[0] == window:
            return found[1]
        url = sign()
        remember(self._urls, what, (window, url), self.limit)  # full: signed again
        return url
