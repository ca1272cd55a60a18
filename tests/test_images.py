"""Images: the real type from the bytes, orientation applied, renditions made, bad input refused."""

import io
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from PIL import Image, ImageChops
from skimage import data

from photogallery import image_limits, image_scan, images
from photogallery.decode_budget import DecodeBudget
from tests.conftest import photo_bytes
from tests.corpus import files

MAX = 150 * 10**6


def process(data: bytes, max_pixels: int = MAX):
    return images.process(io.BytesIO(data), limits=images.Limits(max_pixels=max_pixels))


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


def jpeg_with_camera(make: str | None, model: str | None) -> bytes:
    img = Image.open(io.BytesIO(photo_bytes()))
    exif = Image.Exif()
    if make is not None:
        exif[0x010F] = make
    if model is not None:
        exif[0x0110] = model
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "model", "camera"),
    [
        ("Canon", "Canon EOS R5", "Canon EOS R5"),  # the make said once
        ("NIKON CORPORATION", "NIKON D850", "NIKON D850"),
        ("Apple", "iPhone 15 Pro", "Apple iPhone 15 Pro"),
        ("  FUJIFILM\x00", " X-T5 ", "FUJIFILM X-T5"),  # padding and NULs trimmed
        ("Sony", None, "Sony"),
        (None, "DMC-GX7", "DMC-GX7"),
        ("Evil\x1b[31m\r\nCam", "Mod\x07el\t2", "Evil [31m Cam Mod el 2"),  # control chars: spaces
        ("  ", "\x00", None),
    ],
)
def test_exif_camera_is_make_and_model_cleaned(make, model, camera):
    assert process(jpeg_with_camera(make, model)).camera == camera


def test_a_very_long_camera_is_cut_to_its_column():
    camera = process(jpeg_with_camera("M" * 5000, "X" * 5000)).camera
    assert camera == "M" * images.CAMERA_CHARS and images.CAMERA_CHARS == 200


def test_a_photo_without_exif_has_no_camera():
    assert process(photo_bytes()).camera is None


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


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (files.png_header(60000, 60000), "60000×60000, 3,600"),
        (files.gif_header(65535, 65535), "65535×65535, 4,295"),
        (files.jpeg_header(65500, 65500), "65500×65500, 4,290"),
        (files.webp_header(16384, 16384), "16384×16384, 268"),
    ],
    ids=["png", "gif", "jpeg", "webp"],
)
def test_a_gigapixel_header_gets_the_megapixel_message_not_damaged(data, size):
    budget = DecodeBudget(100 * 10**6)
    with pytest.raises(images.ImageRejected) as refused:
        images.process(io.BytesIO(data), budget=budget)
    assert str(refused.value) == f"is {size} megapixels; the limit is 150"
    assert budget.peak == 0


def test_a_photo_that_can_never_fit_the_decode_budget_is_refused_with_its_limit():
    budget = DecodeBudget(100 * 10**6)
    with pytest.raises(
        images.ImageRejected, match=r"10000×10000, 100 megapixels; the limit for WebP is 23$"
    ):
        images.process(io.BytesIO(files.webp_header(10000, 10000)), budget=budget)


@pytest.mark.parametrize(
    ("build", "readable_beyond_the_limit"),
    [
        (lambda n: files.png_with(files.png_text(n)), True),
        # A few kB that inflate to n; Pillow reads no PNG text over 1 MB inflated at all.
        (lambda n: files.png_with(files.png_ztxt_bomb(n)), False),
        (lambda n: files.jpeg_with(files.jpeg_xmp_flood(n)), True),
        (files.gif_comment, True),
        (lambda n: files.image("WEBP", xmp=b"x" * n), True),
    ],
    ids=["png-text", "png-ztxt", "jpeg-xmp", "gif-comment", "webp-xmp"],
)
def test_megabytes_of_metadata_are_refused_and_kilobytes_are_not(build, readable_beyond_the_limit):
    with pytest.raises(images.ImageRejected, match="more than 1 MB of metadata"):
        process(build(1100 * 1024))
    assert process(build(100 * 1024)).width > 0  # a comment longer than a JPEG's holds too
    if readable_beyond_the_limit:  # an original stored before the limit keeps its renditions
        assert images.process(io.BytesIO(build(1100 * 1024)), strict=False).width > 0


