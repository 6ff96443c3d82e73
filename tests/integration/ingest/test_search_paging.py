"""The editors' search and cursor paging (``services/ingest/search.py``, ``queries.page_articles``,
``GET /api/articles``) on SQLite (FTS5) and PostgreSQL (text search configurations)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import delete

from services.ingest import commands, queries
from services.ingest.app import create_app
from services.ingest.db import articles
from shared.config import load_settings
from shared.db import make_engine
from tests.helpers import migrated, migrated_db

pytestmark = pytest.mark.integration
TOKEN = "search-test-token"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    env = {"DATA_DIR": str(tmp_path), "API_TOKEN": TOKEN, "REDIS_URL": "redis://127.0.0.1:1/0"}
    if request.param == "postgresql":
        env.update({f"{svc.upper()}_DATABASE_URL": url for svc, url in request.getfixturevalue("pg_urls").items()})
    return create_app({"SETTINGS": migrated(load_settings(env)), "TESTING": True})


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return c


def _fields(lang: str, title: str, body: str = "Plain text.", *, author: str = "A. Writer",
            reference: str = "A source", group_id: str | None = None) -> dict:
    return {"lang": lang, "title": title, "body": body, "author": {"name": author}, "authors": [{"name": author}],
            "references": [{"number": 1, "title": reference, "url": "https://example.org/r", "accessed": "2026-11-01"}],
            "tags": [], "categories": [], "group_id": group_id}


def _create(app, fields: dict) -> str:
    with app.extensions["pipeline"].engine.begin() as conn:
        return commands.create_article(conn, fields, actor="api")["id"]


def _ids(client, **args) -> list[str]:
    resp = client.get("/api/articles", query_string=args)
    assert resp.status_code == 200, resp.get_json()
    return [a["id"] for a in resp.get_json()["articles"]]


def test_finds_by_title_body_author_and_reference_title_in_every_language(app, client):
    en = _create(app, _fields("en", "Harbour fees", "Ports charge more each year.",
                              reference="Ledgers of maritime insurers"))
    tr = _create(app, _fields("tr", "Liman ücretleri", "Limanların güvenliği tartışılıyor.", author="Ayşe Işıkçı"))
    ru = _create(app, _fields("ru", "Портовые сборы", "Вопросы безопасности портов.", reference="Отчёт таможни"))
    assert _ids(client, q="ledger") == [en]  # a word of a reference title, inflected
    assert _ids(client, q="insurer maritime") == [en]
    assert _ids(client, q="güvenlik") == [tr]
    assert _ids(client, q="IŞIKÇI") == [tr]  # the author, Turkish capitals
    assert _ids(client, q="безопасность") == [ru] and _ids(client, q="отчёты") == [ru]
    assert _ids(client, q="harbour", lang="tr") == [] and _ids(client, q="harbour", state="draft") == [en]
    assert _ids(client, q="nothing-like-this") == []


def test_an_edit_is_searchable_at_once(app, client):
    article_id = _create(app, _fields("en", "Harbour fees"))
    with app.extensions["pipeline"].engine.begin() as conn:
        commands.update_article(conn, article_id, {"title": "Canal tolls"}, actor="api", role="admin")
    assert _ids(client, q="harbour") == [] and _ids(client, q="tolls") == [article_id]


def test_limit_and_cursor_are_validated(client):
    for bad in ("0", "501", "x", "-3"):
        resp = client.get("/api/articles", query_string={"limit": bad})
        assert resp.status_code == 422 and resp.get_json()["field"] == "limit", bad
    resp = client.get("/api/articles", query_string={"cursor": "not-a-cursor"})
    assert resp.status_code == 422 and resp.get_json()["field"] == "cursor"


def test_pages_through_1000_articles_without_gaps_or_repeats_while_new_ones_arrive(app, client):
    with app.extensions["pipeline"].engine.begin() as conn:
        before = {commands.create_article(conn, _fields("en", f"Grain note {i}", f"Harvest figures {i}."),
                                          actor="api")["id"] for i in range(1000)}
    seen, cursor, pages, created = [], None, 0, 0
    while True:
        args = {"limit": 97, "q": "harvests"} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/articles", query_string=args).get_json()
        seen += [a["id"] for a in body["articles"]]
        pages += 1
        for _ in range(3):  # newer articles while the editor pages
            _create(app, _fields("en", f"Late grain note {created}", "Harvest figures, late."))
            created += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == before and pages == 11


# --- a property: any list, any page size, any inserts between pages --------------------------------

_ENGINE = {}


def _engine(tmp_path_factory):
    if "e" not in _ENGINE:
        url = f"sqlite:///{tmp_path_factory.mktemp('paging') / 'ingest.db'}"
        _ENGINE["e"] = make_engine(migrated_db("ingest", url))
    return _ENGINE["e"]


def _raw_row(created_at: datetime) -> dict:
    article_id = str(uuid.uuid4())
    return {"id": article_id, "group_id": article_id, "lang": "en", "is_source": True, "slug": article_id,
            "title": "t", "body": "b", "body_html": "b", "author": {"name": "a"}, "authors": [{"name": "a"}],
            "references": [], "tags": [], "categories": [], "state": "draft", "revision": 1, "content_hash": "h",
            "created_by": "api", "created_at": created_at, "updated_at": created_at}


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(0, 5), max_size=40), limit=st.integers(1, 12),
       inserts=st.lists(st.lists(st.integers(0, 3), max_size=3), max_size=12))
def test_cursor_walk_sees_every_row_once_whatever_is_inserted(tmp_path_factory, offsets, limit, inserts):
    engine = _engine(tmp_path_factory)
    with engine.begin() as conn:
        conn.execute(delete(articles))
        # Few distinct seconds: many rows share a created_at, so ties are decided by id.
        rows = [_raw_row(T0 + timedelta(seconds=s)) for s in offsets]
        if rows:
            conn.execute(articles.insert(), rows)
    newest = max(offsets, default=0)
    seen, cursor, step = [], None, 0
    while True:
        with engine.begin() as conn:
            page, cursor = queries.page_articles(conn, [articles.c.id, articles.c.created_at], order="created_at",
                                                 filters={}, limit=limit, cursor=cursor, languages=["en"])
            # New rows are never older than the newest one (they may tie with it).
            for extra in (inserts[step] if step < len(inserts) else []):
                conn.execute(articles.insert().values(**_raw_row(T0 + timedelta(seconds=newest + extra))))
        step += 1
        seen += [r["id"] for r in page]
        assert len(page) <= limit
        if cursor is None:
            break
    original = {r["id"] for r in rows}
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
