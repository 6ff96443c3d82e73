"""In a real browser: log in, add a webhook subscription, send a test event and see it in the delivery
log; the translation dashboard; the public page's language line, references and share links; phone width."""
from __future__ import annotations

import re

import pytest

from tests.browser.a11y import check_focus_visible, check_no_sideways_scroll, check_page
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

ARTICLES = [
    {"lang": "en", "title": "Rail Gauges and Regional Trade",
     "body": "Two rail gauges meet at the border, and every wagon waits.[1]\n\n> A gauge is a treaty written in steel.\n\nThe fix is slow but known.[2]",
     "author": {"name": "B. Rowser", "bio": "Demiryolu ekonomisi üzerine çalışır.", "bio_lang": "tr"},
     "references": [{"title": "Gauge change times", "source": "Rail Review", "url": "https://example.org/gauge", "accessed": "2026-09-01"},
                    {"note": "Ibid."}], "tags": ["Rail"]},
    {"lang": "tr", "title": "Ray Açıklıkları ve Bölgesel Ticaret",
     "body": "İki ray açıklığı sınırda buluşuyor ve her vagon bekliyor.[1]\n\nÇözüm yavaş ama biliniyor.[2]",
     "author": {"name": "B. Rowser", "bio": "Demiryolu ekonomisi üzerine çalışır.", "bio_lang": "tr"},
     "references": [{"title": "Gauge change times", "source": "Rail Review", "url": "https://example.org/gauge", "accessed": "2026-09-01"},
                    {"note": "Ibid."}], "tags": ["Demiryolu"]},
]


def login(page, stack, shots=None):
    page.goto(stack.url("ingest") + "/login")
    if shots:
        page.screenshot(path=str(shots / "01-login.png"), full_page=True)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


from tests.stack import ADMIN  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = ADMIN


def test_login_shows_errors_next_to_fields(page, stack):
    page.goto(stack.url("ingest") + "/login")
    check_page(page)
    check_focus_visible(page)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#password-error")
    assert "Wrong email or password" in error.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-describedby") == "password-error"


def test_webhook_subscription_test_event_and_delivery_log(page, stack, receiver, shots):
    login(page, stack, shots)
    page.goto(stack.url("notification") + "/subscriptions")
    check_page(page)
    page.get_by_label("Receiver URL").fill("http://10.1.2.3/hook")
    page.get_by_label("article published").check()
    page.get_by_role("button", name="Create subscription").click()
    assert "WEBHOOK_ALLOWLIST" in page.locator("#url-error").inner_text(), "the error is next to the field"
    page.get_by_label("Receiver URL").fill(receiver.url + "/browser")
    page.get_by_label("article published").check()
    page.get_by_role("button", name="Create subscription").click()
    secret = page.locator("#secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret)
    page.screenshot(path=str(shots / "05-webhook-secret.png"), full_page=True)
    page.get_by_role("link", name="Back to the subscriptions").click()
    assert secret not in page.content()
    row = page.locator("tr", has_text=receiver.url + "/browser")
    row.get_by_role("button", name="Send test event").click()
    assert "Test event sent" in page.locator(".flash").inner_text()
    wait_for(lambda: receiver.for_path("/browser"), timeout=20, message="the test event")

    def succeeded():
        page.reload()
        return "succeeded" in page.locator("td.status").first.inner_text()

    wait_for(succeeded, timeout=15, message="the delivery log to show success")
    assert "webhook.test" in page.locator("tbody tr").first.inner_text()
    check_page(page)
    page.screenshot(path=str(shots / "06-delivery-log.png"), full_page=True)
    page.goto(stack.url("notification") + "/subscriptions")
    page.screenshot(path=str(shots / "04-webhooks.png"), full_page=True)


def test_public_page_dashboard_and_phone_width(page, phone, stack, shots):
    ids = []
    group = None
    for art in ARTICLES:
        body = dict(art, group_id=group) if group else art
        created = stack.api("ingest", "POST", "/api/articles", json=body).json()
        group = group or created["group_id"]
        ids.append(created)
        stack.api("ingest", "POST", f"/api/articles/{created['id']}/transitions", json={"action": "publish"})
    for created in ids:
        wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{created['id']}").json()["state"] == "published",
                 timeout=30, message="published")
    en_url = f"{stack.settings.site_url}/en/{ids[0]['slug']}/"
    wait_for(lambda: page.goto(en_url) and page.locator("p.lang-line a").count() == 1, timeout=20, message="language line")
    assert page.locator("p.lang-line a").inner_text() == "Türkçe"
    assert page.locator("section.references li").count() == 2
    assert "Ibid." in page.locator("section.references li").nth(1).inner_text()
    page.locator("sup a").first.click()
    assert page.evaluate("location.hash") == "#ref-1"
    share = page.locator(".share a")
    assert share.count() >= 3 and page.locator("script[src]").count() == 0, "share links are plain links, no third-party scripts"
    check_page(page, require_main=True)
    page.screenshot(path=str(shots / "08-public-article.png"), full_page=True)

    phone.goto(en_url)
    check_no_sideways_scroll(phone)
    phone.screenshot(path=str(shots / "09-public-article-phone.png"), full_page=True)

    login(page, stack)
    page.goto(stack.url("translation_status") + "/")
    check_page(page)
    row = page.locator("tr", has_text=ARTICLES[0]["title"])
    assert "published" in row.locator("td").nth(1).inner_text() and "published" in row.locator("td").nth(2).inner_text()
    assert "missing" in row.locator("td").nth(3).inner_text()
    page.screenshot(path=str(shots / "07-translation-dashboard.png"), full_page=True)
    login(phone, stack)
    for url in (stack.url("translation_status") + "/", stack.url("notification") + "/deliveries"):
        phone.goto(url)
        check_no_sideways_scroll(phone)