@pytest.mark.parametrize("build", [files.gif_frames, files.apng, files.webp_frames])
def test_more_frames_than_the_limit_are_refused(build):
    limits = images.Limits(max_frames=40)
    assert images.process(io.BytesIO(build(40)), limits=limits).width > 0
    with pytest.raises(images.ImageRejected, match="has 41 frames; the limit is 40"):
        images.process(io.BytesIO(build(41)), limits=limits)


@pytest.mark.parametrize(
    "data",
    [
        files.jpeg_with(after_end=files.zip_file()),
        files.png_with(after_end=files.HTML),
        files.gif_js_polyglot(),
        files.webp_after_end(files.HTML),
    ],
    ids=["jpeg-zip", "png-html", "gif-js", "webp-html"],
)
def test_another_file_after_the_image_is_refused(data):
    with pytest.raises(images.ImageRejected, match="bytes of something else after the end"):
        process(data)


@pytest.mark.parametrize(
    "trailer",
    [files.image("JPEG"), files.MP4 + bytes(2000), b"x" * 500 + b"SEFT", bytes(100)],
    ids=["mpf-second-image", "motion-photo-video", "samsung-trailer", "zero-padding"],
)
def test_what_cameras_add_after_a_jpeg_is_accepted(trailer):
    assert process(files.jpeg_with(after_end=trailer)).content_type == "image/jpeg"


def test_stray_bytes_between_jpeg_segments_are_skipped_as_decoders_do():
    jpeg = files.image("JPEG", (16, 12))
    at = jpeg.index(b"\xff\xdb")  # the quantization tables
    assert process(jpeg[:at] + b"\0junk" + jpeg[at:]).width == 16


def test_a_file_of_absurdly_many_pieces_is_refused(monkeypatch):
    monkeypatch.setattr(image_scan, "MAX_PIECES", 1000)
    with pytest.raises(images.ImageRejected, match="built of more than 1,000 pieces"):
        process(files.png_with(*[files.png_chunk(b"IDAT", b"")] * 1001))


def test_a_damaged_png_stream_is_refused_not_a_crash():
    """Reading a PNG's EXIF loads it: a broken stream must surface as damage, not an OSError."""
    with pytest.raises(images.ImageRejected, match="damaged"):
        process(files.png_garbage_idat())


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_an_orientation_outside_the_eight_is_shown_as_stored(orientation):
    result = process(files.exif_jpeg(files.exif_orientation(orientation)))
    assert (result.width, result.height) == (16, 12)


def test_a_loop_in_the_exif_directories_does_not_hang():
    assert process(files.exif_jpeg(files.exif_loop())).taken_at is None


def test_sixteen_bit_grey_keeps_its_shades():
    img = Image.new("I;16", (64, 64), 0x8000)  # mid grey
    buf = io.BytesIO()
    img.save(buf, "PNG")
    preview = Image.open(io.BytesIO(process(buf.getvalue()).preview.data))
    assert 120 < preview.getpixel((32, 32))[0] < 136


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "1", "CMYK"])
@pytest.mark.parametrize("orientation", [1, 6])
def test_large_images_are_reduced_in_bands_to_the_same_preview(mode, orientation, monkeypatch):
    """Banded reduction matches reducing the whole image (no seams, no shift)."""
    monkeypatch.setattr(images, "PREVIEW_SIZE", 100)  # 925 px is then "large": reduced by 4
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    img = Image.fromarray(data.chelsea()).resize((925, 825)).convert(mode)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, fmt, exif=exif.tobytes())
    monkeypatch.setattr(images, "_BAND_BYTES", 925 * 4 * 9)  # bands of 8 rows: many seams
    banded = Image.open(io.BytesIO(process(buf.getvalue()).preview.data))
    monkeypatch.setattr(images, "_BAND_BYTES", 1 << 40)  # one band: the whole image
    whole = Image.open(io.BytesIO(process(buf.getvalue()).preview.data))
    assert banded.size == whole.size and max(banded.size) == 100
    assert (banded.width > banded.height) == (orientation == 1)
    assert ImageChops.difference(banded, whole).getbbox() is None


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "1", "I;16"])
def test_reducing_in_bands_equals_reducing_at_once(mode, monkeypatch):
    img = Image.fromarray(data.chelsea()).resize((925, 825)).convert("RGBA")
    img = img.convert("I").convert(mode) if mode == "I;16" else img.convert(mode)
    monkeypatch.setattr(images, "_BAND_BYTES", 925 * 4 * 9)  # bands of 8 rows

    banded = images._reduce(img, 4)

    assert ImageChops.difference(banded, images._resizable(img).reduce(4)).getbbox() is None


