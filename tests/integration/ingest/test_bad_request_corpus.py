"""A corpus of bad requests, sent over real HTTP, that must get a 4xx and store nothing.

It covers ``POST /api/articles``, ``POST /api/articles/import`` and ``POST /webhooks/articles``:
malformed and wrongly typed bodies, missing fields, oversize bodies, unauthenticated, unsigned,
stale, tampered and replayed webhooks, and script injection in fields that are validated.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from services.ingest.db import article_imports, articles, external_refs, idempotency_keys, inbound_webhooks, outbox, revisions

from .conftest import ARTICLE, MAX_BODY, SECRET, TOKEN, fixture_text, serve, sign

pytestmark = pytest.mark.integration
TABLES = (articles, revisions, outbox, external_refs, inbound_webhooks, article_imports, idempotency_keys)
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
SCRIPT = "<script>alert(1)</script>"
LONG_PAGE_WORDS = "A sentence that is long enough to belong in the body of a real article. " * 10


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One server with an article from the API, one from a webhook and a used Idempotency-Key."""
    with serve(tmp_path_factory.mktemp("corpus")) as live:
        made = live.api("POST", "/api/articles", json=ARTICLE, headers={"Idempotency-Key": "used-key"})
        assert made.status_code == 201, made.text
        body = json.dumps(upsert("known"))
        captured = {"body": body, "headers": {**JSON, **sign(body, "msg_captured")}}
        first = requests.post(live.url + "/webhooks/articles", data=body, headers=captured["headers"], timeout=15)
        assert first.status_code == 201, first.text
        yield live, {"group_id": made.json()["group_id"], "captured": captured}


def upsert(external_id: str = "new-1", **fields) -> dict:
    data = {"external_id": external_id, **ARTICLE, "title": f"Partner article {external_id}", **fields}
    return {"type": "article.upsert", "data": {k: v for k, v in data.items() if v is not None}}


def without(**fields):
    return {k: v for k, v in {**ARTICLE, **fields}.items() if v is not None}


def create(live, ctx, body=None, *, raw=None, headers=None, token=TOKEN):
    kwargs = {"data": raw} if raw is not None else {"json": body}
    return live.api("POST", "/api/articles", token=token, headers=headers or {}, **kwargs)


def page(live, ctx, text, *, query="", headers=TEXT, token=TOKEN):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return live.api("POST", "/api/articles/import" + query, data=data, headers=headers, token=token)


def hook(live, ctx, payload=None, *, raw=None, msg_id="msg_bad", at=None, secret=SECRET, headers=None,
         sign_as=None):
    """A webhook signed over ``sign_as`` (default: the body sent), with header overrides."""
    body = raw if raw is not None else json.dumps(payload).encode("utf-8")
    signed = sign((sign_as if sign_as is not None else body).decode("utf-8", "replace"), msg_id, at, secret)
    merged = {**JSON, **signed, **(headers or {})}
    merged = {k: v for k, v in merged.items() if v is not None}
    return requests.post(live.url + "/webhooks/articles", data=body, headers=merged, timeout=15)


