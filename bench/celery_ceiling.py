"""The Celery ceiling: an empty 4-hop chain (4 no-op tasks on 4 queues, 4 worker processes) over the same Redis.

It is what the pipeline's four hops (ingest -> rendering -> ingest -> notification) would cost if
every task did nothing: the broker, the serialisation and the workers' polling alone. The app is
configured like ``shared.celery_app`` (JSON, late acks, prefetch 1, threads pool).

Workers: ``BENCH_CELERY_BROKER=redis://... celery -A bench.celery_ceiling worker -Q c1 --pool threads``.
``run_ceiling`` starts the four workers, runs a burst and a light load, and stops them.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
from celery import Celery, chain

ROOT = Path(__file__).resolve().parent.parent
QUEUES = ("c1", "c2", "c3", "c4")
DONE_KEY = "bench:ceiling:done"

app = Celery("bench.ceiling", broker=os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/15"),
             set_as_current=False)
app.conf.update(
    task_serializer="json", accept_content=["json"], task_ignore_result=True, result_backend=None,
    task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True, worker_hijack_root_logger=False, worker_send_task_events=False,
    task_routes={f"bench.hop{i}": {"queue": q} for i, q in enumerate(QUEUES, 1)},
)


@app.task(name="bench.hop1", shared=False)
def hop1(chain_id: str) -> None:
    """No-op hop 1."""


@app.task(name="bench.hop2", shared=False)
def hop2(chain_id: str) -> None:
    """No-op hop 2."""


@app.task(name="bench.hop3", shared=False)
def hop3(chain_id: str) -> None:
    """No-op hop 3."""


_client: redis.Redis | None = None


@app.task(name="bench.hop4", shared=False)
def hop4(chain_id: str) -> None:
    """Last hop: tell the driver the chain is done (the pipeline's last hop sends a webhook)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.conf.broker_url)
    _client.rpush(DONE_KEY, chain_id)


def send_chain(chain_id: str) -> None:
    """Start one 4-hop chain."""
    chain(hop1.si(chain_id), hop2.si(chain_id), hop3.si(chain_id), hop4.si(chain_id)).apply_async()


class _Collector:
    """Pops finished chain ids from Redis and records when each arrived."""

    def __init__(self, broker: str):
        self.client = redis.Redis.from_url(broker)
        self.client.delete(DONE_KEY)
        self.done: dict[str, float] = {}
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            item = self.client.blpop([DONE_KEY], timeout=1)
            if item:
                with self.cond:
                    self.done.setdefault(item[1].decode(), time.perf_counter())
                    self.cond.notify_all()

    def wait(self, ids: list[str], timeout: float) -> bool:
        """Wait until every id is done."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while any(i not in self.done for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 1.0))
        return True

    def stop(self) -> None:
        """Stop popping."""
        self.stopping = True
        self.thread.join(timeout=3)


def run_ceiling(broker: str, burst: int, light: int, rate: float, concurrency: int, log_dir: Path,
                clients: int = 8) -> dict:
    """Start 4 workers, measure chains/s under a burst of ``burst`` and latency at ``rate``/s; return figures."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.common import summary

    env = dict(os.environ, BENCH_CELERY_BROKER=broker, PYTHONPATH=str(ROOT))
    app.conf.broker_url = broker
    procs = []
    for q in QUEUES:
        cmd = [sys.executable, "-m", "celery", "-A", "bench.celery_ceiling", "worker", "-Q", q, "-n", f"{q}@%h",
               "--pool", "threads", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                                      stdout=open(log_dir / f"ceiling-{q}.log", "w"), stderr=subprocess.STDOUT))
    collector = _Collector(broker)
    try:
        send_chain("warmup")
        if not collector.wait(["warmup"], 60):
            raise RuntimeError(f"ceiling workers did not answer within 60 s; see {log_dir}/ceiling-*.log")
        # Burst: every chain sent at once from concurrent clients, like the publish burst.
        ids = [f"burst-{i}" for i in range(burst)]
        print(f"  ceiling burst: {burst} chains...", flush=True)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send_chain, ids))
        sent = time.perf_counter() - t0
        if not collector.wait(ids, 600):
            raise RuntimeError("ceiling burst did not finish within 600 s")
        burst_s = max(collector.done[i] for i in ids) - t0
        # Light load at the same rate as the pipeline's.
        print(f"  ceiling light load: {light} chains at {rate}/s...", flush=True)
        starts: dict[str, float] = {}
        for i in range(light):
            cid = f"light-{i}"
            starts[cid] = time.perf_counter()
            send_chain(cid)
            time.sleep(max(0.0, starts[cid] + 1 / rate - time.perf_counter()))
        if not collector.wait(list(starts), 120):
            raise RuntimeError("ceiling light load did not finish within 120 s")
        lat = [(collector.done[c] - t) * 1000 for c, t in starts.items()]
        return {"burst_chains": burst, "burst_seconds": burst_s, "burst_send_seconds": sent,
                "chains_per_s": burst / burst_s, "light_rate_per_s": rate, "light_ms": summary(lat),
                "worker_concurrency": concurrency}
    finally:
        collector.stop()
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
