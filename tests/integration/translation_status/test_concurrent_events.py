"""Statuses tell the truth under concurrency: ingest's real commands emit article events, and threads hand
each round's events to translation_status's real handler through ``Runtime.consume`` all at once, in a
shuffled order; after every round each language's status must equal the status derived from ingest.

Runs on SQLite files and, when it answers, on PostgreSQL (fresh databases, dropped afterwards).
"""
from __future__ import annotations

import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from services.ingest import db as ingest_db
from services.ingest.commands import create_article, transition, update_article, waiting_revision
from services.ingest.handlers import store_delivered_translation
from services.ingest.queries import get_article, source_article
from services.translation_status import db as ts_db
from services.translation_status import status as svc
from shared import events as ev
from shared import tasks
from shared.db import make_engine
from tests.helpers import migrated_db
from shared.runtime import Runtime
from shared.workflow import Role

pytestmark = pytest.mark.integration
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROUNDS = int(os.environ.get("STATUS_RACE_ROUNDS", "500"))
GROUPS = 3
SITE = "http://site.test"


class Captured:
    """A stand-in for the Celery app: keeps what would have been sent, per task name."""

    def __init__(self):
        self.sent: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def send_task(self, name, kwargs=None, queue=None, **_):
        with self.lock:
            self.sent.append((name, kwargs["event"]))

    def take(self, name: str) -> list[dict]:
        """The envelopes sent to ``name`` since the last take."""
        with self.lock:
            mine = [e for n, e in self.sent if n == name]
            self.sent = [(n, e) for n, e in self.sent if n != name]
        return mine


def _runtime(service: str, engine, metadata) -> Runtime:
    migrated_db(service, engine.url.render_as_string(hide_password=False))
    return Runtime(service, None, engine, Captured(), metadata.tables.get("outbox"), metadata.tables["inbox"])


def _expected(conn, group_id: str) -> dict[str, str]:
    """Every language's status as derived from the articles' states in ingest."""
    source = source_article(conn, group_id)
    out = {}
    for art in conn.execute(select(ingest_db.articles).where(ingest_db.articles.c.group_id == group_id)).mappings():
        out[art["lang"]] = svc.status_for(art["state"], None if art["is_source"] else art["source_hash"],
                                          source["content_hash"], bool(art["is_source"]), waiting_revision(dict(art)))
    return out


def _held(conn, group_id: str) -> dict[str, str]:
    rows = conn.execute(select(ts_db.statuses.c.lang, ts_db.statuses.c.status)
                        .where(ts_db.statuses.c.group_id == group_id)).all()
    return dict(rows)


def run_rounds(ingest_engine, ts_engine, rounds: int, seed: int = 20) -> dict:
    """Play ``rounds`` rounds; return the mismatches found after each round and the status-change chain."""
    rnd = random.Random(seed)
    ing = _runtime("ingest", ingest_engine, ingest_db.metadata)
    ts = _runtime("translation_status", ts_engine, ts_db.metadata)
    mismatches: list[tuple[int, str, dict, dict]] = []
    pool = ThreadPoolExecutor(max_workers=4)

    failures: list[str] = []

    def consume(envelope: dict, barrier: threading.Barrier):
        barrier.wait()
        for _ in range(5):  # as Celery would (task_options: autoretry_for=Exception)
            try:
                return ts.consume(envelope, tasks.RECORD_ARTICLE_STATUS,
                                  lambda conn, e: svc.record_article_event(conn, e, envelope["occurred_at"]))
            except DBAPIError as exc:
                failures.append(type(exc.orig).__name__)
        raise AssertionError(f"event {envelope['id']} failed five times")

    def deliver_status_events():
        batch = ing.celery.take(tasks.RECORD_ARTICLE_STATUS)
        rnd.shuffle(batch)  # the broker promises no order; handlers start together
        barrier = threading.Barrier(len(batch))
        for f in [pool.submit(consume, e, barrier) for e in batch]:
            f.result()
        return len(batch)

    groups = []
    for g in range(GROUPS):
        with ing.transaction() as conn:
            src = create_article(conn, {"group_id": None, "lang": "en", "title": f"Water policy {g} {uuid.uuid4().hex[:6]}",
                                        "body": "Source text.", "author": {"name": "Aigerim"}, "references": [],
                                        "tags": []}, actor="api", role=Role.ADMIN)
            transition(conn, src["id"], "submit", actor="api", role=Role.ADMIN, site_url=SITE)
        deliver_status_events()
        with ts.transaction() as conn:
            svc.request_translation(conn, src["group_id"], {"lang": "tr", "translator": None, "vendor": "Lingo",
                                                            "due_at": None}, get_article_via(ingest_engine, src["id"]),
                                    requested_by="editor@example.org", callback_url="http://cb.test")
        groups.append(src)

    events = 0
    for n in range(rounds):
        src = groups[n % GROUPS]
        group_id = src["group_id"]
        with ingest_engine.begin() as conn:
            source = get_article(conn, src["id"])
            tr = conn.execute(select(ingest_db.articles).where(
                ingest_db.articles.c.group_id == group_id, ingest_db.articles.c.lang == "tr")).mappings().first()
        step = rnd.choice(("deliver", "publish_tr")) if tr else "deliver"
        if rnd.random() < 0.5:
            # Two events for the source: an edit and a workflow move (its translation may now need an update).
            with ing.transaction() as conn:
                update_article(conn, src["id"], {"body": f"Source text, round {n}."}, actor="api", role=Role.ADMIN)
                action = "submit" if source["state"] == "draft" else "request_changes"
                transition(conn, src["id"], action, actor="api", role=Role.ADMIN, site_url=SITE)
            source = get_article_via(ingest_engine, src["id"])
        else:
            # Two events for the source without a content change.
            with ing.transaction() as conn:
                for action in (("request_changes", "submit") if source["state"] == "in_review" else ("submit", "request_changes")):
                    transition(conn, src["id"], action, actor="api", role=Role.ADMIN, site_url=SITE)
        if step == "publish_tr" and tr["state"] in ("in_review", "published") and not (
                tr["state"] == "published" and waiting_revision(dict(tr)) is None):
            # An editor publishes the translation (implicit approval) and rendering answers.
            with ing.transaction() as conn:
                transition(conn, tr["id"], "publish", actor="api", role=Role.ADMIN, site_url=SITE)
            with ing.transaction() as conn:
                transition(conn, tr["id"], "rendered", actor="rendering", role=Role.SYSTEM, site_url=SITE,
                           url=f"{SITE}/tr/{tr['slug']}/")
        else:
            # A vendor delivery (a second round when the translation is published or needs an update).
            with ts.transaction() as conn:
                held = _held(conn, group_id).get("tr")
                if held in svc.REQUESTABLE and held != svc.REQUESTED:
                    svc.request_translation(conn, group_id, {"lang": "tr", "translator": None, "vendor": "Lingo",
                                                             "due_at": None}, source, requested_by="editor@example.org",
                                            callback_url="http://cb.test")
                svc.deliver_translation(conn, {"group_id": group_id, "lang": "tr", "title": f"Su politikası {n}",
                                               "body": f"Çeviri, tur {n}.", "references": [],
                                               "source_revision": source["revision"],
                                               "source_hash": source["content_hash"],
                                               "translator": {"name": "Ayşe Kaya"}}, vendor="Lingo")
            for envelope in ts.celery.take(tasks.STORE_DELIVERED_TRANSLATION):
                ing.consume(envelope, tasks.STORE_DELIVERED_TRANSLATION,
                            lambda conn, e: store_delivered_translation(conn, e, site_url=SITE))
        events += deliver_status_events()
        with ingest_engine.begin() as conn:
            expected = _expected(conn, group_id)
        with ts_engine.begin() as conn:
            held = _held(conn, group_id)
        if any(held.get(lang) != status for lang, status in expected.items()):
            mismatches.append((n, step, expected, held))
    pool.shutdown()
    return {"mismatches": mismatches, "events": events, "changes": ts.celery.take(tasks.NOTIFY_SUBSCRIBERS),
            "failures": failures}


