"""Render the public site from the read model: article pages, language indexes, feeds, sitemap.

Files are written atomically (temp file + rename) so a reader never sees half a page.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from feedgen.feed import FeedGenerator
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection

from shared.config import Settings

from . import i18n
from .db import pages

_env = Environment(
    loader=PackageLoader("services.rendering", "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_TAG = re.compile(r"(<[^>]+>)")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def page_path(lang: str, slug: str) -> str:
    """The site path of a page."""
    return f"/{lang}/{slug}/"


def link_footnotes(body_html: str, numbers: set[int]) -> str:
    """Turn ``[n]`` markers in text (not inside tags) into links to reference ``n`` and back."""
    seen: dict[int, int] = {}

    def repl(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        seen[n] = seen.get(n, 0) + 1
        ref_id = f"fnref-{n}" if seen[n] == 1 else f"fnref-{n}-{seen[n]}"
        return f'<sup class="fnref" id="{ref_id}"><a href="#ref-{n}" role="doc-noteref">[{n}]</a></sup>'

    parts = _TAG.split(body_html)
    return "".join(p if p.startswith("<") else _MARKER.sub(repl, p) for p in parts)


def write_atomic(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def upsert_page(conn: Connection, snapshot: dict) -> bool:
    """Store a published snapshot in the read model; False when a newer revision is already there."""
    existing = conn.execute(select(pages.c.revision, pages.c.slug).where(pages.c.article_id == snapshot["article_id"])).first()
    if existing and existing.revision > snapshot["revision"]:
        return False
    values = {
        "group_id": snapshot["group_id"],
        "lang": snapshot["lang"],
        "slug": snapshot["slug"],
        "revision": snapshot["revision"],
        "title": snapshot["title"],
        "snapshot": snapshot,
        "published_at": datetime.fromisoformat(snapshot["published_at"]),
        "updated_at": datetime.fromisoformat(snapshot["updated_at"]),
    }
    if existing:
        conn.execute(pages.update().where(pages.c.article_id == snapshot["article_id"]).values(**values))
    else:
        conn.execute(pages.insert().values(article_id=snapshot["article_id"], **values))
    return True


def _all_pages(conn: Connection, **where) -> list[dict]:
    query = select(pages)
    for name, value in where.items():
        query = query.where(pages.c[name] == value)
    return [dict(r) for r in conn.execute(query.order_by(pages.c.published_at.desc(), pages.c.article_id)).mappings()]


def render_article_html(page: dict, siblings: list[dict], settings: Settings) -> str:
    """The HTML of one article page."""
    snap = page["snapshot"]
    lang = page["lang"]
    url = settings.site_url + page_path(lang, page["slug"])
    numbers = {r["number"] for r in snap["references"]}
    translations = sorted(
        ({"lang": s["lang"], "name": i18n.native_name(s["lang"]), "url": page_path(s["lang"], s["slug"])}
         for s in siblings if s["article_id"] != page["article_id"]),
        key=lambda t: settings.languages.index(t["lang"]) if t["lang"] in settings.languages else 99,
    )
    published = _aware(page["published_at"])
    author = snap["author"]
    return _env.get_template("article.html").render(
        lang=lang,
        t=i18n.labels(lang),
        title=snap["title"],
        url=url,
        body=Markup(link_footnotes(snap["body_html"], numbers)),
        references=snap["references"],
        author=author,
        bio_lang=author.get("bio_lang") or lang,
        published_iso=published.isoformat(),
        published_text=i18n.long_date(published.date(), lang),
        translations=translations,
        tags=snap.get("tags", []),
        site_url=settings.site_url,
        long_date=lambda d: i18n.long_date(datetime.fromisoformat(d).date(), lang),
    )


def render_index_html(lang: str, items: list[dict], settings: Settings) -> str:
    """The HTML of a language's index page."""
    return _env.get_template("index.html").render(
        lang=lang, t=i18n.labels(lang), items=[
            {"title": p["title"], "url": page_path(lang, p["slug"]),
             "date_iso": _aware(p["published_at"]).isoformat(),
             "date_text": i18n.long_date(_aware(p["published_at"]).date(), lang)} for p in items
        ], languages=[(code, i18n.native_name(code)) for code in settings.languages], site_url=settings.site_url,
    )


