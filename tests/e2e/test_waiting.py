"""The "what waits" page (``services/ingest/waiting.py``) on the real stack: articles in review from ingest,
overdue translations from translation_status's API, failed deliveries from notification's API; each
links to its owning page, translators see only their own, and a service that does not answer costs
only its section."""
from __future__ import annotations

import uuid

import pytest
import requests
from lxml import html

from tests.helpers import wait_for

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


def _account(stack, role: str) -> str:
    address = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    resp = stack.api("ingest", "POST", "/api/users", json={"email": address, "password": PASSWORD, "role": role})
    assert resp.status_code == 201, resp.text
    return address


def _browser(stack, address: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(stack.url("ingest") + "/login", timeout=10)
    token = html.fromstring(page.content).xpath("string(//input[@name='csrf_token']/@value)")
    assert browser.post(stack.url("ingest") + "/login", data={"email": address, "password": PASSWORD, "csrf_token": token},
                        timeout=10, allow_redirects=False).status_code == 302
    return browser


def _article(stack, title: str) -> dict:
    resp = stack.api("ingest", "POST", "/api/articles", json={"lang": "en", "title": title, "body": "Body text.",
                                                             "author": {"name": "W. Aiting"}})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _section(doc, name: str):
    return doc.xpath(f"//section[@id='{name}']")[0]


def test_what_waits_gathers_review_overdue_translations_and_failed_deliveries(stack, receiver):
    editor, translator = _account(stack, "editor"), _account(stack, "translator")
    review = _article(stack, "Waiting Review Check")
    assert stack.api("ingest", "POST", f"/api/articles/{review['id']}/transitions", json={"action": "submit"}).status_code == 202
    source = _article(stack, "Waiting Translation Check")
    wait_for(lambda: stack.api("translation_status", "POST", f"/api/groups/{source['group_id']}/translations",
                               json={"lang": "tr", "translator": translator, "due_at": "2026-01-05T09:00:00+00:00"}
                               ).status_code == 201, timeout=20, message="the translation requested (group known)")
    sub = stack.api("notification", "POST", "/api/subscriptions",
                    json={"url": receiver.url + "/gone-waiting", "events": ["article.published"]}).json()
    receiver.responses.append((410, {}))
    gone = _article(stack, "Waiting Delivery Check")
    stack.api("ingest", "POST", f"/api/articles/{gone['id']}/transitions", json={"action": "publish"})
    wait_for(lambda: [d for d in stack.api("notification", "GET", f"/api/deliveries?subscription_id={sub['id']}").json()
                      ["deliveries"] if d["status"] == "failed"], timeout=30, message="a failed delivery")

    page = _browser(stack, editor).get(stack.url("ingest") + "/waiting", timeout=20)
    assert page.status_code == 200
    doc = html.fromstring(page.content)
    in_review = _section(doc, "review")
    assert f"/articles/{review['id']}" in in_review.xpath(".//a/@href")
    overdue = _section(doc, "translations")
    row = [tr for tr in overdue.xpath(".//tbody/tr") if translator in tr.text_content()]
    assert row and "requested" in row[0].text_content()
    assert [t[:16] for t in row[0].xpath(".//time/@datetime")] == ["2026-01-05T09:00"]  # shown in the editor's language
    assert f"{stack.url('translation_status')}/?overdue=1" in overdue.xpath(".//a/@href")
    failed = _section(doc, "deliveries")
    assert f"/articles/{gone['id']}" in failed.xpath(".//a/@href")
    assert f"{stack.url('notification')}/deliveries?status=failed" in failed.xpath(".//a/@href")

    mine = html.fromstring(_browser(stack, translator).get(stack.url("ingest") + "/waiting", timeout=20).content)
    assert all(translator in tr.text_content() for tr in _section(mine, "translations").xpath(".//tbody/tr"))
    assert _section(mine, "translations").xpath(".//tbody/tr"), "the translator sees their overdue translation"
    assert not mine.xpath("//section[@id='deliveries']"), "deliveries are the editors' concern"

    stack.stop("translation_status_web")
    try:
        degraded = _browser(stack, editor).get(stack.url("ingest") + "/waiting", timeout=30)
        doc = html.fromstring(degraded.content)
        assert degraded.status_code == 200
        assert "Not available right now" in _section(doc, "translations").text_content()
        assert f"/articles/{review['id']}" in _section(doc, "review").xpath(".//a/@href"), "the other sections stay"
    finally:
        stack.start("translation_status_web")
        wait_for(lambda: _healthy(stack, "translation_status"), timeout=60, message="translation_status back")


def _healthy(stack, service: str) -> bool:
    try:
        return requests.get(stack.url(service) + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_the_article_page_frames_the_public_page_preview_rendered_by_rendering(stack):
    editor = _account(stack, "editor")
    source = _article(stack, "Preview Through The Stack")
    tr = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "tr", "title": "Yığın Üzerinden Önizleme", "body": "Gövde metni.", "author": {"name": "W. Aiting"},
        "group_id": source["group_id"]}).json()
    browser = _browser(stack, editor)
    page = html.fromstring(browser.get(f"{stack.url('ingest')}/articles/{source['id']}", timeout=20).content)
    frame = page.xpath("//section[@id='preview']//iframe/@src")
    assert frame == [f"{stack.url('rendering')}/preview/{source['id']}/1"]
    shown = wait_for(lambda: (r := browser.get(frame[0], timeout=10)).status_code == 200 and r, timeout=30,
                     message="the preview rendered by the rendering worker")
    doc = html.fromstring(shown.content)
    assert doc.xpath("string(//h1)") == "Preview Through The Stack"
    assert doc.xpath("//header[@class='site']//a[@class='site-name']"), "the public site's own header"
    assert not requests.get(frame[0], timeout=10, allow_redirects=False).status_code == 200, "editors only"

    other = page.xpath("//section[@id='preview']//a[@hreflang='tr']/@href")
    page = html.fromstring(browser.get(stack.url("ingest") + other[0], timeout=20).content)
    frame = page.xpath("//section[@id='preview']//iframe/@src")
    assert frame == [f"{stack.url('rendering')}/preview/{tr['id']}/1"]
    shown = wait_for(lambda: (r := browser.get(frame[0], timeout=10)).status_code == 200 and r, timeout=30,
                     message="the Turkish preview")
    assert html.fromstring(shown.content).xpath("string(//h1)") == "Yığın Üzerinden Önizleme"
