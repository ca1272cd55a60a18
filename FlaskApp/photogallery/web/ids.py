"""Ids in URLs and forms: a number the database cannot hold names nothing (404, not a 500)."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import IntegerConverter

# Up to 18 ASCII digits (\d also takes other scripts' digits): always below data.schema.MAX_ID.
# Bounded in the pattern, not by the converter raising: werkzeug answers a converter's refusal
# with 405 when a rule on the same path has other methods.
ID_PATTERN = r"[0-9]{1,18}"


class IdConverter(IntegerConverter):
    """``<int:...>`` within the database's ids; a longer number does not match the rule (404)."""

    regex = ID_PATTERN


def parse_id(text: str | None) -> int | None:
    """An id sent in a form, or None when it cannot name a row."""
    return int(text) if text is not None and re.fullmatch(ID_PATTERN, text) else None


def register(app: Flask) -> None:
    """Every ``<int:...>`` rule gets the bounded converter: call it before adding the rules."""
    app.url_map.converters["int"] = IdConverter
