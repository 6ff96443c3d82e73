"""WordPress import: turn a WXR export (Tools -> Export) into draft, in-review and approved articles.

Only posts are imported (pages, attachments and menu items are reported as skipped). A post's
HTML content becomes the article body as it is: Markdown passes raw HTML through and
``markdown_to_html`` sanitises it. ``dc:creator`` names the author, or the ``author`` terms of
Co-Authors Plus (``cap-`` slugs) and similar plugins name every author in order; ``category``
terms become categories and ``post_tag`` terms tags. Nothing bypasses the pipeline: every article
is created as a draft and moved on with the workflow's own transitions (WordPress ``publish`` ->
``approved``, ``pending`` -> ``in_review``, ``draft`` -> ``draft``), each audited with a note
carrying the WordPress status and date; an editor then publishes them. Translations exported by
WPML (``_icl_lang_code`` / ``wpml_language`` / ``_wpml_import_*`` post meta, ``trid``,
``wpml_translation_of``) or Polylang (``language`` taxonomy, ``post_translations`` terms holding
a serialized PHP array) land in one translation group whose source is the original (or the first
site language); the report says how each group was found.

One bad post never aborts a file. The export is streamed twice with constant memory (entity
declarations refused, so no billion-laughs expansion): the first pass reads what grouping needs
and refuses only a file that is not a well-formed WordPress export, storing nothing; the second
imports one translation group per transaction. Each post ends up ``created``, ``already_imported``,
``skipped`` (with its reason) or ``failed`` (with its reason, the field and the fix), with any
warnings. A post without a body or without a title imports as a draft with a warning (the latter
titled "Untitled (WordPress post N)"); one with neither is skipped.
A post is known by its site (``wp:base_blog_url``, ``wp:base_site_url`` or the channel link)
plus its post id, else its guid, recorded in ``wxr_imports``: importing the same file again
creates nothing, and two sites' post 1 are two posts.

Featured images (``_thumbnail_id``) become media library images when the importer is given the
site's uploads folder (``--uploads wp-content/uploads``, or ``WXR_UPLOADS_DIR`` for the web and API
imports): the attachment's ``_wp_attached_file`` is read from it, checked and stripped like an
upload, with its ``_wp_attachment_image_alt`` as the alt text in the post's language. Without the
folder (exports carry only URLs), or when the file is missing or refused, the post arrives without a
featured image and a warning names the image's URL.

Images inside post bodies (``<img>``, alone or in a ``<figure class="wp-block-image">`` with its
``<figcaption>``, a paragraph, a link or a ``[caption]`` shortcode) are read from the same folder: the URL's
path after ``/uploads/`` names the file, and a resized copy's name (``x-300x200.jpg``, ``x-scaled.jpg``)
falls back to the original (or the attachment named by ``wp-image-N``); a path leading outside the folder is
never read. A file that passes the upload checks becomes a library image (one per content), with the img's
alt text (else the attachment's ``_wp_attachment_image_alt``) and a plain-text caption in the post's
language, and the body embeds it as the editor does, ``![](media:<id>)`` as a block of its own (a
caption with links stays in the body under the image). Any other image keeps its URL (``srcset`` and all),
and one warning per reason names the URLs: no folder, file missing, outside the folder, refused by the checks.

CLI: ``python -m services.ingest.wxr export.xml [--lang en] [--uploads DIR]``.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import io
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine

from shared.errors import ApiError, InvalidInput
from shared.events import utcnow
from shared.workflow import Role

from shared.media import media_store, strip_image

from . import authors as author_store
from . import media
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
_AUTHOR_DOMAINS = ("author", "coauthor")  # Co-Authors Plus / PublishPress Authors
_NS = {"content": "http://purl.org/rss/1.0/modules/content/", "dc": "http://purl.org/dc/elements/1.1/"}
_COMMENTS = re.compile(r"<!--.*?-->", re.S)
_GROUP_METHODS = {"pll": "polylang term", "wpml": "wpml trid", "of": "wpml translation_of"}
_FIXES = {
    "title": "shorten the title in WordPress (at most 300 characters) and export again",
    "body": "shorten the post in WordPress, or raise MAX_BODY_BYTES, and import again",
    "tags": "remove tags from the post in WordPress (at most 30, each up to 60 characters)",
    "categories": "remove categories from the post in WordPress (at most 30, each up to 60 characters)",
    "lang": "give the post a site language in WPML/Polylang, or import with another default language",
}
OUTCOMES = ("created", "already_imported", "skipped", "failed")

Source = bytes | str | os.PathLike


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
    categories: list[str] = field(default_factory=list)
    coauthors: list[str] = field(default_factory=list)  # names from author terms, in order
    key: str = ""  # site + post id (or guid): what re-imports are recognised by
    seq: int = 0  # position among the file's items
    warnings: list[str] = field(default_factory=list)
    thumbnail_id: str = ""  # the featured image's attachment post id
    attachment_url: str = ""  # an attachment's file URL
    attached_file: str = ""  # an attachment's path under the uploads folder
    image_alt: str = ""  # an attachment's alt text

    def label(self) -> str:
        """How messages name the post."""
        return f"post {self.post_id or '?'} {self.title[:60]!r}"


@dataclass
class WxrExport:
    """What an export holds: its site, posts, authors (login -> display name) and what was left out."""

    posts: list[WxrPost]
    authors: dict[str, str]
    skipped: list[dict]
    site: str = ""
    term_warnings: dict[str, str] = field(default_factory=dict)  # Polylang term slug -> what is wrong


# ---------------------------------------------------------------- XML helpers

def _ns_ok(uri: str, prefix: str) -> bool:
    # WordPress.com writes https:// namespace names, self-hosted WordPress http://; both are WXR.
    uri = "http://" + uri[len("https://"):] if uri.startswith("https://") else uri
    if prefix == "wp":
        return uri.startswith("http://wordpress.org/export/") and not uri.endswith("/excerpt/")
    if prefix == "excerpt":
        return uri.startswith("http://wordpress.org/export/") and uri.endswith("/excerpt/")
    return uri == _NS[prefix]


def _split(tag: str) -> tuple[str, str]:
    return tuple(tag[1:].split("}", 1)) if tag.startswith("{") else ("", tag)


def _matches(el: Element, name: str) -> bool:
    if not isinstance(el.tag, str):
        return False  # comments and processing instructions
    prefix, _, local = name.rpartition(":")
    uri, tag = _split(el.tag)
    return tag == local and ((not prefix and not uri) or bool(prefix and uri and _ns_ok(uri, prefix)))


def _children(el: Element, name: str) -> list[Element]:
    """Children named ``prefix:local`` (any WXR version) or plain ``local``."""
    return [child for child in el if _matches(child, name)]


def _text(el: Element, name: str) -> str:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else ""


def php_unserialize(data: str):
    """Decode PHP ``serialize()`` output (arrays, strings, ints, floats, booleans, null) as Python."""
    raw = data.encode("utf-8")
    try:
        value, end = _php_value(raw, 0)
    except (IndexError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"truncated, mis-encoded or too deeply nested data ({type(exc).__name__})") from exc
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
        if length < 0 or raw[colon + 1:start] != b'"' or raw[start + length:start + length + 2] != b'";':
            raise ValueError(f"bad string at position {i}")
        return raw[start:start + length].decode("utf-8"), start + length + 2
    if kind == b"a:":
        colon = raw.index(b":", i + 2)
        count = int(raw[i + 2:colon])
        if count < 0 or raw[colon + 1:colon + 2] != b"{":
            raise ValueError(f"bad array at position {i}")
        j, out = colon + 2, {}
        for _ in range(count):
            key, j = _php_value(raw, j)
            if isinstance(key, (dict, list)) or key is None:
                raise ValueError(f"bad array key at position {j}")
            out[key], j = _php_value(raw, j)
        if raw[j:j + 1] != b"}":
            raise ValueError(f"array at position {i} is not closed")
        return out, j + 1
    raise ValueError(f"unsupported PHP value {kind!r} at position {i}")


# Control characters XML 1.0 forbids. WordPress exports them as they were typed (pasted text),
# and WordPress's own importer copes; a single byte must not refuse a whole archive. In UTF-8
# they never occur inside a multi-byte character, so deleting them is safe.
_ILLEGAL = bytes([*range(0, 9), 11, 12, *range(14, 32)])


class _Cleaned(io.RawIOBase):
    """A read-only byte stream without the control characters XML forbids (counted in ``removed``)."""

    def __init__(self, raw):
        self.raw, self.removed = raw, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while True:
            chunk = self.raw.read(size if size and size > 0 else 1 << 16)
            if not chunk:
                return b""
            cleaned = chunk.translate(None, _ILLEGAL)
            self.removed += len(chunk) - len(cleaned)
            if cleaned:
                return cleaned

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@contextmanager
def _opened(source: Source) -> Iterator[_Cleaned]:
    if isinstance(source, (bytes, bytearray)):
        yield _Cleaned(io.BytesIO(source))
    else:
        with open(source, "rb") as handle:
            yield _Cleaned(handle)


def _is_blank(source: Source) -> bool:
    if isinstance(source, (bytes, bytearray)):
        return not source.strip()
    with open(source, "rb") as handle:
        return not handle.read(65536).strip() and not handle.read(1)


def _stream(source: Source, removed: list[int] | None = None) -> Iterator[tuple[str, Element]]:
    """Yield ``("item", el)`` for each item and ``("channel", el)`` for the channel's other children.

    Each element is dropped from the tree once the caller has it, so memory stays flat however
    long the file. Refuses entity declarations, malformed XML and non-WordPress XML.
    """
    if _is_blank(source):
        raise InvalidInput("file", "the file is empty; export the site again from WordPress (Tools -> Export)")
    depth, root, channel, seen_channel = 0, None, None, False
    try:
        with _opened(source) as handle:
            if removed is not None:
                removed.append(0)
            for event, el in iterparse(handle, events=("start", "end"), forbid_dtd=False,
                                       forbid_entities=True, forbid_external=True):
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root = el
                        if _split(el.tag)[1] != "rss":
                            raise InvalidInput("file", f"this is XML but not a WordPress export: the root is "
                                               f"<{_split(el.tag)[1]}>, expected <rss> with a <channel> "
                                               "(Tools -> Export in WordPress writes one)")
                    elif depth == 2 and _matches(el, "channel"):
                        channel, seen_channel = el, True
                    continue
                depth -= 1
                if depth == 2 and channel is not None:
                    yield ("item" if _matches(el, "item") else "channel"), el
                    channel.remove(el)
                elif depth == 1 and root is not None:
                    root.remove(el)
                    channel = None
            if removed is not None:
                removed[-1] = handle.removed
    except DefusedXmlException as exc:
        raise InvalidInput("file", f"the file declares XML entities or external references ({type(exc).__name__}); "
                           "WordPress exports never do, so it was refused to avoid entity expansion. "
                           "Export the site again from WordPress") from exc
    except ParseError as exc:
        raise InvalidInput("file", f"the file is not well-formed XML ({exc}); nothing was imported. "
                           "Export the site again from WordPress, or fix the XML at that line") from exc
    if not seen_channel:
        raise InvalidInput("file", "this is XML but not a WordPress export: <rss> has no <channel> "
                           "(Tools -> Export in WordPress writes one)")


def normalise_site(url: str) -> str:
    """A site URL as part of a dedupe key: scheme and host lower-cased, no trailing slash."""
    url = (url or "").strip()
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/]*)(.*)$", url)
    if match:
        url = match[1].lower() + match[2].lower() + match[3]
    return url.rstrip("/")


def dedupe_key(site: str, post_id: str, guid: str) -> str:
    """What a post is recognised by on re-import: site plus post id, else the guid."""
    if site and post_id:
        return f"{site}|post:{post_id}"
    if guid:
        return f"guid:{guid}"
    return f"{site}|post:{post_id}"


# ---------------------------------------------------------------- reading

class _Reader:
    """Reads the channel's metadata and items as they stream past."""

    def __init__(self):
        self.site_urls: dict[str, str] = {}
        self.authors: dict[str, str] = {}
        self.polylang: dict[str, list[tuple[str, str]]] = {}  # post id -> [(term slug, lang)] from Polylang terms
        self.term_warnings: dict[str, str] = {}
        self.author_terms: dict[str, str] = {}  # slug -> name of Co-Authors Plus terms
        self.wxr_version = False
        self.removed_chars: list[int] = []  # control characters dropped from the file

    @property
    def site(self) -> str:
        for name in ("wp:base_blog_url", "wp:base_site_url", "link"):
            if self.site_urls.get(name):
                return normalise_site(self.site_urls[name])
        return ""

    def channel(self, el: Element) -> None:
        for name in ("wp:base_blog_url", "wp:base_site_url", "link"):
            if _matches(el, name):
                self.site_urls[name] = (el.text or "").strip()
        if _matches(el, "wp:wxr_version"):
            self.wxr_version = True
        elif _matches(el, "wp:author"):
            login = _text(el, "wp:author_login")
            if login:
                self.authors[login] = html.unescape(_text(el, "wp:author_display_name")) or login
        elif _matches(el, "wp:term"):
            taxonomy, slug = _text(el, "wp:term_taxonomy"), _text(el, "wp:term_slug")
            if taxonomy == "post_translations":
                self._polylang_term(slug, _text(el, "wp:term_description"))
            elif taxonomy in _AUTHOR_DOMAINS and slug:
                self.author_terms[slug] = _text(el, "wp:term_name")

    def _polylang_term(self, slug: str, description: str) -> None:
        try:
            mapping = php_unserialize(description)
            if not isinstance(mapping, dict):
                raise ValueError("not an array")
            for lang, post_id in mapping.items():
                if not isinstance(post_id, dict):
                    self.polylang.setdefault(str(post_id), []).append((slug, str(lang)))
        except ValueError as exc:
            self.term_warnings[slug] = (f"Polylang's translation term {slug!r} holds malformed serialized data "
                                        f"({exc}); the post was grouped by the term it carries, and its language "
                                        "taken from its own language term")

    def author_name(self, text: str, nicename: str) -> str:
        """A display name for a Co-Authors Plus term (login, ``cap-`` slug or a guest author's name)."""
        for candidate in (text, nicename.removeprefix("cap-"), text.removeprefix("cap-")):
            if candidate in self.authors:
                return self.authors[candidate]
        if text and not text.startswith("cap-"):
            return text
        slug = (nicename or text).removeprefix("cap-")
        return " ".join(part.capitalize() for part in slug.split("-") if part) or text

    def post(self, item: Element, seq: int) -> WxrPost:
        """The item as a WxrPost (its key qualified by the site)."""
        meta = {_text(m, "wp:meta_key"): _text(m, "wp:meta_value") for m in _children(item, "wp:postmeta")}
        tags, categories, coauthors, lang, pll_terms = [], [], [], None, []
        for cat in _children(item, "category"):
            # WordPress stores term names HTML-encoded ("Q &amp; A"); articles hold plain text.
            domain, name = cat.get("domain", ""), html.unescape((cat.text or "").strip())
            if domain == "category" and name and cat.get("nicename") != "uncategorized":
                if name not in categories:
                    categories.append(name)
            elif domain == "post_tag" and name:
                if name not in tags:
                    tags.append(name)
            elif domain in _AUTHOR_DOMAINS and (name or cat.get("nicename")):
                who = self.author_name(name, cat.get("nicename") or "")
                if who not in coauthors:
                    coauthors.append(who)
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
        post_id, guid = _text(item, "wp:post_id"), _text(item, "guid")
        title = html.unescape(_text(item, "title"))  # titles are stored encoded too ("Q&amp;A", "&#8217;")
        if not post_id and not guid:
            guid = "sha1:" + hashlib.sha1(f"{title}|{_text(item, 'wp:post_date')}|{seq}".encode()).hexdigest()
        post = WxrPost(
            guid=guid or f"post:{post_id}", post_id=post_id, title=title,
            content=_text(item, "content:encoded"), excerpt=_text(item, "excerpt:encoded"),
            creator=_text(item, "dc:creator"), tags=tags, status=_text(item, "wp:status"),
            post_type=_text(item, "wp:post_type"), date=_text(item, "wp:post_date"),
            date_gmt=_text(item, "wp:post_date_gmt"), lang=(lang or None) and lang.lower(), group_keys=group_keys,
            translation_of=translation_of, is_original=is_original, categories=categories, coauthors=coauthors,
            key=dedupe_key(self.site, post_id, guid), seq=seq, thumbnail_id=meta.get("_thumbnail_id", "").strip(),
            attachment_url=_text(item, "wp:attachment_url"), attached_file=meta.get("_wp_attached_file", "").strip(),
            image_alt=html.unescape(meta.get("_wp_attachment_image_alt", "")).strip())
        post.warnings += [self.term_warnings[t] for t in pll_terms if t in self.term_warnings]
        return post

    def apply_polylang(self, post: WxrPost) -> None:
        """Polylang terms map language -> post id: give the listed post its term and language."""
        for slug, lang in self.polylang.get(post.post_id, ()):
            post.lang = post.lang or lang.lower()
            if f"pll:{slug}" not in post.group_keys:
                post.group_keys.append(f"pll:{slug}")


