"""The walking skeleton end to end: draft -> published through all four services on real Celery/Redis."""
from __future__ import annotations

import json
import time

import pytest
import requests
from lxml import html
from standardwebhooks.webhooks import Webhook

from tests.helpers import wait_for

pytestmark = pytest.mark.integration

ARTICLE = {
    "lang": "en",
    "title": "Grain Corridors and the Caspian: A Skeleton Test",
    "body": "Ports on the Caspian handled more grain this year.[1] Rail links matter as much as ships.[2]\n\n"
            "> A corridor is only as fast as its slowest border post.\n\nThat is the whole argument.",
    "author": {"name": "Test Author", "bio": "Bir test yazarı.", "bio_lang": "tr"},
    "references": [
        {"title": "Caspian grain volumes", "source": "Test Source", "url": "https://example.org/grain", "accessed": "2026-01-05"},
        {"note": "Ibid."},
    ],
    "tags": ["Caspian", "Trade"],
}


def _subscribe(stack, receiver, path="/hook", events=("article.published",), languages=()):
    resp = stack.api("notification", "POST", "/api/subscriptions",
                     json={"url": receiver.url + path, "events": list(events), "languages": list(languages)})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_publish_flow_end_to_end(stack, receiver):
    sub = _subscribe(stack, receiver)
    assert sub["secret"].startswith("whsec_")
    listed = stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]
    assert all("secret" not in s for s in listed), "the secret is shown once, at creation only"

    created = stack.api("ingest", "POST", "/api/articles", json=ARTICLE)
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["state"] == "draft"

    started = time.monotonic()
    moved = stack.api("ingest", "POST", f"/api/articles/{article['id']}/transitions", json={"action": "publish"})
    assert moved.status_code == 202, moved.text

    def published():
        body = stack.api("ingest", "GET", f"/api/articles/{article['id']}").json()
        return body if body["state"] == "published" else None

    body = wait_for(published, timeout=30, message="ingest to record published")
    latency = time.monotonic() - started
    print(f"publish-to-published latency: {latency * 1000:.0f} ms")
    url = body["public_url"]
    assert url == f"{stack.settings.site_url}/en/{article['slug']}/"
    assert [e["action"] for e in body["audit"]] == ["create", "publish", "rendered"]

    # The page is on disk where the brief says and served by the rendering service.
    on_disk = stack.settings.site_dir / "en" / article["slug"] / "index.html"
    assert on_disk.exists()
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    assert "no-cache" in page.headers["Cache-Control"] and page.headers.get("ETag"), "readers revalidate (304)"
    doc = html.fromstring(page.content)
    assert doc.xpath("string(//h1)") == ARTICLE["title"]
    assert doc.xpath("string(//*[@class='author'])") == "Test Author"
    assert "Rail links matter" in doc.xpath("string(//div[@class='body'])")
    assert doc.xpath("//div[@class='body']//blockquote")
    assert doc.xpath("//sup[@id='fnref-1']/a/@href") == ["#ref-1"]
    refs = doc.xpath("//section[@class='references']//li")
    assert len(refs) == 2 and "Caspian grain volumes" in refs[0].text_content() and "Ibid." in refs[1].text_content()
    assert doc.xpath("//p[@class='author-bio']/@lang") == ["tr"]

    # translation_status shows the language as published, with its URL.
    group = wait_for(lambda: (g := stack.api("translation_status", "GET", f"/api/groups/{article['group_id']}").json())
                     ["languages"]["en"]["status"] == "published" and g, timeout=20, message="group status")
    assert group["languages"]["en"]["url"] == url
    assert group["languages"]["tr"]["status"] == "missing"

    # One signed article.published delivery that verifies with the standardwebhooks library.
    hits = wait_for(lambda: receiver.for_path("/hook"), timeout=20, message="webhook delivery")
    assert len(hits) == 1
    hit = hits[0]
    verified = Webhook(sub["secret"]).verify(hit.body, {
        "webhook-id": hit.headers["webhook-id"],
        "webhook-timestamp": hit.headers["webhook-timestamp"],
        "webhook-signature": hit.headers["webhook-signature"],
    })
    assert verified["type"] == "article.published"
    assert verified["data"]["article_id"] == article["id"]
    assert verified["data"]["url"] == url
    assert verified["data"]["translations"] == {"en": url}
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 44).verify(hit.body, {k: hit.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")})

    log = stack.api("notification", "GET", f"/api/deliveries?subscription_id={sub['id']}").json()["deliveries"]
    assert [d["status"] for d in log] == ["succeeded"]
    assert log[0]["webhook_id"] == hit.headers["webhook-id"]
    assert log[0]["attempt_log"][0]["status_code"] == 200


def test_translation_joins_group_and_language_line(stack, receiver):
    _subscribe(stack, receiver, path="/tr-only", languages=("tr",))
    source = stack.api("ingest", "POST", "/api/articles", json=dict(ARTICLE, title="Steppe Railways and Ports")).json()
    translation = stack.api("ingest", "POST", "/api/articles", json=dict(
        ARTICLE, lang="tr", title="Bozkır Demiryolları ve Limanlar", group_id=source["group_id"])).json()
    assert translation["group_id"] == source["group_id"] and translation["is_source"] is False
    assert translation["slug"] == "bozkir-demiryollari-ve-limanlar"

    for art in (source, translation):
        assert stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "publish"}).status_code == 202
    for art in (source, translation):
        wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{art['id']}").json()["state"] == "published",
                 timeout=30, message=f"{art['lang']} published")

    def en_line():
        doc = html.fromstring(requests.get(f"{stack.settings.site_url}/en/{source['slug']}/", timeout=5).content)
        return doc.xpath("//p[@class='lang-line']/a/text()")

    assert wait_for(lambda: en_line() == ["Türkçe"], timeout=20, message="English page lists Türkçe")
    tr_doc = html.fromstring(requests.get(f"{stack.settings.site_url}/tr/{translation['slug']}/", timeout=5).content)
    assert "Bu yazı şu dillerde de mevcut:" in tr_doc.xpath("string(//p[@class='lang-line'])")
    assert tr_doc.xpath("//p[@class='lang-line']/a/text()") == ["English"]

    # The language filter: the Turkish-only subscription got the Turkish event alone.
    wait_for(lambda: receiver.for_path("/tr-only"), timeout=20, message="tr webhook")
    time.sleep(1.0)
    langs = [json.loads(h.body)["data"]["lang"] for h in receiver.for_path("/tr-only")]
    assert langs == ["tr"], langs


