"""Publish-to-live latency of the whole pipeline on a private stack (real Redis, workers, web apps).

Usage: .venv/bin/python bench/publish_latency.py [--n 30] [--rate 5]

Starts Redis (when none answers at a free port), the Procfile's processes on free ports and a
temporary DATA_DIR, then publishes N articles at the given rate and prints, for each article,
the time from the publish API call to (a) the page being served and (b) ingest recording
``published``; then p50/p90/p99. Writes the figures to bench/results/publish_latency.json.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import launcher  # noqa: E402
from shared.config import SERVICES, load_settings  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30, help="articles to publish")
    parser.add_argument("--rate", type=float, default=5.0, help="publishes per second")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    env = dict(os.environ, DATA_DIR=str(tmp), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", API_TOKEN="bench",
               WEB_WORKERS="1", WORKER_CONCURRENCY="2")
    for svc in SERVICES:
        env[f"{svc.upper()}_PORT"] = str(free_port())
    env["SITE_URL"] = f"http://127.0.0.1:{env['RENDERING_PORT']}"
    settings = load_settings(env)
    env = launcher.process_env(settings, env)
    redis_proc = launcher.start_redis(settings.redis_url, tmp, log=lambda *_: None)
    launcher.migrate_databases(settings)
    procs = []
    for name, command in launcher.read_procfile().items():
        procs.append(subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=env, start_new_session=True,
                                      stdout=open(tmp / f"{name}.log", "w"), stderr=subprocess.STDOUT))
    try:
        launcher.wait_healthy(settings)
        api = settings.service_urls["ingest"]
        headers = {"Authorization": "Bearer bench"}
        session = requests.Session()
        ids = []
        print(f"creating {args.n} drafts...", flush=True)
        for i in range(args.n):
            r = session.post(f"{api}/api/articles", headers=headers, json={
                "lang": "en", "title": f"Latency probe number {i}", "body": "Paragraph. " * 200 + "[1]",
                "author": {"name": "Bench"}, "references": [{"title": "R", "url": "https://example.org/r"}]})
            r.raise_for_status()
            ids.append((r.json()["id"], r.json()["slug"]))
        time.sleep(2)
        results: list[dict] = []
        lock = threading.Lock()

        def probe(article_id: str, slug: str) -> None:
            s = requests.Session()
            page = f"{settings.site_url}/en/{slug}/"
            t0 = time.perf_counter()
            s.post(f"{api}/api/articles/{article_id}/transitions", headers=headers, json={"action": "publish"}).raise_for_status()
            live = published = None
            while live is None or published is None:
                now = time.perf_counter() - t0
                if live is None and s.get(page).status_code == 200:
                    live = now
                if published is None and s.get(f"{api}/api/articles/{article_id}", headers=headers).json()["state"] == "published":
                    published = now
                if now > 60:
                    raise RuntimeError(f"{article_id} not live after 60 s")
                time.sleep(0.002)
            with lock:
                results.append({"live_ms": live * 1000, "published_ms": published * 1000})

        print(f"publishing {args.n} articles at {args.rate}/s...", flush=True)
        threads = []
        for article_id, slug in ids:
            t = threading.Thread(target=probe, args=(article_id, slug))
            t.start()
            threads.append(t)
            time.sleep(1 / args.rate)
        for t in threads:
            t.join()
        live = [r["live_ms"] for r in results]
        pub = [r["published_ms"] for r in results]
        summary = {
            "n": args.n, "rate_per_s": args.rate,
            "page_live_ms": {"p50": percentile(live, 50), "p90": percentile(live, 90), "p99": percentile(live, 99), "mean": statistics.mean(live)},
            "state_published_ms": {"p50": percentile(pub, 50), "p90": percentile(pub, 90), "p99": percentile(pub, 99), "mean": statistics.mean(pub)},
        }
        print(f"{'':<22}{'p50':>8}{'p90':>8}{'p99':>8}")
        for key in ("page_live_ms", "state_published_ms"):
            s = summary[key]
            print(f"{key:<22}{s['p50']:>8.0f}{s['p90']:>8.0f}{s['p99']:>8.0f}")
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "publish_latency.json").write_text(json.dumps(summary, indent=2))
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        if redis_proc:
            redis_proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
