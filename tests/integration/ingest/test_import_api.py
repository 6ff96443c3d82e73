"""POST /api/articles/import over real HTTP: the sample page and our own pages become draft articles."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.ingest.db import article_imports, articles, outbox
from shared.markup import make_slug
from tests.sample_page import sample_facts

from .conftest import fixture_text

pytestmark = pytest.mark.integration
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def post_page(live, text: str, query: str = "", **kwargs):
    return live.api("POST", "/api/articles/import" + query, data=text.encode("utf-8"),
                    headers={**TEXT, **kwargs.pop("headers", {})}, **kwargs)


def test_the_sample_page_becomes_a_draft_with_its_event(live, sample_text):
    resp = post_page(live, sample_text)
    assert resp.status_code == 201, resp.text
    art = resp.json()
    assert resp.headers["Location"] == f"/api/articles/{art['id']}"
    assert art["state"] == "draft" and art["revision"] == 1 and art["lang"] == "en"
    facts = sample_facts(sample_text)
    assert art["title"] == facts["title"]
    assert art["slug"] == make_slug(facts["title"])
    assert art["author"]["name"] == facts["author"] and art["author"]["bio_lang"] == "tr"
    assert [r["number"] for r in art["references"]] == [1, 2, 3, 4]
    assert [r["accessed"] for r in art["references"]] == ["2022-10-14"] * 4
    assert art["references"][2]["note"] == "Ibid." and art["references"][2]["url"] == art["references"][1]["url"]
    assert art["original_languages"] == ["tr", "ru"]
    assert art["import"] == {"lang": "en", "lang_detected": True, "original_languages": ["tr", "ru"],
                             "language_line": facts["language_line"],
                             "references": 4, "warnings": []}
    for chrome in ("Paylaş", "Similar Posts", "also available in", facts["author"]):
        assert chrome not in art["body"]
    with live.engine.begin() as conn:
        html = conn.execute(select(articles.c.body_html)).scalar_one()
        events = conn.execute(select(outbox.c.event_type)).scalars().all()
        stored = conn.execute(select(article_imports)).mappings().one()
    assert html.count("<blockquote>") == 3 and "[4]" in html
    assert events == ["article.created"]  # the same create path as POST /api/articles
    assert stored["original_languages"] == ["tr", "ru"] and stored["article_id"] == art["id"]
    fetched = live.api("GET", f"/api/articles/{art['id']}").json()
    assert fetched["original_languages"] == ["tr", "ru"] and fetched["audit"][0]["action"] == "create"


def test_translations_attach_to_a_group_with_lang_and_group_id(live):
    tr = post_page(live, fixture_text("su-diplomasisi-orta-asya.tr.txt"))
    assert tr.status_code == 201, tr.text
    tr = tr.json()
    assert tr["lang"] == "tr" and tr["author"]["bio_lang"] == "en" and tr["is_source"]
    assert tr["import"]["warnings"] == ["dropped 2 line(s) after 'Benzer İçerikler' (the site's list of other posts)"]
    ru = post_page(live, fixture_text("energeticheskaya-bezopasnost.ru.txt"), f"?lang=ru&group_id={tr['group_id']}")
    assert ru.status_code == 201, ru.text
    ru = ru.json()
    assert ru["group_id"] == tr["group_id"] and not ru["is_source"] and ru["lang"] == "ru"
    assert ru["import"]["lang_detected"] is False and ru["original_languages"] == ["en", "tr"]
    assert ru["references"][2]["note"] == "Там же."
    other = post_page(live, fixture_text("pages/ru-voda.txt"), f"?group_id={tr['group_id']}")
    assert other.status_code == 409  # the group already has a Russian version
    assert live.count() == 2


@pytest.mark.parametrize("name,text,field,words", [
    ("listing", fixture_text("category-listing.en.txt"), "body", "category listing"),
    ("empty", "", "body", "empty"),
    ("chrome only", "Paylaş\n\nSimilar Posts\n", "body", "empty"),
    ("cut off", "A title\n\n" + "A sentence that is long enough to be in a real article body. " * 12 + "And then",
     "body", "cut off"),
    ("Kazakh", fixture_text("pages/foreign-kk.txt"), "lang", "Kazakh (kk)"),
])
def test_pages_that_are_not_articles_are_refused_and_nothing_is_stored(live, name, text, field, words):
    resp = post_page(live, text)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field and words in resp.json()["error"]
    assert live.count() == 0 and live.count(outbox) == 0 and live.count(article_imports) == 0


def test_a_page_without_an_author_imports_with_a_warning(live):
    resp = post_page(live, "A title\n\n" + "A sentence that is long enough to be in a real article body. " * 12)
    assert resp.status_code == 201, resp.text
    art = resp.json()
    assert art["author"]["name"] == "Unknown author" and art["import"]["authors"] == ["Unknown author"]
    assert any("fill in the real author" in w for w in art["import"]["warnings"])


def test_import_honours_idempotency_key(live):
    text = fixture_text("su-diplomasisi-orta-asya.tr.txt")
    first = post_page(live, text, headers={"Idempotency-Key": "imp-1"})
    again = post_page(live, text, headers={"Idempotency-Key": "imp-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = post_page(live, text, "?lang=en", headers={"Idempotency-Key": "imp-1"})
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert live.count() == 1


HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_an_html_page_becomes_a_draft(live):
    resp = post_page(live, fixture_text("html/wordpress-caspian-ports.en.html"), headers=HTML)
    assert resp.status_code == 201, resp.text
    art = resp.json()
    assert art["title"] == "Ports Before Pipelines: Fixing the Caspian Bottleneck" and art["lang"] == "en"
    assert art["original_languages"] == ["tr", "ru"] and art["author"]["name"] == "Timur Bekov"
    assert art["import"]["source_url"] == "https://policy.example.org/en/ports-before-pipelines/"
    assert art["import"]["published"] == "2023-04-18" and len(art["references"]) == 3
    with live.engine.begin() as conn:
        stored = conn.execute(select(article_imports)).mappings().one()
    assert stored["source_url"] == art["import"]["source_url"] and len(stored["import_key"]) == 64
    listing = post_page(live, fixture_text("html/wordpress-category-listing.en.html"), headers=HTML)
    assert listing.status_code == 422 and listing.json()["field"] == "body" and "listing" in listing.json()["error"]
    assert live.count() == 1


def test_the_same_page_again_answers_the_existing_article_or_revises_it(live):
    text = fixture_text("pages/caspian-gas.txt")
    first = post_page(live, text)
    assert first.status_code == 201, first.text
    again = post_page(live, text)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["id"] == first.json()["id"] and body["revision"] == 1
    assert body["import"]["outcome"] == "duplicate" and body["import"]["duplicate_of"] == body["id"]
    assert "on_duplicate=revise" in body["import"]["note"]
    # The page changed on the site: same title and language, one paragraph edited.
    edited = text.replace("three decades", "thirty years")
    revised = post_page(live, edited, "?on_duplicate=revise")
    assert revised.status_code == 200, revised.text
    assert revised.json()["id"] == body["id"] and revised.json()["revision"] == 2
    assert revised.json()["import"]["outcome"] == "revised" and "thirty years" in revised.json()["body"]
    same = post_page(live, edited, "?on_duplicate=revise")
    assert same.json()["import"]["outcome"] == "unchanged" and same.json()["revision"] == 2
    wrong = post_page(live, text, "?on_duplicate=copy")
    assert wrong.status_code == 422 and wrong.json()["field"] == "on_duplicate"
    assert live.count() == 1 and live.count(article_imports) == 1


def test_an_html_page_is_the_same_page_by_its_canonical_url(live):
    page = fixture_text("html/wordpress-caspian-ports.en.html")
    first = post_page(live, page, headers=HTML)
    moved = page.replace("shipping lines now prefer", "carriers now prefer").replace(
        'href="https://policy.example.org/en/ports-before-pipelines/"', 'href="http://www.policy.example.org/en/ports-before-pipelines?utm_source=x"')
    again = post_page(live, moved, headers=HTML)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["import"]["matched_by"] == "the same source URL"
