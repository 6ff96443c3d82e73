"""Tag and category pages link the categories and tags used most with them ("Related topics", issue 18),
on their landing page only, and stay equal to a full rebuild when an old article of theirs changes.

All prose here is written for these tests.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import html

from services.rendering import site

from . import fixtures as fx
from .test_incremental import _assert_equal_to_rebuild

# (tags, categories) of English articles, oldest first; one an hour from BASE_TIME.
ARTICLES = [
    (["Water", "Drought"], ["Climate", "Water Policy"]),
    (["Water", "canals"], ["Water Policy"]),
    (["Water", "Trade"], ["Water Policy", "Economy"]),
    (["Trade", "Energy"], ["Economy"]),
    (["Water", "Canals"], ["Water Policy"]),
    (["Water", "Trade"], ["Climate", "Water Policy"]),
    (["Water"], []),
    (["Glaciers"], []),
]


def article(n: int, tags: list[str], categories: list[str], revision: int = 1) -> dict:
    return fx.snapshot(f"60000000-0000-4000-8000-{n:012d}", "en", group_id=f"70000000-0000-4000-8000-{n:012d}",
                       slug=f"topic-article-{n}", title=f"Topic article {n}", body_html=f"<p>Notes {n} on rivers.</p>",
                       tags=tags, references=[], authors=[{"name": "Deniz Aralbay", "bio": "", "bio_lang": None}],
                       categories=categories, revision=revision, published_at=fx.BASE_TIME + timedelta(hours=n),
                       source_lang="en")


@pytest.fixture
def topics_site(tmp_path, monkeypatch):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)  # the oldest Water articles on archive page 1
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for n, (tags, categories) in enumerate(ARTICLES):
            site.publish(conn, article(n, tags, categories), settings)
    yield settings, engine
    engine.dispose()


def doc(settings, rel: str):
    return html.fromstring((settings.site_dir / rel).read_bytes())


def related(settings, rel: str) -> list[tuple[str, str, str]]:
    """(class, href, text) of the related-topics links of a page."""
    links = doc(settings, rel).xpath("//nav[@class='related-topics']//a")
    return [(a.get("class"), a.get("href"), a.text) for a in links]


def titles(settings, rel: str) -> list[str]:
    return doc(settings, rel).xpath("//ul[contains(@class,'articles')]/li/a[1]/text()")


def test_a_tag_page_links_the_categories_then_tags_used_most_with_it_in_all_its_articles(topics_site):
    settings, _ = topics_site
    assert titles(settings, "en/tags/water/index.html") == [f"Topic article {n}" for n in (6, 5, 4, 2)]
    assert titles(settings, "en/tags/water/page/1/index.html") == ["Topic article 1", "Topic article 0"]
    page = doc(settings, "en/tags/water/index.html")
    nav = page.xpath("//nav[@class='related-topics']")
    assert len(nav) == 1 and nav[0].get("aria-label") == "Related topics"
    assert nav[0].xpath("string(h2)") == "Related topics"
    # Counts among the Water articles: Water Policy 5, Climate 2, Economy 1; canals 2, Trade 2, Drought 1.
    # Drought, one Climate and one Water Policy are only on the archive page; Energy is never on a Water article.
    # "canals" is named as the newest article carrying it writes it ("Canals").
    assert related(settings, "en/tags/water/index.html") == [
        ("category", "/en/categories/water-policy/", "Water Policy"),
        ("category", "/en/categories/climate/", "Climate"),
        ("category", "/en/categories/economy/", "Economy"),
        ("tag", "/en/tags/canals/", "Canals"),
        ("tag", "/en/tags/trade/", "Trade"),
        ("tag", "/en/tags/drought/", "Drought"),
    ]
    # Each link leads to a page that exists.
    for _, href, _ in related(settings, "en/tags/water/index.html"):
        assert (settings.site_dir / href.lstrip("/") / "index.html").is_file(), href


def test_a_category_page_links_its_tags_and_the_other_categories(topics_site):
    settings, _ = topics_site
    # Water Policy: articles 0, 1, 2, 4, 5 (0 on the archive page).
    assert titles(settings, "en/categories/water-policy/page/1/index.html") == ["Topic article 0"]
    assert related(settings, "en/categories/water-policy/index.html") == [
        ("category", "/en/categories/climate/", "Climate"),
        ("category", "/en/categories/economy/", "Economy"),
        ("tag", "/en/tags/water/", "Water"),
        ("tag", "/en/tags/canals/", "Canals"),
        ("tag", "/en/tags/trade/", "Trade"),
        ("tag", "/en/tags/drought/", "Drought"),
    ]
    l10n = doc(settings, "en/categories/economy/index.html").xpath("//nav[@class='related-topics']/h2/text()")
    assert l10n == ["Related topics"]


def test_archive_pages_and_other_listings_have_no_related_topics(topics_site):
    settings, _ = topics_site
    assert doc(settings, "en/tags/water/index.html").xpath("//nav[@class='related-topics']")
    for rel in ("en/tags/water/page/1/index.html", "en/index.html", "en/page/1/index.html",
                "en/authors/deniz-aralbay/index.html", "en/authors/deniz-aralbay/page/1/index.html"):
        assert doc(settings, rel).xpath("//nav[@class='related-topics']") == [], rel
    # A tag no article shares with another term has no block at all.
    assert doc(settings, "en/tags/glaciers/index.html").xpath("//nav[@class='related-topics']") == []


def test_at_most_eight_related_topics_categories_first(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    tags = ["Water"] + [f"Tag {c}" for c in "ABCDEF"]
    with engine.begin() as conn:
        site.publish(conn, article(0, tags, ["Cat A", "Cat B", "Cat C"]), settings)
        site.publish(conn, article(1, ["Water", "Tag F"], ["Cat C", "Water"]), settings)
    links = related(settings, "en/tags/water/index.html")
    # A category named like the tag is another page, so it is linked; the tag itself is not.
    assert [href for _, href, _ in links] == [
        "/en/categories/cat-c/", "/en/categories/cat-a/", "/en/categories/cat-b/", "/en/categories/water/",
        "/en/tags/tag-f/", "/en/tags/tag-a/", "/en/tags/tag-b/", "/en/tags/tag-c/"]
    assert len(links) == site.RELATED_TOPICS
    engine.dispose()


@pytest.mark.parametrize("tags,categories,linked,gone", [
    (["Water", "Drought", "Rivers"], ["Climate", "Water Policy"], "/en/tags/rivers/", None),
    (["Water", "Drought"], ["Climate", "Water Policy", "Hydrology"], "/en/categories/hydrology/", None),
    (["Water"], ["Climate", "Water Policy"], None, "/en/tags/drought/"),
], ids=["tag-added", "category-added", "tag-dropped"])
def test_editing_an_old_article_rewrites_its_listings_landing_pages_like_a_rebuild(topics_site, tmp_path, tags,
                                                                                    categories, linked, gone):
    settings, engine = topics_site
    with engine.begin() as conn:
        report = site.publish(conn, article(0, tags, categories, revision=2), settings)
    _assert_equal_to_rebuild(engine, settings, tmp_path / "rebuild")
    # The oldest article is on the archive page of the Water tag and of the Water Policy category: its
    # position does not move, yet both landing pages' related topics change.
    for landing in ("en/tags/water/index.html", "en/categories/water-policy/index.html"):
        assert landing in report.written
        hrefs = [href for _, href, _ in related(settings, landing)]
        if linked:
            assert linked in hrefs
        if gone:
            assert gone not in hrefs


def test_landing_pages_with_related_topics_pass_the_nu_html_checker(topics_site, vnu):
    settings, _ = topics_site
    site_dir = settings.site_dir
    files = sorted(site_dir.glob("en/tags/*/index.html")) + sorted(site_dir.glob("en/categories/*/index.html"))
    assert len(files) > 5 and all(f.parent.parent.name in ("tags", "categories") for f in files)
    errors = vnu(files)
    assert errors == "", errors[:3000]
