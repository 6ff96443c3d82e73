"""Images: the upload rules (sniff, bomb limit, polyglot refusal, metadata stripping), the variant plan,
and the content-addressed media store both ingest (uploads) and rendering (variants) reach.

An image is known by the sha256 of its stripped original. The store holds originals only
(``<sha>`` under ``MEDIA_DIR``, or ``<prefix><sha>`` in an S3-compatible bucket); variants are
site files (``SITE_DIR/media/<sha>/<width>.<ext>``) that rendering writes once per hash and width.
Events carry the hash, dimensions and texts of an image, never its bytes.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, features

from shared.errors import InvalidInput

# Pillow formats accepted at upload (sniffed from the bytes, never the file name).
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Variant widths; an image narrower than the largest also gets its own width.
WIDTHS = (320, 640, 960, 1200, 1600)
SHARE_WIDTH = 1200  # og:image, the feed enclosure and the webhook's image
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
# Signatures of what an image must not also be: markup a browser or server could run anywhere in the
# file, or a ZIP (its end-of-central-directory record, which ZIP readers look for in the last 64 KiB).
# Short signatures would match compressed pixels by chance; these match a 5 MB photo with odds
# below 1 in 5,000.
_MARKUP = re.compile(rb"<\?php|<script|<html|<!doctype|<iframe|<body|<svg[\s>]|<\?xml", re.IGNORECASE)
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 65_557


@dataclass(frozen=True)
class StrippedImage:
    """An accepted upload, re-encoded without metadata."""

    data: bytes
    sha256: str
    width: int
    height: int
    format: str  # "jpeg" or "png": the stored original's (and fallback variants') format

    @property
    def mime(self) -> str:
        """The stored original's media type."""
        return f"image/{self.format}"


def _refuse(message: str, status: int = 422) -> InvalidInput:
    return InvalidInput("file", message, status=status)


def _trailing_data(data: bytes, fmt: str) -> bool:
    """Whether bytes follow the image's own end (where a second file usually hides)."""
    if fmt == "JPEG":
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return not data.endswith(b"IEND\xaeB`\x82")
    if fmt == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 != len(data)
    if fmt == "GIF":
        return not data.rstrip(b"\x00").endswith(b";")
    return False


def strip_image(data: bytes, *, max_bytes: int, max_pixels: int) -> StrippedImage:
    """Check an upload and re-encode it without metadata (EXIF with GPS, XMP, comments), or InvalidInput (4xx).

    Refused: over ``max_bytes`` (413); not a JPEG, PNG, WebP or GIF by content (415); more than
    ``max_pixels`` pixels (a decompression bomb, 413); truncated or corrupt (422); also another kind
    of file (markup, script or ZIP signatures anywhere, or bytes after the image's end: a polyglot, 422).
    """
    if not data:
        raise _refuse("is empty; choose an image file (JPEG, PNG, WebP or GIF)")
    if len(data) > max_bytes:
        raise _refuse(f"is {len(data)} bytes; the limit is {max_bytes} bytes (MAX_IMAGE_BYTES); "
                      "resize or compress the image", status=413)
    # Pillow's own guard (process-wide; every caller passes the same setting): a header claiming more
    # pixels fails at open, before any decoding.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
        except Image.DecompressionBombError:
            raise _refuse(f"has more than {max_pixels} pixels (MAX_IMAGE_PIXELS), a decompression bomb or "
                          "simply too large; upload a smaller image", status=413)
        except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise _refuse("is not an image this site accepts (JPEG, PNG, WebP or GIF, judged by its content, "
                          "not its name)", status=415)
        fmt = probe.format
        width, height = probe.size
        if width * height > max_pixels:
            raise _refuse(f"is {width} x {height} pixels, more than {max_pixels} (MAX_IMAGE_PIXELS); "
                          "upload a smaller image", status=413)
        try:
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=[fmt])
            image.load()
        except Image.DecompressionBombError:
            raise _refuse(f"has more than {max_pixels} pixels (MAX_IMAGE_PIXELS); upload a smaller image", status=413)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, EOFError):
            raise _refuse("is truncated or corrupt and cannot be decoded; upload the file again or export it anew")
        if _MARKUP.search(data) or _ZIP_END in data[-_ZIP_TAIL:] or _trailing_data(data, fmt):
            raise _refuse("is an image that is also another kind of file (markup, script or archive data inside "
                          "it, or bytes after the image's end); export the image again from an image editor")
    return _reencode(image, fmt)


