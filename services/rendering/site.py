"""Render the public site from the read model, fully (``rebuild``) or incrementally (one article or a batch).

The site is a pure function of the read model and the settings: ``SiteModel.paths()`` names every
file the site has and ``SiteModel.render(path)`` renders one. Nothing reads the clock, so an
incremental render and a full rebuild give byte-identical trees (``tests/integration/rendering``
checks it).

The model lives in the process between changes (``live_model``): it is loaded once, then every
change is applied to the database and to the model together, and the model names the files that
change reports (``SiteModel.put`` / ``SiteModel.drop``): the article, its group, its listing pages,
the pages whose similar list changed, feeds and sitemaps. A version row (``site_version``) bumped
with every change to the read model tells a process when another one changed it; only then is the
model loaded again. Listing pages (a language's, and each author's, tag's and category's in it; an
article is in the listing of every one of its authors) are numbered from the oldest (the newest
articles are on the landing page), so a new article rewrites a bounded number of them.

Files are written only when their bytes change: the digest of every written file is kept in
``page_hashes`` (with its size and mtime, so a file changed behind our back is noticed without reading
it). A render is staged first (every changed file in a hidden temporary file beside its target) and
moved into place only when every file of it rendered, so a render that fails publishes nothing.
"""
from __future__ import annotations

import gc
import hashlib
import heapq
import multiprocessing
import os
import re
import tempfile
import uuid
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import and_, delete, select, text
from sqlalchemy.engine import Connection

from shared.config import Settings
from shared.content import page_path
from shared.db import make_engine, read_only
from shared.events import aware
from shared.markup import sanitize_html

from . import content, images, search, similar
from .content import (CATEGORY_SITEMAP, article_file, author_keys, listing_file, page_categories, sitemap_count,
                      sitemap_file, tag_key)
from .db import fragments, page_hashes, pages, redirects, similar_tables, site_version
from .render import Renderer, excerpt

SIMILAR_COUNT = 3
# Listings keyed by a name under /<lang>/<kind>/<key>/, besides the language's own.
LISTING_KINDS = ("authors", "tags", "categories")
# Listings whose landing page links the categories and tags used most with their own term, and how many.
RELATED_KINDS = ("categories", "tags")
RELATED_TOPICS = 8
# Output names the site owns; a rebuild may delete stale files with these names, nothing else.
OUTPUT_NAMES = ("index.html", "404.html", "feed.xml", "sitemap.xml", "robots.txt", CATEGORY_SITEMAP)
_NUMBERED_SITEMAP = re.compile(r"sitemap-([1-9][0-9]*)\.xml")
# Below this many files a rebuild renders in its own process (forking costs more than it saves).
POOL_MIN_FILES = 2000
# A batch with this many changes in one language scores that language's similar lists once, in one
# sparse product, instead of change by change.
BULK_CHANGES = 16
_CHUNK = 64
# Hidden name of a file rendered but not yet moved into place (nginx and the app serve no dotfiles).
STAGED_PREFIX = ".tmp-"


