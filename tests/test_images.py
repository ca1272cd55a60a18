"""Images: the real type from the bytes, orientation applied, renditions made, bad input refused."""

import io

import pytest
from PIL import Image

from photogallery import images
from tests.conftest import photo_bytes

MAX = 150 * 10**6


def process(data: bytes, max_pixels: int = MAX):
    return images.process(io.BytesIO(data), max_pixels=max_pixels)


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_each_accepted_format_is_sniffed_from_its_bytes(fmt, content_type):
    result = process(photo_bytes(fmt))
    assert result.content_type == content_type
    assert (result.width, result.height) == (640, 480)


def test_heic_from_an_iphone_is_accepted():
    pytest.importorskip("pillow_heif")
    img = Image.open(io.BytesIO(photo_bytes("PNG")))
    buf = io.BytesIO()
    img.save(buf, "HEIF")
    result = process(buf.getvalue())
    assert result.content_type == "image/heic" and result.extension == "heic"


def test_preview_and_thumbnail_are_jpegs_of_the_right_size():
    result = process(photo_bytes(size=(4000, 3000)))
    preview = Image.open(io.BytesIO(result.preview.data))
    thumb = Image.open(io.BytesIO(result.thumbnail.data))
    assert preview.format == thumb.format == "JPEG"
    assert max(preview.size) == images.PREVIEW_SIZE and max(thumb.size) == images.THUMBNAIL_SIZE


def test_exif_orientation_is_applied_to_renditions_and_size():
    result = process(photo_bytes(size=(640, 480), orientation=6))  # camera held upright
    assert (result.width, result.height) == (480, 640)
    assert result.preview.height > result.preview.width


def test_exif_date_taken_is_read():
    img = Image.open(io.BytesIO(photo_bytes()))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2024:07:14 18:30:05"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert process(buf.getvalue()).taken_at.isoformat() == "2024-07-14T18:30:05"


@pytest.mark.parametrize(
    "data",
    [b"hello, not a photo", b"%PDF-1.7\n...", b"<html><script>alert(1)</script></html>", b""],
)
def test_non_images_are_rejected_with_the_accepted_types_named(data):
    with pytest.raises(images.ImageRejected, match="JPEG, PNG, WebP, GIF or HEIC"):
        process(data)


def test_an_image_whose_format_differs_from_its_sniffed_signature_is_rejected():
    ppm_posing_as_heic = b"P6\n#ftypheic\n4 4\n255\n" + bytes(48)  # Pillow opens it as PPM
    assert images.sniff(ppm_posing_as_heic[:32]) == "image/heic"
    with pytest.raises(images.ImageRejected, match="does not match its own file signature"):
        process(ppm_posing_as_heic)


def test_a_truncated_jpeg_is_rejected_as_damaged():
    data = photo_bytes(size=(1200, 900))
    with pytest.raises(images.ImageRejected, match="damaged"):
        process(data[: len(data) // 3])


def test_a_decompression_bomb_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # 400 megapixels, a few kilobytes
    with pytest.raises(images.ImageRejected, match="megapixels"):
        process(buf.getvalue())


def test_transparent_png_gets_a_white_background():
    buf = io.BytesIO()
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(buf, "PNG")
    thumb = Image.open(io.BytesIO(process(buf.getvalue()).thumbnail.data))
    assert thumb.getpixel((25, 25))[0] > 240


def test_jpeg_renditions_use_draft_mode(monkeypatch):
    from PIL import JpegImagePlugin

    decoded = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = original(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    process(photo_bytes(size=(4000, 3000)))
    assert decoded[0] == (2000, 1500)  # decoded at half scale, never the full 12 megapixels
