"""Images for tests, made here (no sample files): a photo, one with GPS metadata, a polyglot, a pixel bomb."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

GPS_IFD = 0x8825


def photo_jpeg(width: int = 1600, height: int = 900, seed: int = 0) -> bytes:
    """A JPEG with some shapes on it (different ``seed``: a different image)."""
    image = Image.new("RGB", (width, height), (30 + seed % 200, 90, 140))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x = (i * 137 + seed * 31) % width
        draw.rectangle([x, height // 3, x + width // 10, height - 40], fill=(200, 120 + i * 8, 40))
    draw.ellipse([width // 2, 40, width // 2 + height // 4, 40 + height // 4], fill=(250, 230, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def gps_jpeg() -> bytes:
    """A photo carrying EXIF with a GPS position (Istanbul) and a camera make."""
    image = Image.open(io.BytesIO(photo_jpeg()))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[GPS_IFD] = {1: "N", 2: (41.0, 0.0, 36.0), 3: "E", 4: (28.0, 58.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return data


def polyglot_jpeg() -> bytes:
    """A valid JPEG that is also a ZIP archive (a ZIP appended: readers find its directory at the end)."""
    archive = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shell.php", "<?php echo 'hi'; ?>")
    return photo_jpeg(400, 300) + archive.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int = 50_000) -> bytes:
    """A small PNG whose header claims ``side`` x ``side`` pixels (2.5 billion at the default)."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 65536, 9))
            + _chunk(b"IEND", b""))


def stored_files(root: Path) -> list[Path]:
    """Every file under ``root`` (none when it does not exist)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def library_image(settings, data: bytes, *, alt: str, caption: str = "", credit: str = "") -> dict:
    """Strip and store ``data`` as ingest does; return the image as a publish snapshot names it."""
    from shared.media import media_store, strip_image

    stripped = strip_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    media_store(settings).put(stripped.sha256, stripped.data)
    return {"sha256": stripped.sha256, "width": stripped.width, "height": stripped.height, "format": stripped.format,
            "alt": alt, "caption": caption, "credit": credit}
