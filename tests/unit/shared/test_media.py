"""The image rules of shared.media on bytes made here: what is refused and why, what survives stripping,
and the variant plan."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from shared.errors import InvalidInput
from shared.media import share_variant, strip_image, variant_height, variant_path, variant_widths
from tests.images import GPS_IFD, bomb_png, gps_jpeg, photo_jpeg, polyglot_jpeg

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 50_000_000}


def _png(mode: str = "RGBA", size=(300, 200), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 20, 30, 128) if mode == "RGBA" else (10, 20, 30)).save(out, "PNG", **save)
    return out.getvalue()


def _refused(data: bytes, **limits) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        strip_image(data, **{**LIMITS, **limits})
    assert caught.value.field == "file"
    return caught.value


def test_gps_and_camera_metadata_are_gone_and_the_image_is_kept():
    stripped = strip_image(gps_jpeg(), **LIMITS)
    image = Image.open(io.BytesIO(stripped.data))
    assert not image.getexif().get_ifd(GPS_IFD) and not image.getexif()
    assert (stripped.width, stripped.height, stripped.format) == (1600, 900, "jpeg")
    assert strip_image(gps_jpeg(), **LIMITS).sha256 == stripped.sha256  # the same upload, the same hash


def test_png_keeps_transparency_and_loses_text_chunks():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "taken at 41.0N 29.0E")
    stripped = strip_image(_png(pnginfo=info), **LIMITS)
    assert stripped.format == "png" and b"41.0N" not in stripped.data
    assert Image.open(io.BytesIO(stripped.data)).mode == "RGBA"


@pytest.mark.parametrize("data,status,words", [
    (polyglot_jpeg(), 422, "also another kind of file"),
    (photo_jpeg(400, 300)[:-2] + b"<script>alert(1)</script>\xff\xd9", 422, "also another kind of file"),
    (_png() + b"<?php echo 1; ?>", 422, "also another kind of file"),
    (photo_jpeg()[:3000], 422, "truncated"),
    (bomb_png(), 413, "pixels"),
    (_png()[:80], 422, "truncated"),
    (b"%PDF-1.7 not an image", 415, "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", 415, "not an image"),
])
def test_refusals_name_the_problem(data, status, words):
    refused = _refused(data)
    assert refused.status == status and words in refused.message


def test_size_and_pixel_limits_come_from_settings(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # strip_image sets Pillow's guard
    assert _refused(photo_jpeg(), max_bytes=1000).status == 413
    assert "MAX_IMAGE_PIXELS" in _refused(photo_jpeg(), max_pixels=1000).message


def test_variant_plan():
    assert variant_widths(2400) == [320, 640, 960, 1200, 1600]
    assert variant_widths(800) == [320, 640, 800]
    assert variant_widths(200) == [200]
    assert variant_height(1600, 900, 320) == 180
    assert variant_path("ab", 640, "webp") == "/media/ab/640.webp"
    assert share_variant({"sha256": "ab", "width": 800, "height": 600, "format": "png"}) == {
        "path": "/media/ab/800.png", "width": 800, "height": 600, "type": "image/png"}
    assert share_variant({"sha256": "ab", "width": 3000, "height": 2000, "format": "jpeg"})["width"] == 1200
