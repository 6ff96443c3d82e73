"""Page renderers: each turns the read model (a ``SiteModel``) into the text of one site file.

Everything a page shows comes from the model and the settings (never the clock), so the same
model always renders the same bytes.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from feedgen.feed import FeedGenerator
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from shared.content import page_path

from . import content, i18n, images, similar
from .content import (CATEGORY_SITEMAP, link_footnotes_found, listing_file, page_authors, page_categories, sitemap_file,
                      tag_key)

if TYPE_CHECKING:
    from .site import SiteModel

_env = Environment(
    loader=PackageLoader("services.rendering", "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # Templates ship with the code (a deploy restarts the worker): no stat of every template file
    # on every page rendered.
    auto_reload=False,
)
_MARKER_TEXT = re.compile(r"\[(?:\d{1,3}|[ivxlc]{1,8})\]")
FEED_SIZE = 50
DESCRIPTION_CHARS = 200
# An empty language's feed still needs an <updated>; a fixed instant keeps it reproducible.
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=timezone.utc)


def json_ld(data: dict) -> Markup:
    """JSON for a ``<script type="application/ld+json">``, safe against ``</script>`` in values."""
    # Compact: with ``indent`` json.dumps runs its pure-Python encoder (0.7 ms an article page).
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def excerpt(body_html: str, limit: int = DESCRIPTION_CHARS) -> str:
    """The first words of the body text, at most ``limit`` characters (for descriptions)."""
    words = " ".join(_MARKER_TEXT.sub("", similar.text_of(body_html)).split())
    words = words.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    if len(words) <= limit:
        return words
    return words[:limit].rsplit(" ", 1)[0] + "…"


def site_identity(settings, lang: str) -> dict:
    """The site's identity in ``lang`` (``SITE_NAME`` and friends), the logo as an absolute URL."""
    site = settings.site.for_lang(lang, default_name=i18n.labels(lang)["site_name"])
    if site["logo_url"].startswith("/"):
        site["logo_url"] = settings.site_url + site["logo_url"]
    return site


def search_page(**context) -> str:
    """The search results page (rendered per request by the app, never written to SITE_DIR)."""
    return _env.get_template("search.html").render(**context)


