"""Render the public site from the read model, fully (``rebuild``) or incrementally (one article or a batch).

The site is a pure function of the read model and the settings: ``SiteModel.outputs()`` names every
file the site has and how to render it. A full rebuild renders all of them; publishing, republishing
or unpublishing one article (or a batch of such changes, ``flush``) renders only the paths
``affected_paths`` picks by comparing the model before and after the change, and writes a file only
when its bytes change. Nothing reads the clock, so both ways give byte-identical trees
(``tests/integration/rendering`` checks it).

Files are written atomically (temp file + rename) so a reader never sees half a page.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import and_, delete, select, text
from sqlalchemy.engine import Connection

from shared.config import Settings
from shared.content import page_path
from shared.events import aware

from . import content, similar
from .content import article_file, author_key, index_file, tag_key
from .db import pages, redirects
from .render import Renderer

SIMILAR_COUNT = 3
# Output names the site owns; a rebuild may delete stale files with these names, nothing else.
OUTPUT_NAMES = ("index.html", "404.html", "feed.xml", "sitemap.xml", "robots.txt")


def write_atomic(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the read model -------------------------------------------------------------------------


def upsert_page(conn: Connection, snapshot: dict) -> bool:
    """Store a published snapshot in the read model; False when a newer revision is already there."""
    existing = conn.execute(select(pages.c.revision, pages.c.slug, pages.c.lang)
                            .where(pages.c.article_id == snapshot["article_id"])).first()
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
    # A page taking an address ends any redirect that lived there.
    conn.execute(delete(redirects).where(and_(redirects.c.lang == snapshot["lang"],
                                              redirects.c.slug == snapshot["slug"])))
    if existing:
        if (existing.lang, existing.slug) != (snapshot["lang"], snapshot["slug"]):
            conn.execute(redirects.insert().values(lang=existing.lang, slug=existing.slug,
                                                   article_id=snapshot["article_id"]))
        conn.execute(pages.update().where(pages.c.article_id == snapshot["article_id"]).values(**values))
    else:
        conn.execute(pages.insert().values(article_id=snapshot["article_id"], **values))
    return True


def _page_dict(row) -> dict:
    page = dict(row)
    page["published_at"] = aware(page["published_at"])
    page["updated_at"] = aware(page["updated_at"])
    return page


def find_page(conn: Connection, lang: str, slug: str) -> dict | None:
    """The read-model row of a live page."""
    row = conn.execute(select(pages).where(and_(pages.c.lang == lang, pages.c.slug == slug))).mappings().first()
    return _page_dict(row) if row else None


def find_redirect(conn: Connection, lang: str, slug: str) -> str | None:
    """The current path of the live article that used to be at ``/<lang>/<slug>/``, if any."""
    row = conn.execute(
        select(pages.c.lang, pages.c.slug).select_from(redirects.join(pages, pages.c.article_id == redirects.c.article_id))
        .where(and_(redirects.c.lang == lang, redirects.c.slug == slug))
    ).first()
    return page_path(row.lang, row.slug) if row else None


def load_model(conn: Connection, settings: Settings) -> "SiteModel":
    """The whole read model, ready to render."""
    rows = [_page_dict(r) for r in conn.execute(select(pages)).mappings()]
    moved = [dict(r) for r in conn.execute(select(redirects)).mappings()]
    return SiteModel(rows, moved, settings)


def lock(conn: Connection) -> None:
    """Serialise renders for the rest of the transaction."""
    # Renders read the whole model and write files: two at once could each miss the other's
    # change. SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


# --- the site as a function of the model ------------------------------------------------------


def _key_order(settings: Settings, lang: str) -> tuple:
    return (settings.languages.index(lang), "") if lang in settings.languages else (len(settings.languages), lang)


@dataclass
class SiteModel:
    """An immutable view of the read model with the indexes the pages need."""

    rows: list[dict]
    moved: list[dict]
    settings: Settings
    by_id: dict = field(init=False)
    by_lang: dict = field(init=False)
    by_group: dict = field(init=False)
    _similar: dict = field(init=False, default_factory=dict)
    _redirects: dict = field(init=False, default_factory=dict)

    def __post_init__(self):
        self.by_id = {p["article_id"]: p for p in self.rows}
        self.by_lang, self.by_group = {}, {}
        for p in sorted(self.rows, key=self.newest_first):
            self.by_lang.setdefault(p["lang"], []).append(p)
        for p in sorted(self.rows, key=lambda p: _key_order(self.settings, p["lang"])):
            self.by_group.setdefault(p["group_id"], []).append(p)
        taken = {(p["lang"], p["slug"]) for p in self.rows}
        self._redirects = {}
        for r in sorted(self.moved, key=lambda r: (r["lang"], r["slug"])):
            if r["article_id"] in self.by_id and (r["lang"], r["slug"]) not in taken:
                self._redirects.setdefault(r["article_id"], []).append(r)

    @staticmethod
    def newest_first(page: dict) -> tuple:
        """Sort key: newest publication first, ties by id."""
        return (-page["published_at"].timestamp(), page["article_id"])

    @property
    def languages(self) -> list[str]:
        """Configured languages, then any other language that has pages."""
        extra = sorted(set(self.by_lang) - set(self.settings.languages))
        return list(self.settings.languages) + extra

    def siblings(self, page: dict) -> list[dict]:
        """The live versions of the page's group, itself included, in configured language order."""
        return self.by_group.get(page["group_id"], [])

    def similar(self, article_id: str) -> list[dict]:
        """The live articles most similar to one, same language, never itself."""
        lang = self.by_id[article_id]["lang"]
        if lang not in self._similar:
            docs = {p["article_id"]: similar.term_counts(p["title"], p["snapshot"].get("tags", []),
                                                          p["snapshot"].get("body_html", ""))
                    for p in self.by_lang[lang]}
            rank = {p["article_id"]: i for i, p in enumerate(self.by_lang[lang])}
            self._similar[lang] = similar.similar_ids(docs, rank, SIMILAR_COUNT)
        return [self.by_id[i] for i in self._similar[lang][article_id]]

    def similar_fingerprint(self, article_id: str) -> tuple:
        """What an article page shows of its similar posts (to tell whether it changed)."""
        return tuple((p["article_id"], p["slug"], p["title"], p["published_at"]) for p in self.similar(article_id))

    def index_pages(self, lang: str) -> int:
        """How many index pages the language has (at least one, maybe empty)."""
        return max(1, -(-len(self.by_lang.get(lang, [])) // content.PAGE_SIZE))

    def authors(self, lang: str) -> dict[str, list[dict]]:
        """Author key -> the author's live articles in ``lang``, newest first."""
        out: dict[str, list[dict]] = {}
        for p in self.by_lang.get(lang, []):
            out.setdefault(author_key(p), []).append(p)
        return out

    def tags(self, lang: str) -> dict[str, list[dict]]:
        """Tag key -> the live articles in ``lang`` carrying the tag, newest first."""
        out: dict[str, list[dict]] = {}
        for p in self.by_lang.get(lang, []):
            for key in dict.fromkeys(tag_key(t) for t in p["snapshot"].get("tags", [])):
                out.setdefault(key, []).append(p)
        return out

    def redirects_of(self, article_id: str) -> list[dict]:
        """The old addresses that lead to a live article (none when a page took one back)."""
        return self._redirects.get(article_id, [])

    def outputs(self) -> dict[str, Callable[[], str]]:
        """Every file of the site (path relative to SITE_DIR) and the function rendering it."""
        r = Renderer(self)
        out: dict[str, Callable[[], str]] = {"robots.txt": r.robots, "sitemap.xml": r.sitemap_index}
        for lang in self.languages:
            out[f"{lang}/404.html"] = lambda lang=lang: r.not_found(lang)
            out[f"{lang}/feed.xml"] = lambda lang=lang: r.feed(lang)
            for n in range(1, self.index_pages(lang) + 1):
                out[index_file(lang, n)] = lambda lang=lang, n=n: r.index(lang, n)
            if self.by_lang.get(lang):
                out[f"{lang}/sitemap.xml"] = lambda lang=lang: r.sitemap(lang)
            for key in self.authors(lang):
                out[f"{lang}/authors/{key}/index.html"] = lambda lang=lang, key=key: r.author(lang, key)
            for key in self.tags(lang):
                out[f"{lang}/tags/{key}/index.html"] = lambda lang=lang, key=key: r.tag(lang, key)
        for p in self.rows:
            for old in self.redirects_of(p["article_id"]):
                out[f"{old['lang']}/{old['slug']}/index.html"] = lambda p=p, old=old: r.redirect(p, old["lang"])
        for p in self.rows:
            out[article_file(p)] = lambda p=p: r.article(p)
        return out


# --- incremental rendering --------------------------------------------------------------------


def affected_paths(before: SiteModel, after: SiteModel, article_id: str, site_dir: Path) -> set[str]:
    """The files whose content may differ after one article changed (superset of the real change)."""
    paths = {"robots.txt", "sitemap.xml"}
    versions = [m.by_id[article_id] for m in (before, after) if article_id in m.by_id]
    langs = {p["lang"] for p in versions}
    groups = {p["group_id"] for p in versions}
    for model in (before, after):
        for lang in model.languages:
            paths.add(f"{lang}/404.html")
            # Bootstrap a language nothing was published in yet.
            for name in (index_file(lang, 1), f"{lang}/feed.xml"):
                if not (site_dir / name).exists():
                    paths.add(name)
        for group in groups:
            for sibling in model.by_group.get(group, []):
                paths.add(article_file(sibling))
                paths.add(f"{sibling['lang']}/sitemap.xml")
        for old in model.redirects_of(article_id):
            paths.add(f"{old['lang']}/{old['slug']}/index.html")
        for lang in langs:
            paths.update({f"{lang}/feed.xml", f"{lang}/sitemap.xml"})
            paths.update(index_file(lang, n) for n in range(1, model.index_pages(lang) + 1))
        for p in versions:
            paths.add(f"{p['lang']}/authors/{author_key(p)}/index.html")
            paths.update(f"{p['lang']}/tags/{tag_key(t)}/index.html" for t in p["snapshot"].get("tags", []))
    for lang in langs:
        for p in after.by_lang.get(lang, []):
            was = before.by_id.get(p["article_id"])
            if was is None or was["lang"] != lang or \
                    before.similar_fingerprint(p["article_id"]) != after.similar_fingerprint(p["article_id"]):
                paths.add(article_file(p))
    return paths


@dataclass
class RenderReport:
    """What a render did to SITE_DIR."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def apply(model: SiteModel, paths: Iterable[str], site_dir: Path, report: RenderReport | None = None,
          progress: Callable[[int, int], None] | None = None) -> RenderReport:
    """Render ``paths`` of ``model`` into ``site_dir``: write changed files, remove those gone."""
    report = report or RenderReport()
    outputs = model.outputs()
    ordered = sorted(paths)
    for i, rel in enumerate(ordered, 1):
        target = site_dir / rel
        if rel in outputs:
            content = outputs[rel]()
            if target.is_file() and target.read_text(encoding="utf-8") == content:
                report.unchanged += 1
            else:
                write_atomic(target, content)
                report.written.append(rel)
        elif target.is_file():
            target.unlink()
            _prune_empty_dirs(target.parent, site_dir)
            report.removed.append(rel)
        if progress:
            progress(i, len(ordered))
    return report


def _prune_empty_dirs(directory: Path, site_dir: Path) -> None:
    while directory != site_dir and site_dir in directory.parents:
        try:
            directory.rmdir()
        except OSError:  # not empty: something else still lives here
            return
        directory = directory.parent


def _change(conn: Connection, settings: Settings, article_ids: Iterable[str], mutate: Callable[[], bool]) -> RenderReport:
    lock(conn)
    before = load_model(conn, settings)
    if not mutate():
        return RenderReport()
    after = load_model(conn, settings)
    paths: set[str] = set()
    for article_id in dict.fromkeys(article_ids):
        paths |= affected_paths(before, after, article_id, settings.site_dir)
    return apply(after, paths, settings.site_dir)


def delete_page(conn: Connection, article_id: str) -> bool:
    """Drop an article and its old addresses from the read model; False when it was not there."""
    gone = conn.execute(delete(pages).where(pages.c.article_id == article_id)).rowcount
    conn.execute(delete(redirects).where(redirects.c.article_id == article_id))
    return bool(gone)


def publish(conn: Connection, snapshot: dict, settings: Settings) -> RenderReport:
    """Store a published snapshot and render exactly what it changes."""
    return _change(conn, settings, [snapshot["article_id"]], lambda: upsert_page(conn, snapshot))


def unpublish(conn: Connection, article_id: str, settings: Settings) -> RenderReport:
    """Take an article (and its old addresses) off the site and re-render what linked to it."""
    return _change(conn, settings, [article_id], lambda: delete_page(conn, article_id))


def flush(conn: Connection, settings: Settings, changes: Iterable[dict]) -> RenderReport:
    """Apply many changes in order (``{"action": "publish", "snapshot": ...}`` or ``{"action": "remove",
    "article_id": ...}``), then render once what any of them changed."""
    changes = list(changes)

    def mutate() -> bool:
        changed = False
        for change in changes:
            if change["action"] == "publish":
                changed = upsert_page(conn, change["snapshot"]) or changed
            elif change["action"] == "remove":
                changed = delete_page(conn, change["article_id"]) or changed
            else:
                raise ValueError(f"unknown render action {change['action']!r}")
        return changed

    ids = [c["snapshot"]["article_id"] if c["action"] == "publish" else c["article_id"] for c in changes]
    return _change(conn, settings, ids, mutate)


def page_url(settings: Settings, snapshot: dict) -> str:
    """The public URL of a snapshot's page."""
    return settings.site_url + page_path(snapshot["lang"], snapshot["slug"])


def publish_snapshot(conn: Connection, snapshot: dict, settings: Settings) -> tuple[str, int]:
    """Store the snapshot and render what changes; return the page URL and the files written."""
    report = publish(conn, snapshot, settings)
    return page_url(settings, snapshot), len(report.written) + len(report.removed)


def remove_article(conn: Connection, article_id: str, settings: Settings) -> int:
    """Take an article off the site and re-render what linked to it; return the files changed."""
    report = unpublish(conn, article_id, settings)
    return len(report.written) + len(report.removed)


def rebuild(conn: Connection, settings: Settings, progress: Callable[[int, int], None] | None = None) -> RenderReport:
    """Render the whole site from the read model and delete stale output files."""
    lock(conn)
    model = load_model(conn, settings)
    site_dir = settings.site_dir
    expected = set(model.outputs())
    stale = set()
    if site_dir.is_dir():
        for path in site_dir.rglob("*"):
            if path.is_file() and path.name in OUTPUT_NAMES:
                rel = path.relative_to(site_dir).as_posix()
                if rel not in expected:
                    stale.add(rel)
    return apply(model, expected | stale, site_dir, progress=progress)
