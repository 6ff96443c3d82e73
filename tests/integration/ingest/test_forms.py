"""The editor forms of ingest over real HTTP against the running stack, as a browser without JavaScript
would use them: create with an error next to the right reference row, preview, add a row, save, edit
(a new revision), diff, workflow buttons with flashes up to the live page, an author who may only
submit, and the raw page import form (paste and upload)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from lxml import html

from tests.helpers import wait_for
from tests.stack import ADMIN
from tests.integration.rendering.conftest import vnu  # noqa: F401  (the Nu HTML Checker fixture)

from .conftest import fixture_text

pytestmark = pytest.mark.integration


def _doc(resp: requests.Response):
    return html.fromstring(resp.content)


def _csrf(resp: requests.Response) -> str:
    return _doc(resp).xpath("string(//input[@name='csrf_token']/@value)")


def _flashes(resp: requests.Response) -> list[str]:
    return [p.text_content().strip() for p in _doc(resp).xpath("//p[contains(@class, 'flash')]")]


def _error(resp: requests.Response, field_id: str) -> str:
    return _doc(resp).xpath(f"string(//p[@id='{field_id}-error'])")


def login(stack, email: str, password: str) -> requests.Session:
    """A requests.Session logged in through the form, like a browser."""
    s = requests.Session()
    page = s.get(stack.url("ingest") + "/login", timeout=5)
    ok = s.post(stack.url("ingest") + "/login", data={"email": email, "password": password, "csrf_token": _csrf(page)},
                timeout=5, allow_redirects=False)
    assert ok.status_code == 302, ok.text
    return s


@pytest.fixture
def admin(stack):
    return login(stack, *ADMIN)


@pytest.fixture
def author(stack):
    email = f"author-{uuid.uuid4().hex[:8]}@example.org"
    made = stack.api("ingest", "POST", "/api/users", json={"email": email, "password": "author password 1",
                                                           "role": "author", "name": "Ana Author", "lang": "en"})
    assert made.status_code == 201, made.text
    return login(stack, email, "author password 1")


def _form_data(resp: requests.Response, **changes) -> dict:
    """The form's current values (text inputs, textareas, selects) with ``changes`` applied."""
    form = _doc(resp).xpath("//form[@method='post' and .//textarea]")[0]
    data = {k: v for k, v in form.form_values()}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _buttons(resp: requests.Response) -> list[str]:
    return _doc(resp).xpath("//div[@id='actions']//button[@name='action']/@value")


def _article(stack, article_id: str) -> dict:
    return stack.api("ingest", "GET", f"/api/articles/{article_id}").json()


