"""The notification forms through a real browser-like session: login on ingest, CSRF, subscription
form with errors next to the field, the secret shown once, test event, delivery log and replay."""
from __future__ import annotations

import pytest
import requests
from babel import Locale
from lxml import html

from tests.helpers import wait_for
from tests.stack import ADMIN

pytestmark = pytest.mark.integration

# Seconds a test waits for the shared stack's notification queue (see the first use).
QUEUE_WAIT = 240


def _csrf(page: requests.Response) -> str:
    return html.fromstring(page.content).xpath("string(//input[@name='csrf_token']/@value)")


@pytest.fixture
def browser(stack):
    s = requests.Session()
    login = s.get(stack.url("ingest") + "/login", timeout=5)
    bad = s.post(stack.url("ingest") + "/login", data={"email": ADMIN[0], "password": "wrong-password",
                                                        "csrf_token": _csrf(login)}, timeout=5)
    assert bad.status_code == 400
    assert "Wrong email or password" in html.fromstring(bad.content).xpath("string(//p[@class='error'])")
    ok = s.post(stack.url("ingest") + "/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": _csrf(bad)},
                timeout=5, allow_redirects=False)
    assert ok.status_code == 302
    return s


def test_anonymous_visitors_are_sent_to_login(stack):
    resp = requests.get(stack.url("notification") + "/subscriptions", allow_redirects=False, timeout=5)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(stack.url("ingest") + "/login?next=")
    resp = requests.get(stack.url("notification") + "/deliveries", allow_redirects=False, timeout=5)
    assert resp.status_code == 302


def test_subscription_form_test_event_and_delivery_log(stack, browser, receiver):
    base = stack.url("notification")
    page = browser.get(base + "/subscriptions", timeout=5)
    assert page.status_code == 200
    doc = html.fromstring(page.content)
    for field_id in ("url", "description", "owner_email", "owner_lang"):
        assert doc.xpath(f"//label[@for='{field_id}']"), f"{field_id} has a label"
    hint = doc.xpath("string(//small[@id='url-hint'])")
    assert "http:// or https://" in hint and "127.0.0.1/32 (any port)" in hint, \
        f"the URL hint tells what this stack's WEBHOOK_ALLOWLIST lets through: {hint!r}"

    no_csrf = browser.post(base + "/subscriptions", data={"url": receiver.url + "/form", "events": "article.published"}, timeout=5)
    assert no_csrf.status_code == 400

    refused = browser.post(base + "/subscriptions", data={"url": "http://10.0.0.1/hook", "events": "article.published",
                                                          "owner_lang": "en", "csrf_token": _csrf(page)}, timeout=5)
    assert refused.status_code == 400
    err = html.fromstring(refused.content).xpath("string(//p[@id='url-error'])")
    assert "WEBHOOK_ALLOWLIST" in err, "the error is next to the field and says the fix"

    created = browser.post(base + "/subscriptions", data={"url": receiver.url + "/form", "events": "article.published",
                                                          "owner_lang": "tr", "enabled": "y", "csrf_token": _csrf(page)}, timeout=5)
    assert created.status_code == 200
    secret = html.fromstring(created.content).xpath("string(//p[@id='secret'])")
    assert secret.startswith("whsec_")
    listing = browser.get(base + "/subscriptions", timeout=5)
    assert secret not in listing.text, "the secret is shown once"

    sub = next(s for s in stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]
               if s["url"] == receiver.url + "/form")
    test = browser.post(f"{base}/subscriptions/{sub['id']}/test", data={"csrf_token": _csrf(listing)}, timeout=5)
    assert test.status_code == 200 and "Test event sent" in test.text
    # The notification queue is shared with the whole suite's stack: a test before may have left thousands of
    # emails (a WordPress import's status changes) ahead of this delivery, so the waits allow them to drain.
    wait_for(lambda: receiver.for_path("/form"), timeout=QUEUE_WAIT, message="test event delivered")

    def log_status():
        doc = html.fromstring(browser.get(f"{base}/deliveries?subscription_id={sub['id']}", timeout=5).content)
        return (doc,) if doc.xpath("string(//td[@class='status'])").strip().startswith("succeeded") else None

    [doc] = wait_for(log_status, timeout=QUEUE_WAIT, message="delivery log shows success")
    assert "webhook.test" in doc.text_content()
    replay_form = doc.xpath("//form[contains(@action, '/replay')]")[0]
    replayed = browser.post(base + replay_form.get("action"), data={"csrf_token": _csrf(test)}, timeout=5)
    assert "original webhook-id" in replayed.text
    hits = wait_for(lambda: len(receiver.for_path("/form")) >= 2 and receiver.for_path("/form"), timeout=QUEUE_WAIT,
                    message="replayed")
    assert hits[0].headers["webhook-id"] == hits[1].headers["webhook-id"]

    bad_filter = browser.get(f"{base}/deliveries?since=yesterday", timeout=5)
    assert bad_filter.status_code == 400 and "2026-11-29T10:00" in bad_filter.text


def test_one_login_opens_every_services_pages(stack, browser):
    articles = browser.get(stack.url("ingest") + "/articles", timeout=5)
    assert articles.status_code == 200 and html.fromstring(articles.content).xpath("//h1/text()") == ["Articles"]
    dash = browser.get(stack.url("translation_status") + "/", timeout=5)
    assert dash.status_code == 200
    doc = html.fromstring(dash.content)
    # One column per language, headed by its name in the editor's language (English here).
    assert [th.text for th in doc.xpath("//thead//th")][1:] == [Locale.parse(c).get_display_name("en")
                                                                 for c in stack.settings.languages]
    nav = doc.xpath("//header//nav//a/@href")
    assert stack.url("notification") + "/subscriptions" in nav and stack.url("ingest") + "/articles" in nav
    out = browser.post(stack.url("ingest") + "/logout", data={"csrf_token": _csrf(dash)}, timeout=5, allow_redirects=False)
    assert out.status_code == 302
    again = browser.get(stack.url("translation_status") + "/", timeout=5, allow_redirects=False)
    assert again.status_code == 302, "logging out ends the session on every service"


def test_article_timeline_shows_every_step_across_services(stack, browser, receiver):
    stack.api("notification", "POST", "/api/subscriptions", json={"url": receiver.url + "/timeline", "events": ["article.published"]})
    art = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "en", "title": "Timeline Check", "body": "Body.", "author": {"name": "T. Line"}}).json()
    stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "publish"})
    wait_for(lambda: receiver.for_path("/timeline"), timeout=QUEUE_WAIT, message="webhook")

    def steps():
        doc = html.fromstring(browser.get(f"{stack.url('ingest')}/articles/{art['id']}/timeline", timeout=5).content)
        rows = [[td.text_content().strip() for td in tr.xpath("td")] for tr in doc.xpath("//tr[@class='step']")]
        return rows if any(r[1] == "notification" for r in rows) else None

    rows = wait_for(steps, timeout=QUEUE_WAIT, message="timeline with the webhook")
    names = [(r[1], r[2]) for r in rows]
    assert names[:2] == [("ingest", "ingested"), ("ingest", "publish requested")]
    assert ("rendering", "rendered") in names and ("ingest", "published") in names
    assert ("notification", "webhook article.published") in names
    times = [r[0] for r in rows]
    assert times == sorted(times)
