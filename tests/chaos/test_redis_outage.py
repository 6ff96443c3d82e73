"""Redis stopped and restarted under load, a publish while Redis is down, and a negative control.

* Articles published before and during an outage all go live once Redis (AOF on) is back,
  and every worker consumes again within 30 s of Redis answering.
* A publish request made while Redis is down still answers 202: the outbox keeps the event.
* Negative control: an article whose pending outbox rows are deleted while Redis is down must be
  reported lost by the same checker, which shows the checks can fail.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest

from shared import tasks
from tests.chaos import checks
from tests.chaos.conftest import VISIBILITY_TIMEOUT

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

BEFORE, DURING, CONTROL = 30, 10, 2
OUTAGE_SECONDS = float(os.environ.get("CHAOS_REDIS_OUTAGE_SECONDS", "8"))
RECOVERY_LIMIT = 30


def _delete_pending_outbox_rows(stack, article_ids: list[str]) -> int:
    """Delete the unsent outbox rows of ``article_ids`` straight from ingest's SQLite file."""
    path = stack.settings.database_url("ingest").removeprefix("sqlite:///")
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        deleted = 0
        for row_id, envelope in db.execute("SELECT event_id, envelope FROM outbox WHERE sent_at IS NULL").fetchall():
            if json.loads(envelope)["data"].get("article_id") in article_ids:
                deleted += db.execute("DELETE FROM outbox WHERE event_id = ?", (row_id,)).rowcount
        db.execute("COMMIT")
        return deleted
    finally:
        db.close()


def test_redis_restart_loses_nothing_and_a_publish_during_the_outage_succeeds(chaos_stack, receiver):
    stack = chaos_stack.stack
    sub = checks.subscribe(stack, receiver.url + "/outage")
    before = [a["id"] for a in checks.create_articles(stack, BEFORE, "before")]
    during = [a["id"] for a in checks.create_articles(stack, DURING, "during")]
    control = [a["id"] for a in checks.create_articles(stack, CONTROL, "control")]

    for article_id in before:  # work in flight when Redis goes away
        assert checks.publish(stack, article_id)[0] == 202
    chaos_stack.stop_redis()
    down_at = time.monotonic()

    outage_requests = []
    for article_id in during + control:
        status, took = checks.publish(stack, article_id)
        outage_requests.append(took)
        assert status == 202, f"publish while Redis is down answered {status}"
    ready = stack.api("ingest", "GET", "/readyz")
    deleted = _delete_pending_outbox_rows(stack, control)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))

    back_at = chaos_stack.start_redis()
    outage = back_at - down_at
    taken = checks.probe_queues(chaos_stack.redis_url, timeout=RECOVERY_LIMIT * 3)
    recovery = {svc: round(t - back_at, 2) for svc, t in taken.items()}
    report, waited = checks.settle(stack, before + during, receiver, "/outage", sub["secret"],
                                   timeout=VISIBILITY_TIMEOUT + 150)
    first_live = time.monotonic() - back_at
    control_report = checks.check(stack, control, receiver, "/outage", sub["secret"])

    print(f"\n[chaos redis] outage {outage:.1f} s; {len(during) + len(control)} publish requests during it: "
          f"{checks.percentiles(outage_requests)}; ingest /readyz during it: {ready.status_code} "
          f"{ready.json()['status']} (outbox {ready.json()['checks']['outbox_pending']})")
    print(f"[chaos redis] workers consuming again after Redis answered (s): {recovery}; "
          f"workers that exited on their own and were restarted: {dict(chaos_stack.exits)}")
    print(f"[chaos redis] all {len(before) + len(during)} articles settled {first_live:.1f} s after Redis was back: "
          f"{report.summary()}")
    print(f"[chaos redis] negative control ({deleted} outbox rows deleted): {control_report.summary()}")

    assert ready.status_code == 200 and ready.json()["checks"]["redis"].startswith("error"), ready.json()
    assert set(recovery) == set(tasks.QUEUES), f"queues never consumed: {set(tasks.QUEUES) - set(recovery)}"
    assert max(recovery.values()) <= RECOVERY_LIMIT, recovery
    assert report.ok, f"{report.summary()}\nlost: {sorted(report.lost)}\n{stack.logs()}"
    # The control: with its events gone the checker must call both articles lost, on every count.
    assert deleted >= CONTROL
    assert control_report.lost == set(control)
    assert set(control_report.not_published) == set(control) == set(control_report.webhooks_missing)
    assert not control_report.ok