def _scan(source: Source, on_item: Callable[[WxrPost], None], progress: Callable[[int], None] | None = None) -> _Reader:
    """Pass over the whole file: every item as a WxrPost to ``on_item``; the reader holds the channel's facts."""
    reader, seq = _Reader(), 0
    for kind, el in _stream(source, reader.removed_chars):
        if kind == "channel":
            reader.channel(el)
            continue
        seq += 1
        post = reader.post(el, seq)
        reader.apply_polylang(post)
        on_item(post)
        if progress and seq % 1000 == 0:
            progress(seq)
    return reader


def _is_wxr(reader: _Reader, saw_post_type: bool) -> None:
    if not reader.wxr_version and not saw_post_type:
        raise InvalidInput("file", "this RSS feed is not a WordPress export (no wp:wxr_version); "
                           "use the file from WordPress's Tools -> Export, not the site's public feed")


def parse_wxr(xml_bytes: Source) -> WxrExport:
    """Read a whole export into memory (for tests and small files): posts to import and what was left out."""
    items: list[WxrPost] = []
    reader = _scan(xml_bytes, items.append)
    _is_wxr(reader, any(p.post_type for p in items))
    for post in items:
        reader.apply_polylang(post)  # terms listed after the post (unusual) still count
    posts, skipped = [], []
    for post in items:
        reason = _skip_reason(post)
        if reason:
            skipped.append({"guid": post.guid, "title": post.title, "reason": reason})
        else:
            posts.append(post)
    return WxrExport(posts, reader.authors, skipped, reader.site, reader.term_warnings)


