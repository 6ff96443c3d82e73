"""Publishing N articles while every service's worker is SIGKILLed at random and restarted at once.

Nothing may be lost (every article published, its page served, its webhook received) and no
article may reach the subscriber under two different ``webhook-id`` values. Repeats under the
same id are allowed: that is at-least-once delivery with a stable id for de-duplication.
"""
from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest

from tests.chaos import checks
from tests.chaos.conftest import VISIBILITY_TIMEOUT, WORKERS

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

ARTICLES = int(os.environ.get("CHAOS_ARTICLES", "200"))
KILLS_PER_WORKER = 6          # 24 kills in all: each service's worker dies several times
KILL_INTERVAL = 1.5           # seconds between kills (a restarted worker needs ~2 s to consume again)
# A killed worker's messages come back after the visibility timeout, at the next restore sweep
# (kombu scans every unacked_restore_interval x unacked_restore_throttle = 100 s by default).
SETTLE_TIMEOUT = VISIBILITY_TIMEOUT + 150


def test_articles_survive_random_worker_kills(chaos_stack, receiver):
    stack = chaos_stack.stack
    sub = checks.subscribe(stack, receiver.url + "/kills")
    articles = checks.create_articles(stack, ARTICLES, "kills")
    ids = [a["id"] for a in articles]

    plan = [w for w in WORKERS for _ in range(KILLS_PER_WORKER)]
    random.Random(os.environ.get("CHAOS_SEED", "chaos")).shuffle(plan)
    killed: Counter = Counter()
    done = threading.Event()

    def killer():
        for name in plan:
            if done.wait(KILL_INTERVAL):
                return
            if chaos_stack.kill_worker(name):
                killed[name] += 1

    window = KILL_INTERVAL * len(plan)
    thread = threading.Thread(target=killer, daemon=True)
    started = time.monotonic()
    thread.start()
    statuses, request_seconds = Counter(), []
    try:
        for i, article_id in enumerate(ids):
            # Spread the publishes over the kill window so kills land on work in flight.
            time.sleep(max(0.0, started + window * i / len(ids) - time.monotonic()))
            status, took = checks.publish(stack, article_id)
            statuses[status] += 1
            request_seconds.append(took)
        thread.join(timeout=window + 60)
    finally:
        done.set()
    kill_phase = time.monotonic() - started

    report, waited = checks.settle(stack, ids, receiver, "/kills", sub["secret"], timeout=SETTLE_TIMEOUT)
    drained = {svc: stack.api(svc, "GET", "/readyz").json() for svc in ("ingest", "rendering", "notification",
                                                                       "translation_status")}
    print(f"\n[chaos kills] {ARTICLES} articles, visibility timeout {VISIBILITY_TIMEOUT} s")
    print(f"[chaos kills] kills: {sum(killed.values())} total, {dict(killed)}; kill phase {kill_phase:.1f} s; "
          f"workers that exited on their own and were restarted: {dict(chaos_stack.exits)}")
    print(f"[chaos kills] publish requests: {dict(statuses)}; {checks.percentiles(request_seconds)}")
    print(f"[chaos kills] settled {waited:.1f} s after the kill phase: {report.summary()}")
    print("[chaos kills] after settling: " + "; ".join(
        f"{svc} queue={r['checks'].get('queue_depth')} outbox={r['checks'].get('outbox_pending')}"
        for svc, r in drained.items()))
    for line in checks.scrape(stack, "ingest").splitlines():
        if line.startswith(("pipeline_tasks_total", "pipeline_publish_latency_seconds_count",
                            "pipeline_broker_unacked")):
            print(f"[chaos kills] metrics: {line}")

    assert statuses == Counter({202: ARTICLES}), statuses
    assert sum(killed.values()) >= 20 and set(killed) == set(WORKERS), killed
    assert report.ok, f"{report.summary()}\nlost: {sorted(report.lost)[:10]}\n{stack.logs()}"
    assert report.distinct_id_duplicates == 0
    assert all(r["checks"]["outbox_pending"] == 0 for r in drained.values()), drained
