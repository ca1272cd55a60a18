"""`flask photos import`: the command around the import service (tests/services/test_imports.py):
its summary, exit status, progress line, owner lookup, and labels made by its pool workers."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from photogallery.cli.progress import Progress
from photogallery.data import users as user_data
from photogallery.data.schema import photos
from tests.conftest import photo_bytes, sqlite_app
from tests.fixtures.photo_tree import BAD_FILES, DISTINCT, DUPLICATES, MAX_UPLOAD_MB


def gallery(folder, **settings):
    app = sqlite_app(folder, MAX_UPLOAD_MB=str(MAX_UPLOAD_MB), **settings)
    with app.extensions["photogallery"].engine.begin() as conn:
        user_data.add_user(conn, provider="local", subject="alice", username="alice")
    return app


@pytest.fixture(scope="module")
def labelled_app(tmp_path_factory):
    """A gallery labelling with the offline model, inline (in each import worker)."""
    app = gallery(tmp_path_factory.mktemp("cli-gallery"), LABELER="onnx", LABEL_QUEUE="inline")
    yield app
    app.extensions["photogallery"].engine.dispose()


def import_(app, *args: str):
    return app.test_cli_runner().invoke(args=["photos", "import", *args])


def test_import_prints_counts_and_refusals_and_exits_1_and_labels_every_photo(
    labelled_app, photo_tree
):
    result = import_(labelled_app, str(photo_tree.root), "--user", "ALICE", "--workers", "2")
    assert result.exit_code == 1, result.output
    assert f"imported: {DISTINCT}, already imported: 0, duplicates: {DUPLICATES}, refused: 5" in (
        result.stdout
    )
    assert "  2 is not a photo we can read (JPEG, PNG, WebP, GIF or HEIC): notes.jpg, " in (
        result.stdout
    )
    assert "  1 is damaged and could not be read: 2021/truncated.jpg" in result.stdout
    assert all(name in result.stdout for name in BAD_FILES)
    # Progress and what was skipped go to stderr, so stdout is the report alone.
    assert (
        "205 files in" in result.stderr and "(skipped 2 hidden, 2 symbolic link)" in result.stderr
    )
    assert re.search(r"205/205 photos +[\d.]+/s +done", result.stderr)
    # The pool's workers labelled each photo before they stopped.
    with labelled_app.extensions["photogallery"].engine.connect() as conn:
        statuses = conn.execute(select(photos.c.label_status)).scalars().all()
    assert len(statuses) == DISTINCT and set(statuses) == {"done"}


def test_rerun_reports_everything_already_imported(labelled_app, photo_tree):
    result = import_(labelled_app, str(photo_tree.root), "--user", "alice", "--workers", "1")
    assert "imported: 0, already imported: 200, duplicates: 0, refused: 5" in result.stdout
    assert result.exit_code == 1


def test_unknown_user_is_a_clear_error(labelled_app, photo_tree):
    result = import_(labelled_app, str(photo_tree.root), "--user", "nobody")
    assert result.exit_code != 0 and "no user nobody" in result.output


def test_a_cognito_username_owns_the_import_and_a_clean_import_exits_0(tmp_path):
    app = gallery(tmp_path)
    with app.extensions["photogallery"].engine.begin() as conn:
        carol = user_data.add_user(conn, provider="cognito", subject="sub-1", username="carol")
    library = tmp_path / "library"
    library.mkdir()
    for n in (1, 2):
        (library / f"cat {n}.jpg").write_bytes(photo_bytes(size=(320, 240), seed=n))
    result = import_(app, str(library), "--user", "carol", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "imported: 2, already imported: 0, duplicates: 0, refused: 0" in result.stdout
    with app.extensions["photogallery"].engine.connect() as conn:
        owners = conn.execute(select(photos.c.owner_id)).scalars().all()
    assert owners == [carol.id, carol.id]


def test_dry_run_says_what_it_would_do(tmp_path, photo_tree):
    result = import_(
        gallery(tmp_path), str(photo_tree.root), "--user", "alice", "--dry-run", "--workers", "1"
    )
    assert f"would import: {DISTINCT + 1}, already imported: 0, duplicates: {DUPLICATES}" in (
        result.stdout
    )
    assert "would be refused: 4" in result.stdout and result.exit_code == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_terminal_line_with_rate_and_eta():
    now = [0.0]
    screen = Terminal()
    progress = Progress(4, stream=screen, clock=lambda: now[0])
    for _ in range(4):
        now[0] += 1.0
        progress.step()
    lines = screen.getvalue().split("\r")[1:]
    assert lines[0] == "1/4 photos     1.0/s  ETA 0:03   "
    assert lines[-1] == "4/4 photos     1.0/s  done   \n"
    assert screen.getvalue().count("\n") == 1
