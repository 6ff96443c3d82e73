"""The rendered pages, parsed: article elements, head metadata, listings, feeds, sitemaps, validity."""
from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from services.rendering import site

from . import fixtures as fx

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def page(settings, rel: str):
    return html.fromstring((settings.site_dir / rel).read_bytes())


def article(settings, lang: str, slug: str | None = None):
    return page(settings, f"{lang}/{slug or fx.SLUGS[lang]}/index.html")


@pytest.mark.parametrize("lang,date_text,also,share,accessed,similar", [
    ("en", "13 October 2022", "This post is also available in:", "Share", "Date of Accession", "Similar Posts"),
    ("tr", "13 Ekim 2022", "Bu yazı şu dillerde de mevcut:", "Paylaş", "Erişim Tarihi", "Benzer İçerikler"),
    ("ru", "13 октября 2022", "Эта запись также доступна на:", "Поделиться", "Дата обращения", "Похожие записи"),
])
def test_article_page_in_each_language(rendered, lang, date_text, also, share, accessed, similar):
    settings, *_ = rendered
    doc = article(settings, lang)
    assert doc.xpath("/html/@lang") == [lang]
    assert doc.xpath("string(//h1)") == fx.TITLES[lang]
    assert doc.xpath("string(//p[@class='byline']/time)") == date_text
    assert doc.xpath("string(//*[@class='author'])") == "Deniz Aralbay"

    # Language line: the other two published versions, by native name, linked to them.
    line = doc.xpath("//p[@class='lang-line']")[0]
    assert line.text.strip() == also
    others = [x for x in ("en", "tr", "ru") if x != lang]
    names = {"en": "English", "tr": "Türkçe", "ru": "Русский"}
    assert line.xpath("a/text()") == [names[x] for x in others]
    assert line.xpath("a/@href") == [f"/{x}/{fx.SLUGS[x]}/" for x in others]

    # Footnotes link both ways, roman markers included.
    body = doc.xpath("//div[@class='body']")[0]
    assert body.xpath(".//blockquote")
    assert doc.xpath("//sup[@id='fnref-1']/a/@href") == ["#ref-1"]
    assert doc.xpath("//sup[@id='fnref-3']/a/text()") == ["[iii]"]
    refs = doc.xpath("//section[@class='references']//li")
    assert [r.get("id") for r in refs] == ["ref-1", "ref-2", "ref-3"]
    assert refs[0].xpath("a[@class='backref']/@href") == ["#fnref-1"]
    assert refs[0].xpath("string(span[@class='ref-title'])") == "“Basin water allocation report”"
    assert refs[0].xpath("string(span[@class='ref-source'])") == "Regional Water Office"
    assert refs[0].xpath("a[@class='ref-url']/@href") == ["https://example.org/water/allocation"]
    assert accessed in refs[0].xpath("string(span[@class='ref-accessed'])")
    assert refs[0].xpath("span[@class='ref-accessed']/time/@datetime") == ["2022-10-14"]
    assert refs[1].xpath("string(span[@class='ref-note'])") == "Ibid."
    assert refs[2].xpath("a[@class='ref-url']/@href") == ["https://example.org/bulletin/canals?year=2021&lang=en"]

    # The bio is in Turkish only: shown as such (marked) on every page.
    assert doc.xpath("//p[@class='author-bio']/@lang") == ["tr"]
    assert doc.xpath("string(//p[@class='author-bio'])") == fx.BIO_TR

    # Share links are plain links; no third-party script anywhere.
    share_p = doc.xpath("//p[@class='share']")[0]
    assert share_p.text.strip() == f"{share}:"
    assert len(share_p.xpath("a/@href")) >= 3
    assert all(s.get("type") == "application/ld+json" for s in doc.xpath("//script"))
    assert doc.xpath("string(//section[@class='similar']/h2)") == similar


def test_similar_posts_are_same_language_relevant_and_never_itself(rendered):
    settings, _, snaps, _ = rendered
    doc = article(settings, "en")
    links = doc.xpath("//section[@class='similar']//a/@href")
    assert len(links) == 3
    assert f"/en/{fx.SLUGS['en']}/" not in links
    assert all(link.startswith("/en/") for link in links)
    # The water articles (canal repairs, glaciers) are the closest by words and tags.
    assert "/en/canal-repairs-and-rural-budgets/" in links and "/en/glaciers-rivers-and-summer-water/" in links
    tr_links = article(settings, "tr").xpath("//section[@class='similar']//a/@href")
    assert tr_links == ["/tr/buzullar-ve-yaz-suyu/"], "same language only, nothing unrelated"


def test_head_metadata(rendered):
    settings, *_ = rendered
    base = settings.site_url
    expected = {(x, f"{base}/{x}/{fx.SLUGS[x]}/") for x in ("en", "tr", "ru")} | {("x-default", f"{base}/en/{fx.SLUGS['en']}/")}
    for lang in ("en", "tr", "ru"):
        doc = article(settings, lang)
        url = f"{base}/{lang}/{fx.SLUGS[lang]}/"
        assert doc.xpath("//link[@rel='canonical']/@href") == [url]
        alts = {(link.get("hreflang"), link.get("href")) for link in doc.xpath("//link[@rel='alternate'][@hreflang]")}
        assert alts == expected, "hreflang sets are complete and reciprocal, x-default is the source"
        og = {m.get("property"): m.get("content") for m in doc.xpath("//meta[@property]")}
        assert og["og:title"] == fx.TITLES[lang] and og["og:url"] == url and og["og:type"] == "article"
        assert og["og:locale"] == {"en": "en_US", "tr": "tr_TR", "ru": "ru_RU"}[lang]
        ld = json.loads(doc.xpath("string(//script[@type='application/ld+json'])"))
        assert ld["@type"] == "Article" and ld["inLanguage"] == lang and ld["headline"] == fx.TITLES[lang]
        assert [(a["@type"], a["name"], a["url"]) for a in ld["author"]] == [
            ("Person", "Deniz Aralbay", f"{base}/{lang}/authors/deniz-aralbay/")]
        assert ld["datePublished"].startswith("2022-10-13")
        assert "dateModified" in ld
        assert [(c["url"], c["lastReviewed"]) for c in ld["citation"]] == [
            ("https://example.org/water/allocation", "2022-10-14"),
            ("https://example.org/bulletin/canals?year=2021&lang=en", "2022-10-12")]
        if lang == "en":
            assert sorted(w["url"] for w in ld["workTranslation"]) == sorted(
                f"{base}/{x}/{fx.SLUGS[x]}/" for x in ("tr", "ru"))
            assert "translationOfWork" not in ld
        else:
            assert ld["translationOfWork"]["url"] == f"{base}/en/{fx.SLUGS['en']}/"


