"""Renditions made on two threads: as good as before issue 14, the same pixels, never stuck."""

import io
import threading

import pytest
from PIL import Image

from photogallery import images, threads
from tests.fixtures import renditions


def process(jpeg: bytes) -> images.ProcessedImage:
    return images.process(io.BytesIO(jpeg))


@pytest.mark.parametrize(("sample", "orientation"), [("astronaut", 6), ("coffee", 1)])
def test_renditions_of_a_grainy_photo_stay_as_good_as_before(sample, orientation):
    # 4.3 MP, to stay fast: decoded whole and resized 1.5x, in halves (bench_images.py
    # checks eight photos at 12 MP, drafted at half size).
    photo = renditions.camera_jpeg(sample, size=(2400, 1800))
    jpeg = renditions.with_orientation(photo, orientation)
    made = process(jpeg)
    preview, thumbnail = renditions.today_renditions(jpeg)
    assert renditions.ssim(made.preview.data, preview) >= 0.98
    assert renditions.ssim(made.thumbnail.data, thumbnail) >= 0.98


@pytest.fixture(scope="module")
def photo_2000() -> bytes:
    return renditions.camera_jpeg("chelsea", size=(2000, 1500), grain=0)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_halves_resized_at_once_are_the_pixels_of_one_resize_in_every_orientation(
    photo_2000, orientation, monkeypatch
):
    jpeg = renditions.with_orientation(photo_2000, orientation)
    split = process(jpeg)
    monkeypatch.setattr(images, "_SPLIT_PIXELS", 1 << 40)  # one resize, one thread
    whole = process(jpeg)
    assert split.preview.data == whole.preview.data
    assert split.thumbnail.data == whole.thumbnail.data
    upright = orientation >= 5  # 5-8 turn the 2000x1500 photo on its side
    assert (split.preview.width, split.preview.height) == (
        (1200, 1600) if upright else (1600, 1200)
    )
    assert (split.thumbnail.width, split.thumbnail.height) == (
        (300, 400) if upright else (400, 300)
    )
    assert (split.width, split.height) == ((1500, 2000) if upright else (2000, 1500))


@pytest.mark.parametrize(
    "size", [(2000, 1500), (1333, 2999), (1601, 1), (1, 5000), (1600, 1600), (1700, 1699)]
)
def test_the_size_fitted_is_the_one_pillow_thumbnail_gives(size):
    expected = Image.new("1", size)
    expected.thumbnail((1600, 1600))
    fitted = images._fit(size, 1600)
    assert (fitted or size) == expected.size


def test_an_upload_never_waits_for_a_helper_thread_busy_with_another(photo_2000):
    release = threading.Event()
    busy = threads.Beside(release.wait, 30)  # the helper is stuck on someone else's work
    try:
        made = process(photo_2000)  # its halves and preview encode run on this thread
        assert (made.preview.width, made.preview.height) == (1600, 1200)
        assert not busy._future.done()
    finally:
        release.set()
    assert busy.result() is True