def site_lang(lang: str | None, languages: tuple[str, ...]) -> str | None:
    """A post's language as a site language code where one matches (``en_US`` and ``en-gb`` are ``en``)."""
    if not lang:
        return None
    lang = lang.lower().replace("_", "-")
    base = lang.split("-")[0]
    return base if lang not in languages and base in languages else lang


def _skip_reason(post: WxrPost) -> str | None:
    if post.post_type != "post":
        return f"a WordPress {post.post_type or 'item'}, not a post"
    if post.status in SKIPPED_STATUSES or post.status not in STATUS_ACTIONS:
        return f"status {post.status!r}"
    if not post.title.strip() and _is_empty(post.content):
        return "an empty post: no title and no body"
    return None


def _is_empty(content: str) -> bool:
    """No text at all, counting Gutenberg's block comments as nothing."""
    return not _COMMENTS.sub("", content or "").strip()


# ---------------------------------------------------------------- planning

@dataclass
class _Ref:
    """What grouping needs of a post (the second pass reads the rest again)."""

    key: str
    guid: str
    post_id: str
    title: str
    lang: str | None
    group_keys: list[str]
    translation_of: str | None
    is_original: bool | None
    seq: int

    def label(self) -> str:
        return f"post {self.post_id or '?'} {self.title[:60]!r}"