def _write_hidden(path: Path, raw: bytes) -> str:
    """Write ``raw`` to a hidden temporary file beside ``path`` (never served); return its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=STAGED_PREFIX, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (image variants: named by content,
    so a variant is complete or absent and never staged with a render)."""
    tmp = _write_hidden(path, data.encode("utf-8") if isinstance(data, str) else data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the read model -------------------------------------------------------------------------


def bump_version(conn: Connection) -> tuple[int, str]:
    """Record that the read model changed; return the new (version, token)."""
    token = uuid.uuid4().hex
    row = conn.execute(select(site_version.c.version).where(site_version.c.id == 1)).first()
    if row is None:
        conn.execute(site_version.insert().values(id=1, version=1, token=token))
        return 1, token
    conn.execute(site_version.update().where(site_version.c.id == 1).values(version=row.version + 1, token=token))
    return row.version + 1, token


def read_version(conn: Connection) -> tuple[int, str]:
    """The read model's current (version, token); (0, "") before the first change."""
    row = conn.execute(select(site_version.c.version, site_version.c.token).where(site_version.c.id == 1)).first()
    return (row.version, row.token) if row else (0, "")


def make_fragments(snapshot: dict) -> dict:
    """What the pages of one snapshot are rendered from (computed once per revision)."""
    body = snapshot.get("body_html") or ""
    counts = similar.term_counts(snapshot["title"], snapshot.get("tags", []), body)
    return {
        "meta": {k: v for k, v in snapshot.items() if k != "body_html"},
        # Embedded library images become their responsive markup after sanitising (trusted, escaped data).
        "clean_html": images.expand_inline(sanitize_html(body), snapshot.get("images") or {}),
        "description": excerpt(body),
        # Two flat lists decode much faster than a list of pairs when the model is loaded.
        "terms": {"t": [t for t, _ in counts], "c": [c for _, c in counts]},
    }


def _term_pairs(stored: dict) -> list[tuple[str, int]]:
    return list(zip(stored["t"], stored["c"]))


def _store_fragments(conn: Connection, article_id: str, revision: int, frags: dict) -> None:
    conn.execute(delete(fragments).where(fragments.c.article_id == article_id))
    conn.execute(fragments.insert().values(article_id=article_id, revision=revision, **frags))


def upsert_page(conn: Connection, snapshot: dict) -> bool:
    """Store a published snapshot (and its fragments) in the read model; False when a newer revision is there."""
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
    _store_fragments(conn, snapshot["article_id"], snapshot["revision"], make_fragments(snapshot))
    search.index_page(conn, snapshot)
    bump_version(conn)
    return True


def delete_page(conn: Connection, article_id: str) -> bool:
    """Drop an article and its old addresses from the read model; False when it was not there."""
    gone = conn.execute(delete(pages).where(pages.c.article_id == article_id)).rowcount
    conn.execute(delete(redirects).where(redirects.c.article_id == article_id))
    conn.execute(delete(fragments).where(fragments.c.article_id == article_id))
    search.unindex(conn, article_id)
    if gone:
        bump_version(conn)
    return bool(gone)


def _page_dict(row) -> dict:
    page = dict(row)
    page["published_at"] = aware(page["published_at"])
    page["updated_at"] = aware(page["updated_at"])
    return page


def find_redirect(conn: Connection, lang: str, slug: str) -> str | None:
    """The current path of the live article that used to be at ``/<lang>/<slug>/``, if any."""
    row = conn.execute(
        select(pages.c.lang, pages.c.slug).select_from(redirects.join(pages, pages.c.article_id == redirects.c.article_id))
        .where(and_(redirects.c.lang == lang, redirects.c.slug == slug))
    ).first()
    return page_path(row.lang, row.slug) if row else None


def fetch_fragments(conn: Connection, article_ids: Iterable[str]) -> dict[str, dict]:
    """Body HTML, description and references of some articles, by id."""
    ids = list(dict.fromkeys(article_ids))
    out = {}
    for i in range(0, len(ids), 500):
        rows = conn.execute(select(fragments.c.article_id, fragments.c.clean_html, fragments.c.description,
                                   fragments.c.meta).where(fragments.c.article_id.in_(ids[i:i + 500])))
        out.update({r.article_id: {"clean_html": r.clean_html, "description": r.description,
                                   "references": r.meta.get("references") or []} for r in rows})
    return out


# Only an article's own page shows its references, and a think tank's footnotes can outweigh
# everything else the model holds for the page: they are read with the body, when it is rendered.
KEPT_OUT_OF_MODEL = ("references",)


def model_meta(meta: dict) -> dict:
    """A snapshot's metadata as the live model keeps it (without what only its own page shows)."""
    return {k: v for k, v in meta.items() if k not in KEPT_OUT_OF_MODEL}


def _fill_fragments(conn: Connection) -> int:
    """Compute the fragments of pages stored before fragments existed (or of another revision)."""
    rows = conn.execute(
        select(pages.c.article_id, pages.c.revision, pages.c.snapshot)
        .select_from(pages.outerjoin(fragments, fragments.c.article_id == pages.c.article_id))
        .where((fragments.c.article_id.is_(None)) | (fragments.c.revision != pages.c.revision))
    ).all()
    for r in rows:
        _store_fragments(conn, r.article_id, r.revision, make_fragments(r.snapshot))
    return len(rows)


def load_model(conn: Connection, settings: Settings) -> "SiteModel":
    """The whole read model (without bodies), ready to render; similar lists computed at once."""
    _fill_fragments(conn)
    search.fill_missing(conn)
    version = read_version(conn)
    query = (select(pages.c.article_id, pages.c.group_id, pages.c.lang, pages.c.slug, pages.c.revision,
                    pages.c.title, pages.c.published_at, pages.c.updated_at, fragments.c.meta, fragments.c.terms)
             .select_from(pages.join(fragments, fragments.c.article_id == pages.c.article_id)))
    tables = {r.lang: similar.Table.from_json(r.data) for r in conn.execute(select(similar_tables))}
    model = SiteModel(settings)
    indexes: dict[str, similar.SimilarIndex] = {}
    # Row by row: each page's term counts become numpy arrays at once (holding every decoded
    # list until the end would double the peak memory of a load).
    for r in conn.execute(query).mappings():
        page = _page_dict({k: r[k] for k in ("article_id", "group_id", "lang", "slug", "revision", "title",
                                             "published_at", "updated_at")})
        page["snapshot"] = model_meta(r["meta"])
        model.add_loaded(page)
        index = indexes.setdefault(page["lang"], similar.SimilarIndex(SIMILAR_COUNT))
        index.add_unscored(page["article_id"], _term_pairs(r["terms"]), newest_first(page))
    for r in conn.execute(select(redirects)).mappings():
        model.moved[(r["lang"], r["slug"])] = r["article_id"]
    for lang, index in indexes.items():
        index.finish(tables.get(lang))
    model.similar_index = indexes
    store_similar_tables(conn, model)
    model.version = version
    return model


def store_similar_tables(conn: Connection, model: "SiteModel") -> None:
    """Keep the similar-posts frequency tables that were taken again (a full rebuild must use the same)."""
    for lang, index in model.similar_index.items():
        if index.table_changed:
            conn.execute(delete(similar_tables).where(similar_tables.c.lang == lang))
            conn.execute(similar_tables.insert().values(lang=lang, data=index.table.to_json()))
            index.table_changed = False


def lock(conn: Connection) -> None:
    """Serialise renders for the rest of the transaction."""
    # Renders read and change the model and write files: two at once could each miss the other's
    # change. SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))


# --- the site as a function of the model ------------------------------------------------------


def _key_order(settings: Settings, lang: str) -> tuple:
    return (settings.languages.index(lang), "") if lang in settings.languages else (len(settings.languages), lang)


def newest_first(page: dict) -> tuple:
    """Sort key: newest publication first, ties by id."""
    return (-page["published_at"].timestamp(), page["article_id"])


class Listing:
    """A list of articles, newest first, cut into pages: the landing page holds the newest
    ``PAGE_SIZE``; archive pages hold the rest and are numbered from the oldest, so page ``k``
    keeps the same articles once it is full and a new article changes at most the landing page,
    the last archive page and a new one."""

    def __init__(self):
        self.keys: list[tuple] = []
        self.items: list[dict] = []

    def __len__(self) -> int:
        return len(self.items)

    def insert(self, page: dict) -> None:
        """Add a page in its place."""
        key = newest_first(page)
        i = bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.items.insert(i, page)

    def remove(self, page: dict) -> None:
        """Take a page out (``page`` as it was inserted)."""
        i = bisect_left(self.keys, newest_first(page))
        del self.keys[i], self.items[i]

    def oldest_index(self, page: dict) -> int:
        """The page's position counted from the oldest article."""
        return len(self.items) - 1 - bisect_left(self.keys, newest_first(page))

    def archive_count(self) -> int:
        """How many archive pages the listing has."""
        return archive_count(len(self.items))

    def landing(self) -> list[dict]:
        """The newest articles."""
        return self.items[: content.PAGE_SIZE]

    def archive(self, k: int) -> list[dict]:
        """Archive page ``k`` (1 = the oldest articles), newest first."""
        n, size = len(self.items), content.PAGE_SIZE
        return self.items[n - min(k * size, n - size): n - (k - 1) * size]

    @staticmethod
    def changed_pages(j: int, n_before: int, n_after: int, moved: bool = True) -> set[int | None]:
        """Pages (None: landing) whose content or links may differ when the articles from oldest
        position ``j`` on changed and the count went from ``n_before`` to ``n_after``; with
        ``moved`` False only the article at ``j`` changed, in place."""
        size = content.PAGE_SIZE
        if not moved and n_before == n_after:
            return {None} if j >= n_after - size else {j // size + 1}
        counts = [archive_count(n) for n in (n_before, n_after)]
        stable = min(j, min(n_before, n_after) - size)
        out: set[int | None] = {None}
        out.update(k for k in range(1, max(counts) + 1) if k * size > stable)
        out.update(k for k in counts if k > 0)
        return out


def archive_count(n: int) -> int:
    """How many archive pages a listing of ``n`` articles has (the newest ``PAGE_SIZE`` are on its landing page)."""
    return -(-max(0, n - content.PAGE_SIZE) // content.PAGE_SIZE)


@dataclass
class _Footprint:
    """What one article shows up in, read from the model before or after a change."""

    files: set[str] = field(default_factory=set)
    listings: dict[tuple, tuple[int, int]] = field(default_factory=dict)  # listing -> (oldest index, size)
    listed_by: set[str] = field(default_factory=set)


class SiteModel:
    """The read model in memory, with the indexes the pages need, kept up to date change by change."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.version: tuple[int, str] = (0, "")
        self.by_id: dict[str, dict] = {}
        self.by_address: dict[tuple[str, str], dict] = {}
        self.lang_listing: dict[str, Listing] = {}
        self.author_listing: dict[str, dict[str, Listing]] = {}
        self.tag_listing: dict[str, dict[str, Listing]] = {}
        self.category_listing: dict[str, dict[str, Listing]] = {}
        self._tables = {"authors": self.author_listing, "tags": self.tag_listing, "categories": self.category_listing}
        self.by_group: dict[str, list[dict]] = {}
        self.moved: dict[tuple[str, str], str] = {}  # (lang, slug) -> article id
        self.similar_index: dict[str, similar.SimilarIndex] = {}
        # (kind, lang, key) of a tag or category listing -> how many of its articles carry each (kind, key) term.
        self.cooccurrence: dict[tuple[str, str, str], Counter] = {}
        # article id -> its sitemap <url> element; dropped whenever the page or its group changes.
        self.sitemap_entries: dict[str, str] = {}
        # language -> article id -> its Atom <entry>, for the articles now in the feed.
        self.feed_entries: dict[str, dict[str, str]] = {}
        # Bodies are read from the database only for the pages being rendered.
        self.loader: Callable[[list[str]], dict[str, dict]] | None = None
        self._fragments: dict[str, dict] = {}
        self._bulk: dict[str, set[str]] = {}  # language -> articles changed while its lists wait

    # --- loading and changing ---

    def add_loaded(self, page: dict) -> None:
        """Add a page while loading the model (similar lists are scored once at the end)."""
        self._index(page)

    def _index(self, page: dict) -> None:
        lang = page["lang"]
        self.feed_entries.get(lang, {}).pop(page["article_id"], None)
        self.by_id[page["article_id"]] = page
        self.by_address[(lang, page["slug"])] = page
        self.lang_listing.setdefault(lang, Listing()).insert(page)
        for kind, key in self.keyed_listings(page):
            self._table(kind).setdefault(lang, {}).setdefault(key, Listing()).insert(page)
        terms = self.page_terms(page)
        for kind, key in terms:
            self.cooccurrence.setdefault((kind, lang, key), Counter()).update(terms.keys())
        group = self.by_group.setdefault(page["group_id"], [])
        group.append(page)
        group.sort(key=lambda p: (_key_order(self.settings, p["lang"]), p["article_id"]))
        self._forget_entries(group)

    def _unindex(self, page: dict) -> None:
        lang = page["lang"]
        self.feed_entries.get(lang, {}).pop(page["article_id"], None)
        del self.by_id[page["article_id"]]
        del self.by_address[(lang, page["slug"])]
        self.lang_listing[lang].remove(page)
        if not self.lang_listing[lang]:
            del self.lang_listing[lang]
        for kind, key in self.keyed_listings(page):
            table = self._table(kind)[lang]
            table[key].remove(page)
            if not table[key]:
                del table[key]
        terms = self.page_terms(page)
        for kind, key in terms:
            counter = self.cooccurrence[(kind, lang, key)]
            counter.subtract(terms.keys())
            for term in terms:
                if counter[term] <= 0:
                    del counter[term]
            if not counter:
                del self.cooccurrence[(kind, lang, key)]
        group = self.by_group[page["group_id"]]
        group.remove(page)
        self._forget_entries([page, *group])
        if not group:
            del self.by_group[page["group_id"]]

    def _forget_entries(self, pages: list[dict]) -> None:
        # A sitemap entry names the page's whole group, so a change to one version changes all of them.
        for other in pages:
            self.sitemap_entries.pop(other["article_id"], None)

    def _footprint(self, article_id: str) -> _Footprint:
        fp = _Footprint()
        page = self.by_id.get(article_id)
        if page is None:
            return fp
        lang = page["lang"]
        fp.files.update({article_file(page), f"{lang}/feed.xml", self.sitemap_of(page)})
        if self.page_category_keys(page):
            fp.files.add(f"{lang}/{CATEGORY_SITEMAP}")
        for sibling in self.siblings(page):
            # A sibling's sitemap entry lists this page among its alternates.
            fp.files.update({article_file(sibling), self.sitemap_of(sibling)})
        for old in self.redirects_of(article_id):
            fp.files.add(f"{old['lang']}/{old['slug']}/index.html")
        listings = [(("lang", lang, ""), self.lang_listing[lang])]
        listings += [((kind, lang, key), self._table(kind)[lang][key]) for kind, key in self.keyed_listings(page)]
        for name, listing in listings:
            fp.listings[name] = (listing.oldest_index(page), len(listing))
        index = self.similar_index.get(lang)
        if index is not None:
            fp.listed_by = index.listing(article_id)
        return fp

    def _listing_base(self, name: tuple) -> str:
        kind, lang, key = name
        return f"{lang}/" if kind == "lang" else f"{lang}/{kind}/{key}/"

    def _change(self, article_id: str, mutate: Callable[[], set[str]]) -> set[str]:
        languages = self.languages
        before = self._footprint(article_id)
        everything_before = None if self._in_configured_language(article_id) else set(self.paths())
        similar_changed = mutate()
        after = self._footprint(article_id)
        paths = {"robots.txt", "sitemap.xml"} | before.files | after.files
        for name in before.listings.keys() | after.listings.keys():
            old_index, old_n = before.listings.get(name, (None, None))
            new_index, new_n = after.listings.get(name, (None, None))
            if old_n is None:
                old_n = new_n - 1
            if new_n is None:
                new_n = old_n - 1
            j = min(i for i in (old_index, new_index) if i is not None)
            base = self._listing_base(name)
            paths.update(listing_file(base, k) for k in Listing.changed_pages(j, old_n, new_n, old_index != new_index))
            if name[0] in RELATED_KINDS:
                # Its related topics count every article of the listing, so an old one edited in place too.
                paths.add(listing_file(base, None))
            if name[0] == "lang":
                paths.update(self._sitemaps_changed(name[1], j, old_n, new_n, old_index != new_index))
        by_id = self.by_id
        for other in before.listed_by | after.listed_by | similar_changed:
            if other in by_id:
                paths.add(article_file(by_id[other]))
        if everything_before is not None or self.languages != languages:
            paths |= (everything_before or set()) | set(self.paths())
        return paths

    def sitemap_of(self, page: dict) -> str:
        """The sitemap file that lists ``page``."""
        return sitemap_file(page["lang"], self.lang_listing[page["lang"]].oldest_index(page) // content.SITEMAP_SIZE + 1)

    @staticmethod
    def _sitemaps_changed(lang: str, j: int, n_before: int, n_after: int, moved: bool) -> set[str]:
        """Sitemap files of ``lang`` whose entries change when the article at oldest position ``j`` changed."""
        # Sitemaps of 0.2.0 and before: one file per language, deleted (or found absent) here.
        out = {f"{lang}/sitemap.xml"}
        first = j // content.SITEMAP_SIZE + 1
        last = max(sitemap_count(n_before), sitemap_count(n_after)) if moved or n_before != n_after else first
        out.update(sitemap_file(lang, k) for k in range(first, last + 1))
        return out

    def _in_configured_language(self, article_id: str) -> bool:
        # Only a page in a language outside the configured ones can add or remove a language.
        page = self.by_id.get(article_id)
        return page is None or page["lang"] in self.settings.languages

    def put(self, meta_page: dict, terms: list) -> set[str]:
        """Apply a stored publish (the row as the database now holds it); return the files it may change."""
        article_id = meta_page["article_id"]

        def mutate() -> set[str]:
            changed: set[str] = set()
            old = self.by_id.get(article_id)
            for lang in (old["lang"] if old else None, meta_page["lang"]):
                if lang in self._bulk:
                    self._bulk[lang].add(article_id)
            if old is not None:
                self._unindex(old)
                if (old["lang"], old["slug"]) != (meta_page["lang"], meta_page["slug"]):
                    self.moved[(old["lang"], old["slug"])] = article_id
                if old["lang"] != meta_page["lang"]:
                    changed |= self._similar(old["lang"]).drop(article_id)
            self.moved.pop((meta_page["lang"], meta_page["slug"]), None)
            self._index(meta_page)
            changed |= self._similar(meta_page["lang"]).put(article_id, terms, newest_first(meta_page))
            return changed

        if meta_page["lang"] not in self.settings.languages and meta_page["lang"] not in self.lang_listing:
            everything = set(self.paths())
            return self._change(article_id, mutate) | everything
        return self._change(article_id, mutate)

    def drop(self, article_id: str) -> set[str]:
        """Apply a stored unpublish; return the files it may change."""
        page = self.by_id.get(article_id)
        if page is None:
            return set()

        def mutate() -> set[str]:
            if page["lang"] in self._bulk:
                self._bulk[page["lang"]].add(article_id)
            self._unindex(page)
            for address in [a for a, i in self.moved.items() if i == article_id]:
                del self.moved[address]
            return self._similar(page["lang"]).drop(article_id)

        return self._change(article_id, mutate)

    def _similar(self, lang: str) -> similar.SimilarIndex:
        return self.similar_index.setdefault(lang, similar.SimilarIndex(SIMILAR_COUNT))

    def begin_bulk(self, langs: Iterable[str]) -> None:
        """Score the similar lists of ``langs`` once at ``end_bulk`` rather than per change."""
        for lang in langs:
            self._similar(lang).begin_bulk()
            self._bulk.setdefault(lang, set())

    def end_bulk(self) -> set[str]:
        """Score the waiting languages; return the article files whose similar list changed or shows a changed article."""
        paths = set()
        for lang, touched in self._bulk.items():
            for other in self._similar(lang).end_bulk(touched):
                if other in self.by_id:
                    paths.add(article_file(self.by_id[other]))
        self._bulk = {}
        return paths

    # --- what the pages read ---

    @staticmethod
    def page_tags(page: dict) -> list[str]:
        """The URL keys of a page's tags, each once."""
        return list(dict.fromkeys(tag_key(t) for t in page["snapshot"].get("tags", [])))

    @staticmethod
    def page_category_keys(page: dict) -> list[str]:
        """The URL keys of a page's categories, each once."""
        return list(dict.fromkeys(tag_key(c) for c in page_categories(page)))

    @classmethod
    def keyed_listings(cls, page: dict) -> list[tuple[str, str]]:
        """(kind, key) of every author, tag and category listing the page is in."""
        return ([("authors", key) for key in author_keys(page)] + [("tags", key) for key in cls.page_tags(page)]
                + [("categories", key) for key in cls.page_category_keys(page)])

    def _table(self, kind: str) -> dict[str, dict[str, Listing]]:
        return self._tables[kind]

    @property
    def languages(self) -> list[str]:
        """Configured languages, then any other language that has pages."""
        extra = sorted(set(self.lang_listing) - set(self.settings.languages))
        return list(self.settings.languages) + extra

    def articles(self, lang: str) -> list[dict]:
        """A language's live articles, newest first."""
        listing = self.lang_listing.get(lang)
        return listing.items if listing else []

    def listing(self, kind: str, lang: str, key: str = "") -> Listing | None:
        """The listing of a language (``lang``), an author (``authors``), a tag (``tags``) or a category (``categories``)."""
        if kind == "lang":
            return self.lang_listing.get(lang)
        return self._table(kind).get(lang, {}).get(key)

    @staticmethod
    def page_terms(page: dict) -> dict[tuple[str, str], str]:
        """(kind, key) -> name of a page's categories, then its tags, each once (the first spelling wins)."""
        terms: dict[tuple[str, str], str] = {}
        for name in page_categories(page):
            terms.setdefault(("categories", tag_key(name)), name)
        for name in page["snapshot"].get("tags", []):
            terms.setdefault(("tags", tag_key(name)), name)
        return terms

    def related_topics(self, kind: str, lang: str, key: str) -> list[tuple[str, str, str]]:
        """(kind, key, name) of the categories, then tags, most used with a tag's or category's term in its listing."""
        counter = self.cooccurrence.get((kind, lang, key)) if kind in RELATED_KINDS else None
        if not counter:
            return []
        # The counts are kept change by change, so ranking costs the listing's distinct terms, not its articles.
        order = {k: i for i, k in enumerate(RELATED_KINDS)}
        top = heapq.nsmallest(RELATED_TOPICS, ((order[t[0]], -n, t[1], t[0]) for t, n in counter.items()
                                               if t != (kind, key)))
        return [(term_kind, term_key, self._term_name(kind, lang, key, (term_kind, term_key)))
                for _, _, term_key, term_kind in top]

    def _term_name(self, kind: str, lang: str, key: str, term: tuple[str, str]) -> str:
        """The name the newest article of listing ``key`` carrying ``term`` gives it."""
        # Walk the shorter of the two listings, newest first: the first article in both is the one.
        here, there = self.listing(kind, lang, key), self.listing(term[0], lang, term[1])
        for page in (here if len(here) <= len(there) else there).items:
            terms = self.page_terms(page)
            if term in terms and (kind, key) in terms:
                return terms[term]
        raise KeyError(f"{term} is counted in the {kind} listing {lang}/{key} but no article carries it")

    def siblings(self, page: dict) -> list[dict]:
        """The live versions of the page's group, itself included, in configured language order."""
        return self.by_group.get(page["group_id"], [])

    def similar(self, article_id: str) -> list[dict]:
        """The live articles most similar to one, same language, never itself."""
        index = self.similar_index.get(self.by_id[article_id]["lang"])
        return [self.by_id[i] for i in index.ids(article_id)] if index else []

    def redirects_of(self, article_id: str) -> list[dict]:
        """The old addresses that lead to a live article (none when a page took one back)."""
        return [{"lang": lang, "slug": slug, "article_id": i} for (lang, slug), i in sorted(self.moved.items())
                if i == article_id and (lang, slug) not in self.by_address]

    def fragment(self, page: dict) -> dict:
        """The stored body HTML and description of an article (read on demand)."""
        article_id = page["article_id"]
        if article_id not in self._fragments:
            if self.loader is None:
                raise RuntimeError("no fragment loader: render inside a flush or a rebuild")
            self._fragments.update(self.loader([article_id]))
        return self._fragments[article_id]

    def prefetch(self, article_ids: Iterable[str]) -> None:
        """Read the fragments of many articles in one go."""
        missing = [i for i in article_ids if i not in self._fragments]
        if missing and self.loader is not None:
            self._fragments.update(self.loader(missing))

    def forget_fragments(self) -> None:
        """Drop the bodies read for the last render."""
        self._fragments.clear()

    # --- the files ---

    def paths(self) -> list[str]:
        """Every file of the site, relative to SITE_DIR."""
        out = ["robots.txt", "sitemap.xml"]
        for lang in self.languages:
            out += [f"{lang}/404.html", f"{lang}/feed.xml", listing_file(f"{lang}/", None)]
            listing = self.lang_listing.get(lang)
            if listing:
                out += [sitemap_file(lang, k) for k in range(1, sitemap_count(len(listing)) + 1)]
                out += [listing_file(f"{lang}/", k) for k in range(1, listing.archive_count() + 1)]
            if self.category_listing.get(lang):
                out.append(f"{lang}/{CATEGORY_SITEMAP}")
            for kind in LISTING_KINDS:
                for key, listing in self._table(kind).get(lang, {}).items():
                    base = f"{lang}/{kind}/{key}/"
                    out += [listing_file(base, None)] + [listing_file(base, k) for k in range(1, listing.archive_count() + 1)]
        out += [f"{lang}/{slug}/index.html" for (lang, slug), i in sorted(self.moved.items())
                if i in self.by_id and (lang, slug) not in self.by_address]
        out += [article_file(page) for page in self.by_id.values()]
        return out

    def render(self, rel: str, renderer: Renderer | None = None) -> str | None:
        """The text of one site file, None when the site has no such file."""
        r = renderer or Renderer(self)
        if rel == "robots.txt":
            return r.robots()
        if rel == "sitemap.xml":
            return r.sitemap_index()
        parts = rel.split("/")
        lang = parts[0]
        if lang not in self.languages or len(parts) < 2:
            return None
        if len(parts) == 2:
            name = parts[1]
            if name == "404.html":
                return r.not_found(lang)
            if name == "feed.xml":
                return r.feed(lang)
            if name == "index.html":
                return r.listing("lang", lang, "", None)
            numbered = _NUMBERED_SITEMAP.fullmatch(name)
            if numbered and lang in self.lang_listing:
                k = int(numbered.group(1))
                return r.sitemap(lang, k) if k <= sitemap_count(len(self.lang_listing[lang])) else None
            if name == CATEGORY_SITEMAP and self.category_listing.get(lang):
                return r.category_sitemap(lang)
            return None
        if parts[-1] != "index.html":
            return None
        if len(parts) == 3:
            page = self.by_address.get((lang, parts[1]))
            if page is not None:
                return r.article(page)
            moved_to = self.moved.get((lang, parts[1]))
            if moved_to in self.by_id:
                return r.redirect(self.by_id[moved_to], lang)
            return None
        middle = parts[1:-1]
        kind, key = ("lang", "") if middle[0] == "page" else (middle[0], middle[1] if len(middle) > 1 else "")
        rest = middle if kind == "lang" else middle[2:]
        if kind not in ("lang", *LISTING_KINDS) or (kind != "lang" and not key):
            return None
        listing = self.listing(kind, lang, key)
        if listing is None:
            return None
        if not rest:
            return None if kind == "lang" else r.listing(kind, lang, key, None)
        if len(rest) != 2 or rest[0] != "page" or not rest[1].isdigit() or str(int(rest[1])) != rest[1]:
            return None
        k = int(rest[1])
        return r.listing(kind, lang, key, k) if 1 <= k <= listing.archive_count() else None

    def outputs(self) -> dict[str, Callable[[], str]]:
        """Every file of the site and the function rendering it."""
        r = Renderer(self)
        return {rel: (lambda rel=rel: self.render(rel, r)) for rel in self.paths()}


# --- the live model -----------------------------------------------------------------------------

_LIVE: dict[tuple, SiteModel] = {}


def _live_key(conn: Connection, settings: Settings) -> tuple:
    return (conn.engine.url.render_as_string(hide_password=False), str(settings.site_dir), settings.site_url,
            tuple(settings.languages))


def live_model(conn: Connection, settings: Settings) -> SiteModel:
    """The model this process keeps for a database and site, loaded again only when another process changed it."""
    key = _live_key(conn, settings)
    model = _LIVE.get(key)
    if model is None or model.version != read_version(conn):
        model = _LIVE[key] = load_model(conn, settings)
    return model


def forget_live_model(conn: Connection, settings: Settings) -> None:
    """Drop the kept model (after a failed change: the database rolled back, the model did not)."""
    _LIVE.pop(_live_key(conn, settings), None)


# --- writing files ------------------------------------------------------------------------------


@dataclass
class RenderReport:
    """What a render did to SITE_DIR."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    variants: int = 0  # image variants generated (none for images whose variants exist)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _stored_hashes(conn: Connection, paths: list[str]) -> dict[str, tuple]:
    out = {}
    for i in range(0, len(paths), 500):
        rows = conn.execute(select(page_hashes).where(page_hashes.c.path.in_(paths[i:i + 500])))
        out.update({r.path: (r.digest, r.size, r.mtime_ns) for r in rows})
    return out


def _stage_one(rel: str, data: str | None, stored: tuple | None, site_dir: Path) -> tuple:
    """Decide what one file needs and stage new bytes in a hidden temporary file beside it.

    Returns (path, outcome, digest, size, mtime_ns, temp path); nothing visible changes until
    ``_publish_staged``, so a render that fails part way leaves the live site as it was.
    """
    target = site_dir / rel
    if data is None:
        if target.is_file():
            return rel, "remove", None, None, None, None
        return rel, "absent", None, None, None, None
    raw = data.encode("utf-8")
    digest = _digest(raw)
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None and stored is not None and stored == (digest, st.st_size, st.st_mtime_ns):
        return rel, "unchanged", None, None, None, None
    # The file was changed behind our back (or never recorded): its bytes decide.
    if st is not None and st.st_size == len(raw) and target.read_bytes() == raw:
        return rel, "same", digest, st.st_size, st.st_mtime_ns, None
    return rel, "write", digest, len(raw), None, _write_hidden(target, raw)


def _discard_staged(staged: Iterable[tuple]) -> None:
    """Delete the temporary files of a render that will not be published."""
    for item in staged:
        if item[5]:
            Path(item[5]).unlink(missing_ok=True)


def _publish_staged(staged: list[tuple], site_dir: Path) -> list[tuple]:
    """Move every staged file into place and remove the files gone; return (path, outcome, digest, size, mtime_ns)."""
    done = []
    for rel, outcome, digest, size, mtime_ns, tmp in staged:
        target = site_dir / rel
        if outcome == "write":
            os.replace(tmp, target)
            done.append((rel, "written", digest, size, target.stat().st_mtime_ns))
        elif outcome == "remove":
            target.unlink(missing_ok=True)
            _prune_empty_dirs(target.parent, site_dir)
            done.append((rel, "removed", None, None, None))
        else:
            done.append((rel, outcome, digest, size, mtime_ns))
    return done


def _record(conn: Connection | None, results: list[tuple], report: RenderReport) -> None:
    gone, fresh = [], []
    for rel, outcome, digest, size, mtime_ns in results:
        if outcome == "written":
            report.written.append(rel)
        elif outcome == "removed":
            report.removed.append(rel)
        elif outcome in ("unchanged", "same"):
            report.unchanged += 1
        if outcome in ("removed", "absent"):
            gone.append(rel)
        elif digest is not None:
            fresh.append({"path": rel, "digest": digest, "size": size, "mtime_ns": mtime_ns})
    if conn is None:
        return
    for i in range(0, len(gone), 500):
        conn.execute(delete(page_hashes).where(page_hashes.c.path.in_(gone[i:i + 500])))
    for i in range(0, len(fresh), 500):
        chunk = fresh[i:i + 500]
        conn.execute(delete(page_hashes).where(page_hashes.c.path.in_([f["path"] for f in chunk])))
        conn.execute(page_hashes.insert(), chunk)


def _article_ids(model: SiteModel, paths: Iterable[str]) -> list[str]:
    """The articles whose bodies rendering ``paths`` needs (article pages and feed entries)."""
    from .render import FEED_SIZE

    ids = []
    for rel in paths:
        parts = rel.split("/")
        if len(parts) == 3 and parts[2] == "index.html" and (parts[0], parts[1]) in model.by_address:
            ids.append(model.by_address[(parts[0], parts[1])]["article_id"])
        elif len(parts) == 2 and parts[1] == "feed.xml":
            ids += [p["article_id"] for p in model.articles(parts[0])[:FEED_SIZE]]
    return ids


def apply(model: SiteModel, paths: Iterable[str], site_dir: Path, conn: Connection | None = None,
          report: RenderReport | None = None, progress: Callable[[int, int], None] | None = None) -> RenderReport:
    """Render ``paths`` of ``model`` into ``site_dir``: write files whose bytes changed, remove those gone.

    With ``conn``, stored digests decide what changed and are updated; without, files are compared on disk.
    """
    report = report or RenderReport()
    ordered = sorted(paths)
    stored = _stored_hashes(conn, ordered) if conn is not None else {}
    r = Renderer(model)
    staged: list[tuple] = []
    try:
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            model.prefetch(_article_ids(model, chunk))
            for rel in chunk:
                staged.append(_stage_one(rel, model.render(rel, r), stored.get(rel), site_dir))
            model.forget_fragments()
            if progress:
                progress(len(staged), len(ordered))
    except BaseException:
        _discard_staged(staged)
        raise
    _record(conn, _publish_staged(staged, site_dir), report)
    return report


def _prune_empty_dirs(directory: Path, site_dir: Path) -> None:
    while directory != site_dir and site_dir in directory.parents:
        try:
            directory.rmdir()
        except OSError:  # not empty: something else still lives here
            return
        directory = directory.parent


# --- changes ------------------------------------------------------------------------------------


def _stored_page(conn: Connection, article_id: str) -> tuple[dict, list] | None:
    row = conn.execute(
        select(pages.c.article_id, pages.c.group_id, pages.c.lang, pages.c.slug, pages.c.revision, pages.c.title,
               pages.c.published_at, pages.c.updated_at, fragments.c.meta, fragments.c.terms)
        .select_from(pages.join(fragments, fragments.c.article_id == pages.c.article_id))
        .where(pages.c.article_id == article_id)).mappings().first()
    if row is None:
        return None
    page = _page_dict({k: row[k] for k in ("article_id", "group_id", "lang", "slug", "revision", "title",
                                           "published_at", "updated_at")})
    page["snapshot"] = model_meta(row["meta"])
    return page, _term_pairs(row["terms"])


def flush(conn: Connection, settings: Settings, changes: Iterable[dict]) -> RenderReport:
    """Apply many changes in order (``{"action": "publish", "snapshot": ...}`` or ``{"action": "remove",
    "article_id": ...}``) to the database and the live model, then render once what any of them changed."""
    lock(conn)
    model = live_model(conn, settings)
    changes = list(changes)
    try:
        per_lang: dict[str, int] = {}
        for change in changes:
            if change["action"] not in ("publish", "remove"):
                raise ValueError(f"unknown render action {change['action']!r}")
            known = model.by_id.get(change["snapshot"]["article_id"] if change["action"] == "publish" else change["article_id"])
            for lang in {change["snapshot"]["lang"] if change["action"] == "publish" else None,
                         known["lang"] if known else None} - {None}:
                per_lang[lang] = per_lang.get(lang, 0) + 1
        model.begin_bulk(lang for lang, n in per_lang.items() if n >= BULK_CHANGES)
        paths: set[str] = set()
        variants = 0
        for change in changes:
            if change["action"] == "publish":
                snapshot = change["snapshot"]
                variants += images.ensure_variants(conn, settings, snapshot.get("images") or {}, write_atomic)
                if upsert_page(conn, snapshot):
                    page, terms = _stored_page(conn, snapshot["article_id"])
                    paths |= model.put(page, terms)
            elif change["action"] == "remove":
                if delete_page(conn, change["article_id"]):
                    paths |= model.drop(change["article_id"])
            else:
                raise ValueError(f"unknown render action {change['action']!r}")
        paths |= model.end_bulk()
        store_similar_tables(conn, model)
        model.version = read_version(conn)
        if not paths:
            return RenderReport(variants=variants)
        for lang in model.languages:
            # Bootstrap a language nothing was published in yet.
            for name in (listing_file(f"{lang}/", None), f"{lang}/feed.xml", f"{lang}/404.html"):
                if not (settings.site_dir / name).exists():
                    paths.add(name)
        model.loader = lambda ids: fetch_fragments(conn, ids)
        try:
            return apply(model, paths, settings.site_dir, conn, RenderReport(variants=variants))
        finally:
            model.loader = None
    except BaseException:
        forget_live_model(conn, settings)
        raise


def publish(conn: Connection, snapshot: dict, settings: Settings) -> RenderReport:
    """Store a published snapshot and render exactly what it changes."""
    return flush(conn, settings, [{"action": "publish", "snapshot": snapshot}])


def unpublish(conn: Connection, article_id: str, settings: Settings) -> RenderReport:
    """Take an article (and its old addresses) off the site and re-render what linked to it."""
    return flush(conn, settings, [{"action": "remove", "article_id": article_id}])


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


# --- full rebuild -------------------------------------------------------------------------------

# Set in the parent before the pool forks: children inherit the model instead of loading it.
_POOL_MODEL: SiteModel | None = None
_POOL_ENGINE = None


def _pool_init(database_url: str) -> None:
    global _POOL_ENGINE
    _POOL_ENGINE = make_engine(database_url)


def _pool_render(job: tuple[list[str], dict, str]) -> list[tuple]:
    paths, stored, site_dir = job
    model = _POOL_MODEL
    with read_only(_POOL_ENGINE) as conn:
        model.loader = lambda ids: fetch_fragments(conn, ids)
        model.prefetch(_article_ids(model, paths))
        r = Renderer(model)
        out: list[tuple] = []
        try:
            for rel in paths:
                out.append(_stage_one(rel, model.render(rel, r), stored.get(rel), Path(site_dir)))
        except BaseException:
            _discard_staged(out)
            raise
        model.forget_fragments()
        model.loader = None
    return out


def _stale_outputs(site_dir: Path, expected: set[str]) -> set[str]:
    """Output files no page of the model names; staged files left by a render that died are deleted."""
    stale = set()
    if site_dir.is_dir():
        for dirpath, _, files in os.walk(site_dir):
            for name in files:
                if name.startswith(STAGED_PREFIX):
                    # Under the render lock no other render is staging: this one's process died.
                    Path(dirpath, name).unlink(missing_ok=True)
                elif name in OUTPUT_NAMES or _NUMBERED_SITEMAP.fullmatch(name):
                    rel = Path(dirpath, name).relative_to(site_dir).as_posix()
                    if rel not in expected:
                        stale.add(rel)
    return stale


def rebuild(conn: Connection, settings: Settings, progress: Callable[[int, int], None] | None = None,
            jobs: int | None = None, record: bool = True) -> RenderReport:
    """Render the whole site from the stored fragments, on ``jobs`` processes (default: every core for a
    large site, else this one), and delete stale output files. ``record`` keeps the digests of what it
    wrote (for SITE_DIR itself)."""
    global _POOL_MODEL
    lock(conn)
    if _fill_fragments(conn):
        # The pool reads fragments through its own connections, which see only committed rows.
        jobs = 1
    bump_version(conn)
    model = load_model(conn, settings)
    site_dir = settings.site_dir
    # Variants already made are only checked for on disk.
    variants = sum(images.ensure_variants(conn, settings, page["snapshot"].get("images") or {}, write_atomic)
                   for page in model.by_id.values())
    expected = model.paths()
    ordered = sorted(set(expected) | _stale_outputs(site_dir, set(expected)))
    stored = _stored_hashes(conn, ordered) if record else {}
    report = RenderReport(variants=variants)
    if jobs is None:
        jobs = (os.cpu_count() or 1) if len(ordered) >= POOL_MIN_FILES else 1
    if jobs == 1:
        model.loader = lambda ids: fetch_fragments(conn, ids)
        apply(model, ordered, site_dir, conn if record else None, report, progress)
        model.loader = None
        return report
    chunks = [ordered[i:i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
    results: list[tuple] = []
    _POOL_MODEL = model
    # Frozen objects are never traversed by the children's collector, so the model's pages stay
    # shared with the parent instead of being copied into every child.
    gc.freeze()
    try:
        ctx = multiprocessing.get_context("fork")
        url = conn.engine.url.render_as_string(hide_password=False)
        with ctx.Pool(jobs, initializer=_pool_init, initargs=(url,)) as pool:
            for part in pool.imap_unordered(_pool_render, [(c, {p: stored[p] for p in c if p in stored}, str(site_dir))
                                                          for c in chunks]):
                results += part
                if progress:
                    progress(len(results), len(ordered))
    except BaseException:
        _discard_staged(results)
        raise
    finally:
        _POOL_MODEL = None
        gc.unfreeze()
    _record(conn if record else None, _publish_staged(results, site_dir), report)
    return report