def test_create_preview_save_edit_diff_and_publish_with_buttons(stack, admin):
    base = stack.url("ingest")
    listing = admin.get(base + "/articles", timeout=5)
    links = _doc(listing).xpath("//main//a/@href")
    assert "/articles/new" in links and "/articles/import" in links and "/articles/import-wxr" in links

    page = admin.get(base + "/articles/new", timeout=5)
    doc = _doc(page)
    for field_id in ("lang", "title", "body", "author_id", "author_name", "bio_tr", "tags", "translation_of",
                     "references-0-title", "references-0-url", "references-0-accessed", "references-0-note"):
        assert doc.xpath(f"//label[@for='{field_id}']"), f"{field_id} has a label"
    title = f"Caspian Corridors {uuid.uuid4().hex[:6]}"
    data = _form_data(page, **{
        "lang": "en", "title": title, "body": "Shipping moved *east* in 2022.[1] Ports grew.[2][3]",
        "author_id": "", "author_name": "Aylin Form", "bio_en": "", "bio_tr": "Enerji uzmanı.",
        "tags": "energy, Caspian",
        "references-0-title": "Corridor report", "references-0-url": "https://example.org/corridor",
        "references-0-accessed": "2022-10-14",
        "references-1-title": "Port data", "references-1-source": "Port authority", "references-1-url": "https://example.org/ports",
        "references-2-title": "Tariffs", "references-2-url": "example.org/tariffs",
        "save": "Save"})
    bad = admin.post(base + "/articles/new", data=data, timeout=5)
    assert bad.status_code == 422
    assert "Reference 3 URL must be an absolute http(s) URL" in _error(bad, "references-2-url"), "error next to row 3's URL"
    assert "references-2-url-error" in _doc(bad).xpath("string(//input[@id='references-2-url']/@aria-describedby)").split()
    assert _doc(bad).xpath("string(//input[@id='title']/@value)") == title, "what was typed is kept"

    fixed = dict(_form_data(bad, **{"references-2-url": "https://example.org/tariffs"}), preview="Preview")
    fixed.pop("save", None)
    preview = admin.post(base + "/articles/new", data=fixed, timeout=5)
    assert preview.status_code == 200
    assert _doc(preview).xpath("//div[@id='preview-output']//em/text()") == ["east"], "the Markdown is rendered"
    before = len(stack.api("ingest", "GET", "/api/articles?limit=500").json()["articles"])

    more = admin.post(base + "/articles/new", data=dict(_form_data(preview), add_reference="Add a reference row"), timeout=5)
    rows = len(_doc(more).xpath("//fieldset[starts-with(@id, 'reference-')]"))
    assert rows == len(_doc(preview).xpath("//fieldset[starts-with(@id, 'reference-')]")) + 1
    assert len(stack.api("ingest", "GET", "/api/articles?limit=500").json()["articles"]) == before, "nothing saved yet"

    saved = admin.post(base + "/articles/new", data=dict(_form_data(more), save="Save"), timeout=5)
    assert saved.status_code == 200 and saved.url.rsplit("/", 2)[1] == "articles"
    assert any("Created" in f for f in _flashes(saved))
    article_id = saved.url.rsplit("/", 1)[1]
    stored = _article(stack, article_id)
    assert [r["url"] for r in stored["references"]] == ["https://example.org/corridor", "https://example.org/ports",
                                                         "https://example.org/tariffs"]
    assert stored["author"] == {"name": "Aylin Form", "bio": "Enerji uzmanı.", "bio_lang": "tr"}
    assert stored["tags"] == ["energy", "Caspian"] and stored["state"] == "draft"

    # The author is now in the list; a second article can pick it.
    new_page = admin.get(base + "/articles/new", timeout=5)
    assert "Aylin Form" in _doc(new_page).xpath("//select[@id='author_id']/option/text()")

    edit = admin.get(f"{base}/articles/{article_id}/edit", timeout=5)
    assert _doc(edit).xpath("string(//textarea[@id='body'])").lstrip().startswith("Shipping moved *east*")
    assert _doc(edit).xpath("string(//select[@id='author_id']/option[@selected]/text())") == "Aylin Form"
    edited = admin.post(f"{base}/articles/{article_id}/edit",
                        data=_form_data(edit, body="Shipping moved *east* in 2023.[1] Ports grew.[2][3]", save="Save"),
                        timeout=5)
    assert any("Saved as revision 2" in f for f in _flashes(edited))
    diff = admin.get(f"{base}/articles/{article_id}?from=1&to=2", timeout=5)
    changes = _doc(diff)
    assert any("2022" in d for d in changes.xpath("//section[@id='diff']//del/text()"))
    assert any("2023" in i for i in changes.xpath("//section[@id='diff']//ins/text()"))
    missing = admin.get(f"{base}/articles/{article_id}?from=1&to=9", timeout=5)
    assert missing.status_code == 400 and "choose one of 1 to 2" in _error(missing, "diff-to")

    page = admin.get(f"{base}/articles/{article_id}", timeout=5)
    assert _buttons(page) == ["submit", "publish", "archive"], "admin in draft"
    url = f"{base}/articles/{article_id}/transitions"

    def press(action: str, **extra):
        return admin.post(url, data={"csrf_token": _csrf(page), "action": action, **extra}, timeout=5)

    submitted = press("submit")
    assert any("Submitted for review" in f and "draft → in review" in f for f in _flashes(submitted))
    assert _buttons(submitted) == ["request_changes", "approve", "publish"]
    approved = press("approve")
    assert any("Approved" in f for f in _flashes(approved)) and "schedule" in _buttons(approved)
    no_time = press("schedule", publish_at="")
    assert no_time.status_code == 422 and "Choose the date and time" in _error(no_time, "publish_at")
    past = press("schedule", publish_at="2001-01-01T09:00")
    assert "has passed" in _error(past, "publish_at")
    when = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    scheduled = press("schedule", publish_at=when)
    assert any("Scheduled" in f for f in _flashes(scheduled)) and _article(stack, article_id)["state"] == "scheduled"
    assert any("Unscheduled" in f for f in _flashes(press("unschedule")))
    again = press("approve")
    assert any("Not possible now" in f and "approved" in f for f in _flashes(again)), "409 as a flash error"
    assert _doc(again).xpath("//p[contains(@class, 'flash') and contains(@class, 'error')]")
    published = press("publish")
    assert any("Publishing" in f for f in _flashes(published))
    wait_for(lambda: _article(stack, article_id)["state"] == "published", timeout=30, message="published")
    live = admin.get(f"{base}/articles/{article_id}", timeout=5)
    public = _doc(live).xpath("string(//a[@id='public-url']/@href)")
    assert public.startswith(stack.url("rendering")) and requests.get(public, timeout=5).status_code == 200
    audit = [row.xpath("string(td[2])") for row in _doc(live).xpath("//table[@id='audit']/tbody/tr")]
    assert audit == ["create", "submit", "approve", "schedule", "unschedule", "publish", "rendered"]