@dataclass
class _Group:
    members: list  # _Ref or WxrPost, source first
    method: str
    warnings: dict[str, list[str]] = field(default_factory=dict)  # key -> warnings about grouping


def plan_groups(posts: list, languages: tuple[str, ...]) -> list[list]:
    """Posts grouped by translation (union of shared group keys and translation-of links), source first."""
    return [g.members for g in _plan(posts, languages)]


def _plan(posts: list, languages: tuple[str, ...]) -> list[_Group]:
    parent = {p.key: p.key for p in posts}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    first_by_key: dict[str, str] = {}
    by_post_id = {p.post_id: p for p in posts if p.post_id}
    links: dict[str, set[str]] = {}  # post key -> the kinds of link that joined it to another post
    for post in posts:
        for group_key in post.group_keys:
            first = first_by_key.setdefault(group_key, post.key)
            if first != post.key:
                kind = _GROUP_METHODS[group_key.split(":", 1)[0]]
                links.setdefault(post.key, set()).add(kind)
                links.setdefault(first, set()).add(kind)
                parent[find(first)] = find(post.key)
        target = by_post_id.get(post.translation_of or "")
        if target is not None and target.key != post.key:
            links.setdefault(post.key, set()).add(_GROUP_METHODS["of"])
            links.setdefault(target.key, set()).add(_GROUP_METHODS["of"])
            parent[find(target.key)] = find(post.key)
    grouped: dict[str, list] = {}
    for post in posts:
        grouped.setdefault(find(post.key), []).append(post)
    rank = {lang: i for i, lang in enumerate(languages)}
    groups = []
    for members in grouped.values():
        members.sort(key=lambda p: (p.is_original is not True, rank.get(p.lang or "", len(rank)), p.seq))
        method = ", ".join(sorted({k for p in members for k in links.get(p.key, ())})) or "single"
        kept, split, warnings = [], [], {}
        for post in members:
            clash = next((k for k in kept if k.lang == post.lang), None)
            if clash is None:
                kept.append(post)
            else:
                split.append(post)
                warnings[post.key] = [f"its translation group ({method}) already has a {post.lang!r} version, "
                                      f"{clash.label()}; imported on its own. Fix the translation links in "
                                      "WordPress to group it"]
        groups.append(_Group(kept, method if len(kept) > 1 else "single", warnings))
        groups += [_Group([p], "single", {p.key: warnings[p.key]}) for p in split]
    return groups


# ---------------------------------------------------------------- importing

class Report:
    """The per-post report of one import: counts, and the rows unless a sink takes them."""

    def __init__(self, site: str, sink: Callable[[Connection | None, list[dict]], None] | None = None):
        self.site, self.sink = site, sink
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.rows: dict[str, list[dict]] = {k: [] for k in OUTCOMES}
        self.groups: dict[str, int] = {}
        self.posts = 0
        self.warnings: list[str] = []  # about the file as a whole

    def add(self, conn: Connection | None, rows: list[dict], recorded: bool = False) -> None:
        """Count and keep (or hand on, unless the sink ``recorded`` them already) rows."""
        for row in rows:
            self.counts[row["outcome"]] += 1
            if self.sink is None:
                self.rows[row["outcome"]].append(row)
        if self.sink is not None and rows and not recorded:
            self.sink(conn, rows)

    def summary(self) -> dict:
        """The JSON the import returns: counts, the posts by outcome, how groups were found."""
        return {"site": self.site, "posts": self.posts, "counts": dict(self.counts),
                "group_methods": dict(self.groups), "warnings": list(self.warnings), **self.rows}