def test_public_search_from_the_header_form(page, phone, stack, shots):
    article = {"lang": "tr", "title": "Liman güvenliği ve Hazar ticareti",
               "body": "Hazar limanlarında güvenlik, ticaretin hızını belirliyor.[1] Gümrük kapıları da önemli.",
               "author": {"name": "B. Rowser"}, "tags": ["Liman"],
               "references": [{"title": "Liman kayıtları", "url": "https://example.org/liman", "accessed": "2026-09-01"}]}
    created = stack.api("ingest", "POST", "/api/articles", json=article).json()
    stack.api("ingest", "POST", f"/api/articles/{created['id']}/transitions", json={"action": "publish"})
    wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{created['id']}").json()["state"] == "published",
             timeout=30, message="published")
    page.goto(f"{stack.settings.site_url}/tr/{created['slug']}/")
    page.get_by_label("Yazılarda ara").fill("güvenlik")
    page.get_by_label("Yazılarda ara").press("Enter")
    page.wait_for_url(re.compile(r"/tr/search\?q="))
    result = page.locator("ol.results li", has_text="Hazar ticareti")
    assert result.count() == 1 and result.locator("mark").count() >= 2  # title and excerpt highlighted
    check_page(page, require_main=True)
    page.screenshot(path=str(shots / "10-public-search.png"), full_page=True)
    phone.goto(page.url)
    check_no_sideways_scroll(phone)


def test_tag_page_links_its_related_topics(page, phone, stack, shots):
    articles = [
        {"lang": "en", "title": "Grain corridors after the harvest", "author": {"name": "B. Rowser"},
         "body": "Barges carry most of the grain south.", "tags": ["Grain", "Shipping"], "categories": ["Food security"]},
        {"lang": "en", "title": "Fertiliser prices and grain exports", "author": {"name": "B. Rowser"},
         "body": "Input costs rose faster than prices.", "tags": ["Grain", "Prices"], "categories": ["Food security"]},
    ]
    for art in articles:
        created = stack.api("ingest", "POST", "/api/articles", json=art).json()
        stack.api("ingest", "POST", f"/api/articles/{created['id']}/transitions", json={"action": "publish"})
        wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{created['id']}").json()["state"] == "published",
                 timeout=30, message="published")
    page.goto(f"{stack.settings.site_url}/en/{created['slug']}/")
    page.locator("nav.tags a", has_text="Grain").click()
    page.wait_for_url(re.compile(r"/en/tags/grain/$"))
    related = page.locator("nav.related-topics")
    assert related.locator("a.category").all_inner_texts() == ["Food security"]
    assert sorted(related.locator("a.tag").all_inner_texts()) == ["Prices", "Shipping"]
    check_page(page, require_main=True)
    page.screenshot(path=str(shots / "18-public-tag-page.png"), full_page=True)
    related.locator("a.category").click()
    page.wait_for_url(re.compile(r"/en/categories/food-security/$"))
    assert page.locator("ul.articles li").count() == 2
    assert "Grain" in page.locator("nav.related-topics").inner_text()
    phone.goto(page.url)
    check_no_sideways_scroll(phone)
