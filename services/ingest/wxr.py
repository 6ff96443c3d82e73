"""WordPress import: turn a WXR export (Tools -> Export) into draft, in-review and approved articles.

Only posts are imported (pages, attachments and menu items are reported as skipped). A post's
HTML content becomes the article body as it is: Markdown passes raw HTML through and
``markdown_to_html`` sanitises it. ``dc:creator`` names the author, categories and tags become
tags. Nothing bypasses the pipeline: every article is created as a draft and moved on with the
workflow's own transitions (WordPress ``publish`` -> ``approved``, ``pending`` -> ``in_review``,
``draft`` -> ``draft``), each audited with a note carrying the WordPress status and date; an
editor then publishes them. Translations exported by WPML (``_icl_lang_code`` / ``wpml_language``
/ ``_wpml_import_*`` post meta, ``trid``, ``wpml_translation_of``) or Polylang (``language``
taxonomy, ``post_translations`` terms holding a serialized PHP array) land in one translation
group whose source is the original (or the first site language).

The whole file is parsed and validated before anything is stored, entity declarations are
refused (no billion-laughs expansion), and everything is stored in one transaction. A post's
``guid`` is recorded in ``wxr_imports``, so importing the same file again creates nothing.

CLI: ``python -m services.ingest.wxr export.xml [--lang en]``.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Callable
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine

from shared.errors import Conflict, InvalidInput
from shared.events import utcnow
from shared.workflow import Role

from . import authors as author_store
from .commands import create_article, transition
from .db import articles, audit_log, metadata, wxr_imports
from .validation import parse_article_input


# WordPress status -> the workflow actions that bring a new draft to the matching state.
STATUS_ACTIONS = {"publish": ("submit", "approve"), "future": ("submit", "approve"),
                  "pending": ("submit",), "draft": (), "private": ()}
SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}
_LANG_KEYS = ("_wpml_import_language_code", "wpml_language", "_icl_lang_code")
_GROUP_KEYS = ("_wpml_import_translation_group", "trid", "_icl_trid", "wpml_trid")
_ORIGINAL_KEYS = ("wpml_translation_of", "_icl_translation_of", "_wpml_import_original_post_id")
_SOURCE_LANG_KEY = "_wpml_import_source_language_code"
_NS = {"content": "http://purl.org/rss/1.0/modules/content/", "dc": "http://purl.org/dc/elements/1.1/"}
MAX_LISTED_PROBLEMS = 20


@dataclass
class WxrPost:
    """One ``<item>`` of the export, as far as the import needs it."""

    guid: str
    post_id: str
    title: str
    content: str
    excerpt: str
    creator: str
    tags: list[str]
    status: str
    post_type: str
    date: str
    date_gmt: str
    lang: str | None = None
    group_keys: list[str] = field(default_factory=list)
    translation_of: str | None = None
    is_original: bool | None = None

    def label(self) -> str:
        """How messages name the post."""
        return f"post {self.post_id or '?'} {self.title[:60]!r}"


@dataclass
class WxrExport:
    """What an export holds: its posts, its authors (login -> display name) and what was left out."""

    posts: list[WxrPost]
    authors: dict[str, str]
    skipped: list[dict]


def _ns_ok(uri: str, prefix: str) -> bool:
    if prefix == "wp":
        return uri.startswith("http://wordpress.org/export/") and not uri.endswith("/excerpt/")
    if prefix == "excerpt":
        return uri.startswith("http://wordpress.org/export/") and uri.endswith("/excerpt/")
    return uri == _NS[prefix]


def _children(el: Element, name: str) -> list[Element]:
    """Children named ``prefix:local`` (any WXR version) or plain ``local``."""
    prefix, _, local = name.rpartition(":")
    found = []
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        uri, _, tag = child.tag[1:].partition("}") if child.tag.startswith("{") else ("", "", child.tag)
        if tag == local and ((not prefix and not uri) or (prefix and uri and _ns_ok(uri, prefix))):
            found.append(child)
    return found


def _text(el: Element, name: str) -> str:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else ""


def php_unserialize(data: str):
    """Decode PHP ``serialize()`` output (arrays, strings, ints, floats, booleans, null) as Python."""
    raw = data.encode("utf-8")
    value, end = _php_value(raw, 0)
    if raw[end:].strip():
        raise ValueError(f"unexpected data after position {end}")
    return value


def _php_value(raw: bytes, i: int):
    kind = raw[i:i + 2]
    if kind == b"N;":
        return None, i + 2
    if kind in (b"i:", b"d:", b"b:"):
        end = raw.index(b";", i)
        token = raw[i + 2:end].decode()
        value = int(token) if kind == b"i:" else float(token) if kind == b"d:" else token == "1"
        return value, end + 1
    if kind == b"s:":
        colon = raw.index(b":", i + 2)
        length = int(raw[i + 2:colon])
        start = colon + 2  # past ':"'
        if raw[colon + 1:start] != b'"' or raw[start + length:start + length + 2] != b'";':
            raise ValueError(f"bad string at position {i}")
        return raw[start:start + length].decode("utf-8"), start + length + 2
    if kind == b"a:":
        colon = raw.index(b":", i + 2)
        count = int(raw[i + 2:colon])
        if raw[colon + 1:colon + 2] != b"{":
            raise ValueError(f"bad array at position {i}")
        j, out = colon + 2, {}
        for _ in range(count):
            key, j = _php_value(raw, j)
            out[key], j = _php_value(raw, j)
        if raw[j:j + 1] != b"}":
            raise ValueError(f"array at position {i} is not closed")
        return out, j + 1
    raise ValueError(f"unsupported PHP value {kind!r} at position {i}")


def parse_xml(xml_bytes: bytes) -> Element:
    """The document's root, refusing malformed XML and entity declarations with a message saying why."""
    if not xml_bytes.strip():
        raise InvalidInput("file", "the file is empty; export the site again from WordPress (Tools -> Export)")
    try:
        return fromstring(xml_bytes, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidInput("file", f"the file declares XML entities or external references ({type(exc).__name__}); "
                       "WordPress exports never do, so it was refused to avoid entity expansion. "
                       "Export the site again from WordPress") from exc
    except ParseError as exc:
        raise InvalidInput("file", f"the file is not well-formed XML ({exc}); nothing was imported. "
                       "Export the site again from WordPress, or fix the XML at that line") from exc


def parse_wxr(xml_bytes: bytes) -> WxrExport:
    """Read an export (pure: bytes in, posts out); raise InvalidInput when it is not a WordPress export."""
    root = parse_xml(xml_bytes)
    channel = _children(root, "channel")
    if root.tag != "rss" or not channel:
        raise InvalidInput("file", f"this is XML but not a WordPress export: the root is <{root.tag}>, expected <rss> "
                       "with a <channel> (Tools -> Export in WordPress writes one)")
    channel = channel[0]
    if not _children(channel, "wp:wxr_version") and not any(_children(i, "wp:post_type") for i in _children(channel, "item")):
        raise InvalidInput("file", "this RSS feed is not a WordPress export (no wp:wxr_version); "
                       "use the file from WordPress's Tools -> Export, not the site's public feed")
    authors = {}
    for author in _children(channel, "wp:author"):
        login = _text(author, "wp:author_login")
        if login:
            authors[login] = _text(author, "wp:author_display_name") or login
    polylang = {}  # term slug -> {lang: post_id}
    for term in _children(channel, "wp:term"):
        if _text(term, "wp:term_taxonomy") == "post_translations":
            try:
                mapping = php_unserialize(_text(term, "wp:term_description"))
            except (ValueError, IndexError) as exc:
                raise InvalidInput("file", f"the Polylang translation term {_text(term, 'wp:term_slug')!r} holds a "
                               f"malformed serialized array ({exc}); export the site again") from exc
            if isinstance(mapping, dict):
                polylang[_text(term, "wp:term_slug")] = {str(k): str(v) for k, v in mapping.items()}
    posts, skipped = [], []
    for item in _children(channel, "item"):
        post = _post(item)
        if post.post_type != "post":
            skipped.append({"guid": post.guid, "title": post.title,
                            "reason": f"a WordPress {post.post_type or 'item'}, not a post"})
        elif post.status in SKIPPED_STATUSES or post.status not in STATUS_ACTIONS:
            skipped.append({"guid": post.guid, "title": post.title, "reason": f"status {post.status!r}"})
        else:
            posts.append(post)
    _polylang_groups(posts, polylang)
    return WxrExport(posts, authors, skipped)


def _post(item: Element) -> WxrPost:
    meta = {_text(m, "wp:meta_key"): _text(m, "wp:meta_value") for m in _children(item, "wp:postmeta")}
    tags, lang, pll_terms = [], None, []
    for cat in _children(item, "category"):
        domain, name = cat.get("domain", ""), (cat.text or "").strip()
        if domain in ("category", "post_tag") and name and cat.get("nicename") != "uncategorized":
            if name not in tags:
                tags.append(name)
        elif domain == "language":
            lang = cat.get("nicename") or name
        elif domain == "post_translations":
            pll_terms.append(cat.get("nicename") or name)
    lang = lang or next((meta[k] for k in _LANG_KEYS if meta.get(k)), None)
    group_keys = [f"pll:{t}" for t in pll_terms]
    group_keys += [f"wpml:{meta[k]}" for k in _GROUP_KEYS if meta.get(k)]
    translation_of = next((meta[k] for k in _ORIGINAL_KEYS if meta.get(k)), None)
    is_original = None
    if _SOURCE_LANG_KEY in meta or translation_of:
        is_original = not meta.get(_SOURCE_LANG_KEY) and not translation_of
    post_id = _text(item, "wp:post_id")
    return WxrPost(
        guid=_text(item, "guid") or f"post:{post_id}", post_id=post_id, title=_text(item, "title"),
        content=_text(item, "content:encoded"),
        excerpt=_text(item, "excerpt:encoded"), creator=_text(item, "dc:creator"), tags=tags,
        status=_text(item, "wp:status"), post_type=_text(item, "wp:post_type"),
        date=_text(item, "wp:post_date"), date_gmt=_text(item, "wp:post_date_gmt"),
        lang=(lang or None) and lang.lower(), group_keys=group_keys, translation_of=translation_of,
        is_original=is_original,
    )


def _polylang_groups(posts: list[WxrPost], polylang: dict[str, dict[str, str]]) -> None:
    """Polylang's term maps language -> post id; tag each listed post with the term as a group key."""
    by_id = {p.post_id: p for p in posts}
    for slug, mapping in polylang.items():
        for lang, post_id in mapping.items():
            post = by_id.get(post_id)
            if post is not None:
                post.lang = post.lang or lang
                if f"pll:{slug}" not in post.group_keys:
                    post.group_keys.append(f"pll:{slug}")


def plan_groups(posts: list[WxrPost], languages: tuple[str, ...]) -> list[list[WxrPost]]:
    """Posts grouped by translation (union of shared group keys and translation-of links), source first."""
    parent = {p.guid: p.guid for p in posts}

    def find(guid: str) -> str:
        while parent[guid] != guid:
            parent[guid] = parent[parent[guid]]
            guid = parent[guid]
        return guid

    first_by_key: dict[str, str] = {}
    by_post_id = {p.post_id: p for p in posts if p.post_id}
    for post in posts:
        linked = [first_by_key.setdefault(k, post.guid) for k in post.group_keys]
        if post.translation_of in by_post_id:
            linked.append(by_post_id[post.translation_of].guid)
        for other in linked:
            parent[find(other)] = find(post.guid)
    groups: dict[str, list[WxrPost]] = {}
    for post in posts:
        groups.setdefault(find(post.guid), []).append(post)
    rank = {lang: i for i, lang in enumerate(languages)}
    return [sorted(g, key=lambda p: (p.is_original is not True, rank.get(p.lang or "", len(rank))))
            for g in groups.values()]


def _article_input(post: WxrPost, author: dict) -> dict:
    return {"lang": post.lang, "title": post.title, "body": post.content, "author": author,
            "references": [], "tags": post.tags, "group_id": None}


def _check(export: WxrExport, languages: tuple[str, ...], default_lang: str, max_body: int) -> list[list[WxrPost]]:
    """Give every post a language, group them, and raise one InvalidInput listing every problem."""
    problems = []
    for post in export.posts:
        post.lang = post.lang or default_lang
    posts = []
    for post in export.posts:
        if post.lang not in languages:
            export.skipped.append({"guid": post.guid, "title": post.title,
                                   "reason": f"language {post.lang!r} is not a site language ({', '.join(languages)})"})
        else:
            posts.append(post)
    seen = set()
    for post in posts:
        if post.guid in seen:
            problems.append(f"{post.label()}: guid {post.guid!r} appears twice in the file")
        seen.add(post.guid)
        try:
            parse_article_input(_article_input(post, {"name": _author_name(export, post)}), languages,
                                    max_body=max_body)
        except InvalidInput as exc:
            problems.append(f"{post.label()}: {exc.field} {exc.message}")
    groups = plan_groups(posts, languages)
    for group in groups:
        langs = [p.lang for p in group]
        for lang in sorted({lang for lang in langs if langs.count(lang) > 1}):
            names = ", ".join(p.label() for p in group if p.lang == lang)
            problems.append(f"{names} are all {lang!r} versions of one translation group; "
                            "a group has one post per language")
    if problems:
        more = len(problems) - MAX_LISTED_PROBLEMS
        listed = "; ".join(problems[:MAX_LISTED_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise InvalidInput("file", f"nothing was imported: {listed}. Fix these posts in WordPress and export again")
    return groups


def _author_name(export: WxrExport, post: WxrPost) -> str:
    return export.authors.get(post.creator, post.creator) or "Unknown author"


def _audit_note(post: WxrPost) -> str:
    when = post.date_gmt if post.date_gmt and not post.date_gmt.startswith("0000") else post.date
    return f"imported from WordPress post {post.post_id} (status {post.status}, dated {when or 'unknown'} GMT, guid {post.guid})"


def import_wxr(target, xml_bytes: bytes, *, languages: tuple[str, ...] | None = None,
               default_lang: str | None = None, actor: str = "wxr-import", role: Role | str = Role.ADMIN,
               site_url: str = "", max_body: int = 10_000_000,
               progress: Callable[[int, int], None] | None = None) -> dict:
    """Import a WXR export into ``target`` (a Runtime, whose transaction relays events, or an Engine)."""
    if not isinstance(target, Engine):
        settings = target.settings
        languages, site_url, max_body = languages or settings.languages, settings.site_url, settings.max_body_bytes
    languages = tuple(languages or ("en", "tr", "ru"))
    default_lang = default_lang or languages[0]
    export = parse_wxr(xml_bytes)
    groups = _check(export, languages, default_lang, max_body)
    total = sum(len(g) for g in groups)
    summary = {"created": [], "already_imported": [], "skipped": export.skipped, "posts": total}
    transaction = target.begin if isinstance(target, Engine) else target.transaction
    done = 0
    try:
        with transaction() as conn:
            for group in groups:
                for post, article in _import_group(conn, export, group, actor=actor, role=role,
                                                   languages=languages, site_url=site_url, max_body=max_body):
                    if article is None:
                        summary["already_imported"].append({"guid": post.guid, "title": post.title})
                    else:
                        summary["created"].append({
                            "article_id": article["id"], "group_id": article["group_id"], "lang": article["lang"],
                            "title": article["title"], "state": article["state"], "guid": post.guid,
                            "wp_status": post.status})
                    done += 1
                    if progress:
                        progress(done, total)
    except Conflict as exc:
        raise InvalidInput("file", f"nothing was imported: {exc.message}") from exc
    except InvalidInput as exc:
        raise InvalidInput("file", f"nothing was imported: {exc.field} {exc.message}") from exc
    return summary


def _import_group(conn: Connection, export: WxrExport, group: list[WxrPost], *, actor: str, role,
                  languages: tuple[str, ...], site_url: str, max_body: int):
    """Store a translation group's new posts (the source first); yield (post, article or None if known)."""
    known = dict(conn.execute(select(wxr_imports.c.guid, wxr_imports.c.article_id)
                              .where(wxr_imports.c.guid.in_([p.guid for p in group]))).all())
    group_id = None
    if known:
        group_id = conn.execute(select(articles.c.group_id).where(
            articles.c.id == next(iter(known.values())))).scalar_one()
    for post in group:
        if post.guid in known:
            yield post, None
            continue
        author = author_store.save_author(conn, _author_name(export, post), {})
        fields = parse_article_input(
            dict(_article_input(post, author_store.article_author(author, post.lang, languages)), group_id=group_id),
            languages, max_body=max_body)
        article = create_article(conn, fields, actor=actor)
        group_id = article["group_id"]
        for action in STATUS_ACTIONS[post.status]:
            article = transition(conn, article["id"], action, actor=actor, role=role, site_url=site_url)
        wp_note = _audit_note(post)
        conn.execute(update(audit_log).where(and_(audit_log.c.article_id == article["id"], audit_log.c.note.is_(None)))
                     .values(note=wp_note))
        conn.execute(update(audit_log).where(and_(audit_log.c.article_id == article["id"],
                                                  audit_log.c.note.is_not(None), audit_log.c.note != wp_note))
                     .values(note=audit_log.c.note + "; " + wp_note))
        conn.execute(wxr_imports.insert().values(
            guid=post.guid, article_id=article["id"], post_id=post.post_id, wp_status=post.status,
            wp_date=post.date_gmt or post.date, excerpt=post.excerpt or None, imported_at=utcnow()))
        yield post, article


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} posts")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """The CLI: import a WXR file into the configured ingest database."""
    from shared.config import load_settings
    from shared.runtime import build_runtime

    parser = argparse.ArgumentParser(prog="python -m services.ingest.wxr", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=argparse.FileType("rb"), help="the WXR file from WordPress's Tools -> Export")
    parser.add_argument("--lang", default=None, help="language of posts that carry no WPML/Polylang language "
                                                     "(default: the first of LANGUAGES)")
    parser.add_argument("--actor", default="wxr-import", help="the name recorded in the audit log")
    args = parser.parse_args(argv)
    settings = load_settings()
    rt = build_runtime("ingest", settings, metadata)
    with args.file:
        data = args.file.read()
    try:
        summary = import_wxr(rt, data, default_lang=args.lang, actor=args.actor, progress=_progress_bar)
    except InvalidInput as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"created {len(summary['created'])} article(s), {len(summary['already_imported'])} already imported, "
          f"{len(summary['skipped'])} skipped")
    for row in summary["created"]:
        print(f"  {row['state']:<10} {row['lang']}  {row['article_id']}  {row['title']}")
    for row in summary["skipped"]:
        print(f"  skipped    {row['title'] or row['guid']}: {row['reason']}")
    approved = sum(1 for row in summary["created"] if row["state"] == "approved")
    if approved:
        print(f"{approved} approved article(s) wait to be published (article pages, or the import-wxr form)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