def _row(post, outcome: str, **extra) -> dict:
    row = {"outcome": outcome, "key": post.key, "seq": post.seq, "guid": post.guid, "post_id": post.post_id,
           "title": post.title, "lang": post.lang, "warnings": list(getattr(post, "warnings", []))}
    if isinstance(post, WxrPost):
        row["wp_status"] = post.status
    row.update(extra)
    return row


def _fix(field_name: str) -> str:
    base = field_name.split("[")[0].split(".")[0]
    if base in ("author", "authors"):
        return "correct the post's author names in WordPress (each up to 200 characters, at most 20 authors)"
    return _FIXES.get(base, "fix the post in WordPress and export again")


# Images inside a post's HTML. One alternation, so each region is looked at once: a [caption] shortcode,
# a <figure> (without nested figures), a paragraph holding only an image, a linked image, a bare image.
_BODY_IMAGE = re.compile(
    r"\[caption\b[^\]]*\].*?\[/caption\]"
    r"|<figure\b[^>]*>(?:(?!</?figure\b).)*?</figure>"
    r"|<p\b[^>]*>\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*>\s*(?:</a>\s*)?</p>"
    r"|<a\b[^>]*>\s*<img\b[^>]*>\s*</a>"
    r"|<img\b[^>]*>", re.S | re.I)
_IMG = re.compile(r"<img\b[^>]*>", re.S | re.I)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.S | re.I)
_CAPTION_ATTR = re.compile(r"\bcaption=\"([^\"]*)\"", re.I)
_TAGS = re.compile(r"<[^>]*>")
_SIZE_SUFFIX = re.compile(r"-(?:\d+x\d+|scaled|rotated)(?=\.[A-Za-z0-9]+$)")  # WordPress's resized copies
_WP_IMAGE_CLASS = re.compile(r"\bwp-image-(\d+)\b")