def test_the_largest_photos_phones_take_fit_the_default_decode_budget():
    budget = 100 * 10**6  # DECODE_BUDGET_MEGAPIXELS
    iphone_48mp = image_scan.Layout(8064, 6048)
    jpeg_at_the_cap = image_scan.Layout(15000, 10000)  # MAX_IMAGE_MEGAPIXELS
    assert image_limits.decode_cost("image/heic", iphone_48mp, images.PREVIEW_SIZE) < budget
    assert image_limits.decode_cost("image/jpeg", jpeg_at_the_cap, images.PREVIEW_SIZE) < budget


def test_the_jpeg_decode_cost_is_the_size_pillow_drafts_at():
    from PIL import JpegImagePlugin

    for width, height in [(4000, 3000), (1601, 1599), (640, 480), (12001, 9), (25000, 25000)]:
        jpeg = JpegImagePlugin.JpegImageFile(io.BytesIO(files.jpeg_header(width, height)))
        jpeg.draft("RGB", image_limits.draft_box(width, height, images.PREVIEW_SIZE))
        assert image_limits.jpeg_draft_size(width, height, images.PREVIEW_SIZE) == jpeg.size


def test_concurrent_decodes_never_hold_more_than_the_budget():
    one = image_limits.decode_cost("image/png", image_scan.Layout(400, 300), images.PREVIEW_SIZE)
    budget = DecodeBudget(2 * one, wait_seconds=30)  # room for two at a time
    photos = [files.image("PNG", (400, 300))] * 6
    in_use = []
    real_reduce = images._reduce

    def watching_reduce(img, factor):
        in_use.append(budget.in_use)
        time.sleep(0.05)  # long enough for the others to queue up
        return real_reduce(img, factor)

    with mock.patch.object(images, "_reduce", watching_reduce), ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda d: images.process(io.BytesIO(d), budget=budget), photos))
    assert len(results) == 6 and budget.in_use == 0
    assert max(in_use) <= budget.total and budget.peak == budget.total  # two at a time, not six


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


def test_where_a_photo_was_taken_never_reaches_its_preview_or_thumbnail():
    img = Image.fromarray(data.chelsea())
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    gps = exif.get_ifd(0x8825)  # GPSInfo: latitude 48° 51' 30" N
    gps.update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(buf.getvalue())).getexif().get_ifd(0x8825)  # the upload has it

    processed = images.process(io.BytesIO(buf.getvalue()))

    for rendition in (processed.preview, processed.thumbnail):
        with Image.open(io.BytesIO(rendition.data)) as shown:
            assert not shown.getexif().get_ifd(0x8825) and "exif" not in shown.info
        assert b"GPS" not in rendition.data
    assert processed.camera == "Canon EOS R5"


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "temporary file"])
def test_a_rendition_encodes_without_holding_the_gil(memfd, monkeypatch):
    """The thumbnail is made beside the preview's encode (images._encode_both): that only
    overlaps when the encode lets go of the GIL, which Pillow does into a real file, not a
    BytesIO. With the switch interval at 10 s the main thread never gives the GIL up on its
    own, so the other thread can run during the encode only if the encode itself releases it."""
    import sys
    import threading

    if not memfd:  # as on a laptop without memfd_create (macOS)
        monkeypatch.delattr(images.os, "memfd_create", raising=False)
    big = Image.effect_noise((4000, 3000), 64).convert("RGB")
    go, state = threading.Event(), {"encoding": False, "seen": None}

    def watcher():
        go.wait()
        state["seen"] = state["encoding"]

    other = threading.Thread(target=watcher)
    other.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(10)
    try:
        state["encoding"] = True
        go.set()
        images._encode(big, 4000)
        state["encoding"] = False
    finally:
        sys.setswitchinterval(interval)
        other.join()
    assert state["seen"] is True
