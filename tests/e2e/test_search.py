"""Search through the whole stack: articles published over ingest's API are found by readers on the public
site in their own language only (inflected forms included), never once unpublished or while unpublished,
and by editors on the article list by a word of a reference title."""
from __future__ import annotations

import uuid

import pytest
import requests
from lxml import html

from tests.helpers import wait_for
from tests.stack import ADMIN

pytestmark = pytest.mark.integration


def _article(lang: str, title: str, body: str, reference: str) -> dict:
    return {"lang": lang, "title": title, "body": body, "author": {"name": "Search Tester"},
            "references": [{"title": reference, "url": "https://example.org/" + uuid.uuid4().hex, "accessed": "2026-11-01"}],
            "tags": []}


def _create(stack, payload: dict) -> dict:
    resp = stack.api("ingest", "POST", "/api/articles", json=payload)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _move(stack, article: dict, action: str, state: str) -> None:
    resp = stack.api("ingest", "POST", f"/api/articles/{article['id']}/transitions", json={"action": action})
    assert resp.status_code == 202, resp.text
    wait_for(lambda: stack.api("ingest", "GET", f"/api/articles/{article['id']}").json()["state"] == state,
             timeout=60, message=f"{article['title']} to become {state}")


def _found(stack, lang: str, query: str) -> list[str]:
    resp = requests.get(f"{stack.settings.site_url}/{lang}/search", params={"q": query}, timeout=10)
    assert resp.status_code == 200 and resp.headers["X-Robots-Tag"] == "noindex"
    return html.fromstring(resp.content).xpath("//ol[@class='results']//h2/a/@href")


def test_readers_find_inflected_forms_in_their_language_only(stack):
    word = uuid.uuid4().hex[:8]  # keeps this test's pages apart from other tests' on the shared stack
    en = _create(stack, _article("en", f"Maritime security {word}", "Ports need security as much as ships do.",
                                 f"Harbour ledgers {word}"))
    tr = _create(stack, _article("tr", f"Denizcilik güvenlik raporu {word}", "Limanlar için güvenlik önemlidir.",
                                 "Liman kayıtları"))
    ru = _create(stack, _article("ru", f"Морская безопасность {word}", "Безопасность портов важна.",
                                 "Портовые записи"))
    draft = _create(stack, _article("en", f"Draft about security {word}", "Security, not yet published.", "Notes"))
    withdrawn = _create(stack, _article("en", f"Withdrawn security memo {word}", "Security memo.", "Memo"))
    for article in (en, tr, ru, withdrawn):
        _move(stack, article, "publish", "published")

    assert sorted(_found(stack, "en", f"securities {word}")) == sorted([f"/en/{en['slug']}/", f"/en/{withdrawn['slug']}/"])
    assert _found(stack, "tr", f"güvenliği {word}") == [f"/tr/{tr['slug']}/"]
    assert _found(stack, "ru", f"безопасности {word}") == [f"/ru/{ru['slug']}/"]
    assert _found(stack, "en", f"güvenliği {word}") == [] and _found(stack, "tr", f"securities {word}") == []
    assert _found(stack, "ru", f"securities {word}") == [] and _found(stack, "en", f"безопасности {word}") == []
    assert f"/en/{draft['slug']}/" not in _found(stack, "en", f"security {word}")

    _move(stack, withdrawn, "unpublish", "unpublished")
    # Rendering removes the page asynchronously; the index row goes in the flush that removes it.
    wait_for(lambda: requests.get(f"{stack.settings.site_url}/en/{withdrawn['slug']}/", timeout=10).status_code == 404,
             timeout=60, message="the withdrawn page to go")
    assert _found(stack, "en", f"securities {word}") == [f"/en/{en['slug']}/"]

    # Every public page carries the search form (a plain GET form: no JavaScript needed).
    page = html.fromstring(requests.get(f"{stack.settings.site_url}/en/{en['slug']}/", timeout=10).content)
    assert page.xpath("//form[@role='search'][@method='get']/@action") == ["/en/search"]

    # Editors find the article by a word of its reference title, in the API and on the article list.
    listed = stack.api("ingest", "GET", "/api/articles", params={"q": f"ledger {word}"}).json()["articles"]
    assert [a["id"] for a in listed] == [en["id"]]
    editor = requests.Session()
    login_page = editor.get(stack.url("ingest") + "/login", timeout=5)
    token = html.fromstring(login_page.content).xpath("string(//input[@name='csrf_token']/@value)")
    assert editor.post(stack.url("ingest") + "/login", timeout=5, allow_redirects=False,
                       data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token}).status_code == 302
    rows = html.fromstring(editor.get(stack.url("ingest") + "/articles", params={"q": f"ledgers {word}"},
                                      timeout=10).content).xpath("//a[@class='article-link']/text()")
    assert rows == [en["title"]]