def _attr(tag: str, name: str) -> str:
    match = re.search(r"(?<![-\w])" + name + r"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag, re.I)  # not data-src
    return html.unescape(match[1] if match[1] is not None else match[2]).strip() if match else ""


def _plain_caption(fragment: str) -> tuple[str, bool]:
    """A caption's text, and whether it is simple enough for the library (no links, one line, not too long)."""
    text = " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())
    return text, bool(text) and "<a" not in fragment.lower() and len(text) <= media.MAX_CAPTION


@dataclass
class _Images:
    """The export's attachments and where their files are: featured and inline images become library images."""

    uploads_dir: Path | None
    settings: object | None  # the Settings of the media store and upload limits; None: images are not read
    attachments: dict[str, WxrPost] = field(default_factory=dict)
    _by_file: dict[str, WxrPost] | None = None

    def _under_root(self, relative: str) -> Path | None:
        if not relative or self.uploads_dir is None or self.settings is None:
            return None
        root = self.uploads_dir.resolve()
        path = (root / relative).resolve()
        # The export names the path: never read outside the uploads folder (symbolic links included).
        return path if root in path.parents and path.is_file() else None

    def _file(self, attachment: WxrPost) -> Path | None:
        relative = attachment.attached_file
        if not relative and "/uploads/" in attachment.attachment_url:
            relative = attachment.attachment_url.split("/uploads/", 1)[1].split("?", 1)[0]
        return self._under_root(relative)

    def _attachment_of(self, relative: str, tag: str) -> WxrPost | None:
        """The attachment an <img> shows: by its ``wp-image-N`` class, else by its file (sizes stripped)."""
        if self._by_file is None:
            self._by_file = {a.attached_file: a for a in self.attachments.values() if a.attached_file}
        match = _WP_IMAGE_CLASS.search(_attr(tag, "class"))
        if match and match[1] in self.attachments:
            return self.attachments[match[1]]
        return self._by_file.get(relative) or self._by_file.get(_SIZE_SUFFIX.sub("", relative))

    def _store(self, conn: Connection, path: Path, url: str, texts: dict, actor: str) -> tuple[dict | None, str]:
        """Check, strip and store a file like an upload: the library image, or None and why not."""
        try:
            with open(path, "rb") as handle:
                data = handle.read(self.settings.max_image_bytes + 1)
            stripped = strip_image(data, max_bytes=self.settings.max_image_bytes,
                                   max_pixels=self.settings.max_image_pixels)
        except InvalidInput as exc:
            return None, f"the file {path.name} {exc.message}"
        except OSError as exc:
            return None, f"the file {path.name} cannot be read ({exc.strerror or type(exc).__name__})"
        media_store(self.settings).put(stripped.sha256, stripped.data)
        image, _ = media.add_image(conn, stripped, filename=path.name, texts=texts, actor=actor, source_url=url or None)
        return image, ""

    def featured(self, conn: Connection, post: WxrPost, actor: str) -> str | None:
        """The library id of the post's featured image, imported now if need be; None (with a warning) otherwise."""
        if not post.thumbnail_id:
            return None
        attachment = self.attachments.get(post.thumbnail_id)
        if attachment is None:
            post.warnings.append(f"its featured image (attachment {post.thumbnail_id}) is not in the export; "
                                 "choose one in the media library")
            return None
        url = attachment.attachment_url or attachment.guid
        path = self._file(attachment)
        if path is None:
            where = f"in {self.uploads_dir}" if self.uploads_dir else "given (import with the uploads folder)"
            post.warnings.append(f"its featured image {url} was not found: no uploads folder {where}; it stays "
                                 "linked by URL only, upload it to the media library and choose it")
            return None
        texts = {"alt": {post.lang: attachment.image_alt} if attachment.image_alt else {},
                 "caption": {post.lang: html.unescape(attachment.excerpt)} if attachment.excerpt else {}, "credit": None}
        image, why = self._store(conn, path, url, texts, actor)
        if image is None:
            post.warnings.append(f"its featured image {url} was refused: {why}")
            return None
        if not (image["alt"] or {}).get(post.lang):
            post.warnings.append(f"its featured image {path.name} has no alt text in {post.lang!r}; add it in the media "
                                 "library before publishing")
        return image["id"]

    def body(self, conn: Connection, post: WxrPost, body: str, actor: str) -> str:
        """The body with each image whose file is in the uploads folder as ``![](media:<id>)`` (a block of its
        own); other images keep their URLs, and one warning per reason names them."""
        if not body or "<img" not in body.lower():
            return body
        kept: dict[str, list[str]] = {}  # why -> URLs left linked
        no_alt: list[str] = []

        def region(match: re.Match) -> str:
            text = match[0]
            tags = _IMG.findall(text)
            if len(tags) != 1:  # a figure holding several images (or none): each image on its own
                return _IMG.sub(lambda m: one(m[0], "") or m[0], text)
            caption = ""
            if text.startswith("[") or text[:7].lower() == "<figure":
                inner = _FIGCAPTION.search(text)
                if inner:
                    caption = inner[1]
                elif text.startswith("["):
                    attr = _CAPTION_ATTR.search(text)
                    caption = attr[1] if attr else text[text.index(tags[0]) + len(tags[0]):].split("[/caption]")[0]
                    caption = re.sub(r"^\s*</a>", "", caption)
            plain, simple = _plain_caption(caption)
            ref = one(tags[0], plain if simple else "")
            if ref is None:
                return text
            return ref + (f"\n\n<p>{caption.strip()}</p>\n\n" if caption.strip() and not simple else "")

        def one(tag: str, caption: str) -> str | None:
            url = _attr(tag, "src")
            path_part = urlsplit(url).path
            if "/uploads/" not in path_part:
                kept.setdefault("not a file of the site's uploads folder (wp-content/uploads)", []).append(url)
                return None
            relative = unquote(path_part.split("/uploads/", 1)[1])
            if self.uploads_dir is None or self.settings is None:
                kept.setdefault("no uploads folder was given (exports carry only URLs; import with the uploads "
                                "folder)", []).append(url)
                return None
            root = self.uploads_dir.resolve()
            if root not in (root / relative).resolve().parents:
                kept.setdefault("refused: its path leads outside the uploads folder, which is never read", []).append(url)
                return None
            attachment = self._attachment_of(relative, tag)
            path = self._under_root(relative) or self._under_root(_SIZE_SUFFIX.sub("", relative))
            if path is None and attachment is not None:
                path = self._file(attachment)
            if path is None:
                kept.setdefault(f"the file is not in {self.uploads_dir} (exports carry only URLs)", []).append(url)
                return None
            alt = _attr(tag, "alt") or (attachment.image_alt if attachment else "")
            texts = {"alt": {post.lang: alt} if alt and len(alt) <= media.MAX_ALT and "\n" not in alt else {},
                     "caption": {post.lang: caption} if caption else {}, "credit": None}
            image, why = self._store(conn, path, url, texts, actor)
            if image is None:
                kept.setdefault(f"refused: {why}", []).append(url)
                return None
            if not (image["alt"] or {}).get(post.lang):
                no_alt.append(path.name)
            return f"\n\n![](media:{image['id']})\n\n"

        body = _BODY_IMAGE.sub(region, body)
        for why, urls in kept.items():
            shown = ", ".join(dict.fromkeys(urls[:5])) + (f" and {len(urls) - 5} more" if len(urls) > 5 else "")
            post.warnings.append(f"{len(urls)} image(s) in its text stay linked by URL ({why}): {shown}")
        if no_alt:
            post.warnings.append(f"image(s) in its text have no alt text in {post.lang!r} ({', '.join(dict.fromkeys(no_alt))}); "
                                 "add it in the media library before publishing")
        return body


def import_wxr(target, source: Source, *, languages: tuple[str, ...] | None = None,
               default_lang: str | None = None, actor: str = "wxr-import", role: Role | str = Role.ADMIN,
               site_url: str = "", max_body: int = 10_000_000,
               progress: Callable[[int, int], None] | None = None,
               scan_progress: Callable[[int], None] | None = None,
               sink: Callable[[Connection | None, list[dict]], None] | None = None,
               on_total: Callable[[int], None] | None = None, uploads_dir: Path | None = None,
               media_settings=None) -> dict:
    """Import a WXR export (bytes or a file path) into ``target`` (a Runtime, which relays events, or an Engine).

    Raises InvalidInput only when the file is not a well-formed WordPress export (nothing stored);
    every post gets its own outcome in the returned report. ``sink(conn, rows)`` receives the
    report rows instead of the summary (inside the group's transaction when ``conn`` is given).
    ``uploads_dir`` (default ``WXR_UPLOADS_DIR``) is the site's uploads folder featured and inline images are read
    from, into the media store of ``media_settings`` (default the Runtime's settings).
    """
    if not isinstance(target, Engine):
        settings = target.settings
        languages, site_url, max_body = languages or settings.languages, settings.site_url, settings.max_body_bytes
        media_settings = media_settings or settings
    if uploads_dir is None and media_settings is not None and media_settings.wxr_uploads_dir:
        uploads_dir = media_settings.wxr_uploads_dir
    images = _Images(Path(uploads_dir) if uploads_dir else None, media_settings)
    languages = tuple(languages or ("en", "tr", "ru"))
    default_lang = default_lang or languages[0]

    # Pass 1: what grouping needs, and the file's well-formedness, before anything is stored.
    refs: list[_Ref] = []
    early: list[tuple[int, dict]] = []  # (seq, row) of posts skipped before planning
    seen_keys: dict[str, _Ref] = {}
    saw_post_type = False

    def collect(post: WxrPost) -> None:
        nonlocal saw_post_type
        saw_post_type = saw_post_type or bool(post.post_type)
        if post.post_type == "attachment" and post.post_id:
            images.attachments[post.post_id] = post  # small: an attachment's content is empty
        post.lang = site_lang(post.lang, languages)
        reason = _skip_reason(post)
        if reason is None and (post.lang or default_lang) not in languages:
            reason = f"language {post.lang or default_lang!r} is not a site language ({', '.join(languages)})"
        if reason is None and post.key in seen_keys:
            reason = (f"appears twice in the file (the same site and post id as {seen_keys[post.key].label()}, "
                      "imported once)")
        if reason:
            early.append((post.seq, _row(post, "skipped", reason=reason)))
            return
        ref = _Ref(post.key, post.guid, post.post_id, post.title[:80], post.lang or default_lang,
                   post.group_keys, post.translation_of, post.is_original, post.seq)
        seen_keys[post.key] = ref
        refs.append(ref)

    reader = _scan(source, collect, scan_progress)
    _is_wxr(reader, saw_post_type)
    groups = _plan(refs, languages)
    refs.clear()  # the plan holds what it needs
    seen_keys.clear()
    group_of: dict[int, int] = {}
    for index, group in enumerate(groups):
        for ref in group.members:
            group_of[ref.seq] = index
    total = len(group_of)
    if on_total:
        on_total(total)
    report = Report(reader.site, sink)
    if reader.removed_chars and reader.removed_chars[-1]:
        report.warnings.append(f"{reader.removed_chars[-1]} control character(s) that XML forbids were left out of "
                               "the file's text")
    report.posts = total + len(early)
    for group in groups:
        report.groups[group.method] = report.groups.get(group.method, 0) + len(group.members)
    skipped_at = dict(early)
    early.clear()

    # Pass 2: each group is stored once its last post has streamed past, in its own transaction.
    waiting: dict[int, dict[str, WxrPost]] = {}
    done = 0
    transaction = (lambda: _engine_transaction(target)) if isinstance(target, Engine) else target.transaction

    def on_item(post: WxrPost) -> None:
        nonlocal done
        if post.seq in skipped_at:
            report.add(None, [skipped_at.pop(post.seq)])
            return
        index = group_of.get(post.seq)
        if index is None:
            return
        post.lang = site_lang(post.lang, languages) or default_lang
        bucket = waiting.setdefault(index, {})
        bucket[post.key] = post
        group = groups[index]
        if len(bucket) < len(group.members):
            return
        del waiting[index]
        members = [bucket[ref.key] for ref in group.members]
        for member in members:
            member.warnings += group.warnings.get(member.key, [])
        _store_group(transaction, reader, members, group.method, report, actor=actor, role=role,
                     languages=languages, site_url=site_url, max_body=max_body, images=images)
        groups[index] = None  # the plan of a stored group is no longer needed
        done += len(members)
        if progress:
            progress(done, total)

    _scan(source, on_item)
    if progress and total == 0:
        progress(0, 0)
    return report.summary()


@contextmanager
def _engine_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction without a Runtime: events stay in the outbox for the relay sweep."""
    with engine.begin() as conn:
        try:
            yield conn
        finally:
            # emit() remembers envelopes on the pooled connection for a Runtime to relay; nobody
            # relays here, so without this the list grows with every post of a 20,000-post import.
            conn.info.pop("outbox_emitted", None)


def _prepare(reader: _Reader, post: WxrPost, languages: tuple[str, ...], max_body: int) -> dict:
    """The post as clean article fields (authors without bios yet), or InvalidInput."""
    names = post.coauthors or [reader.authors.get(post.creator, post.creator) or "Unknown author"]
    empty = _is_empty(post.content)
    untitled = not post.title.strip()
    if untitled:
        post.title = f"Untitled (WordPress post {post.post_id or post.seq})"
        post.warnings.append(f"the post has no title in WordPress (status {post.status!r}); imported as a draft "
                             f"titled {post.title!r} to name")
    for kind in ("tags", "categories"):
        values = getattr(post, kind)
        kept = [v for v in values if len(v) <= 60][:30]
        if len(kept) < len(values):
            post.warnings.append(f"{len(values) - len(kept)} of its {len(values)} {kind} were left out (at most 30, "
                                 f"each up to 60 characters): {', '.join(v[:30] for v in values if v not in kept)[:300]}")
            setattr(post, kind, kept)
    fields = parse_article_input(
        {"lang": post.lang, "title": post.title, "body": "" if empty else post.content,
         "authors": [{"name": n} for n in names], "references": [], "tags": post.tags,
         "categories": post.categories, "group_id": None},
        languages, max_body=max_body, allow_empty_body=True)
    if empty:
        post.warnings.append(f"the post has no body in WordPress (status {post.status!r}); imported as a draft "
                             "to write or delete")
    fields["draft"] = empty or untitled
    return fields


def _store_group(transaction, reader: _Reader, members: list[WxrPost], method: str, report: Report, *, actor: str,
                 role, languages: tuple[str, ...], site_url: str, max_body: int, images: _Images | None = None) -> None:
    """Store a translation group's new posts in one transaction and report every member."""
    ready, failed = [], []
    for post in members:
        try:
            ready.append((post, _prepare(reader, post, languages, max_body)))
        except InvalidInput as exc:
            failed.append(_row(post, "failed", reason=f"{exc.field} {exc.message}", field=exc.field,
                               fix=_fix(exc.field), group_method=method))
    report.add(None, failed)
    if not ready:
        return
    try:
        with transaction() as conn:
            stored = list(_import_group(conn, reader, ready, method, actor=actor, role=role,
                                        languages=languages, site_url=site_url, images=images))
            if report.sink is not None:
                report.sink(conn, stored)  # the report rows commit with the articles they describe
    except ApiError as exc:
        reason = exc.message
    except Exception as exc:  # noqa: BLE001 - a database failure fails this group, not the file
        reason = f"{type(exc).__name__}: {exc}"
    else:
        report.add(None, stored, recorded=True)
        return
    report.add(None, [_row(post, "failed", reason=f"the translation group could not be stored ({reason})",
                           field="file", fix="import the file again; posts already stored are skipped",
                           group_method=method) for post, _ in ready])


def _import_group(conn: Connection, reader: _Reader, ready: list[tuple[WxrPost, dict]], method: str, *,
                  actor: str, role, languages: tuple[str, ...], site_url: str,
                  images: _Images | None = None) -> Iterator[dict]:
    """Create the group's posts not imported before (the source first); yield a report row for each."""
    known = dict(conn.execute(select(wxr_imports.c.dedupe_key, wxr_imports.c.article_id)
                              .where(wxr_imports.c.dedupe_key.in_([p.key for p, _ in ready]))).all())
    group_id = None
    if known:
        group_id = conn.execute(select(articles.c.group_id).where(
            articles.c.id == next(iter(known.values())))).scalar_one()
    langs = set(conn.execute(select(articles.c.lang).where(articles.c.group_id == group_id)).scalars()) if group_id else set()
    for post, fields in ready:
        if post.key in known:
            yield _row(post, "already_imported", article_id=known[post.key], group_id=group_id,
                       reason="imported before (same site and post id)", group_method=method)
            continue
        if post.lang in langs:
            yield _row(post, "failed", reason=f"its translation group, imported before, already has a {post.lang!r} "
                       "version", field="lang", fix="fix the translation links in WordPress, or delete the "
                       "other version here, and import again", group_method=method)
            continue
        fields = dict(fields, group_id=group_id, authors=[
            author_store.article_author(author_store.save_author(conn, a["name"], {}), post.lang, languages)
            for a in fields["authors"]])
        fields["author"] = fields["authors"][0]
        if images is not None:
            featured = images.featured(conn, post, actor)
            if featured:
                fields["featured_image"] = featured
            fields["body"] = images.body(conn, post, fields["body"], actor)
        article = create_article(conn, fields, actor=actor, role=role)
        group_id = article["group_id"]
        langs.add(post.lang)
        actions = () if fields.pop("draft") else STATUS_ACTIONS[post.status]
        for action in actions:
            article = transition(conn, article["id"], action, actor=actor, role=role, site_url=site_url)
        wp_note = _audit_note(post)
        conn.execute(update(audit_log).where(and_(audit_log.c.article_id == article["id"], audit_log.c.note.is_(None)))
                     .values(note=wp_note))
        conn.execute(update(audit_log).where(and_(audit_log.c.article_id == article["id"],
                                                  audit_log.c.note.is_not(None), audit_log.c.note != wp_note))
                     .values(note=audit_log.c.note + "; " + wp_note))
        conn.execute(wxr_imports.insert().values(
            dedupe_key=post.key, site=reader.site or None, guid=post.guid, article_id=article["id"],
            post_id=post.post_id, wp_status=post.status, wp_date=post.date_gmt or post.date,
            excerpt=post.excerpt or None, imported_at=utcnow()))
        yield _row(post, "created", article_id=article["id"], group_id=article["group_id"], lang=article["lang"],
                   title=article["title"], state=article["state"], group_method=method,
                   authors=[a["name"] for a in article["authors"]])


def _audit_note(post: WxrPost) -> str:
    when = post.date_gmt if post.date_gmt and not post.date_gmt.startswith("0000") else post.date
    return f"imported from WordPress post {post.post_id} (status {post.status}, dated {when or 'unknown'} GMT, guid {post.guid})"


# ---------------------------------------------------------------- CLI

def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} posts")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _scan_line(seen: int) -> None:
    sys.stderr.write(f"\rreading the export: {seen} items")
    sys.stderr.flush()


