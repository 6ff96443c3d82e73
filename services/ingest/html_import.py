"""HTML page import: the main content and metadata of a saved article page, then ``pages.parse_page``.

trafilatura finds the main content (and drops headers, menus, sidebars, share buttons and related
posts) and the metadata (title, author, canonical URL); htmldate finds the publication date. What
trafilatura leaves out but the import needs is read off the page itself: the WPML/Polylang
"also available in" line or the ``hreflang`` alternates, and the author box's bio. The resulting
lines go through the same structure detection as a text page (footnotes, references, authors).
"""
from __future__ import annotations

import re

import htmldate
import lxml.html
import trafilatura
from lxml import etree

from .language import parse_language_line
from .pages import ImportedPage, NotAnArticle, byline_names, is_name, parse_page

_HTML_START = re.compile(r"^\s*(?:<!--.*?-->\s*)?<(?:!doctype html|html|head|body|meta|article)\b", re.IGNORECASE | re.DOTALL)
_AUTHOR_BOX = re.compile(r"\b(?:author-(?:bio|description|info|box|about)|about-author|author_bio|"
                         r"(?:post|article)-author(?:-bio)?|byline-bio|yazar-hakkinda)\b", re.IGNORECASE)
_BYLINE_BOX = re.compile(r"\b(?:byline|author-name|entry-author|field--name-uid|field--name-field-author|"
                         r"post-author|article-author)\b", re.IGNORECASE)
_LANGUAGE_BOX = re.compile(r"\b(?:wpml-ls|pll-|polylang|lang(?:uage)?-(?:switcher|links|list)|translations?)",
                           re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Whether a page's text is HTML (starts with a doctype, <html>, <head>, <body>, <meta> or <article>)."""
    return bool(_HTML_START.match(text[:2000]))


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _main_lines(xml: str) -> list[str]:
    """trafilatura's XML as page lines: headings, paragraphs, quotations ("> "), list items numbered."""
    doc = etree.fromstring(xml.encode("utf-8"))
    main = doc.find("main")
    lines: list[str] = []
    for element in (main if main is not None else []):
        tag = element.tag
        if tag == "list":
            ordered = (element.get("rend") or "").lower() in ("ol", "ordered")
            for n, item in enumerate(element.findall("item"), 1):
                text = _text(item)
                if text:
                    lines.append(f"{n}. {text}" if ordered else text)
        elif tag == "quote":
            text = _text(element)
            if text:
                lines.append("> " + text)
        elif tag in ("p", "head"):
            text = _text(element)
            if text:
                lines.append(text)
    return lines


def _page_extras(html: str) -> dict:
    """Language line, hreflang codes and author bios read off the whole page (trafilatura drops them)."""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return {"language_line": None, "hreflang": [], "bios": [], "bylines": []}
    hreflang = []
    for link in tree.iter("link", "a"):
        code = (link.get("hreflang") or "").lower()[:2]
        alternate = link.tag == "a" or (link.get("rel") or "").lower() == "alternate"
        if alternate and code.isalpha() and code not in hreflang:
            hreflang.append(code)
    language_line = None
    for element in tree.iter("div", "p", "span", "ul", "nav", "section"):
        if _LANGUAGE_BOX.search(element.get("class") or ""):
            text = _text(element)
            if parse_language_line(text) is not None:
                language_line = text
                break
    bios = []
    for element in tree.iter("div", "section", "aside", "p"):
        if _AUTHOR_BOX.search(element.get("class") or "") or _AUTHOR_BOX.search(element.get("id") or ""):
            paragraphs = [_text(p) for p in element.iter("p")] or [_text(element)]
            bio = " ".join(p for p in paragraphs if len(p.split()) >= 8)
            if bio and bio not in bios:
                bios.append(bio)
    bylines: list[str] = []
    for element in tree.iter("span", "div", "p", "a"):
        if _BYLINE_BOX.search(element.get("class") or "") and not _AUTHOR_BOX.search(element.get("class") or ""):
            text = _text(element)
            for name in byline_names(text) or ([text] if is_name(text) else []):
                if name not in bylines:
                    bylines.append(name)
    return {"language_line": language_line, "hreflang": hreflang, "bios": bios, "bylines": bylines}


def parse_html(html: str, *, lang: str | None = None, languages: tuple[str, ...] = ("en", "tr", "ru")) -> ImportedPage:
    """Parse a saved HTML article page; raise NotAnArticle (naming the field) when it is not one."""
    if not html.strip():
        raise NotAnArticle("body", "the HTML page is empty; send the saved article page")
    xml = trafilatura.extract(html, output_format="xml", with_metadata=True, include_comments=False,
                              include_tables=False, include_images=False, favor_recall=True)
    if not xml:
        raise NotAnArticle("body", "no article text found in the HTML page (trafilatura found no main content); "
                                   "send the saved page of a single article")
    meta = etree.fromstring(xml.encode("utf-8"))
    title = (meta.get("title") or "").strip() or None
    names = [n.strip() for n in re.split(r"[;|]", meta.get("author") or "") if n.strip()]
    extras = _page_extras(html)
    if not names:
        names = extras["bylines"]
    lines = _main_lines(xml)
    head = [title] if title else []
    if extras["language_line"]:
        head.append(extras["language_line"])
    tail: list[str] = []
    if len(names) == 1 and len(extras["bios"]) == 1 and names[0] not in lines:
        tail = [names[0], names[0], extras["bios"][0]]  # the author box as a text page prints it
    page = parse_page("\n\n".join(head + lines + tail), lang=lang, languages=languages, title=title,
                      authors=names)
    if not page.original_languages and extras["hreflang"]:
        page.original_languages = [c for c in extras["hreflang"] if c != page.lang and c in languages]
    page.source_url = meta.get("url") or None
    page.published = _published(html) or meta.get("date")
    return page


def _published(html: str) -> str | None:
    try:
        return htmldate.find_date(html, original_date=True, extensive_search=False)
    except Exception:  # htmldate raises assorted errors on broken markup; a date is optional
        return None
