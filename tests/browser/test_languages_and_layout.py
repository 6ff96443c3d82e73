"""Every editor page in Turkish and in Russian with no English left, and laid out right at 1280 and 360 px.

The English left on a page is found by comparing its visible text (text nodes, option labels and the
aria-label, title and placeholder attributes; not <code> or the article's own text) with the English
catalog's msgids whose translation differs. The layout check runs on every editor page at both widths:
each checkbox and radio sits on the line of its label, and at 360 px no control reaches past the viewport.
"""
from __future__ import annotations

import re
import uuid

import pytest
from babel.messages.pofile import read_po

from shared.i18n import TRANSLATIONS_DIR
from tests.browser.a11y import check_no_sideways_scroll, check_page
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

TEXTS_JS = """() => {
  const skip = el => el.closest('code, pre, article, textarea, script, style, .secret, #preview-output, .diff');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || el.tagName === 'OPTION') continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    out.push(n.nodeValue);
  }
  for (const el of document.querySelectorAll('option, [aria-label], [title], [placeholder], input[type=submit]')) {
    if (skip(el)) continue;
    if (el.tagName === 'OPTION') out.push(el.textContent);
    for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.type === 'submit') out.push(el.value);
  }
  out.push(document.title);
  return out.map(t => t.replace(/\\s+/g, ' ').trim()).filter(Boolean);
}"""

LAYOUT_JS = """() => {
  const problems = [];
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!visible(box)) continue;
    const label = box.labels && box.labels[0];
    if (!label) { problems.push(`${box.name || box.id}: no label`); continue; }
    const range = document.createRange();
    range.selectNodeContents(label);
    const lines = [...range.getClientRects()].filter(r => r.width > 0);
    if (!lines.length) { problems.push(`${box.id}: empty label`); continue; }
    const b = box.getBoundingClientRect(), first = lines[0];
    const sameLine = Math.abs((first.top + first.bottom) / 2 - (b.top + b.bottom) / 2) <= Math.max(first.height, b.height) / 2;
    const beside = first.left >= b.right - 1 || b.left >= lines[lines.length - 1].right - 1;
    if (!sameLine || !beside) problems.push(`${box.id || box.name}: its label "${label.innerText.trim().slice(0, 40)}" is not on its line`);
  }
  const width = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (!visible(el) || el.type === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 || r.left < -1) problems.push(`${el.tagName.toLowerCase()}#${el.id || el.name}: ${Math.round(r.left)}..${Math.round(r.right)} px, viewport ${width}`);
  }
  return problems;
}"""


def _english(lang: str) -> list[tuple[str, re.Pattern]]:
    """(msgid, pattern) of every English string the ``lang`` catalog translates differently."""
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    found = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if not msgid or msgid in strings:
                continue
            words = re.sub(r"%\(\w+\)[sd]", " ", msgid)
            if not re.search(r"[A-Za-z]{3,}", words):
                continue
            parts = [re.escape(p) for p in re.split(r"%\(\w+\)[sd]", msgid)]
            body = ".+?".join(parts)
            # One word ("Title", "webhook %(event)s") counts only as a whole text, since words such as
            # "webhook" are also Turkish; two words or more wherever they appear.
            pattern = rf"^{body}:?$" if len(re.findall(r"[A-Za-z]{2,}", words)) < 2 else body
            found.append((msgid, re.compile(pattern)))
    return found


def english_left(page, lang: str) -> list[str]:
    """The English strings still on the page (each with the text it was found in)."""
    texts = page.evaluate(TEXTS_JS)
    left = []
    for msgid, pattern in _english(lang):
        for text in texts:
            if pattern.search(text):
                left.append(f"{msgid!r} in {text!r}")
                break
    return left


def layout_problems(page) -> list[str]:
    """Checkboxes and radios off their label's line, and controls past the viewport."""
    return page.evaluate(LAYOUT_JS)


def _login(page, stack, email, password):
    page.goto(stack.url("ingest") + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def content(stack):
    """An article with a translation group and a webhook subscription, so every editor page has rows."""
    suffix = uuid.uuid4().hex[:6]
    created = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "tr", "title": f"Hazar'da İşbirliği {suffix}", "body": "Kıyı ülkeleri anlaştı.[1]",
        "author": {"name": "Işıl Yıldız"}, "tags": ["Enerji"],
        "references": [{"title": "Rapor", "url": "https://example.org/r", "accessed": "2026-10-01"}]}).json()
    for action in ("submit", "approve"):  # the approval writes an audit note, shown translated
        stack.api("ingest", "POST", f"/api/articles/{created['id']}/transitions", json={"action": action})
    subscription = stack.api("notification", "POST", "/api/subscriptions", json={
        "url": "http://127.0.0.1:9/i18n", "events": ["article.published"], "languages": ["tr"],
        "description": "Ortak sitenin bildirimleri", "enabled": False})  # listed, never sent to
    assert subscription.status_code == 201, subscription.text
    wait_for(lambda: stack.api("translation_status", "GET", f"/api/groups/{created['group_id']}").status_code == 200,
             timeout=30, message="the translation dashboard to know the article")
    return created