def test_an_author_sees_only_submit_and_cannot_publish(stack, author):
    base = stack.url("ingest")
    page = author.get(base + "/articles/new", timeout=5)
    created = author.post(base + "/articles/new", data=_form_data(page, **{
        "lang": "en", "title": f"An author's piece {uuid.uuid4().hex[:6]}", "body": "Text.", "author_id": "",
        "author_name": "Ana Author", "save": "Save"}), timeout=5)
    assert any("Created" in f for f in _flashes(created))
    article_id = created.url.rsplit("/", 1)[1]
    assert _buttons(created) == ["submit"]
    refused = author.post(f"{base}/articles/{article_id}/transitions",
                          data={"csrf_token": _csrf(created), "action": "publish"}, timeout=5)
    assert any("Refused: your role (author) may not publish" in f for f in _flashes(refused))
    assert _article(stack, article_id)["state"] == "draft"
    submitted = author.post(f"{base}/articles/{article_id}/transitions",
                            data={"csrf_token": _csrf(created), "action": "submit"}, timeout=5)
    assert any("Submitted" in f for f in _flashes(submitted))
    assert _buttons(submitted) == [] and "has nothing to do" in _doc(submitted).xpath("string(//p[@id='actions'])")
    assert author.get(base + "/articles/import-wxr", timeout=5).status_code == 403


def test_forms_refuse_posts_without_csrf(stack, admin):
    resp = admin.post(stack.url("ingest") + "/articles/new", data={"lang": "en", "title": "x", "body": "y",
                                                                     "author_name": "z", "save": "Save"}, timeout=5)
    assert resp.status_code == 400


def test_import_form_paste_and_upload(stack, admin):
    base = stack.url("ingest")
    page = admin.get(base + "/articles/import", timeout=5)
    for field_id in ("text", "file", "lang", "translation_of"):
        assert _doc(page).xpath(f"//label[@for='{field_id}']"), f"{field_id} has a label"

    empty = admin.post(base + "/articles/import", data={"csrf_token": _csrf(page), "text": "  "}, timeout=5)
    assert empty.status_code == 422 and "Paste the article's page" in _error(empty, "text")
    listing = admin.post(base + "/articles/import", data={"csrf_token": _csrf(page),
                                                           "text": fixture_text("category-listing.en.txt")}, timeout=5)
    assert listing.status_code == 422 and "category listing" in _error(listing, "text")

    ru = fixture_text("energeticheskaya-bezopasnost.ru.txt")
    done = admin.post(base + "/articles/import", data={"csrf_token": _csrf(page), "text": ru}, timeout=5)
    assert done.status_code == 200 and any(f.startswith("Imported") for f in _flashes(done))
    ru_id = done.url.rsplit("/", 1)[1]
    ru_article = _article(stack, ru_id)
    assert ru_article["lang"] == "ru" and ru_article["references"]
    api_twin = stack.api("ingest", "POST", "/api/articles/import", data=ru.encode("utf-8"),
                         headers={"Content-Type": "text/plain; charset=utf-8"}).json()
    assert (api_twin["title"], api_twin["body"], api_twin["references"], api_twin["author"]) == \
        (ru_article["title"], ru_article["body"], ru_article["references"], ru_article["author"]), "same parser as the API"

    tr = fixture_text("su-diplomasisi-orta-asya.tr.txt").encode("utf-8")
    form = admin.get(base + "/articles/import", timeout=5)
    uploaded = admin.post(base + "/articles/import", data={"csrf_token": _csrf(form), "text": "",
                                                           "translation_of": ru_article["group_id"]},
                          files={"file": ("page.txt", tr, "text/plain")}, timeout=5)
    assert uploaded.status_code == 200, _error(uploaded, "file") or _error(uploaded, "translation_of")
    tr_article = _article(stack, uploaded.url.rsplit("/", 1)[1])
    assert tr_article["group_id"] == ru_article["group_id"] and tr_article["lang"] == "tr"
    twice = admin.post(base + "/articles/import", data={"csrf_token": _csrf(form), "translation_of": ru_article["group_id"]},
                       files={"file": ("page.txt", tr, "text/plain")}, timeout=5)
    assert twice.status_code == 200 and twice.url == uploaded.url  # the same page again: its article, no copy
    assert any(f.startswith("Not imported again") for f in _flashes(twice))
    other_tr = fixture_text("pages/tr-enerji.txt").encode("utf-8")
    clash = admin.post(base + "/articles/import", data={"csrf_token": _csrf(form), "translation_of": ru_article["group_id"]},
                       files={"file": ("page.txt", other_tr, "text/plain")}, timeout=5)
    assert clash.status_code == 422 and "already has a 'tr' version" in _error(clash, "translation_of")
    saved = admin.post(base + "/articles/import", data={"csrf_token": _csrf(form)},
                       files={"file": ("ports.html", fixture_text("html/wordpress-caspian-ports.en.html").encode("utf-8"),
                                       "text/html")}, timeout=5)
    assert saved.status_code == 200 and any(f.startswith("Imported") for f in _flashes(saved))
    assert _article(stack, saved.url.rsplit("/", 1)[1])["author"]["name"] == "Timur Bekov"
    latin1 = admin.post(base + "/articles/import", data={"csrf_token": _csrf(form)},
                        files={"file": ("page.txt", "Türkçe".encode("latin-1"), "text/plain")}, timeout=5)
    assert latin1.status_code == 422 and "not UTF-8" in _error(latin1, "file")


