"""Where nothing answers on 127.0.0.1:3306, the tests start their own MariaDB from the installed
server binary, in a temporary folder on a free port."""

import shutil

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import missing
from tests.fixtures.mariadb import answers, find_server, start_private_server


@pytest.mark.slow
def test_a_private_server_starts_answers_and_is_removed():
    found = find_server()
    if found is None:
        missing("mariadbd and mariadb-install-db", "apt-get install mariadb-server")
    url, process, folder = start_private_server(*found)
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE DATABASE photos_private CHARACTER SET utf8mb4"))
            names = {row[0] for row in conn.execute(text("SHOW DATABASES"))}
        engine.dispose()
        assert "photos_private" in names
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert not answers(url) and not folder.exists()
