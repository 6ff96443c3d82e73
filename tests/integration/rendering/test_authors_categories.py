"""Several authors and categories on the public site: bylines, author boxes, JSON-LD, feed entries, author
pages, category pages (paged like tag pages, in the sitemap), and older snapshots without either list.

All prose here is written for these tests.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from services.rendering import site

from . import fixtures as fx

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BIO_EN = "Follows gas and electricity trade around the Caspian for a regional energy monitor."
BIO_RU = "Следит за торговлей газом и электроэнергией вокруг Каспия для регионального обзора."
DENIZ = {"name": "Deniz Aralbay", "bio": fx.BIO_TR, "bio_lang": "tr"}
# The Russian bio of the co-author was entered on the Turkish version only; the Russian page still finds it.
TIMUR = {"en": {"name": "Timur Sadykov", "bio": BIO_EN, "bio_lang": "en"},
         "tr": {"name": "Timur Sadykov", "bio": BIO_RU, "bio_lang": "ru"},
         "ru": {"name": "Timur Sadykov", "bio": BIO_EN, "bio_lang": "en"}}
CATEGORIES = {"en": ["Water Policy", "Regional Security"], "tr": ["Su Politikası"], "ru": ["Водная политика"]}
GROUP = "00000000-0000-4000-8000-00000000c001"
SLUGS = {lang: f"{slug}-co" for lang, slug in fx.SLUGS.items()}


def co_authored() -> list[dict]:
    """The water article again, written by two authors, with categories, in three languages."""
    return [fx.snapshot(f"00000000-0000-4000-8000-0000000c00{i}1", lang, group_id=GROUP, slug=SLUGS[lang],
                        authors=[DENIZ, TIMUR[lang]], categories=CATEGORIES[lang],
                        published_at=fx.BASE_TIME + timedelta(days=1, hours=i))
            for i, lang in enumerate(("en", "tr", "ru"))]


def old_shape() -> dict:
    """A snapshot from before ``authors`` and ``categories`` existed."""
    snap = fx.snapshot("00000000-0000-4000-8000-0000000c0099", "en", group_id="00000000-0000-4000-8000-00000000c099",
                       slug="an-older-snapshot", title="An Older Snapshot", body_html="<p>Stored long ago.</p>",
                       author={"name": "Aylin Kaya", "bio": "", "bio_lang": None}, references=[], tags=["Water"],
                       published_at=fx.BASE_TIME - timedelta(days=30))
    assert "authors" not in snap and "categories" not in snap
    return snap


@pytest.fixture(scope="module")
def co_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("co")
    settings = fx.settings_for(tmp)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.group_snapshots() + co_authored() + [old_shape()]:
            site.publish_snapshot(conn, snap, settings)
    yield settings
    engine.dispose()


def doc(settings, rel: str):
    return html.fromstring((settings.site_dir / rel).read_bytes())


@pytest.mark.parametrize("lang,byline", [
    ("en", "By Deniz Aralbay and Timur Sadykov ·"),
    ("tr", "Yazarlar Deniz Aralbay ve Timur Sadykov ·"),
    ("ru", "Авторы Deniz Aralbay и Timur Sadykov ·"),
])
def test_the_byline_names_every_author_joined_in_the_page_language(co_site, lang, byline):
    page = doc(co_site, f"{lang}/{SLUGS[lang]}/index.html")
    line = page.xpath("//p[@class='byline']")[0]
    assert " ".join(line.text_content().split()).startswith(byline)
    assert line.xpath("a[@class='author']/@href") == [f"/{lang}/authors/deniz-aralbay/", f"/{lang}/authors/timur-sadykov/"]
    assert line.xpath("a[@class='author']/@rel") == ["author", "author"]


@pytest.mark.parametrize("lang,timur_bio,timur_bio_lang", [("en", BIO_EN, "en"), ("tr", BIO_RU, "ru"), ("ru", BIO_RU, "ru")])
def test_one_author_box_per_author_with_the_bio_in_the_page_language_when_there_is_one(co_site, lang, timur_bio,
                                                                                      timur_bio_lang):
    page = doc(co_site, f"{lang}/{SLUGS[lang]}/index.html")
    boxes = page.xpath("//section[@class='author-box']")
    assert [b.xpath("string(h2)") for b in boxes] == ["Deniz Aralbay", "Timur Sadykov"]
    assert [b.xpath("h2/a/@href")[0] for b in boxes] == [f"/{lang}/authors/deniz-aralbay/", f"/{lang}/authors/timur-sadykov/"]
    assert [b.get("aria-labelledby") for b in boxes] == [b.xpath("h2/@id")[0] for b in boxes]
    assert len({b.get("aria-labelledby") for b in boxes}) == 2, "each box is labelled by its own heading"
    assert boxes[0].xpath("string(p[@class='author-bio'])") == fx.BIO_TR
    assert boxes[0].xpath("p[@class='author-bio']/@lang") == ["tr"]
    assert boxes[1].xpath("string(p[@class='author-bio'])") == timur_bio
    assert boxes[1].xpath("p[@class='author-bio']/@lang") == [timur_bio_lang]


def test_json_ld_and_open_graph_name_every_author_and_the_categories(co_site):
    base = co_site.site_url
    page = doc(co_site, f"en/{SLUGS['en']}/index.html")
    ld = json.loads(page.xpath("string(//script[@type='application/ld+json'])"))
    assert ld["author"] == [
        {"@type": "Person", "name": "Deniz Aralbay", "url": f"{base}/en/authors/deniz-aralbay/"},
        {"@type": "Person", "name": "Timur Sadykov", "url": f"{base}/en/authors/timur-sadykov/"},
    ]
    assert ld["articleSection"] == ["Water Policy", "Regional Security"]
    assert page.xpath("//meta[@property='article:author']/@content") == [
        f"{base}/en/authors/deniz-aralbay/", f"{base}/en/authors/timur-sadykov/"]
    assert page.xpath("//meta[@property='article:section']/@content") == ["Water Policy"]


def test_feed_entries_carry_one_author_per_author(co_site):
    feed = feedparser.parse((co_site.site_dir / "en" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    entries = {e.link: e for e in feed.entries}
    co = entries[f"{co_site.site_url}/en/{SLUGS['en']}/"]
    assert [a.name for a in co.authors] == ["Deniz Aralbay", "Timur Sadykov"]
    assert {t.term for t in co.tags} >= {"Water Policy", "Regional Security"}
    old = entries[f"{co_site.site_url}/en/an-older-snapshot/"]
    assert [a.name for a in old.authors] == ["Aylin Kaya"]
    raw = etree.fromstring((co_site.site_dir / "en" / "feed.xml").read_bytes())
    atom = {"a": "http://www.w3.org/2005/Atom"}
    entry = raw.xpath(f"//a:entry[a:id='{co_site.site_url}/en/{SLUGS['en']}/']", namespaces=atom)[0]
    assert entry.xpath("a:author/a:name/text()", namespaces=atom) == ["Deniz Aralbay", "Timur Sadykov"]


@pytest.mark.parametrize("lang,heading", [("en", "Articles by Timur Sadykov"), ("tr", "Timur Sadykov yazıları"),
                                          ("ru", "Статьи автора: Timur Sadykov")])
def test_an_author_page_lists_the_articles_the_author_co_wrote(co_site, lang, heading):
    page = doc(co_site, f"{lang}/authors/timur-sadykov/index.html")
    assert page.xpath("string(//h1)") == heading
    assert page.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href") == [f"/{lang}/{SLUGS[lang]}/"]
    item = page.xpath("//ul[contains(@class,'articles')]/li")[0]
    assert item.xpath("a[@class='item-author']/text()") == ["Deniz Aralbay", "Timur Sadykov"]
    # The main author's page lists both the article they wrote alone and the co-authored one.
    main = doc(co_site, f"{lang}/authors/deniz-aralbay/index.html")
    assert set(main.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href")) >= {
        f"/{lang}/{SLUGS[lang]}/", f"/{lang}/{fx.SLUGS[lang]}/"}


@pytest.mark.parametrize("lang,label,names,keys", [
    ("en", "Categories:", ["Water Policy", "Regional Security"], ["water-policy", "regional-security"]),
    ("tr", "Kategori:", ["Su Politikası"], ["su-politikasi"]),
    ("ru", "Рубрика:", ["Водная политика"], ["vodnaia-politika"]),
])
def test_the_article_page_links_its_categories(co_site, lang, label, names, keys):
    page = doc(co_site, f"{lang}/{SLUGS[lang]}/index.html")
    line = page.xpath("//p[@class='categories']")[0]
    assert line.text.strip() == label
    assert line.xpath("a[@class='category']/text()") == names
    assert line.xpath("a[@class='category']/@href") == [f"/{lang}/categories/{k}/" for k in keys]
    for k in keys:
        listing = doc(co_site, f"{lang}/categories/{k}/index.html")
        assert listing.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href") == [f"/{lang}/{SLUGS[lang]}/"]
    assert doc(co_site, "ru/categories/vodnaia-politika/index.html").xpath("string(//h1)") == "Рубрика: Водная политика"
    assert doc(co_site, "tr/categories/su-politikasi/index.html").xpath("string(//h1)") == "Kategori: Su Politikası"


def test_an_old_snapshot_without_authors_or_categories_still_renders(co_site):
    base = co_site.site_url
    page = doc(co_site, "en/an-older-snapshot/index.html")
    assert page.xpath("//p[@class='byline']/a[@class='author']/text()") == ["Aylin Kaya"]
    assert " ".join(page.xpath("//p[@class='byline']")[0].text_content().split()).startswith("By Aylin Kaya ·")
    assert [b.xpath("string(h2)") for b in page.xpath("//section[@class='author-box']")] == ["Aylin Kaya"]
    assert page.xpath("//p[@class='categories']") == [] and page.xpath("//meta[@property='article:section']") == []
    ld = json.loads(page.xpath("string(//script[@type='application/ld+json'])"))
    assert ld["author"] == [{"@type": "Person", "name": "Aylin Kaya", "url": f"{base}/en/authors/aylin-kaya/"}]
    assert "articleSection" not in ld
    author = doc(co_site, "en/authors/aylin-kaya/index.html")
    assert author.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href") == ["/en/an-older-snapshot/"]


def test_author_and_category_pages_pass_the_nu_html_checker(co_site, vnu):
    files = sorted(Path(co_site.site_dir).rglob("*.html"))
    assert any("/categories/" in str(f) for f in files) and any("/authors/timur-sadykov/" in str(f) for f in files)
    errors = vnu(files)
    assert errors == "", errors[:3000]


# --- category pages paged like tag pages ------------------------------------------------------


def _in_category(n: int, categories=("Water Policy",)) -> dict:
    return fx.snapshot(f"20000000-0000-4000-8000-{n:012d}", "en", group_id=f"30000000-0000-4000-8000-{n:012d}",
                       slug=f"en-article-{n}", title=f"Article number {n}", body_html=f"<p>Text {n} about canals.</p>",
                       tags=[], references=[], authors=[{"name": "Deniz Aralbay", "bio": "", "bio_lang": None}],
                       categories=list(categories), published_at=fx.BASE_TIME + timedelta(hours=n), source_lang="en")


def test_category_pages_are_numbered_from_the_oldest_with_canonical_prev_next_and_sitemap(tmp_path, monkeypatch, vnu):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _in_category(n)} for n in range(11)])
    base = settings.site_url

    def titles(d):
        return d.xpath("//ul[contains(@class,'articles')]/li/a[1]/text()")

    landing = doc(settings, "en/categories/water-policy/index.html")
    newer = doc(settings, "en/categories/water-policy/page/2/index.html")
    oldest = doc(settings, "en/categories/water-policy/page/1/index.html")
    assert not (settings.site_dir / "en/categories/water-policy/page/3").exists()
    assert titles(landing) == [f"Article number {n}" for n in (10, 9, 8, 7)]
    assert titles(newer) == [f"Article number {n}" for n in (6, 5, 4)]
    assert titles(oldest) == [f"Article number {n}" for n in (3, 2, 1, 0)]
    assert landing.xpath("string(//h1)") == "Category: Water Policy"
    assert oldest.xpath("string(//title)") == "Category: Water Policy – Page 1"
    assert landing.xpath("//link[@rel='canonical']/@href") == [f"{base}/en/categories/water-policy/"]
    assert newer.xpath("//link[@rel='canonical']/@href") == [f"{base}/en/categories/water-policy/page/2/"]
    assert landing.xpath("//link[@rel='prev']/@href") == []
    assert landing.xpath("//link[@rel='next']/@href") == ["/en/categories/water-policy/page/2/"]
    assert newer.xpath("//link[@rel='prev']/@href") == ["/en/categories/water-policy/"]
    assert newer.xpath("//link[@rel='next']/@href") == ["/en/categories/water-policy/page/1/"]
    assert oldest.xpath("//link[@rel='prev']/@href") == ["/en/categories/water-policy/page/2/"]
    assert oldest.xpath("//link[@rel='next']/@href") == []

    sitemap = etree.fromstring((settings.site_dir / "en/sitemap-categories.xml").read_bytes())
    entries = {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in sitemap.iter(f"{SM}url")}
    category_urls = [u for u in entries if "/categories/" in u]
    assert category_urls == [f"{base}/en/categories/water-policy/", f"{base}/en/categories/water-policy/page/1/",
                             f"{base}/en/categories/water-policy/page/2/"]
    assert entries[f"{base}/en/categories/water-policy/page/1/"] == (fx.BASE_TIME + timedelta(hours=3)).isoformat()

    # A new article rewrites at most the category's landing page, its last archive page and a new one.
    page1 = (settings.site_dir / "en/categories/water-policy/page/1/index.html").read_bytes()
    for n in range(11, 15):
        with engine.begin() as conn:
            report = site.publish(conn, _in_category(n), settings)
        written = [p for p in report.written if p.startswith("en/categories/")]
        assert 1 <= len(written) <= 3 and "en/categories/water-policy/index.html" in written, written
    assert (settings.site_dir / "en/categories/water-policy/page/1/index.html").read_bytes() == page1
    engine.dispose()
    errors = vnu(sorted(settings.site_dir.glob("en/categories/**/index.html")))
    assert errors == "", errors[:3000]


def test_a_republish_that_changes_authors_and_categories_moves_the_article_between_listings(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    first = _in_category(1, categories=("Water Policy", "Energy"))
    with engine.begin() as conn:
        site.publish(conn, _in_category(0), settings)
        site.publish(conn, first, settings)
    assert (settings.site_dir / "en/categories/energy/index.html").is_file()
    changed = dict(first, revision=2, categories=["Trade"],
                   authors=[{"name": "Olga Petrova", "bio": "", "bio_lang": None}],
                   author={"name": "Olga Petrova", "bio": "", "bio_lang": None})
    with engine.begin() as conn:
        report = site.publish(conn, changed, settings)
    assert "en/categories/energy/index.html" in report.removed
    assert (settings.site_dir / "en/categories/trade/index.html").is_file()
    assert (settings.site_dir / "en/authors/olga-petrova/index.html").is_file()
    water = doc(settings, "en/categories/water-policy/index.html")
    assert water.xpath("//ul[contains(@class,'articles')]/li/a[1]/text()") == ["Article number 0"]
    assert not re.search(rb"en-article-1/", (settings.site_dir / "en/authors/deniz-aralbay/index.html").read_bytes())
    engine.dispose()