def test_listings_feeds_sitemaps_robots(rendered, monkeypatch):
    settings, *_ = rendered
    # Index: newest first, localised heading, links to article pages.
    idx = page(settings, "en/index.html")
    hrefs = idx.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href")
    # One more English article when the real sample page is there to render.
    assert len(hrefs) == (8 if fx.SAMPLE.exists() else 7) and hrefs[0] == f"/en/{fx.SLUGS['en']}/"
    assert page(settings, "ru/index.html").xpath("string(//h1)") == "Последние статьи"
    assert page(settings, "tr/tags/su/index.html").xpath("string(//h1)") == "“Su” etiketli yazılar"
    water = page(settings, "en/tags/water/index.html").xpath("//ul[contains(@class,'articles')]/li/a[1]/@href")
    assert f"/en/{fx.SLUGS['en']}/" in water and len(water) == 3
    author = page(settings, "en/authors/aylin-kaya/index.html")
    assert author.xpath("string(//h1)") == "Articles by Aylin Kaya"
    assert page(settings, "ru/404.html").xpath("string(//h1)") == "Страница не найдена"

    for lang in ("en", "tr", "ru"):
        feed = feedparser.parse((settings.site_dir / lang / "feed.xml").read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert feed.feed.language == lang
        assert feed.entries[0].link == f"{settings.site_url}/{lang}/{fx.SLUGS[lang]}/"
        assert feed.entries[0].title == fx.TITLES[lang]

    index = etree.fromstring((settings.site_dir / "sitemap.xml").read_bytes())
    locs = index.xpath("//s:sitemap/s:loc/text()", namespaces={"s": SM[1:-1]})
    assert locs == [f"{settings.site_url}/{x}/sitemap-1.xml" for x in ("en", "tr", "ru")]
    alternates: dict[str, set] = {}
    for lang in ("en", "tr", "ru"):
        sm = etree.fromstring((settings.site_dir / lang / "sitemap-1.xml").read_bytes())
        for url in sm.iter(f"{SM}url"):
            loc = url.findtext(f"{SM}loc")
            assert loc.startswith(f"{settings.site_url}/{lang}/")
            alternates[loc] = {(a.get("hreflang"), a.get("href")) for a in url.iter(f"{XHTML}link")}
    # Reciprocal: every alternate of a URL lists the same set, itself included.
    for loc, alts in alternates.items():
        assert (loc.split("/")[3], loc) in alts
        for hreflang, href in alts:
            if hreflang != "x-default":
                assert alternates[href] == alts
    robots = (settings.site_dir / "robots.txt").read_text()
    assert f"Sitemap: {settings.site_url}/sitemap.xml" in robots


def test_real_sample_page(rendered):
    settings, _, _, sample = rendered
    if sample is None:
        pytest.skip(f"the real sample page is not at {fx.SAMPLE}")
    doc = article(settings, "en", sample["slug"])
    assert doc.xpath("string(//h1)") == sample["title"]
    assert doc.xpath("//sup[@class='fnref']/a/@href") == ["#ref-1", "#ref-2", "#ref-3", "#ref-4"]
    refs = doc.xpath("//section[@class='references']//li")
    assert len(refs) == 4 and refs[2].xpath("string(span[@class='ref-note'])") == "Ibid."
    assert refs[0].xpath("span[@class='ref-accessed']/time/@datetime") == ["2022-10-14"]
    assert doc.xpath("//p[@class='author-bio']/@lang") == ["tr"]
    assert doc.xpath("string(//*[@class='author'])") == sample["author"]["name"]


def test_every_page_passes_the_nu_html_checker(rendered, vnu):
    settings, *_ = rendered
    files = sorted(Path(settings.site_dir).rglob("*.html"))
    assert len(files) > 20
    errors = vnu(files)
    assert errors == "", errors[:3000]


def test_references_are_read_with_the_body_not_kept_in_the_live_model(rendered):
    """Footnotes can outweigh everything else the worker keeps per page, so the model holds none;
    the article page still lists every one of them, after a reload of the model too."""
    settings, engine, snaps, _ = rendered
    with engine.begin() as conn:
        site.forget_live_model(conn, settings)
        model = site.live_model(conn, settings)
        model.loader = lambda ids: site.fetch_fragments(conn, ids)
        assert not [p for p in model.by_id.values() if "references" in p["snapshot"]]
        water = next(p for p in model.by_id.values() if p["slug"] == fx.SLUGS["en"])
        html = model.render(f"en/{fx.SLUGS['en']}/index.html")
        model.loader = None
    assert water["article_id"] in snaps
    for ref in fx.REFERENCES:
        if ref["title"]:
            assert ref["title"] in html
    assert html.count('id="ref-') == len(fx.REFERENCES)