def render_feed(lang: str, items: list[dict], settings: Settings) -> str:
    """The Atom feed of a language (newest 50)."""
    fg = FeedGenerator()
    fg.id(f"{settings.site_url}/{lang}/")
    fg.title(f"{i18n.labels(lang)['latest']}")
    fg.link(href=f"{settings.site_url}/{lang}/feed.xml", rel="self")
    fg.link(href=f"{settings.site_url}/{lang}/", rel="alternate")
    fg.language(lang)
    updated = max((_aware(p["updated_at"]) for p in items), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    fg.updated(updated)
    for p in reversed(items[:50]):
        entry = fg.add_entry()
        link = settings.site_url + page_path(lang, p["slug"])
        entry.id(link)
        entry.title(p["title"])
        entry.link(href=link)
        entry.author({"name": p["snapshot"]["author"]["name"]})
        entry.published(_aware(p["published_at"]))
        entry.updated(_aware(p["updated_at"]))
        entry.content(p["snapshot"]["body_html"], type="html")
    return fg.atom_str(pretty=True).decode("utf-8")


def render_sitemap(all_pages: list[dict], settings: Settings) -> str:
    """One sitemap with ``xhtml:link`` alternates for every published translation."""
    groups: dict[str, list[dict]] = {}
    for p in all_pages:
        groups.setdefault(p["group_id"], []).append(p)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">']
    for p in sorted(all_pages, key=lambda p: (p["lang"], p["slug"])):
        loc = settings.site_url + page_path(p["lang"], p["slug"])
        lines.append(f"  <url><loc>{xml_escape(loc)}</loc><lastmod>{_aware(p['updated_at']).date().isoformat()}</lastmod>")
        for alt in sorted(groups[p["group_id"]], key=lambda a: a["lang"]):
            href = settings.site_url + page_path(alt["lang"], alt["slug"])
            lines.append(f'    <xhtml:link rel="alternate" hreflang="{alt["lang"]}" href="{xml_escape(href)}"/>')
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def _render_lang_and_site(conn: Connection, lang: str, settings: Settings) -> int:
    site = settings.site_dir
    items = _all_pages(conn, lang=lang)
    write_atomic(site / lang / "index.html", render_index_html(lang, items, settings))
    write_atomic(site / lang / "feed.xml", render_feed(lang, items, settings))
    write_atomic(site / "sitemap.xml", render_sitemap(_all_pages(conn), settings))
    return 3


def render_group(conn: Connection, group_id: str, lang: str, settings: Settings) -> int:
    """Render every live page of the group (their language lines change together), the index, feed and sitemap."""
    siblings = _all_pages(conn, group_id=group_id)
    for page in siblings:
        write_atomic(settings.site_dir / page["lang"] / page["slug"] / "index.html",
                     render_article_html(page, siblings, settings))
    return len(siblings) + _render_lang_and_site(conn, lang, settings)


def publish_snapshot(conn: Connection, snapshot: dict, settings: Settings) -> tuple[str, int]:
    """Store the snapshot and render what changes; return the page URL and the files written."""
    previous = conn.execute(select(pages.c.slug).where(pages.c.article_id == snapshot["article_id"])).scalar()
    written = 0
    if upsert_page(conn, snapshot):
        if previous and previous != snapshot["slug"]:
            _remove_page_files(settings, snapshot["lang"], previous)
        written = render_group(conn, snapshot["group_id"], snapshot["lang"], settings)
    return settings.site_url + page_path(snapshot["lang"], snapshot["slug"]), written


def _remove_page_files(settings: Settings, lang: str, slug: str) -> None:
    target = settings.site_dir / lang / slug
    if target.is_dir():
        shutil.rmtree(target)


def remove_article(conn: Connection, article_id: str, settings: Settings) -> int:
    """Take an article off the site and re-render what linked to it; return the files written."""
    row = conn.execute(select(pages).where(pages.c.article_id == article_id)).mappings().first()
    if row is None:
        return 0
    conn.execute(delete(pages).where(pages.c.article_id == article_id))
    _remove_page_files(settings, row["lang"], row["slug"])
    return render_group(conn, row["group_id"], row["lang"], settings)


def find_page(conn: Connection, lang: str, slug: str) -> dict | None:
    """The read-model row of a live page."""
    row = conn.execute(select(pages).where(and_(pages.c.lang == lang, pages.c.slug == slug))).mappings().first()
    return dict(row) if row else None
