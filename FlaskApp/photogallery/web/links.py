"""Templates' ``url_for``, remembered: a page builds ~20 links, nearly all the same on every page.

Flask's ``url_for`` runs routing's URL builder each time (~10 us, a tenth of a gallery page).
Here a link depends only on its endpoint, its values and where the app is mounted
(SCRIPT_NAME): this app has no URL defaults, subdomains or host matching, and templates ask
for paths, never external URLs. So each link is built once per process and mount point.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, url_for

from ..bounded import remember

MAX_LINKS = 4096  # ~1 MB; a gallery page has ~15 fixed links, plus one per search and cursor


def register(app: Flask) -> None:
    links: dict[tuple, str] = {}

    def template_url_for(endpoint: str, **values) -> str:
        if not has_request_context() or "_external" in values:
            return url_for(endpoint, **values)
        try:
            key = (request.script_root, endpoint, *sorted(values.items()))
            link = links.get(key)
        except TypeError:  # a value that cannot be a key (a list): built every time
            return url_for(endpoint, **values)
        if link is None:
            link = remember(links, key, url_for(endpoint, **values), MAX_LINKS)
        return link

    app.jinja_env.globals["url_for"] = template_url_for
