"""Peak RSS of a fresh process that imports only the app and serves uploads through its API.

    .venv/bin/python bench/upload_rss.py TREE PHOTO_DIR

TREE holds the app's FlaskApp/ (this checkout, or one exported at another revision); every
*.jpg in PHOTO_DIR is posted to /api/photos from its file, streamed as a client's body is (no
photo is held in memory by the client). Prints the VmHWM in MiB, the figure issue 14 quotes
for the serving process (139 MiB without the model); bench_images.py runs it with the
allocator settings Deploy/bin/photos-web serves with.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path


def bench_app(folder: Path, **settings):
    """An app on a SQLite file and a photo folder in ``folder``, migrated, logging warnings only."""
    from photogallery import create_app
    from photogallery.data import migrate

    app = create_app(
        {
            "FLASK_SECRET": "bench-secret-" + "x" * 32,
            "DATABASE_URL": f"sqlite:///{folder / 'photos.db'}",
            "PHOTOS_DIR": str(folder / "photos"),
            "LABELER": "none",
            "LABEL_QUEUE": "inline",
            **settings,
        }
    )
    logging.getLogger("photogallery").setLevel(logging.WARNING)  # after create_app sets it
    migrate.upgrade(app.extensions["photogallery"].engine)
    return app


def main(tree: Path, photos: Path) -> None:
    sys.path.insert(0, str(tree / "FlaskApp"))
    app = bench_app(Path(tempfile.mkdtemp()))
    client = app.test_client()
    account = {"username": "bench", "password": "a long pass phrase"}
    assert client.post("/api/users", json=account).status_code == 201
    token = client.post("/api/tokens", auth=(account["username"], account["password"]))
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    for photo in sorted(photos.glob("*.jpg")):
        with photo.open("rb") as f:
            answer = client.post("/api/photos", data={"file": (f, photo.name)}, headers=headers)
        assert answer.status_code == 201, answer.get_json()
    status = Path("/proc/self/status").read_text()
    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
    print(int(hwm.split()[1]) / 1024)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
