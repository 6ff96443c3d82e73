"""Markdown to sanitised HTML, and slugs: the content rules every service agrees on."""
from __future__ import annotations

import hashlib
import json
import re

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from slugify import slugify

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "b", "i", "u", "s", "sub", "sup", "blockquote", "q", "cite",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6", "code", "pre", "table", "thead", "tbody",
    "tr", "th", "td", "figure", "figcaption", "img", "abbr", "span", "section",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "id", "class"},
    "sup": {"class"},
    "li": {"id", "class"},
    "ol": {"class"},
    "hr": {"class"},
    "section": {"class"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"scope"},
    "*": {"lang", "dir"},
}

# Inline footnotes ([^1] ... [^1]: text) next to the structured reference list ([1] markers).
_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table").use(footnote_plugin)
_FOOTNOTE_ID = re.compile(r"^fn(ref)?\d+(:\d+)?$")
_FOOTNOTE_CLASSES = {"footnote-ref", "footnotes-sep", "footnotes", "footnotes-list", "footnote-item", "footnote-backref"}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # ids and classes only as the footnotes plugin writes them: no clash with the page's own anchors.
    if attribute == "id":
        return value if _FOOTNOTE_ID.match(value) else None
    if attribute == "class":
        kept = [c for c in value.split() if c in _FOOTNOTE_CLASSES]
        return " ".join(kept) or None
    return value


def sanitize_html(html: str) -> str:
    """Keep only the tags and attributes an article may carry; links get ``rel=noopener``."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        attribute_filter=_attribute_filter,
    )


# A library image embedded in Markdown, ![](media:<id>), becomes <img src="/_image/<id>">: a relative URL
# the sanitiser keeps, which rendering replaces by the image's responsive markup (ingest serves it to editors).
_MEDIA_REF = re.compile(r"\(\s*media:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*\)")
IMAGE_PLACEHOLDER = "/_image/"


def markdown_to_html(text: str) -> str:
    """Render Markdown (raw HTML allowed) and sanitise the result."""
    return sanitize_html(_md.render(_MEDIA_REF.sub(lambda m: f"({IMAGE_PLACEHOLDER}{m.group(1)})", text)))


def make_slug(title: str, max_length: int = 80) -> str:
    """An ASCII slug transliterated from ``title`` (Turkish and Cyrillic included)."""
    slug = slugify(title, max_length=max_length, word_boundary=True, replacements=[["ı", "i"], ["İ", "i"]])
    return slug or "article"


def content_hash(title: str, body: str, references: list) -> str:
    """A stable hash of what a translation is made from (title, body, references)."""
    canonical = json.dumps({"title": title, "body": body, "references": references}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
