"""In a real browser: the users page, changing one's password, a password reset from the emailed link,
the "what waits" page, the article page's preview of the public page, and the public site with a
configured identity (name, tagline, logo, footer, social links); desktop and phone widths."""
from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import uuid
from email import policy

import pytest

from services.rendering import site
from tests.browser.a11y import check_focus_visible, check_no_sideways_scroll, check_page
from tests.helpers import wait_for
from tests.integration.rendering import fixtures as fx
from tests.stack import ADMIN

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


def _log_in(page, stack, address, password):
    page.goto(stack.url("ingest") + "/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_users_account_reset_waiting_and_preview_screens(page, phone, stack, receiver, smtp_server, shots):
    _log_in(page, stack, *ADMIN)
    page.goto(stack.url("ingest") + "/users")
    check_page(page)
    address = f"leyla-{uuid.uuid4().hex[:4]}@example.org"
    create = page.locator("form", has=page.get_by_role("button", name="Create the account"))
    create.get_by_label("Email", exact=True).fill(address)
    create.get_by_label("Name", exact=True).fill("Leyla Translator")
    create.get_by_label("Role", exact=True).select_option("translator")
    create.get_by_label("Language of their emails").select_option("tr")
    create.get_by_label("First password").fill(PASSWORD)
    create.get_by_role("button", name="Create the account").click()
    assert "Created the translator account" in page.locator(".flash").inner_text()
    check_page(page)
    page.screenshot(path=str(shots / "11-users.png"), full_page=True)
    _log_in(phone, stack, *ADMIN)
    phone.goto(stack.url("ingest") + "/users")
    check_no_sideways_scroll(phone)

    page.goto(stack.url("ingest") + "/account")
    check_page(page)
    check_focus_visible(page)
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password (at least 10 characters)").fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change password").click()
    assert "at least 10 characters" in page.locator("#new_password-error").inner_text()
    page.screenshot(path=str(shots / "12-account-password.png"), full_page=True)

    source = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "en", "title": "Water Tariffs in Border Towns", "body": "Border towns price water twice.[1]\n\nA shared tariff helps both sides.",
        "author": {"name": "S. Creen"}, "tags": ["Water"],
        "references": [{"title": "Tariff survey", "source": "Utility Review", "url": "https://example.org/tariffs", "accessed": "2026-10-01"}]}).json()
    stack.api("ingest", "POST", f"/api/articles/{source['id']}/transitions", json={"action": "submit"})
    wait_for(lambda: stack.api("translation_status", "POST", f"/api/groups/{source['group_id']}/translations",
                               json={"lang": "tr", "translator": address, "due_at": "2026-03-01T12:00:00+00:00"}).status_code == 201,
             timeout=20, message="translation requested")
    sub = stack.api("notification", "POST", "/api/subscriptions",
                    json={"url": receiver.url + "/closed", "events": ["article.published"]}).json()
    receiver.responses.append((410, {}))
    gone = stack.api("ingest", "POST", "/api/articles", json={"lang": "en", "title": "Ferry Timetables After the Storm",
                                                             "body": "Text.", "author": {"name": "S. Creen"}}).json()
    stack.api("ingest", "POST", f"/api/articles/{gone['id']}/transitions", json={"action": "publish"})
    wait_for(lambda: [d for d in stack.api("notification", "GET", f"/api/deliveries?subscription_id={sub['id']}").json()
                      ["deliveries"] if d["status"] == "failed"], timeout=30, message="a failed delivery")
    page.goto(stack.url("ingest") + "/waiting")
    check_page(page)
    assert page.locator("#review a", has_text="Water Tariffs in Border Towns").count() == 1
    assert page.locator("#translations td", has_text=address).count() == 1
    assert page.locator("#deliveries a", has_text="Ferry Timetables After the Storm").count() == 1
    page.screenshot(path=str(shots / "15-waiting.png"), full_page=True)
    phone.goto(stack.url("ingest") + "/waiting")
    check_no_sideways_scroll(phone)
    phone.screenshot(path=str(shots / "15-waiting-phone.png"), full_page=True)

    page.goto(f"{stack.url('ingest')}/articles/{source['id']}")
    frame = page.frame_locator("section#preview iframe")
    wait_for(lambda: page.reload() and frame.locator("h1").inner_text(timeout=3000) == "Water Tariffs in Border Towns",
             timeout=40, message="the preview in the article page")
    assert frame.locator("header.site .site-name").count() == 1 and frame.locator("section.references li").count() == 1
    page.locator("section#preview").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "16-article-preview.png"), full_page=True)

    page.goto(stack.url("ingest") + "/account")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Forgot your password?").click()
    check_page(page)
    page.get_by_label("Email").fill(address)
    page.screenshot(path=str(shots / "13-password-reset.png"), full_page=True)
    page.get_by_role("button", name="Email me a link").click()
    assert "a link to choose a new password is on its way" in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "13-password-reset-sent.png"), full_page=True)
    def reset_emails():
        parsed = [email.message_from_bytes(m.content, policy=policy.default) for m in smtp_server.to(address)]
        return [m for m in parsed if "/password-reset/" in m.get_body().get_content()]

    parsed = wait_for(reset_emails, timeout=30, message="the reset email")[0]
    assert parsed["Subject"].endswith("parolanızı sıfırlayın"), "in the account's language"
    link = re.search(r"https?://\S+/password-reset/\S+", parsed.get_body().get_content()).group(0)
    page.goto(link)
    check_page(page)
    page.get_by_label("New password (at least 10 characters)").fill("a new long enough password")
    page.get_by_label("New password again").fill("a new long enough password")
    page.screenshot(path=str(shots / "14-password-reset-new.png"), full_page=True)
    page.get_by_role("button", name="Set the new password").click()
    assert "Your new password is set" in page.locator(".flash").inner_text()
    page.goto(link)
    assert "no longer works" in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "14-password-reset-spent.png"), full_page=True)


