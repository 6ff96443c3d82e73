"""The media library: images uploaded once (content-addressed), their per-language alt text and captions,
the images an article uses, and what a publish snapshot says about them."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from shared.content import single_line_problem
from shared.errors import InvalidInput, NotFound
from shared.events import iso, utcnow
from shared.media import StrippedImage, media_store, share_variant, strip_image

from .db import articles, media

MAX_ALT = 500
MAX_CAPTION = 1000
MAX_CREDIT = 300
# Markdown embeds a library image as ![](media:<id>).
MEDIA_REF = re.compile(r"\(\s*media:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*\)")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _text(value, field: str, limit: int, *, single_line: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(field, f"is {len(value)} characters; the limit is {limit}")
    if single_line and value and (problem := single_line_problem(value)):
        raise InvalidInput(field, problem)
    return value


def parse_texts(data, languages: tuple[str, ...], *, default_lang: str | None, partial: bool = False) -> dict:
    """Alt text, caption (``alt`` / ``caption`` for ``default_lang``, ``alt_<lang>`` / ``caption_<lang>`` per
    language) and ``credit`` from a form or JSON; ``{"alt": {lang: text}, "caption": {...}, "credit": ...}``
    with only what was sent when ``partial``."""
    if default_lang is not None and default_lang not in languages:
        raise InvalidInput("lang", f"{default_lang!r} is not a site language; use one of {', '.join(languages)}")
    out: dict = {}
    for kind, limit in (("alt", MAX_ALT), ("caption", MAX_CAPTION)):
        texts = {}
        if default_lang and kind in data:
            texts[default_lang] = _text(data.get(kind), kind, limit, single_line=kind == "alt")
        for lang in languages:
            if f"{kind}_{lang}" in data:
                texts[lang] = _text(data.get(f"{kind}_{lang}"), f"{kind}_{lang}", limit, single_line=kind == "alt")
        if texts or not partial:
            out[kind] = texts
    if "credit" in data or not partial:
        out["credit"] = _text(data.get("credit"), "credit", MAX_CREDIT, single_line=True) or None
    return out


def add_image(conn: Connection, image: StrippedImage, *, filename: str, texts: dict, actor: str,
              source_url: str | None = None) -> tuple[dict, bool]:
    """The library row of an image (stored already under its hash), and whether it is new.

    The same image uploaded again is the same row: texts it lacks are filled in, none is overwritten.
    """
    now = utcnow()
    existing = conn.execute(select(media).where(media.c.sha256 == image.sha256)).mappings().first()
    alt = {k: v for k, v in texts.get("alt", {}).items() if v}
    caption = {k: v for k, v in texts.get("caption", {}).items() if v}
    if existing is not None:
        merged_alt = {**alt, **existing["alt"]}
        merged_caption = {**caption, **existing["caption"]}
        if merged_alt != existing["alt"] or merged_caption != existing["caption"]:
            conn.execute(update(media).where(media.c.id == existing["id"]).values(
                alt=merged_alt, caption=merged_caption, updated_at=now))
        return get_image(conn, existing["id"]), False
    row = {
        "id": str(uuid.uuid4()), "sha256": image.sha256, "width": image.width, "height": image.height,
        "format": image.format, "size": len(image.data), "filename": (filename or "image")[:300],
        "alt": alt, "caption": caption, "credit": texts.get("credit"), "source_url": source_url,
        "created_by": actor, "created_at": now, "updated_at": now,
    }
    conn.execute(media.insert().values(**row))
    return row, True


def get_image(conn: Connection, image_id: str) -> dict:
    """One library image, or NotFound."""
    row = conn.execute(select(media).where(media.c.id == image_id)).mappings().first() if _UUID.match(image_id or "") else None
    if row is None:
        raise NotFound(f"no image with id {image_id} in the media library")
    return dict(row)


def list_images(conn: Connection, limit: int = 200) -> list[dict]:
    """The newest library images."""
    return [dict(r) for r in conn.execute(select(media).order_by(media.c.created_at.desc()).limit(limit)).mappings()]


def update_texts(conn: Connection, image_id: str, texts: dict) -> dict:
    """Set alt texts, captions (an empty text removes that language's) and the credit of an image."""
    image = get_image(conn, image_id)
    values: dict = {"updated_at": utcnow()}
    for kind in ("alt", "caption"):
        if kind in texts:
            merged = {**image[kind], **texts[kind]}
            values[kind] = {k: v for k, v in merged.items() if v}
    if "credit" in texts:
        values["credit"] = texts["credit"]
    conn.execute(update(media).where(media.c.id == image_id).values(**values))
    return get_image(conn, image_id)


def to_json(image: dict, site_url: str) -> dict:
    """The API view of a library image."""
    out = {k: image[k] for k in ("id", "sha256", "width", "height", "format", "size", "filename", "alt", "caption",
                                 "credit", "source_url", "created_by")}
    out["created_at"] = iso(image["created_at"])
    out["updated_at"] = iso(image["updated_at"])
    out["share_url"] = site_url + share_variant(image)["path"]
    return out


def check_featured(conn: Connection, image_id) -> str | None:
    """A ``featured_image`` value as stored: None, or the id of a library image (else InvalidInput)."""
    if image_id in (None, ""):
        return None
    if not isinstance(image_id, str) or not _UUID.match(image_id):
        raise InvalidInput("featured_image", "must be the id of a media library image (a UUID) or null")
    if conn.execute(select(media.c.id).where(media.c.id == image_id)).first() is None:
        raise InvalidInput("featured_image", f"no image with id {image_id} in the media library; "
                                             "upload it first (POST /api/media)")
    return image_id


def inline_ids(body: str) -> list[str]:
    """The library images a Markdown body embeds (``![](media:<id>)``), each once, in order."""
    return list(dict.fromkeys(MEDIA_REF.findall(body or "")))


def check_inline(conn: Connection, body: str) -> None:
    """Refuse a body that embeds an image the library does not have."""
    ids = inline_ids(body)
    if not ids:
        return
    known = {r[0] for r in conn.execute(select(media.c.id).where(media.c.id.in_(ids)))}
    missing = [i for i in ids if i not in known]
    if missing:
        raise InvalidInput("body", f"embeds media:{missing[0]}, which is not in the media library; "
                                   "upload the image first and use its id")


def missing_alt(conn: Connection, featured: str | None, body: str, lang: str) -> str | None:
    """Why an article in ``lang`` using these images cannot be published (an image without alt text
    in ``lang``), or None."""
    ids = ([featured] if featured else []) + [i for i in inline_ids(body) if i != featured]
    if not ids:
        return None
    rows = {r["id"]: r for r in conn.execute(select(media).where(media.c.id.in_(ids))).mappings()}
    for image_id in ids:
        row = rows.get(image_id)
        if row is None:
            return f"the image {image_id} is no longer in the media library; choose another one"
        if not (row["alt"] or {}).get(lang):
            where = "featured image" if image_id == featured else "image in the text"
            return (f"the {where} “{row['filename']}” has no alt text in {lang!r}; add it in the media library "
                    f"(/media/{image_id}) before publishing in that language")
    return None


def snapshot_images(conn: Connection, featured: str | None, body: str, lang: str) -> dict:
    """What rendering needs of an article's images (hash, size, format and the texts in ``lang``), by id."""
    ids = ([featured] if featured else []) + inline_ids(body)
    if not ids:
        return {}
    rows = conn.execute(select(media).where(media.c.id.in_(ids))).mappings()
    return {r["id"]: {"sha256": r["sha256"], "width": r["width"], "height": r["height"], "format": r["format"],
                      "alt": (r["alt"] or {}).get(lang, ""), "caption": (r["caption"] or {}).get(lang, ""),
                      "credit": r["credit"] or ""} for r in rows}


def published_image(conn: Connection, featured: str | None, lang: str, site_url: str) -> dict | None:
    """The featured image as the ``article.published`` event names it: ``{url, width, height, type, alt}``."""
    if not featured:
        return None
    row = conn.execute(select(media).where(media.c.id == featured)).mappings().first()
    if row is None:
        return None
    share = share_variant(row)
    return {"id": row["id"], "url": site_url + share["path"], "width": share["width"], "height": share["height"],
            "type": share["type"], "alt": (row["alt"] or {}).get(lang, "")}


def articles_using(conn: Connection, image_id: str) -> list[dict]:
    """The articles whose featured image this is, or whose body embeds it."""
    rows = conn.execute(select(articles.c.id, articles.c.title, articles.c.lang, articles.c.state, articles.c.featured_image)
                        .where((articles.c.featured_image == image_id) | articles.c.body.contains(f"media:{image_id}"))
                        .order_by(articles.c.title)).mappings()
    return [dict(r) for r in rows]


def upload_image(rt, upload, form, *, default_lang: str | None, actor: str) -> tuple[dict, bool]:
    """Check, strip and store an uploaded image and its texts; the library row and whether it is new."""
    languages = rt.settings.languages
    if upload is None or not upload.filename and not upload.content_length:
        raise InvalidInput("file", "is required: send the image as multipart/form-data in the field 'file'")
    texts = parse_texts(form, languages, default_lang=default_lang or languages[0])
    if not any(texts["alt"].values()):
        raise InvalidInput("alt", "is required: describe the image for readers who cannot see it (alt text in "
                                  "at least one language; each language you publish in needs its own)")
    data = upload.read(rt.settings.max_image_bytes + 1)
    stripped = strip_image(data, max_bytes=rt.settings.max_image_bytes, max_pixels=rt.settings.max_image_pixels)
    media_store(rt.settings).put(stripped.sha256, stripped.data)
    with rt.transaction() as conn:
        return add_image(conn, stripped, filename=upload.filename or "image", texts=texts, actor=actor)
