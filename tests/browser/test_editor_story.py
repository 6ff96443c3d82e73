"""The editor's story in a real browser: import a raw page, edit a reference, submit; an editor approves
and publishes; the public page; a Turkish translation requested from a vendor on the dashboard whose
status changes when the signed vendor callback arrives, then published and listed on the English page."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from babel import Locale
from standardwebhooks.webhooks import Webhook

from tests.browser.a11y import check_no_sideways_scroll, check_page
from tests.helpers import wait_for
from tests.stack import ADMIN
from tests import sample_page

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = sample_page.SAMPLE
OWN_PAGE = ROOT / "tests" / "fixtures" / "ingest" / "su-diplomasisi-orta-asya.tr.txt"


def raw_page() -> tuple[str, str]:
    """The real sample (its prose never enters the repository), or our own page for committed screenshots."""
    if SAMPLE.exists() and not os.environ.get("SCREENSHOT_DIR"):
        return SAMPLE.read_text(encoding="utf-8"), "en"
    return OWN_PAGE.read_text(encoding="utf-8"), "tr"


def log_in(page, stack, email, password):
    page.goto(stack.url("ingest") + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def test_import_edit_review_publish_translate(page, phone, stack, receiver, shots):
    text, lang = raw_page()
    target_lang = "ru" if lang == "tr" else "tr"
    editor = {"email": f"editor-{uuid.uuid4().hex[:6]}@example.org", "password": "editor's long password"}
    resp = stack.api("ingest", "POST", "/api/users", json=dict(editor, role="editor", name="Eda Editor"))
    assert resp.status_code == 201
    vendor = stack.api("notification", "POST", "/api/subscriptions", json={
        "url": receiver.url + "/vendor-browser", "events": ["translation.requested"], "languages": [target_lang]}).json()

    # An admin (writing as an author would) imports the raw page.
    log_in(page, stack, *ADMIN)
    page.goto(stack.url("ingest") + "/articles/import")
    check_page(page)
    page.screenshot(path=str(shots / "02-import.png"), full_page=True)
    page.get_by_label("Paste the page").fill(text)
    page.get_by_role("button", name="Import").click()
    assert "/articles/" in page.url and "Imported" in flash(page) or page.locator("h1").count() == 1
    article_url = page.url
    refs = page.locator("ol li")
    assert refs.count() >= 3
    check_page(page)

    # Edit the first reference's source.
    page.get_by_role("link", name="Edit").click()
    check_page(page)
    page.screenshot(path=str(shots / "03-article-edit-form.png"), full_page=True)
    first = page.locator("#reference-1")
    first.get_by_label("Source").fill("Edited Source Name")
    page.get_by_role("button", name="Save").click()
    assert page.url == article_url
    assert "Edited Source Name" in page.locator("ol li").first.inner_text()
    page.screenshot(path=str(shots / "03-article-edit-saved.png"), full_page=True)

    page.get_by_role("button", name="Submit for review").click()
    assert "Submitted for review" in flash(page)
    page.goto(stack.url("ingest") + "/articles")
    check_page(page)
    page.screenshot(path=str(shots / "02-article-list.png"), full_page=True)

    # An editor approves and publishes.
    log_in(page, stack, editor["email"], editor["password"])
    page.goto(article_url)
    page.get_by_role("button", name="Approve").click()
    assert "pprove" in flash(page)
    page.get_by_role("button", name="Publish").click()
    assert "ublish" in flash(page)

    def live():
        page.goto(article_url)
        return page.locator("#public-url").count() == 1 and page.locator("#public-url").get_attribute("href")

    public_url = wait_for(live, timeout=30, message="the public URL on the article page")
    page.screenshot(path=str(shots / "03-article-page.png"), full_page=True)

    page.goto(public_url)
    assert page.locator("p.lang-line").count() == 0, "no translation is published yet"
    assert page.locator("section.references li").count() >= 3
    assert "Edited Source Name" in page.locator("section.references li").first.inner_text()
    assert page.locator(".share a").count() >= 3 and page.locator("script[src]").count() == 0
    check_page(page)

    # Request the translation from a vendor on the dashboard.
    page.goto(stack.url("translation_status") + "/")
    row = page.locator("tr", has=page.locator(f"a[href='{public_url}']"))
    row.get_by_role("link", name=f"Request the {Locale.parse(target_lang).get_display_name('en')} translation").click()
    page.wait_for_url("**/request?**")
    page.wait_for_load_state()
    check_page(page)
    page.get_by_label("Vendor name").fill("Acme Translations")
    page.get_by_label("Due date").fill("2026-12-20")
    page.screenshot(path=str(shots / "07-request-translation.png"), full_page=True)
    page.get_by_role("button", name="Request").click()
    assert "requested from Acme Translations" in flash(page)
    row = page.locator("tr", has=page.locator(f"a[href='{public_url}']"))
    assert "requested" in row.inner_text()

    hit = wait_for(lambda: receiver.for_path("/vendor-browser"), timeout=20, message="translation.requested")[0]
    data = Webhook(vendor["secret"]).verify(hit.body, hit.headers)["data"]
    delivery = json.dumps({"type": "translation.delivered", "data": {
        "group_id": data["group_id"], "lang": target_lang, "source_revision": data["source_revision"],
        "source_hash": data["source_hash"], "title": "Çeviri / Перевод: " + data["title"][:60],
        "body": "Translated text of our own writing.[1]", "references": data["references"],
        "translator": {"name": "Acme"}}})
    msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(timezone.utc)
    resp = requests.post(data["callback_url"], data=delivery, timeout=5, headers={
        "content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(stack.settings.inbound_webhook_secret).sign(msg_id, now, delivery)})
    assert resp.status_code == 202

    def in_review():
        page.goto(stack.url("translation_status") + "/")
        return "in review" in page.locator("tr", has=page.locator(f"a[href='{public_url}']")).inner_text()

    wait_for(in_review, timeout=30, message="the dashboard to show the delivered translation in review")
    page.screenshot(path=str(shots / "07-translation-dashboard-in-review.png"), full_page=True)

    # The editor publishes the translation; the source's public page then lists it.
    found = stack.api("ingest", "GET", f"/api/articles?group_id={data['group_id']}&lang={target_lang}").json()["articles"][0]
    page.goto(f"{stack.url('ingest')}/articles/{found['id']}")
    page.get_by_role("button", name="Approve").click()
    # The click returns once the POST is sent; the answer's page may still be loading.
    wait_for(lambda: "pprove" in flash(page), timeout=15, message="the approval's message")
    page.get_by_role("button", name="Publish").click()
    wait_for(lambda: "ublish" in flash(page), timeout=15, message="the publish's message")
    native = {"tr": "Türkçe", "ru": "Русский"}[target_lang]

    def listed():
        page.goto(public_url)
        return page.locator("p.lang-line a").all_inner_texts() == [native]

    wait_for(listed, timeout=30, message="the language line to list the translation")
    phone.goto(public_url)
    check_no_sideways_scroll(phone)
    log_in(phone, stack, editor["email"], editor["password"])
    phone.goto(article_url)
    check_no_sideways_scroll(phone)
    phone.screenshot(path=str(shots / "10-article-page-phone.png"), full_page=True)