def _pages(stack, article) -> list[tuple[str, str]]:
    ingest, ts, notification = stack.url("ingest"), stack.url("translation_status"), stack.url("notification")
    return [
        ("articles", f"{ingest}/articles"),
        ("article", f"{ingest}/articles/{article['id']}"),
        ("article-edit", f"{ingest}/articles/{article['id']}/edit"),
        ("timeline", f"{ingest}/articles/{article['id']}/timeline"),
        ("new-article", f"{ingest}/articles/new"),
        ("import", f"{ingest}/articles/import"),
        ("import-wxr", f"{ingest}/articles/import-wxr"),
        ("settings", f"{ingest}/settings"),
        ("waiting", f"{ingest}/waiting"),
        ("account", f"{ingest}/account"),
        ("media", f"{ingest}/media"),
        ("users", f"{ingest}/users"),
        ("translations", f"{ts}/"),
        ("request-translation", f"{ts}/groups/{article['group_id']}/request?lang=en"),
        ("webhooks", f"{notification}/subscriptions"),
        ("delivery-log", f"{notification}/deliveries"),
    ]


def _editor(stack, language: str | None, name: str = "Anna Editor") -> tuple[str, str]:
    """An admin (an editor who also sees the users page), so every editor page is visited."""
    email, password = f"editor-{uuid.uuid4().hex[:8]}@example.org", "a long password 1"
    body = {"email": email, "password": password, "role": "admin", "name": name, "language": language}
    assert stack.api("ingest", "POST", "/api/users", json=body).status_code == 201
    return email, password


@pytest.mark.parametrize("lang", ["tr", "ru"])
def test_an_editor_reads_every_editor_page_in_their_language(page, stack, content, shots, lang):
    if lang == "tr":
        email, password = _editor(stack, "tr", "Ayşe Işık")  # the setting made with the account
        _login(page, stack, email, password)
    else:
        email, password = _editor(stack, None, "Анна Смирнова")  # chosen on the settings page, over the browser's en-GB
        _login(page, stack, email, password)
        page.goto(stack.url("ingest") + "/settings")
        page.locator("#language").select_option("ru")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang
    # The login page before logging in followed the browser (en-GB); after it, everything is in lang.
    for name, url in _pages(stack, content):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == lang, url
        left = english_left(page, lang)
        assert not left, f"English left on {url} ({lang}):\n" + "\n".join(left)
        check_page(page)
        if name in ("articles", "article", "translations", "webhooks", "new-article"):
            page.screenshot(path=str(shots / f"11-{lang}-{name}.png"), full_page=True)


def test_the_english_check_finds_english(page, stack, content):
    email, password = _editor(stack, "tr")
    _login(page, stack, email, password)
    page.goto(stack.url("ingest") + "/articles")
    assert english_left(page, "tr") == []
    page.evaluate("document.querySelector('h1').textContent = 'Articles'; "
                  "document.querySelector('main').insertAdjacentHTML('beforeend', '<p>No articles match.</p>')")
    assert english_left(page, "tr") == ["'Articles' in 'Articles'", "'No articles match.' in 'No articles match.'"]


@pytest.mark.parametrize("width", [1280, 360])
def test_every_editor_page_lays_out_its_controls_at(chromium, stack, content, shots, width):
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                   is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(stack.url("ingest") + "/login")
        assert layout_problems(page) == []
        email, password = _editor(stack, None)
        _login(page, stack, email, password)
        for name, url in _pages(stack, content):
            page.goto(url)
            problems = layout_problems(page)
            assert not problems, f"{url} at {width} px:\n" + "\n".join(problems)
            if width == 360:
                check_no_sideways_scroll(page)
            if name in ("webhooks", "articles", "translations") and width == 1280:
                page.screenshot(path=str(shots / f"12-layout-{name}.png"), full_page=True)
    finally:
        context.close()


def test_the_layout_check_finds_a_checkbox_below_its_label_and_an_overflowing_control(page, stack):
    page.goto(stack.url("ingest") + "/login")
    page.evaluate("""document.querySelector('main').insertAdjacentHTML('beforeend',
        '<ul><li><input type=checkbox id=x><br><label for=x>Below</label></li></ul>' +
        '<input type=text id=wide style="width:2000px;max-width:none" aria-label=wide>')""")
    problems = layout_problems(page)
    assert any(p.startswith('x: its label "Below"') for p in problems), problems
    assert any(p.startswith("input#wide") for p in problems), problems
