"""ingest numbers every article event (``articles.seq``) and a vendor's second round waits for review
(``services/ingest/commands.py``, ``services/ingest/handlers.py``), on a real SQLite database."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.ingest.commands import create_article, transition, update_article
from services.ingest.db import audit_log, outbox, users
from services.ingest.handlers import store_delivered_translation
from services.ingest.queries import get_article
from shared import events as ev
from shared.db import make_engine
from tests.helpers import migrated_db
from shared.events import utcnow
from shared.workflow import Role

SITE = "http://site.test"


@pytest.fixture
def conn(tmp_path):
    engine = make_engine(migrated_db("ingest", f"sqlite:///{tmp_path / 'ingest.db'}"))
    with engine.begin() as connection:
        yield connection


def _events(conn, article_id=None):
    rows = conn.execute(select(outbox.c.envelope).order_by(outbox.c.created_at)).scalars()
    return [e for e in rows if article_id is None or e["data"].get("article_id") == article_id]


def _source(conn):
    return create_article(conn, {"group_id": None, "lang": "en", "title": "Water", "body": "Text.",
                                 "author": {"name": "Aigerim"}, "references": [], "tags": []}, actor="api", role=Role.ADMIN)


def test_every_event_of_an_article_carries_the_next_seq(conn):
    art = _source(conn)
    transition(conn, art["id"], "submit", actor="api", role=Role.ADMIN, site_url=SITE)
    update_article(conn, art["id"], {"body": "New text."}, actor="api", role=Role.ADMIN)
    transition(conn, art["id"], "publish", actor="api", role=Role.ADMIN, site_url=SITE)
    events = _events(conn, art["id"])
    assert [e["data"]["seq"] for e in events] == [1, 2, 3, 4]
    assert events[-1]["data"]["snapshot"]["seq"] == 4, "rendering can order its read model by the snapshot's seq"
    assert get_article(conn, art["id"])["seq"] == 4


def _deliver(conn, group_id, source, body, translator="Ayşe Kaya"):
    event = ev.TranslationDelivered(group_id=group_id, lang="tr", title="Su", body=body, references=[],
                                    source_revision=source["revision"], source_hash=source["content_hash"],
                                    author={"name": translator, "bio": ""}, vendor="Lingo")
    return store_delivered_translation(conn, event, site_url=SITE)


def test_a_delivery_for_a_published_translation_waits_for_review(conn):
    conn.execute(users.insert().values(email="ed@example.org", name="Ed", role="editor", lang="tr", password_hash="x",
                                       active=True, created_at=utcnow()))
    src = _source(conn)
    tr = _deliver(conn, src["group_id"], src, "Metin.")
    transition(conn, tr["id"], "publish", actor="api", role=Role.ADMIN, site_url=SITE)
    transition(conn, tr["id"], "rendered", actor="rendering", role=Role.SYSTEM, site_url=SITE, url=f"{SITE}/tr/su/")
    src = update_article(conn, src["id"], {"body": "Text, edited."}, actor="api", role=Role.ADMIN)

    again = _deliver(conn, src["group_id"], src, "Yeni metin.")
    assert (again["state"], again["revision"], again["published_revision"]) == ("published", 2, 1)
    note = conn.execute(select(audit_log.c.actor, audit_log.c.note).where(audit_log.c.article_id == tr["id"])
                        .order_by(audit_log.c.id.desc())).first()
    assert note.actor == "vendor:Lingo"
    assert note.note.startswith("delivered by Lingo, translated from source revision 2; revision 2 waits for approval")
    updated, submitted = _events(conn, tr["id"])[-2:]
    assert updated["type"] == ev.ARTICLE_UPDATED and updated["data"]["waiting_revision"] == 2
    assert updated["data"]["live_source_hash"] != updated["data"]["source_hash"], "the live page follows source revision 1"
    assert submitted["type"] == ev.ARTICLE_SUBMITTED and submitted["data"]["state"] == "published"
    assert submitted["data"]["recipients"] == [{"email": "ed@example.org", "lang": "tr"}], "editors are emailed"
    assert submitted["data"]["seq"] == updated["data"]["seq"] + 1