def test_co_authors_and_categories_reach_the_public_site(stack):
    fields = {k: v for k, v in ARTICLE.items() if k != "author"}
    co = stack.api("ingest", "POST", "/api/articles", json=dict(
        fields, title="Border Posts and Grain Trucks", categories=["Trade Policy"],
        authors=[{"name": "First Writer", "bio": "Writes about ports.", "bio_lang": "en"},
                 {"name": "Second Writer", "bio": "Limanlar üzerine yazar.", "bio_lang": "tr"}]))
    assert co.status_code == 201, co.text
    art = co.json()
    assert stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "publish"}).status_code == 202
    wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{art['id']}").json()["state"] == "published",
             timeout=30, message="co-authored article published")
    doc = html.fromstring(requests.get(f"{stack.settings.site_url}/en/{art['slug']}/", timeout=10).content)
    assert doc.xpath("//p[@class='byline']/a[@class='author']/text()") == ["First Writer", "Second Writer"]
    assert [b.xpath("string(h2)") for b in doc.xpath("//section[@class='author-box']")] == ["First Writer", "Second Writer"]
    assert doc.xpath("//p[@class='categories']/a/@href") == ["/en/categories/trade-policy/"]
    second = html.fromstring(requests.get(f"{stack.settings.site_url}/en/authors/second-writer/", timeout=10).content)
    assert second.xpath("//ul[contains(@class,'articles')]/li/a[1]/@href") == [f"/en/{art['slug']}/"]
    category = requests.get(f"{stack.settings.site_url}/en/categories/trade-policy/", timeout=10)
    assert category.status_code == 200 and art["slug"] in category.text


def test_illegal_and_forbidden_transitions(stack):
    art = stack.api("ingest", "POST", "/api/articles", json=dict(ARTICLE, title="Transition Table Check")).json()
    resp = stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "unpublish"})
    assert resp.status_code == 409
    assert resp.json()["state"] == "draft" and "publish" in resp.json()["allowed_actions"]
    resp = stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "rendered"})
    assert resp.status_code == 403
    resp = stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "fly"})
    assert resp.status_code == 422 and resp.json()["field"] == "action"
    assert stack.api("ingest", "GET", f"/api/articles/{art['id']}").json()["state"] == "draft"


def test_every_route_needs_the_token(stack):
    for service, path in (("ingest", "/api/articles"), ("translation_status", "/api/groups/x"),
                          ("notification", "/api/subscriptions"), ("notification", "/api/deliveries")):
        resp = requests.get(stack.url(service) + path, timeout=5)
        assert resp.status_code == 401, (service, path)
        resp = requests.get(stack.url(service) + path, headers={"Authorization": "Bearer wrong"}, timeout=5)
        assert resp.status_code == 401, (service, path)


def test_healthz_reports_redis_and_db(stack):
    for service in ("ingest", "translation_status", "rendering", "notification"):
        body = requests.get(stack.url(service) + "/healthz", timeout=5).json()
        assert body == {"service": service, "version": "0.2.0", "status": "ok", "checks": {"redis": "ok", "db": "ok"}}
