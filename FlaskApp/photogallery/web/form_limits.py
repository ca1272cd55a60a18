"""Which of Werkzeug's multipart limits a refused form passed, so the 413 can say so.

Werkzeug raises the same bare RequestEntityTooLarge for a body over MAX_CONTENT_LENGTH, a text
field over MAX_FORM_MEMORY_SIZE and more parts than MAX_FORM_PARTS; only where it was raised
tells them apart. Tests pin each case (tests/web/test_client_input.py), so a Werkzeug upgrade
that moves the checks fails there instead of the misleading "MB" message coming back unseen.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser
from werkzeug.sansio.multipart import Field, MultipartDecoder

from ..services.uploads import MAX_DESCRIPTION

_COUNTS_PARTS = MultipartDecoder.next_event.__code__
_READS_FIELDS = MultiPartParser.parse.__code__


def form_limit_message(exc: RequestEntityTooLarge) -> str | None:
    """The form limit ``exc`` reports, for a person; None if it is the body size."""
    reading, tb = None, exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code is _COUNTS_PARTS:
            return (
                f"The form has too many parts: at most {request.max_form_parts} are allowed, "
                "fields and files together."
            )
        if code is _READS_FIELDS:
            reading = tb
        tb = tb.tb_next
    if reading is None:
        return None
    kb = (request.max_form_memory_size or 0) // 1000
    part = reading.tb_frame.f_locals.get("current_part")
    # Raised in parse itself: a text field's value grew past the limit, and it has a name.
    # Raised deeper: unparsed bytes (a preamble, a part's headers) did.
    name = part.name if reading.tb_next is None and isinstance(part, Field) else None
    if not name:
        return f"A part of the form is larger than the {kb} kB allowed for text."
    if name == "description":
        return f"The description is longer than the {MAX_DESCRIPTION} characters allowed."
    return f"The form field {name[:40]!r} is larger than the {kb} kB allowed for text."
