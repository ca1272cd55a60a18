"""Command-line tools: `flask --app FlaskApp/application.py db|users|tokens|labels|storage ...`
(and `photos import`)."""

from __future__ import annotations

from flask import Flask

from .accounts import tokens_cli, users_cli
from .db import db_cli
from .labels import labels_cli
from .photos import photos_cli
from .storage import storage_cli

GROUPS = [db_cli, users_cli, tokens_cli, labels_cli, storage_cli, photos_cli]


def register(app: Flask) -> None:
    for group in GROUPS:
        app.cli.add_command(group)
