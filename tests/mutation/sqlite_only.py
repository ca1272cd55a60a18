"""pytest plugin for mutation runs: keep one stack (SQLite, photos on disk) and no MySQL or S3.

The same code runs on every stack, so one is enough to judge a mutant, and the servers the
others need would start again for each of hundreds of mutants.
"""

from __future__ import annotations

OTHER_STACKS = {"mysql", "s3"}
SERVER_FIXTURES = {"mysql_url", "s3_server", "app_bucket", "sqs_server"}


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        stack = callspec.params.get("stack") if callspec else None
        if stack in OTHER_STACKS or SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