def test_editor_pages_are_valid_html(stack, admin, vnu, tmp_path):  # noqa: F811  (the fixture)
    base = stack.url("ingest")
    page = admin.get(base + "/articles/new", timeout=5)
    bad = admin.post(base + "/articles/new", data=_form_data(page, **{
        "title": "Valid HTML", "body": "A *body*.[1]", "author_name": "Vera Valid", "references-0-title": "R",
        "references-0-url": "nope", "preview": "Preview"}), timeout=5)
    invalid = admin.post(base + "/articles/new", data=_form_data(bad, save="Save"), timeout=5)
    saved = admin.post(base + "/articles/new", data=_form_data(invalid, **{"references-0-url": "https://example.org",
                                                                           "save": "Save"}), timeout=5)
    article_id = saved.url.rsplit("/", 1)[1]
    edit = admin.get(f"{base}/articles/{article_id}/edit", timeout=5)
    admin.post(f"{base}/articles/{article_id}/edit", data=_form_data(edit, body="Another *body*.[1]", save="Save"), timeout=5)
    pages = {
        "list": admin.get(base + "/articles", timeout=5), "preview": bad, "errors": invalid, "edit": edit,
        "article": admin.get(f"{base}/articles/{article_id}?from=1&to=2", timeout=5),
        "import": admin.post(base + "/articles/import", data={"csrf_token": _csrf(page), "text": ""}, timeout=5),
        "wxr": admin.get(base + "/articles/import-wxr", timeout=5),
    }
    files = []
    for name, resp in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_bytes(resp.content)
        files.append(path)
    assert vnu(files) == ""


def test_co_authors_and_categories_in_the_form(stack, admin):
    base = stack.url("ingest")
    page = admin.get(base + "/articles/new", timeout=5)
    for field_id in ("coauthors", "categories"):
        assert _doc(page).xpath(f"//label[@for='{field_id}']"), f"{field_id} has a label"
    created = admin.post(base + "/articles/new", data=_form_data(page, **{
        "lang": "en", "title": f"Written by three {uuid.uuid4().hex[:6]}", "body": "Text.", "author_id": "",
        "author_name": "First Writer", "coauthors": "Second Writer\n\n Third Writer \n", "categories": "Analysis, Energy",
        "save": "Save"}), timeout=5)
    assert any("Created" in f for f in _flashes(created))
    article_id = created.url.rsplit("/", 1)[1]
    stored = _article(stack, article_id)
    assert [a["name"] for a in stored["authors"]] == ["First Writer", "Second Writer", "Third Writer"]
    assert stored["author"]["name"] == "First Writer" and stored["categories"] == ["Analysis", "Energy"]
    edit = admin.get(f"{base}/articles/{article_id}/edit", timeout=5)
    assert _doc(edit).xpath("string(//textarea[@id='coauthors'])").split() == ["Second", "Writer", "Third", "Writer"]
    assert _doc(edit).xpath("string(//input[@id='categories']/@value)") == "Analysis, Energy"
    saved = admin.post(f"{base}/articles/{article_id}/edit", data=_form_data(edit, coauthors="Third Writer",
                                                                             categories="Energy", save="Save"), timeout=5)
    assert any("Saved as revision 2" in f for f in _flashes(saved))
    stored = _article(stack, article_id)
    assert [a["name"] for a in stored["authors"]] == ["First Writer", "Third Writer"] and stored["categories"] == ["Energy"]
    long_name = admin.post(f"{base}/articles/{article_id}/edit", data=_form_data(edit, coauthors="x" * 201, save="Save"),
                           timeout=5)
    assert long_name.status_code == 422 and "200" in _error(long_name, "coauthors")
    assert _article(stack, article_id)["revision"] == 2, "a refused edit stores nothing"
