"""Per-language status logic: from article states, needs_update, requests and deliveries (``services/translation_status/status.py``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.translation_status import status as svc
from services.translation_status.db import outbox, statuses
from shared import events as ev
from shared.db import make_engine
from tests.helpers import migrated_db
from shared.errors import InvalidInput

LANGS = ("en", "tr", "ru")
GROUP = "0b3c7a52-6a53-4a0a-9d55-5f0c8d1e2a11"


@pytest.mark.parametrize("state,expected", [
    ("draft", "in_progress"), ("in_review", "in_review"), ("approved", "ready"), ("scheduled", "ready"),
    ("publishing", "ready"), ("published", "published"), ("unpublished", "ready"), ("archived", "missing"),
])
def test_each_article_state_maps_to_one_status(state, expected):
    assert svc.status_for(state, "h1", "h1", is_source=False) == expected


def test_a_translation_made_from_an_older_source_needs_an_update():
    assert svc.status_for("published", "old", "new", is_source=False) == svc.NEEDS_UPDATE
    assert svc.status_for("published", "old", "new", is_source=True) == svc.PUBLISHED, "a source never lags itself"
    assert svc.status_for("archived", "old", "new", is_source=False) == svc.MISSING
    assert svc.status_for("draft", None, "new", is_source=False) == svc.IN_PROGRESS, "unknown origin: no claim"


def test_a_request_names_a_translator_or_a_vendor_and_reads_the_due_date_as_utc():
    fields = svc.parse_request({"lang": "tr", "translator": "ayse@example.org", "due_at": "2026-12-15"}, LANGS)
    assert fields["due_at"] == datetime(2026, 12, 15, tzinfo=timezone.utc)
    offset = svc.parse_request({"lang": "ru", "vendor": "Lingo", "due_at": "2026-12-15T17:00:00+03:00"}, LANGS)
    assert offset["due_at"] == datetime(2026, 12, 15, 14, tzinfo=timezone.utc), "an offset is applied, never dropped"


@pytest.mark.parametrize("data,field", [
    ({"lang": "de", "vendor": "Lingo"}, "lang"),
    ({"lang": "tr"}, "translator"),
    ({"lang": "tr", "translator": "a@example.org", "vendor": "Lingo"}, "translator"),
    ({"lang": "tr", "translator": "not-an-email"}, "translator"),
    ({"lang": "tr", "vendor": "x" * 101}, "vendor"),
    ({"lang": "tr", "vendor": "Lingo", "due_at": "next week"}, "due_at"),
])
def test_a_bad_request_names_the_field(data, field):
    with pytest.raises(InvalidInput) as info:
        svc.parse_request(data, LANGS)
    assert info.value.field == field and info.value.status == 422


def _delivery(**data):
    body = {"group_id": GROUP, "lang": "tr", "title": "Başlık", "body": "Metin.", "source_hash": "h" * 64,
            "source_revision": 2, "references": []}
    body.update(data)
    return {"type": "translation.delivered", "data": body}


def test_a_delivery_is_parsed_and_its_references_checked():
    fields = svc.parse_delivery(_delivery(translator={"name": "Ayşe"}), LANGS)
    assert fields["lang"] == "tr" and fields["source_revision"] == 2 and fields["translator"] == {"name": "Ayşe"}
    with pytest.raises(InvalidInput) as info:
        svc.parse_delivery(_delivery(references=[{"url": "ftp://x"}]), LANGS)
    assert info.value.field == "data.references[0].url"


@pytest.mark.parametrize("change,field", [
    ({"source_revision": 0}, "data.source_revision"), ({"title": ""}, "data.title"),
    ({"lang": "de"}, "data.lang"), ({"title": "x" * 301}, "data.title"), ({"translator": "Ayşe"}, "data.translator"),
])
def test_a_bad_delivery_names_the_field(change, field):
    with pytest.raises(InvalidInput) as info:
        svc.parse_delivery(_delivery(**change), LANGS)
    assert info.value.field == field


def test_overdue_means_past_due_and_not_done():
    past = datetime.now(timezone.utc) - timedelta(days=1)
    assert svc.is_overdue({"due_at": past, "status": svc.REQUESTED})
    assert not svc.is_overdue({"due_at": past, "status": svc.PUBLISHED})
    assert not svc.is_overdue({"due_at": None, "status": svc.REQUESTED})


@pytest.fixture
def conn(tmp_path):
    engine = make_engine(migrated_db("translation_status", f"sqlite:///{tmp_path / 'ts.db'}"))
    with engine.begin() as connection:
        yield connection


def _event(cls=ev.ArticleUpdated, **fields):
    base = dict(article_id="a-en", group_id=GROUP, lang="en", state="draft", revision=1, content_hash="s1",
                title="Water", is_source=True, source_lang="en")
    base.update(fields)
    return cls(**base)


def _status(conn, lang):
    return conn.execute(select(statuses.c.status).where(statuses.c.lang == lang)).scalar()


def test_a_source_edit_puts_its_published_translation_in_needs_update(conn):
    svc.record_article_event(conn, _event(state="published"), "2026-12-01T10:00:00")
    svc.record_article_event(conn, _event(article_id="a-tr", lang="tr", is_source=False, state="published",
                                          content_hash="t1", source_hash="s1"), "2026-12-01T10:01:00")
    assert _status(conn, "tr") == svc.PUBLISHED
    svc.record_article_event(conn, _event(state="published", revision=2, content_hash="s2"), "2026-12-01T10:02:00")
    assert _status(conn, "tr") == svc.NEEDS_UPDATE
    changes = [r.envelope["data"] for r in conn.execute(select(outbox)) if r.event_type == ev.TRANSLATION_STATUS_CHANGED]
    assert {"lang": "tr", "old_status": "published", "new_status": "needs_update"}.items() <= changes[-1].items()


def test_an_older_event_arriving_late_changes_nothing(conn):
    svc.record_article_event(conn, _event(state="in_review", revision=2), "2026-12-01T10:05:00")
    svc.record_article_event(conn, _event(state="draft"), "2026-12-01T10:00:00")
    assert _status(conn, "en") == svc.IN_REVIEW


def test_the_article_seq_decides_not_the_arrival_time(conn):
    """Events are applied by seq: a later-sent, older event (even with a newer timestamp) changes nothing."""
    svc.record_article_event(conn, _event(state="in_review", seq=2), "2026-12-01T10:00:00")
    svc.record_article_event(conn, _event(state="draft", seq=1), "2026-12-01T10:05:00")
    assert _status(conn, "en") == svc.IN_REVIEW
    svc.record_article_event(conn, _event(state="approved", seq=3), "2026-12-01T09:00:00")
    assert _status(conn, "en") == svc.READY


def test_a_newer_revision_of_a_published_translation_is_in_review():
    assert svc.status_for("published", "s1", "s1", is_source=False, waiting_revision=3) == svc.IN_REVIEW
    assert svc.status_for("approved", "s1", "s1", is_source=False, waiting_revision=3) == svc.IN_REVIEW
    assert svc.status_for("published", "s0", "s1", is_source=False, waiting_revision=3) == svc.NEEDS_UPDATE
    assert svc.status_for("published", "s1", "s1", is_source=True, waiting_revision=3) == svc.PUBLISHED


def _published_pair(conn):
    svc.record_article_event(conn, _event(state="published", seq=1), "2026-12-01T10:00:00")
    svc.record_article_event(conn, _event(article_id="a-tr", lang="tr", is_source=False, state="published",
                                          content_hash="t1", source_hash="s1", live_source_hash="s1", seq=5),
                             "2026-12-01T10:01:00")


SOURCE = {"revision": 2, "content_hash": "s2", "title": "Water", "body": "Text.", "references": []}


@pytest.mark.parametrize("source_edit", [True, False])
def test_a_second_round_is_requested_again_then_in_review_and_keeps_the_live_source(conn, source_edit):
    _published_pair(conn)
    made_from = "s2" if source_edit else "s1"
    if source_edit:
        svc.record_article_event(conn, _event(state="published", revision=2, content_hash="s2", seq=2),
                                 "2026-12-01T10:02:00")
        assert _status(conn, "tr") == svc.NEEDS_UPDATE
    due = datetime(2026, 12, 20, tzinfo=timezone.utc)
    view = svc.request_translation(conn, GROUP, {"lang": "tr", "translator": None, "vendor": "Lingo", "due_at": due},
                                   SOURCE, requested_by="ed@example.org", callback_url="http://cb")
    assert view["status"] == svc.REQUESTED and view["due_at"] == due.isoformat() and view["vendor"] == "Lingo"
    svc.deliver_translation(conn, {"group_id": GROUP, "lang": "tr", "title": "Su", "body": "Metin.", "references": [],
                                   "source_revision": 2, "source_hash": made_from, "translator": {"name": "Ayşe Kaya"}},
                            vendor="Lingo")
    row = conn.execute(select(statuses).where(statuses.c.lang == "tr")).mappings().one()
    assert (row["translator"], row["vendor"]) == ("Ayşe Kaya", "Lingo"), "the delivery names who translated"
    # ingest keeps it published with revision 1 live; revision 2 waits for approval.
    svc.record_article_event(conn, _event(article_id="a-tr", lang="tr", is_source=False, state="published",
                                          revision=2, content_hash="t2", source_hash=made_from, live_source_hash="s1",
                                          waiting_revision=2, seq=6), "2026-12-01T10:03:00")
    row = conn.execute(select(statuses).where(statuses.c.lang == "tr")).mappings().one()
    assert row["status"] == svc.IN_REVIEW
    assert row["live_source_hash"] == "s1", "source-diff compares from what the live page was made from"


def test_status_changes_are_numbered_per_language(conn):
    _published_pair(conn)
    svc.record_article_event(conn, _event(state="published", revision=2, content_hash="s2", seq=2), "2026-12-01T10:02:00")
    svc.request_translation(conn, GROUP, {"lang": "tr", "translator": "a@example.org", "vendor": None, "due_at": None},
                            SOURCE, requested_by="ed@example.org", callback_url="http://cb")
    changes = [r.envelope["data"] for r in conn.execute(select(outbox).order_by(outbox.c.created_at))
               if r.event_type == ev.TRANSLATION_STATUS_CHANGED and r.envelope["data"]["lang"] == "tr"]
    assert [(c["sequence"], c["old_status"], c["new_status"]) for c in changes] == [
        (1, "missing", "published"), (2, "published", "needs_update"), (3, "needs_update", "requested")]