def test_public_site_with_a_configured_identity(page, phone, shots, tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.other_snapshots() + fx.group_snapshots():
            site.publish_snapshot(conn, snap, settings)
    engine.dispose()
    (settings.site_dir / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="6" fill="#12304f"/>'
        '<path d="M6 28 L16 14 L22 22 L27 16 L34 28 Z" fill="#f0b400"/></svg>')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITE_") and k != "RENDERING_DATABASE_URL"}
    env.update({"DATA_DIR": str(tmp_path), "SITE_DIR": str(settings.site_dir), "SITE_URL": settings.site_dir.as_uri(),
                "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==",
                "SITE_NAME": "Steppe Policy Review", "SITE_NAME_TR": "Bozkır Politika İncelemesi",
                "SITE_NAME_RU": "Степной политический обзор",
                "SITE_TAGLINE": "Independent analysis of Central Asia and the Caspian",
                "SITE_TAGLINE_TR": "Orta Asya ve Hazar üzerine bağımsız analiz",
                "SITE_FOOTER": "Steppe Policy Review is an independent, non-partisan research institute.",
                "SITE_LOGO_URL": "/logo.svg",
                "SITE_SOCIAL": "Mastodon=https://mastodon.example/@steppe,Telegram=https://t.me/steppe,RSS=https://steppe.example/en/feed.xml"})
    done = subprocess.run([sys.executable, "-m", "services.rendering.rebuild", "--quiet"], cwd=fx.ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for lang, name in (("en", "Steppe Policy Review"), ("tr", "Bozkır Politika İncelemesi")):
        page.goto((settings.site_dir / lang / fx.SLUGS[lang] / "index.html").as_uri())
        assert page.locator("header.site .site-name").inner_text() == name
        check_page(page)
        assert page.locator("script[src]").count() == 0
        page.screenshot(path=str(shots / f"17-public-identity-{lang}.png"), full_page=True)
    phone.goto((settings.site_dir / "en" / fx.SLUGS["en"] / "index.html").as_uri())
    check_no_sideways_scroll(phone)
    phone.screenshot(path=str(shots / "17-public-identity-phone.png"), full_page=True)
