"""Addresses and text rules shared by the renderers: site paths, URL keys, authors and categories, footnote markers."""
from __future__ import annotations

import re
from functools import lru_cache

from shared.content import roman_value
from shared.markup import make_slug

PAGE_SIZE = 10
_MARKER = re.compile(r"\[(\d{1,3}|[ivxlc]{1,8})\]")
_TAG = re.compile(r"(<[^>]+>)")
_NO_MARKERS_IN = ("code", "pre", "a")


def link_footnotes_found(body_html: str, numbers: set[int]) -> tuple[str, set[int]]:
    """Link ``[n]`` and ``[i]`` markers in text to reference ``n``; return the HTML and the numbers found.

    Markers inside tags, links, code and preformatted text are left alone, as are markers with no
    matching reference.
    """
    seen: dict[int, int] = {}

    def repl(match: re.Match) -> str:
        raw = match.group(1)
        n = int(raw) if raw.isdigit() else roman_value(raw)
        if n is None or n not in numbers:
            return match.group(0)
        seen[n] = seen.get(n, 0) + 1
        ref_id = f"fnref-{n}" if seen[n] == 1 else f"fnref-{n}-{seen[n]}"
        return f'<sup class="fnref" id="{ref_id}"><a href="#ref-{n}" role="doc-noteref">[{raw}]</a></sup>'

    out, skip_depth = [], 0
    for part in _TAG.split(body_html):
        if part.startswith("<"):
            name = part[1:].lstrip("/").split(None, 1)[0].rstrip(">").rstrip("/").lower() if len(part) > 2 else ""
            if name in _NO_MARKERS_IN and not part.endswith("/>"):
                skip_depth += -1 if part.startswith("</") else 1
                skip_depth = max(skip_depth, 0)
            out.append(part)
        else:
            out.append(part if skip_depth else _MARKER.sub(repl, part))
    return "".join(out), set(seen)


def link_footnotes(body_html: str, numbers: set[int]) -> str:
    """Turn ``[n]`` (and roman ``[i]``) markers in text into links to reference ``n`` and back."""
    return link_footnotes_found(body_html, numbers)[0]


def page_authors(page: dict) -> list[dict]:
    """A page's authors, the main author first (``[author]`` for snapshots older than ``authors``)."""
    snap = page["snapshot"]
    return snap.get("authors") or [snap["author"]]


def author_keys(page: dict) -> list[str]:
    """The URL keys of all a page's authors, each once, the main author first."""
    return list(dict.fromkeys(tag_key(a["name"]) for a in page_authors(page)))


def page_categories(page: dict) -> list[str]:
    """A page's category names (none for snapshots older than ``categories``)."""
    return page["snapshot"].get("categories") or []


@lru_cache(maxsize=8192)
def tag_key(tag: str) -> str:
    """The URL key of a tag (or an author name)."""
    return make_slug(tag)


def article_file(page: dict) -> str:
    """The file of an article page, relative to SITE_DIR."""
    return f"{page['lang']}/{page['slug']}/index.html"


# URLs per language sitemap file, numbered from the oldest article so a new one rewrites only the last.
SITEMAP_SIZE = 1000
CATEGORY_SITEMAP = "sitemap-categories.xml"


def sitemap_file(lang: str, k: int) -> str:
    """Sitemap ``k`` of a language (1 holds its oldest articles)."""
    return f"{lang}/sitemap-{k}.xml"


def sitemap_count(n: int) -> int:
    """How many sitemap files a language with ``n`` articles has."""
    return -(-n // SITEMAP_SIZE)


def listing_file(base: str, page: int | None) -> str:
    """The file of a listing page under ``base`` (``en/``, ``en/tags/water/``): None is its landing
    page (the newest articles), ``k`` its archive page ``k`` (counted from the oldest)."""
    return f"{base}index.html" if page is None else f"{base}page/{page}/index.html"