class Renderer:
    """Renders the files of one ``SiteModel``."""

    def __init__(self, model: "SiteModel"):
        self.m = model
        self.settings = model.settings
        self.base = model.settings.site_url

    # --- links and shared context ---

    def url(self, path: str) -> str:
        """An absolute URL of a site path."""
        return self.base + path

    @staticmethod
    def article_path(page: dict) -> str:
        """The site path of an article."""
        return page_path(page["lang"], page["slug"])

    def site(self, lang: str) -> dict:
        """The site's identity in ``lang`` (``SITE_NAME`` and friends), the logo as an absolute URL."""
        return site_identity(self.settings, lang)

    def publisher(self, lang: str) -> dict:
        """The JSON-LD publisher: the site as an Organization (with its logo when one is configured)."""
        site = self.site(lang)
        org = {"@type": "Organization", "name": site["name"], "url": self.url(f"/{lang}/")}
        if site["logo_url"]:
            org["logo"] = {"@type": "ImageObject", "url": site["logo_url"]}
        if site["social"]:
            org["sameAs"] = [link["url"] for link in site["social"]]
        return org

    def _common(self, lang: str) -> dict:
        return {
            "lang": lang,
            "site": self.site(lang),
            "t": i18n.labels(lang),
            "languages": [(code, i18n.native_name(code)) for code in self.m.languages],
            "site_url": self.base,
        }

    @staticmethod
    def author_path(lang: str, name: str) -> str:
        """The site path of an author's page in a language."""
        return f"/{lang}/authors/{tag_key(name)}/"

    @staticmethod
    def term_path(lang: str, kind: str, key: str) -> str:
        """The site path of a tag's (``tags``) or category's (``categories``) page in a language."""
        return f"/{lang}/{kind}/{key}/"

    def _bylines(self, page: dict, lang: str) -> list[dict]:
        """The page's authors as linked names, each with what follows it in the running list."""
        authors = page_authors(page)
        return [{"name": a["name"], "url": self.author_path(lang, a["name"]), "sep": sep}
                for a, sep in zip(authors, i18n.list_separators(len(authors), lang))]

    def _item(self, page: dict, lang: str) -> dict:
        return {
            "title": page["title"],
            "url": self.article_path(page),
            "date_iso": page["published_at"].isoformat(),
            "date_text": i18n.long_date(page["published_at"].date(), lang),
            "authors": self._bylines(page, lang),
        }

    def _alternates(self, page: dict) -> list[tuple[str, str]]:
        """(hreflang, absolute URL) for every live version, itself included, then x-default."""
        siblings = self.m.siblings(page)
        alts = [(s["lang"], self.url(self.article_path(s))) for s in siblings]
        default = self.source_of(page)
        alts.append(("x-default", self.url(self.article_path(default))))
        return alts

    def source_of(self, page: dict) -> dict:
        """The live source-language version of the page's group, else its first live version."""
        siblings = self.m.siblings(page)
        for s in siblings:
            if s["snapshot"].get("is_source"):
                return s
        source_lang = page["snapshot"].get("source_lang")
        for s in siblings:
            if s["lang"] == source_lang:
                return s
        return siblings[0]

    # --- article ---

    def _bio(self, page: dict, author: dict) -> tuple[str, str]:
        """One author's bio to show and its language: the page's language when any version has one."""
        lang = page["lang"]
        own_lang = author.get("bio_lang") or lang
        if author.get("bio") and own_lang == lang:
            return author["bio"], lang
        bios = author.get("bios") or {}
        if isinstance(bios, dict) and bios.get(lang):
            return bios[lang], lang
        for s in self.m.siblings(page):
            for other in page_authors(s):
                if other.get("name") == author["name"] and other.get("bio") and (other.get("bio_lang") or s["lang"]) == lang:
                    return other["bio"], lang
        return author.get("bio") or "", own_lang

    def _references(self, refs: list[dict], linked: set[int], lang: str) -> list[dict]:
        out = []
        for ref in refs:
            accessed = ref.get("accessed")
            out.append({
                **ref,
                "backref": ref["number"] in linked,
                "accessed_text": i18n.long_date(date.fromisoformat(accessed), lang) if accessed else None,
            })
        return out

    def _citations(self, refs: list[dict]) -> list[dict]:
        # "Ibid." and other notes repeat or comment on a citation: only real sources are cited.
        # schema.org has no access-date property; WebPage.lastReviewed is the nearest fit.
        out = []
        for ref in refs:
            if not (ref.get("title") or ref.get("url")):
                continue
            item: dict = {"@type": "WebPage" if ref.get("url") else "CreativeWork", "position": ref["number"]}
            if ref.get("title"):
                item["name"] = ref["title"]
            if ref.get("source"):
                item["publisher"] = {"@type": "Organization", "name": ref["source"]}
            if ref.get("url"):
                item["url"] = ref["url"]
            if ref.get("accessed"):
                item["lastReviewed"] = ref["accessed"]
            out.append(item)
        return out

    def article(self, page: dict) -> str:
        """The HTML of one article page."""
        snap = page["snapshot"]
        lang = page["lang"]
        path = self.article_path(page)
        url = self.url(path)
        frag = self.m.fragment(page)
        refs = frag["references"]
        body, linked = link_footnotes_found(frag["clean_html"], {r["number"] for r in refs})
        siblings = self.m.siblings(page)
        translations = [{"lang": s["lang"], "name": i18n.native_name(s["lang"]), "url": self.article_path(s)}
                        for s in siblings if s["article_id"] != page["article_id"]]
        source = self.source_of(page)
        bylines = self._bylines(page, lang)
        authors = []
        for author, byline in zip(page_authors(page), bylines):
            bio, bio_lang = self._bio(page, author)
            authors.append({**byline, "bio": bio, "bio_lang": bio_lang})
        tags = [{"name": t, "url": self.term_path(lang, "tags", tag_key(t))} for t in snap.get("tags", [])]
        categories = [{"name": c, "url": self.term_path(lang, "categories", tag_key(c))} for c in page_categories(page)]
        description = frag["description"]
        ld = {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": page["title"],
            "inLanguage": lang,
            "url": url,
            "mainEntityOfPage": url,
            "author": [{"@type": "Person", "name": a["name"], "url": self.url(a["url"])} for a in authors],
            "datePublished": page["published_at"].isoformat(),
            "dateModified": page["updated_at"].isoformat(),
            "publisher": self.publisher(lang),
        }
        if description:
            ld["description"] = description
        image = images.featured(snap)
        shared_image = images.share(image, self.base) if image else None
        if shared_image:
            ld["image"] = {"@type": "ImageObject", "url": shared_image["url"], "width": shared_image["width"],
                           "height": shared_image["height"]}
            if image.get("caption"):
                ld["image"]["caption"] = image["caption"]
            if image.get("credit"):
                ld["image"]["creditText"] = image["credit"]
        if tags:
            ld["keywords"] = [t["name"] for t in tags]
        if categories:
            ld["articleSection"] = [c["name"] for c in categories]
        citations = self._citations(refs)
        if citations:
            ld["citation"] = citations
        if source["article_id"] != page["article_id"]:
            ld["translationOfWork"] = {"@type": "Article", "url": self.url(self.article_path(source)),
                                       "inLanguage": source["lang"], "headline": source["title"]}
        else:
            others = [{"@type": "Article", "url": self.url(self.article_path(s)), "inLanguage": s["lang"],
                       "headline": s["title"]} for s in siblings if s["article_id"] != page["article_id"]]
            if others:
                ld["workTranslation"] = others
        share_text = quote(page["title"], safe="")
        share_url = quote(url, safe="")
        common = self._common(lang)
        # On an article the language switcher leads to its live translations, elsewhere to each index.
        common["language_links"] = {s["lang"]: self.article_path(s) for s in siblings}
        return _env.get_template("article.html").render(
            **common,
            title=page["title"],
            url=url,
            description=description,
            alternates=self._alternates(page),
            og_locale=i18n.og_locale(lang),
            og_alternates=[i18n.og_locale(s["lang"]) for s in siblings if s["article_id"] != page["article_id"]],
            published_iso=page["published_at"].isoformat(),
            published_text=i18n.long_date(page["published_at"].date(), lang),
            modified_iso=page["updated_at"].isoformat(),
            modified_text=i18n.long_date(page["updated_at"].date(), lang),
            show_modified=page["updated_at"].date() != page["published_at"].date(),
            body=Markup(body),
            featured=images.figure(image, lazy=False, css_class="featured") if image else None,
            og_image=shared_image,
            references=self._references(refs, linked, lang),
            authors=authors,
            translations=translations,
            tags=tags,
            categories=categories,
            similar=[self._item(p, lang) for p in self.m.similar(page["article_id"])],
            share=[
                ("X", f"https://twitter.com/intent/tweet?url={share_url}&text={share_text}"),
                ("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={share_url}"),
                ("LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?url={share_url}"),
                ("Telegram", f"https://t.me/share/url?url={share_url}&text={share_text}"),
                ("E-mail", f"mailto:?subject={share_text}&body={share_url}"),
            ],
            json_ld=json_ld(ld),
        )

    # --- listings ---

    def listing(self, kind: str, lang: str, key: str, k: int | None) -> str:
        """A listing page: a language's index (``lang``), an author's (``authors``), a tag's (``tags``) or a
        category's (``categories``) articles; ``k`` None is the landing page (the newest), else archive page ``k`` (1 = the oldest)."""
        listing = self.m.listing(kind, lang, key)
        count = listing.archive_count() if listing else 0
        items = (listing.landing() if k is None else listing.archive(k)) if listing else []
        t = i18n.labels(lang)
        base = f"{lang}/" if kind == "lang" else f"{lang}/{kind}/{key}/"

        def path(n: int | None) -> str:
            return "/" + listing_file(base, n)[: -len("index.html")]

        if kind == "lang":
            heading = t["latest"]
        elif kind == "authors":
            heading = t["author_title"].format(
                name=next(a["name"] for a in page_authors(items[0]) if tag_key(a["name"]) == key))
        elif kind == "categories":
            heading = t["category_title"].format(
                category=next(c for c in page_categories(items[0]) if tag_key(c) == key))
        else:
            heading = t["tag_title"].format(tag=next(x for x in items[0]["snapshot"]["tags"] if tag_key(x) == key))
        alternates = []
        if kind == "lang" and k is None:
            alternates = [(code, self.url(f"/{code}/")) for code in self.m.languages]
            alternates.append(("x-default", self.url(f"/{self.m.languages[0]}/")))
        # Only the landing page: archive pages would all change with every article of the listing.
        related = [{"name": name, "url": self.term_path(lang, term_kind, term_key),
                    "kind": "category" if term_kind == "categories" else "tag"}
                   for term_kind, term_key, name in (self.m.related_topics(kind, lang, key) if k is None else [])]
        # Reading order runs newest to oldest: landing, archive page count, ..., archive page 1.
        if k is None:
            newer, older = None, (count or None)
        else:
            newer, older = (k + 1 if k < count else None), (k - 1 or None)
        return _env.get_template("listing.html").render(
            **self._common(lang), kind=kind, heading=heading, url=self.url(path(k)),
            title=heading if k is None else f"{heading} – {t['page_n'].format(n=k)}",
            current=t["latest"] if k is None else t["page_n"].format(n=k),
            items=[self._item(p, lang) for p in items],
            prev_path=path(newer) if k is not None else None,
            next_path=path(older) if older is not None else None,
            alternates=alternates,
            related=related,
        )

    # --- small pages ---

    def not_found(self, lang: str) -> str:
        """The 404 page of a language."""
        return _env.get_template("404.html").render(**self._common(lang))

    def redirect(self, page: dict, old_lang: str) -> str:
        """The fallback page left at an article's old address (the app answers 301 before it)."""
        return _env.get_template("redirect.html").render(
            **self._common(old_lang), title=page["title"], target=self.url(self.article_path(page)))

    def robots(self) -> str:
        """robots.txt: everything may be crawled; the sitemap index is named."""
        return f"User-agent: *\nAllow: /\n\nSitemap: {self.url('/sitemap.xml')}\n"

    # --- feeds and sitemaps ---

    def feed(self, lang: str) -> str:
        """The Atom feed of a language (newest entries)."""
        items = self.m.articles(lang)[:FEED_SIZE]
        head = self._feed_generator(lang, items).atom_str(pretty=True).decode("utf-8")
        # Each entry serialises on its own exactly as it would inside the whole feed (feedgen appends
        # entries after the head, two spaces in), so a page's entry is made once and kept in the model.
        cache = self.m.feed_entries.setdefault(lang, {})
        entries = []
        for p in items:
            entry = cache.get(p["article_id"])
            if entry is None:
                entry = cache[p["article_id"]] = self._feed_entry(lang, p)
            entries.append(entry)
        kept = {p["article_id"] for p in items}
        for gone in [i for i in cache if i not in kept]:
            del cache[gone]
        cut = head.rindex("</feed>")
        return head[:cut] + "".join(entries) + head[cut:]

    def _feed_generator(self, lang: str, items: list[dict]) -> FeedGenerator:
        """A language's feed without entries (``items``: the entries it will hold, for its date)."""
        t = i18n.labels(lang)
        fg = FeedGenerator()
        fg.id(self.url(f"/{lang}/"))
        fg.title(f"{self.site(lang)['name']} – {t['latest']}")
        fg.link(href=self.url(f"/{lang}/feed.xml"), rel="self")
        fg.link(href=self.url(f"/{lang}/"), rel="alternate")
        fg.language(lang)
        fg.updated(max((p["updated_at"] for p in items), default=EMPTY_FEED_UPDATED))
        return fg

    def _feed_entry(self, lang: str, p: dict) -> str:
        """One page's ``<entry>`` exactly as it appears in the whole feed."""
        fg = self._feed_generator(lang, [p])
        self.add_feed_entry(fg, p)
        alone = fg.atom_str(pretty=True).decode("utf-8")
        return alone[alone.index("  <entry>"): alone.rindex("</feed>")]

    def add_feed_entry(self, fg: FeedGenerator, p: dict) -> None:
        """Add a page's entry to a feed (prepended: feedgen's default order)."""
        link = self.url(self.article_path(p))
        entry = fg.add_entry()
        entry.id(link)
        entry.title(p["title"])
        entry.link(href=link, rel="alternate")
        entry.author([{"name": a["name"]} for a in page_authors(p)])
        entry.published(p["published_at"])
        entry.updated(p["updated_at"])
        for tag in p["snapshot"].get("tags", []):
            entry.category(term=tag)
        for name in page_categories(p):
            entry.category(term=name, scheme=self.url(f"/{p['lang']}/categories/"))
        frag = self.m.fragment(p)
        if frag["description"]:
            entry.summary(frag["description"])
        image = images.featured(p["snapshot"])
        if image:
            # Media RSS (what feed readers show as an entry's picture): feedgen 1.0.0 drops the rel of
            # an Atom <link>, so an enclosure link would read as a second alternate.
            shared_image = images.share(image, self.base)
            entry.load_extension("media", atom=True, rss=False)
            entry.media.content(url=shared_image["url"], type=shared_image["type"], medium="image",
                                width=str(shared_image["width"]), height=str(shared_image["height"]))
            entry.media.thumbnail(url=shared_image["url"], width=str(shared_image["width"]),
                                  height=str(shared_image["height"]))
        entry.content(images.absolute_media(frag["clean_html"], self.base), type="html")

    def sitemap_index(self) -> str:
        """The sitemap index naming every sitemap file of every language that has pages."""
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for lang in self.m.languages:
            for k, items in enumerate(self._sitemap_chunks(lang), start=1):
                lastmod = max(p["updated_at"] for p in items).isoformat()
                lines.append(f"  <sitemap><loc>{xml_escape(self.url('/' + sitemap_file(lang, k)))}</loc>"
                             f"<lastmod>{lastmod}</lastmod></sitemap>")
            if self.m.category_listing.get(lang):
                newest = max(p["updated_at"] for listing in self.m.category_listing[lang].values() for p in listing.items)
                lines.append(f"  <sitemap><loc>{xml_escape(self.url(f'/{lang}/{CATEGORY_SITEMAP}'))}</loc>"
                             f"<lastmod>{newest.isoformat()}</lastmod></sitemap>")
        lines.append("</sitemapindex>")
        return "\n".join(lines) + "\n"

    def _sitemap_chunks(self, lang: str) -> list[list[dict]]:
        """A language's articles from the oldest, ``SITEMAP_SIZE`` per sitemap file."""
        oldest_first = self.m.articles(lang)[::-1]
        size = content.SITEMAP_SIZE
        return [oldest_first[i:i + size] for i in range(0, len(oldest_first), size)]

    def sitemap(self, lang: str, k: int) -> str:
        """Sitemap ``k`` of a language: its articles from oldest position ``(k-1) * SITEMAP_SIZE`` on, each with
        ``xhtml:link`` alternates for its whole group."""
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">']
        items = self.m.articles(lang)
        size, n = content.SITEMAP_SIZE, len(items)
        entries = self.m.sitemap_entries
        for p in reversed(items[max(0, n - k * size): n - (k - 1) * size]):
            entry = entries.get(p["article_id"])
            if entry is None:
                entry = entries[p["article_id"]] = self.sitemap_entry(p)
            lines.append(entry)
        lines.append("</urlset>")
        return "\n".join(lines) + "\n"

    def sitemap_entry(self, page: dict) -> str:
        """A page's ``<url>`` element: its address, last change and its group's alternates."""
        lines = [f"  <url><loc>{xml_escape(self.url(self.article_path(page)))}</loc>"
                 f"<lastmod>{page['updated_at'].isoformat()}</lastmod>"]
        for hreflang, href in self._alternates(page):
            lines.append(f'    <xhtml:link rel="alternate" hreflang={quoteattr(hreflang)} href={quoteattr(href)}/>')
        lines.append("  </url>")
        return "\n".join(lines)

    def category_sitemap(self, lang: str) -> str:
        """A language's category pages (landing and archive pages): where readers browse a subject; they
        have no translations."""
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for key, listing in sorted(self.m.category_listing.get(lang, {}).items()):
            base = f"{lang}/categories/{key}/"
            for k in [None, *range(1, listing.archive_count() + 1)]:
                items = listing.landing() if k is None else listing.archive(k)
                loc = self.url("/" + listing_file(base, k)[: -len("index.html")])
                lastmod = max(p["updated_at"] for p in items).isoformat()
                lines.append(f"  <url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod}</lastmod></url>")
        lines.append("</urlset>")
        return "\n".join(lines) + "\n"
