"""Images on the public site: variants written once per image hash, width and format, and the markup
that shows them (``<picture>`` with ``srcset``/``sizes``, explicit width and height, lazy below the fold).

A snapshot names its images by id with this language's texts (``snapshot["images"]``); the bytes come
from the media store (``shared.media``), never from an event.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.config import Settings
from shared.events import utcnow
from shared.markup import IMAGE_PLACEHOLDER
from shared.media import (EXTENSIONS, MIME, make_variant, media_store, share_variant, variant_formats,
                          variant_height, variant_path, variant_widths)

from .db import image_variants

# The article column is at most 46rem (736 px at 16 px) wide, the viewport less 2rem below that.
SIZES = "(max-width: 46rem) calc(100vw - 2rem), 46rem"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# What the sanitiser leaves of ![](media:<id>): alone in a paragraph (a figure) or inside text.
_BLOCK = re.compile(r"<p>\s*(<img\b[^>]*\bsrc=\"" + re.escape(IMAGE_PLACEHOLDER) + r"(" + _UUID + r")\"[^>]*>)\s*</p>")
_INLINE = re.compile(r"<img\b[^>]*\bsrc=\"" + re.escape(IMAGE_PLACEHOLDER) + r"(" + _UUID + r")\"[^>]*>")


def ensure_variants(conn: Connection, settings: Settings, images: dict, write: Callable[[Path, bytes], None]) -> int:
    """Write (with ``write``, atomic) the variants of ``images`` that do not exist yet under SITE_DIR/media;
    return how many were made."""
    made = 0
    store = None
    for image in images.values():
        sha = image["sha256"]
        have = {(r.width, r.ext) for r in conn.execute(
            select(image_variants.c.width, image_variants.c.ext).where(image_variants.c.sha256 == sha))}
        wanted = [(w, ext) for w in variant_widths(image["width"]) for ext in variant_formats(image["format"])]
        # A recorded variant whose file went missing (a wiped SITE_DIR) is made again.
        missing = [(w, ext) for w, ext in wanted
                   if (w, ext) not in have or not _file(settings, sha, w, ext).exists()]
        if not missing:
            continue
        store = store or media_store(settings)
        original = store.get(sha)
        for width, ext in missing:
            data = make_variant(original, width, ext)
            write(_file(settings, sha, width, ext), data)
            values = {"height": variant_height(image["width"], image["height"], width), "size": len(data),
                      "created_at": utcnow()}
            if (width, ext) in have:
                conn.execute(image_variants.update().where(
                    (image_variants.c.sha256 == sha) & (image_variants.c.width == width)
                    & (image_variants.c.ext == ext)).values(**values))
            else:
                conn.execute(image_variants.insert().values(sha256=sha, width=width, ext=ext, **values))
            made += 1
    return made


def _file(settings: Settings, sha: str, width: int, ext: str) -> Path:
    return settings.site_dir / variant_path(sha, width, ext).lstrip("/")


def _srcset(image: dict, ext: str) -> str:
    return ", ".join(f"{variant_path(image['sha256'], w, ext)} {w}w" for w in variant_widths(image["width"]))


def picture(image: dict, *, lazy: bool) -> Markup:
    """A ``<picture>``: AVIF/WebP sources, then the JPEG or PNG ``<img>`` with size, alt text and loading."""
    widths = variant_widths(image["width"])
    largest = max(widths)
    fallback = EXTENSIONS[image["format"]]
    sources = "".join(
        f'<source type="{MIME[ext]}" srcset="{escape(_srcset(image, ext))}" sizes="{SIZES}">'
        for ext in variant_formats(image["format"]) if ext != fallback)
    loading = 'loading="lazy" decoding="async"' if lazy else 'fetchpriority="high" decoding="async"'
    return Markup(
        f"<picture>{sources}<img src=\"{escape(variant_path(image['sha256'], largest, fallback))}\" "
        f"srcset=\"{escape(_srcset(image, fallback))}\" sizes=\"{SIZES}\" width=\"{largest}\" "
        f"height=\"{variant_height(image['width'], image['height'], largest)}\" alt=\"{escape(image.get('alt') or '')}\" "
        f"{loading}></picture>")


def figure(image: dict, *, lazy: bool, css_class: str = "image") -> Markup:
    """The picture with its caption and credit, as a ``<figure>``."""
    caption = ""
    if image.get("caption") or image.get("credit"):
        parts = []
        if image.get("caption"):
            parts.append(f"{escape(image['caption'])}")
        if image.get("credit"):
            parts.append(f"<small class=\"credit\">{escape(image['credit'])}</small>")
        caption = f"<figcaption>{' '.join(parts)}</figcaption>"
    return Markup(f'<figure class="{css_class}">{picture(image, lazy=lazy)}{caption}</figure>')


def expand_inline(html: str, images: dict) -> str:
    """Replace the placeholders of embedded library images with their markup (unknown ids are dropped)."""
    def block(match: re.Match) -> str:
        image = images.get(match.group(2))
        return str(figure(image, lazy=True)) if image else ""

    def inline(match: re.Match) -> str:
        image = images.get(match.group(1))
        return str(picture(image, lazy=True)) if image else ""

    return _INLINE.sub(inline, _BLOCK.sub(block, html))


def featured(snapshot: dict) -> dict | None:
    """The snapshot's featured image (with this language's texts), or None."""
    image_id = snapshot.get("featured_image")
    return (snapshot.get("images") or {}).get(image_id) if image_id else None


def share(image: dict, base: str) -> dict:
    """The shared variant as absolute URL with its size, type and alt text (og:image, JSON-LD, feeds)."""
    out = share_variant(image)
    return {"url": base + out["path"], "width": out["width"], "height": out["height"], "type": out["type"],
            "alt": image.get("alt") or ""}


_SITE_MEDIA = re.compile(r'(?<=[\s"])/media/')


def absolute_media(html: str, base: str) -> str:
    """Body HTML with the site's image paths made absolute (feed readers resolve no relative URL)."""
    if "/media/" not in html:  # most bodies: the look-behind scan of every position costs 0.3 ms each
        return html
    return _SITE_MEDIA.sub(base + "/media/", html)
