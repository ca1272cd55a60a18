"""``packed(a, b, ...)``: an aggregate packing a group's rows of text into one string.

A gallery page reads each photo's labels as one column of its row instead of a row per
label: 49 rows instead of ~200, each repeating every photo column. The rows are joined by the
ASCII record separator and their fields by the unit separator: neither can be in a label
(services.gallery folds them away as whitespace; labelers don't write control characters).
GROUP_CONCAT is used on both databases; MariaDB's JSON functions cost it twice the time.
Fields must be NOT NULL (a NULL would blank the row on SQLite and be skipped on MySQL).
"""

from __future__ import annotations

from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Text

RECORD = "\x1e"
UNIT = "\x1f"
# MySQL truncates GROUP_CONCAT at this many bytes (1,024 by default; MariaDB's is 1 MiB).
MYSQL_SESSION = "SET SESSION group_concat_max_len = 1048576"


class packed(FunctionElement):
    type = Text()
    inherit_cache = True


def unpacked(text: str | None) -> list[list[str]]:
    """The rows ``packed`` joined, each a list of its fields as text."""
    return [row.split(UNIT) for row in text.split(RECORD)] if text else []


@compiles(packed, "sqlite")
def _sqlite(element, compiler, **kw) -> str:
    fields = " || char(31) || ".join(compiler.process(c, **kw) for c in element.clauses)
    return f"group_concat({fields}, char(30))"


@compiles(packed, "mysql")  # the MariaDB dialect too
def _mysql(element, compiler, **kw) -> str:
    # Literal separators: CHAR() would make the result a binary string (bytes).
    fields = compiler.process(element.clauses, **kw)
    return f"GROUP_CONCAT(CONCAT_WS('{UNIT}', {fields}) SEPARATOR '{RECORD}')"


@compiles(packed)
def _other(element, compiler, **kw) -> str:
    raise CompileError(f"packed() is written for SQLite and MySQL, not {compiler.dialect.name}")