def _reencode(image: Image.Image, fmt: str) -> StrippedImage:
    """The image turned upright and saved afresh: nothing of the upload's metadata is copied."""
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if fmt == "JPEG" or (fmt == "WEBP" and not has_alpha):
        image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True)
        stored = "jpeg"
    else:
        image = image.convert("RGBA" if has_alpha else "RGB")
        image.save(out, "PNG", optimize=True)
        stored = "png"
    data = out.getvalue()
    return StrippedImage(data, hashlib.sha256(data).hexdigest(), image.width, image.height, stored)


# --- variants ------------------------------------------------------------------------------------


def avif_supported() -> bool:
    """Whether this Pillow can write AVIF."""
    return bool(features.check("avif"))


def variant_widths(width: int) -> list[int]:
    """The widths an image of ``width`` pixels gets: every standard width below it, and its own up to the largest."""
    out = [w for w in WIDTHS if w < width]
    if width <= WIDTHS[-1]:
        out.append(width)
    return out or [min(width, WIDTHS[-1])]


def variant_formats(stored_format: str) -> list[str]:
    """File extensions of an image's variants: AVIF when available, WebP, then the JPEG or PNG fallback."""
    return (["avif"] if avif_supported() else []) + ["webp", EXTENSIONS[stored_format]]


def variant_path(sha256: str, width: int, ext: str) -> str:
    """The site path of one variant."""
    return f"/media/{sha256}/{width}.{ext}"


def variant_height(width: int, height: int, target: int) -> int:
    """The height of a variant ``target`` pixels wide (aspect ratio kept)."""
    return max(1, round(height * target / width))


def share_variant(image: dict) -> dict:
    """The fallback-format variant shared in og:image, feeds and webhooks: ``{path, width, height, type}``."""
    widths = variant_widths(image["width"])
    width = max(w for w in widths if w <= SHARE_WIDTH) if min(widths) <= SHARE_WIDTH else min(widths)
    ext = EXTENSIONS[image["format"]]
    return {"path": variant_path(image["sha256"], width, ext), "width": width,
            "height": variant_height(image["width"], image["height"], width), "type": MIME[ext]}


def make_variant(original: bytes, width: int, ext: str) -> bytes:
    """One variant's bytes: the stripped original resized to ``width`` and encoded as ``ext``."""
    with Image.open(io.BytesIO(original)) as image:
        image.load()
        if image.width != width:
            image = image.resize((width, variant_height(image.width, image.height, width)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if ext == "jpg":
            image.convert("RGB").save(out, "JPEG", quality=82, optimize=True, progressive=True)
        elif ext == "png":
            image.save(out, "PNG", optimize=True)
        elif ext == "webp":
            image.save(out, "WEBP", quality=80, method=4)
        elif ext == "avif":
            image.save(out, "AVIF", quality=60, speed=8)  # the default speed takes five times as long
        else:
            raise ValueError(f"unknown variant format {ext!r}")
        return out.getvalue()


# --- the store -------------------------------------------------------------------------------------


class LocalStore:
    """Originals as files under a directory (``DATA_DIR/media`` by default)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> bool:
        """Store an original once; False when it was there already."""
        path = self._path(sha256)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def get(self, sha256: str) -> bytes:
        """An original's bytes (FileNotFoundError when the store lacks it)."""
        return self._path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        """Whether the store holds an original."""
        return self._path(sha256).exists()


class S3Store:
    """Originals as objects in an S3-compatible bucket (credentials from boto3's usual sources)."""

    def __init__(self, bucket: str, prefix: str = "originals/", endpoint_url: str | None = None,
                 region: str | None = None):
        import boto3  # only deployments that configure a bucket need it loaded

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def exists(self, sha256: str) -> bool:
        """Whether the bucket holds an original."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, sha256: str, data: bytes) -> bool:
        """Store an original once; False when it was there already."""
        if self.exists(sha256):
            return False
        self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)
        return True

    def get(self, sha256: str) -> bytes:
        """An original's bytes."""
        return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()


def media_store(settings) -> LocalStore | S3Store:
    """The configured store: the bucket when ``MEDIA_S3_BUCKET`` is set, else ``MEDIA_DIR``."""
    if settings.media_s3_bucket:
        return S3Store(settings.media_s3_bucket, settings.media_s3_prefix, settings.media_s3_endpoint_url,
                       settings.media_s3_region)
    return LocalStore(settings.media_dir)