def get_article_via(engine, article_id: str) -> dict:
    with engine.begin() as conn:
        return get_article(conn, article_id)


def _check(result: dict, rounds: int) -> None:
    assert result["mismatches"] == [], f"{len(result['mismatches'])} of {rounds} rounds: {result['mismatches'][:3]}"
    assert result["failures"] == [], "handlers of one group wait for each other instead of failing"
    assert result["events"] >= 3 * rounds, "every round races three or four events"
    # The status-change events of each language form one chain: sequence 1, 2, 3... and each old_status is
    # the previous new_status, so a receiver that orders by sequence replays the truth.
    chains: dict[tuple, list] = {}
    for e in result["changes"]:
        if e["type"] == ev.TRANSLATION_STATUS_CHANGED:
            chains.setdefault((e["data"]["group_id"], e["data"]["lang"]), []).append(e["data"])
    assert chains
    for key, changes in chains.items():
        changes.sort(key=lambda d: d["sequence"])
        assert [d["sequence"] for d in changes] == list(range(1, len(changes) + 1)), key
        for before, after in zip(changes, changes[1:]):
            assert after["old_status"] == before["new_status"], (key, before, after)


def test_concurrent_events_and_deliveries_on_sqlite(tmp_path):
    started = time.monotonic()
    result = run_rounds(make_engine(f"sqlite:///{tmp_path / 'ingest.db'}"),
                        make_engine(f"sqlite:///{tmp_path / 'ts.db'}"), ROUNDS)
    _check(result, ROUNDS)
    print(f"sqlite: {ROUNDS} rounds, {result['events']} events, 0 mismatches, {time.monotonic() - started:.1f} s")


@pytest.fixture
def pg_pair():
    """Two fresh PostgreSQL databases (ingest, translation_status), dropped afterwards."""
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL does not answer at {ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL does not answer at {ADMIN_URL} (set REQUIRE_POSTGRES=1 to make this a failure)")
    suffix = uuid.uuid4().hex[:8]
    names = [f"pipeline_race_ingest_{suffix}", f"pipeline_race_ts_{suffix}"]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = ADMIN_URL.rsplit("/", 1)[0]
    engines = [make_engine(f"{base}/{name}") for name in names]
    yield engines
    for engine in engines:
        engine.dispose()
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_concurrent_events_and_deliveries_on_postgres(pg_pair):
    started = time.monotonic()
    result = run_rounds(*pg_pair, ROUNDS)
    _check(result, ROUNDS)
    print(f"postgres: {ROUNDS} rounds, {result['events']} events, 0 mismatches, {time.monotonic() - started:.1f} s")