def format_row(row: dict) -> str:
    """One line of the per-post report."""
    what = f"{row['outcome']:<16} {row.get('lang') or '--':<3} post {row.get('post_id') or '?':<6} {row.get('title') or row['guid']}"
    if row["outcome"] == "created":
        what += f"  -> {row['state']} {row['article_id']} ({row.get('group_method')})"
    if row.get("reason") and row["outcome"] != "created":
        what += f": {row['reason']}"
    if row.get("fix"):
        what += f" [field {row['field']}; fix: {row['fix']}]"
    for warning in row.get("warnings") or []:
        what += f"\n{'':<17}warning: {warning}"
    return what


def main(argv: list[str] | None = None) -> int:
    """The CLI: import a WXR file into the configured ingest database, printing progress and the per-post report."""
    from shared.config import load_settings
    from shared.runtime import build_runtime

    parser = argparse.ArgumentParser(prog="python -m services.ingest.wxr", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the WXR file from WordPress's Tools -> Export")
    parser.add_argument("--lang", default=None, help="language of posts that carry no WPML/Polylang language "
                                                     "(default: the first of LANGUAGES)")
    parser.add_argument("--actor", default="wxr-import", help="the name recorded in the audit log")
    parser.add_argument("--uploads", type=Path, default=None,
                        help="the site's uploads folder (wp-content/uploads): featured and inline images are imported from it "
                             "(default: WXR_UPLOADS_DIR)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    settings = load_settings()
    rt = build_runtime("ingest", settings, metadata)
    approved = 0

    def printed(conn, rows: list[dict]) -> None:
        nonlocal approved
        for row in rows:
            if row["outcome"] == "created" and row.get("state") == "approved":
                approved += 1
            sys.stderr.write("\r")
            print(format_row(row), flush=True)

    try:
        summary = import_wxr(rt, args.file, default_lang=args.lang, actor=args.actor, progress=_progress_bar,
                             scan_progress=_scan_line, sink=printed, uploads_dir=args.uploads)
    except InvalidInput as exc:
        print(f"\nerror: {exc.message}", file=sys.stderr)
        return 1
    counts = summary["counts"]
    for warning in summary["warnings"]:
        print(f"warning: {warning}")
    print(f"created {counts['created']} article(s), {counts['already_imported']} already imported, "
          f"{counts['skipped']} skipped, {counts['failed']} failed "
          f"(groups: {', '.join(f'{k} {v}' for k, v in sorted(summary['group_methods'].items())) or 'none'})")
    if approved:
        print(f"{approved} approved article(s) wait to be published (article pages, or the import-wxr form)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
