"""ingest's JSON API against a real SQLite database: bad input gets a clear 4xx and leaves nothing behind."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.ingest.app import create_app
from services.ingest.db import articles, outbox
from shared.config import load_settings
from tests.helpers import migrated

pytestmark = pytest.mark.integration
TOKEN = "api-test-token"
GOOD = {"lang": "en", "title": "A Title", "body": "Text.[1]", "author": {"name": "A. Writer"},
        "references": [{"title": "Ref", "url": "https://example.org/r", "accessed": "2022-10-14"}]}


@pytest.fixture
def app(tmp_path):
    # Nothing listens on this Redis port: relays fail and events wait in the outbox, as they must.
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": TOKEN, "REDIS_URL": "redis://127.0.0.1:1/0",
                              "MAX_BODY_BYTES": "20000"})
    return create_app({"SETTINGS": migrated(settings), "TESTING": True})


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return c


def count(app, table=articles):
    with app.extensions["pipeline"].engine.begin() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


BAD = [
    ("not json", {"data": "{nope", "content_type": "application/json"}, 400, None),
    ("wrong type", {"data": "lang=en", "content_type": "application/x-www-form-urlencoded"}, 415, None),
    ("array", {"json": [GOOD]}, 422, None),
    ("missing lang", {"json": {k: v for k, v in GOOD.items() if k != "lang"}}, 422, "lang"),
    ("unknown lang", {"json": dict(GOOD, lang="de")}, 422, "lang"),
    ("empty title", {"json": dict(GOOD, title="  ")}, 422, "title"),
    ("number title", {"json": dict(GOOD, title=7)}, 422, "title"),
    ("no author", {"json": {k: v for k, v in GOOD.items() if k != "author"}}, 422, "author"),
    ("bad url", {"json": dict(GOOD, references=[{"title": "x", "url": "ftp://x"}])}, 422, "references[0].url"),
    ("bad date", {"json": dict(GOOD, references=[{"title": "x", "accessed": "yesterday"}])}, 422, "references[0].accessed"),
    ("unknown group", {"json": dict(GOOD, group_id="00000000-0000-4000-8000-000000000000")}, 422, "group_id"),
    ("oversize", {"json": dict(GOOD, body="x" * 30000)}, 413, None),
    ("extra field", {"json": dict(GOOD, state="published")}, 422, "state"),
    ("invalid utf-8", {"data": b'{"lang": "\xff"}', "content_type": "application/json"}, 400, None),
]


@pytest.mark.parametrize("name,kwargs,status,field", BAD, ids=[b[0] for b in BAD])
def test_bad_create_requests_leave_nothing(app, client, name, kwargs, status, field):
    resp = client.post("/api/articles", **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body and body["error"]
    if field:
        assert body["field"] == field
    assert count(app) == 0 and count(app, outbox) == 0


def test_unauthenticated_requests_are_refused(app):
    c = app.test_client()
    assert c.post("/api/articles", json=GOOD).status_code == 401
    assert c.get("/api/articles", headers={"Authorization": "Basic abc"}).status_code == 401
    assert count(app) == 0


def test_create_commits_article_and_event_together_even_with_redis_down(app, client):
    resp = client.post("/api/articles", json=GOOD)
    assert resp.status_code == 201
    assert count(app) == 1
    with app.extensions["pipeline"].engine.begin() as conn:
        rows = conn.execute(select(outbox.c.event_type, outbox.c.sent_at)).all()
    assert rows == [("article.created", None)]  # kept for the sweep, not lost


def test_idempotency_key_replays_the_first_answer(app, client):
    first = client.post("/api/articles", json=GOOD, headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/articles", json=GOOD, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert count(app) == 1
    other = client.post("/api/articles", json=dict(GOOD, title="Other"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.get_json()["field"] == "Idempotency-Key"
    assert count(app) == 1


def test_second_version_of_a_language_in_a_group_conflicts(app, client):
    src = client.post("/api/articles", json=GOOD).get_json()
    tr = client.post("/api/articles", json=dict(GOOD, lang="tr", title="Başlık", group_id=src["group_id"]))
    assert tr.status_code == 201 and tr.get_json()["slug"] == "baslik"
    dup = client.post("/api/articles", json=dict(GOOD, lang="tr", title="Başka", group_id=src["group_id"]))
    assert dup.status_code == 409
    assert count(app) == 2


def test_edit_makes_a_new_revision_and_unknown_ids_404(app, client):
    art = client.post("/api/articles", json=GOOD).get_json()
    etag = client.get(f"/api/articles/{art['id']}").headers["ETag"]
    edited = client.patch(f"/api/articles/{art['id']}", json={"body": "New text."}, headers={"If-Match": etag})
    assert edited.status_code == 200 and edited.get_json()["revision"] == 2
    assert client.get("/api/articles/nope").status_code == 404
    assert client.post("/api/articles/nope/transitions", json={"action": "publish"}).status_code == 404


def test_html_in_the_body_is_sanitised(app, client):
    art = client.post("/api/articles", json=dict(GOOD, body="Hi <script>alert(1)</script><b onclick='x()'>b</b>")).get_json()
    with app.extensions["pipeline"].engine.begin() as conn:
        stored = conn.execute(select(articles.c.body_html).where(articles.c.id == art["id"])).scalar_one()
    assert "<script" not in stored and "onclick" not in stored and "<b>b</b>" in stored
    assert json.dumps(art)  # the API answer is plain JSON


def test_authors_and_categories_round_trip_and_reach_the_snapshot(app, client):
    body = {k: v for k, v in GOOD.items() if k != "author"} | {
        "authors": [{"name": "A. Writer"}, {"name": "B. Coauthor", "bio": "Writes too."}], "categories": ["Analysis"]}
    art = client.post("/api/articles", json=body).get_json()
    assert art["author"]["name"] == "A. Writer" and [a["name"] for a in art["authors"]] == ["A. Writer", "B. Coauthor"]
    assert art["categories"] == ["Analysis"]
    # An older client editing the single author keeps the co-authors.
    def patch(changes):
        etag = client.get(f"/api/articles/{art['id']}").headers["ETag"]
        return client.patch(f"/api/articles/{art['id']}", json=changes, headers={"If-Match": etag})

    edited = patch({"author": {"name": "C. Editor"}}).get_json()
    assert [a["name"] for a in edited["authors"]] == ["C. Editor", "B. Coauthor"] and edited["revision"] == 2
    edited = patch({"categories": ["Analysis", "Energy"]}).get_json()
    assert edited["categories"] == ["Analysis", "Energy"] and edited["revision"] == 3
    bad = patch({"categories": "Energy"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "categories"
    assert client.get(f"/api/articles/{art['id']}").get_json()["revision"] == 3, "a refused edit stores nothing"
    client.post(f"/api/articles/{art['id']}/transitions", json={"action": "publish"})
    with app.extensions["pipeline"].engine.begin() as conn:
        envelopes = conn.execute(select(outbox.c.envelope).where(outbox.c.event_type == "article.publish_requested")).scalars().all()
    snap = envelopes[-1]["data"]["snapshot"]
    assert snap["author"]["name"] == "C. Editor" and [a["name"] for a in snap["authors"]] == ["C. Editor", "B. Coauthor"]
    assert snap["categories"] == ["Analysis", "Energy"]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=501", "limit=1e3", "limit=-1", "limit=99999999999999999"])
def test_bad_query_numbers_are_422_never_500(client, query):
    resp = client.get(f"/api/articles?{query}")
    assert resp.status_code == 422 and resp.get_json()["field"] == "limit"


def test_diff_arguments_are_checked(client):
    art = client.post("/api/articles", json=GOOD).get_json()
    for query, field in (("from=x", "from"), ("to=2", "to"), ("to=1&from=0", "from")):
        resp = client.get(f"/api/articles/{art['id']}/diff?{query}")
        assert resp.status_code == 422 and resp.get_json()["field"] == field, query
    assert client.get(f"/api/articles/{art['id']}/diff").status_code == 200
