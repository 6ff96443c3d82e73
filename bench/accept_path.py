"""The accept path alone: ``POST /api/articles/<id>/transitions`` (publish) answered by ingest in process.

Creates N drafts, then times N publish requests through the Flask app (the real view, validation, workflow,
audit row, outbox row and the relay: inline, or handed to the background relay thread), against a real Redis
(``REDIS_URL``, default the local one; queues in db 13) and SQLite (or ``--database-url`` for PostgreSQL).
No HTTP server, so it measures the application's own cost per request, not gunicorn's.

    .venv/bin/python -m bench.accept_path --n 500
    .venv/bin/python -m bench.accept_path --n 500 --relay inline
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from services.ingest.app import create_app
from shared.config import load_settings
from tests.helpers import migrated, migrated_db


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print requests/s and latency percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--relay", choices=("background", "inline"), default="background")
    parser.add_argument("--database-url", default="", help="ingest's database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-accept-"))
    env = {"DATA_DIR": str(tmp), "API_TOKEN": "bench", "OUTBOX_RELAY": args.relay,
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")}
    if args.database_url:
        env["INGEST_DATABASE_URL"] = migrated_db("ingest", args.database_url)
    settings = migrated(load_settings(env))
    app = create_app({"SETTINGS": settings})
    client, headers = app.test_client(), {"Authorization": "Bearer bench"}
    ids = []
    for i in range(args.n):
        resp = client.post("/api/articles", headers=headers, json={
            "lang": "en", "title": f"Accepted article {i}", "body": "A paragraph of text. " * 40,
            "author": {"name": "A. Writer"}})
        if resp.status_code != 201:
            print(f"create failed: {resp.status_code} {resp.get_data(as_text=True)}", file=sys.stderr)
            return 1
        ids.append(resp.get_json()["id"])
        if (i + 1) % 100 == 0:
            print(f"  {i + 1}/{args.n} drafts", file=sys.stderr)
    latencies = []
    started = time.perf_counter()
    for article_id in ids:
        t = time.perf_counter()
        resp = client.post(f"/api/articles/{article_id}/transitions", headers=headers, json={"action": "publish"})
        latencies.append(time.perf_counter() - t)
        if resp.status_code != 202:
            print(f"transition failed: {resp.status_code} {resp.get_data(as_text=True)}", file=sys.stderr)
            return 1
    elapsed = time.perf_counter() - started
    background = app.extensions["pipeline"].background
    drained = background.drain(60) if background is not None else True
    q = statistics.quantiles(latencies, n=100)
    print(f"accept path ({args.relay} relay, {'PostgreSQL' if args.database_url else 'SQLite'}): {args.n} publish "
          f"requests in {elapsed:.2f} s = {args.n / elapsed:.0f} requests/s; p50 {q[49] * 1000:.1f} ms, "
          f"p99 {q[98] * 1000:.1f} ms; every event relayed: {drained}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