def ago(minutes: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
DEEP = "[" * 20000 + "]" * 20000  # under the size limit, over the JSON parser's recursion limit

CASES = {
    # POST /api/articles
    "api: malformed JSON": lambda l, c: create(l, c, raw="{nope", headers=JSON),
    "api: truncated JSON": lambda l, c: create(l, c, raw='{"lang": "en", ', headers=JSON),
    "api: invalid UTF-8": lambda l, c: create(l, c, raw=b'{"lang": "\xff"}', headers=JSON),
    "api: nested too deeply": lambda l, c: create(l, c, raw=DEEP, headers=JSON),
    "api: form encoded": lambda l, c: create(l, c, raw="lang=en", headers={"Content-Type": "application/x-www-form-urlencoded"}),
    "api: text/plain": lambda l, c: create(l, c, raw=json.dumps(ARTICLE), headers={"Content-Type": "text/plain"}),
    "api: JSON array": lambda l, c: create(l, c, [ARTICLE]),
    "api: JSON string": lambda l, c: create(l, c, "article"),
    "api: JSON null": lambda l, c: create(l, c, raw="null", headers=JSON),
    "api: missing lang": lambda l, c: create(l, c, without(lang=None)),
    "api: unknown lang": lambda l, c: create(l, c, without(lang="de")),
    "api: lang number": lambda l, c: create(l, c, without(lang=1)),
    "api: missing title": lambda l, c: create(l, c, without(title=None)),
    "api: blank title": lambda l, c: create(l, c, without(title="   ")),
    "api: title list": lambda l, c: create(l, c, without(title=["a"])),
    "api: title too long": lambda l, c: create(l, c, without(title="x" * 301)),
    "api: missing body": lambda l, c: create(l, c, without(body=None)),
    "api: body number": lambda l, c: create(l, c, without(body=3)),
    "api: author string": lambda l, c: create(l, c, without(author="A. Writer")),
    "api: author without name": lambda l, c: create(l, c, without(author={"bio": "x"})),
    "api: bio too long": lambda l, c: create(l, c, without(author={"name": "A", "bio": "b" * 5001})),
    "api: unknown bio_lang": lambda l, c: create(l, c, without(author={"name": "A", "bio_lang": "xx"})),
    "api: references object": lambda l, c: create(l, c, without(references={"title": "x"})),
    "api: javascript URL": lambda l, c: create(l, c, without(references=[{"title": "x", "url": "javascript:alert(1)"}])),
    "api: data URL": lambda l, c: create(l, c, without(references=[{"title": "x", "url": f"data:text/html,{SCRIPT}"}])),
    "api: bad access date": lambda l, c: create(l, c, without(references=[{"title": "x", "accessed": "yesterday"}])),
    "api: empty reference": lambda l, c: create(l, c, without(references=[{}])),
    "api: negative reference number": lambda l, c: create(l, c, without(references=[{"title": "x", "number": -1}])),
    "api: tags string": lambda l, c: create(l, c, without(tags="a,b")),
    "api: tag too long": lambda l, c: create(l, c, without(tags=["t" * 61])),
    "api: group_id not a UUID": lambda l, c: create(l, c, without(group_id="not-a-uuid")),
    "api: unknown group": lambda l, c: create(l, c, without(group_id="00000000-0000-4000-8000-000000000000")),
    "api: duplicate language in group": lambda l, c: create(l, c, without(group_id=c["group_id"], title="Another")),
    "api: unknown field": lambda l, c: create(l, c, without(state="published")),
    "api: script as lang": lambda l, c: create(l, c, without(lang=SCRIPT)),
    "api: script as field name": lambda l, c: create(l, c, without(**{SCRIPT: "x"})),
    "api: script in group_id": lambda l, c: create(l, c, without(group_id=SCRIPT)),
    "api: oversize": lambda l, c: create(l, c, without(body="x" * (MAX_BODY + 10))),
    "api: no token": lambda l, c: create(l, c, ARTICLE, token=None),
    "api: wrong token": lambda l, c: create(l, c, ARTICLE, token="wrong"),
    "api: basic auth": lambda l, c: create(l, c, ARTICLE, token=None, headers={"Authorization": "Basic YTpi"}),
    "api: Idempotency-Key too long": lambda l, c: create(l, c, ARTICLE, headers={"Idempotency-Key": "k" * 201}),
    "api: Idempotency-Key reused with another body": lambda l, c: create(
        l, c, without(title="Different"), headers={"Idempotency-Key": "used-key"}),
    # POST /api/articles/import
    "import: JSON content type": lambda l, c: page(l, c, LONG_PAGE_WORDS, headers=JSON),
    "import: no content type": lambda l, c: page(l, c, LONG_PAGE_WORDS, headers={"Content-Type": ""}),
    "import: latin-1 charset": lambda l, c: page(l, c, "Başlık", headers={"Content-Type": "text/plain; charset=latin-1"}),
    "import: invalid UTF-8": lambda l, c: page(l, c, b"Title\n\n\xff\xfe body"),
    "import: empty": lambda l, c: page(l, c, ""),
    "import: chrome only": lambda l, c: page(l, c, "Paylaş\nShare\nSimilar Posts\n"),
    "import: category listing": lambda l, c: page(l, c, fixture_text("category-listing.en.txt")),
    "import: too short": lambda l, c: page(l, c, "Title\n\nOne line.\n\nA. Writer\nA. Writer\nBio."),
    "import: cut off": lambda l, c: page(l, c, "Title\n\n" + LONG_PAGE_WORDS + "and then the"),
    "import: Kazakh page": lambda l, c: page(l, c, fixture_text("pages/foreign-kk.txt")),
    "import: unknown lang": lambda l, c: page(l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"), query="?lang=de"),
    "import: script as lang": lambda l, c: page(l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"),
                                                query="?lang=%3Cscript%3Ealert(1)%3C/script%3E"),
    "import: group_id not a UUID": lambda l, c: page(l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"),
                                                     query="?group_id=nope"),
    "import: unknown group": lambda l, c: page(l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"),
                                               query="?group_id=00000000-0000-4000-8000-000000000000"),
    "import: language taken in group": lambda l, c: page(
        l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"), query=f"?lang=en&group_id={c['group_id']}"),
    "import: title too long": lambda l, c: page(
        l, c, "T" * 400 + "\n\n" + LONG_PAGE_WORDS + "\n\nA. Writer\nA. Writer\nA bio of the writer."),
    "import: oversize": lambda l, c: page(l, c, "x" * (MAX_BODY + 10)),
    "import: no token": lambda l, c: page(l, c, fixture_text("su-diplomasisi-orta-asya.tr.txt"), token=None),
    # POST /webhooks/articles
    "hook: unsigned": lambda l, c: requests.post(l.url + "/webhooks/articles", json=upsert(), timeout=15),
    "hook: bearer token instead of a signature": lambda l, c: requests.post(
        l.url + "/webhooks/articles", json=upsert(), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15),
    "hook: no signature header": lambda l, c: hook(l, c, upsert(), headers={"webhook-signature": None}),
    "hook: no timestamp header": lambda l, c: hook(l, c, upsert(), headers={"webhook-timestamp": None}),
    "hook: no id header": lambda l, c: hook(l, c, upsert(), headers={"webhook-id": None}),
    "hook: garbage signature": lambda l, c: hook(l, c, upsert(), headers={"webhook-signature": "garbage"}),
    "hook: signature without comma": lambda l, c: hook(l, c, upsert(), headers={"webhook-signature": "v1"}),
    "hook: signature not base64": lambda l, c: hook(l, c, upsert(), headers={"webhook-signature": "v1,!!!"}),
    "hook: signature bad padding": lambda l, c: hook(l, c, upsert(), headers={"webhook-signature": "v1,QUJD="}),
    "hook: timestamp not a number": lambda l, c: hook(l, c, upsert(), headers={"webhook-timestamp": "soon"}),
    "hook: id too long": lambda l, c: hook(l, c, upsert(), msg_id="m" * 201),
    "hook: stale": lambda l, c: hook(l, c, upsert(), at=ago(10)),
    "hook: from the future": lambda l, c: hook(l, c, upsert(), at=ago(-10)),
    "hook: tampered body": lambda l, c: hook(l, c, upsert(title="Tampered"), sign_as=json.dumps(upsert()).encode()),
    "hook: wrong secret": lambda l, c: hook(l, c, upsert(), secret=OTHER_SECRET),
    "hook: signed for another id": lambda l, c: hook(l, c, upsert(), headers={"webhook-id": "msg_other"}),
    "hook: replayed after the window": lambda l, c: requests.post(
        l.url + "/webhooks/articles", data=c["captured"]["body"], timeout=15,
        headers={**c["captured"]["headers"], **sign(c["captured"]["body"], "msg_captured", ago(10))}),
    "hook: replayed id with another body": lambda l, c: hook(l, c, upsert("known", title="Changed"), msg_id="msg_captured"),
    "hook: malformed JSON": lambda l, c: hook(l, c, raw=b"{nope"),
    "hook: sent as text/plain": lambda l, c: hook(l, c, upsert(), headers={"Content-Type": "text/plain"}),
    "hook: sent as a form": lambda l, c: hook(l, c, upsert(), headers={"Content-Type": "application/x-www-form-urlencoded"}),
    "hook: invalid UTF-8": lambda l, c: hook(l, c, raw=b'{"type": "\xff"}', sign_as=b"{}"),
    "hook: nested too deeply": lambda l, c: hook(l, c, raw=DEEP.encode()),
    "hook: JSON array": lambda l, c: hook(l, c, [upsert()]),
    "hook: unknown type": lambda l, c: hook(l, c, dict(upsert(), type="article.delete")),
    "hook: missing data": lambda l, c: hook(l, c, {"type": "article.upsert"}),
    "hook: missing external_id": lambda l, c: hook(l, c, upsert(external_id=None) | {"data": without()}),
    "hook: title wrong type": lambda l, c: hook(l, c, upsert(title=7)),
    "hook: missing author": lambda l, c: hook(l, c, upsert(author=None)),
    "hook: javascript URL": lambda l, c: hook(l, c, upsert(references=[{"title": "x", "url": "javascript:alert(1)"}])),
    "hook: script as lang": lambda l, c: hook(l, c, upsert(lang=SCRIPT)),
    "hook: script as source": lambda l, c: hook(l, c, upsert(source=SCRIPT)),
    "hook: language change of a known article": lambda l, c: hook(l, c, upsert("known", lang="ru")),
    "hook: oversize": lambda l, c: hook(l, c, upsert(body="x" * (MAX_BODY + 10))),
}

# The exact answer where it matters: signature problems are 401 (never 500), limits 413.
EXPECTED = {name: 401 for name in CASES if name.startswith("hook:") and any(
    word in name for word in ("signed", "signature", "stale", "future", "tampered", "secret", "header",
                              "window", "timestamp", "id too long"))}
EXPECTED.update({"api: nested too deeply": 400, "hook: nested too deeply": 400, "api: oversize": 413,
                 "import: oversize": 413, "hook: oversize": 413, "hook: replayed id with another body": 409,
                 "api: no token": 401, "import: no token": 401, "hook: malformed JSON": 400,
                 "hook: sent as text/plain": 415, "hook: sent as a form": 415})


def counts(live) -> dict:
    return {table.name: live.count(table) for table in TABLES}


def test_the_corpus_is_large():
    assert len(CASES) >= 50 and len(EXPECTED) >= 20


@pytest.mark.parametrize("name", list(CASES))
def test_bad_request_gets_a_4xx_and_stores_nothing(corpus, name):
    live, ctx = corpus
    before = counts(live)
    resp = CASES[name](live, ctx)
    assert 400 <= resp.status_code < 500, f"{name}: {resp.status_code} {resp.text[:300]}"
    if name in EXPECTED:
        assert resp.status_code == EXPECTED[name], f"{name}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"]
    assert counts(live) == before, name
