"""Rendering at archive size, without the pipeline around it: what one publish costs in a site of 3N pages.

Usage: .venv/bin/python bench/site_scale.py [--n 10000] [--publishes 10] [--skip-hugo]

Writes the generated corpus of ``bench/corpus.py`` (N English articles, each with a Turkish and a
Russian translation: 3N pages) straight into a fresh rendering database with ``site.upsert_page``
(what a render flush stores; no Celery, no HTTP), then measures, each in its own process as the
services run them:

* full rebuild: ``python -m services.rendering.rebuild`` into an empty directory: pages/s and the
  peak memory of its largest process; Hugo building the same corpus is the ceiling;
* the rendering worker: a process loads the site model (seconds, resident memory), then publishes
  ``--publishes`` fresh articles one at a time through ``site.flush`` (the code a flush task runs):
  seconds and files written per publish, resident memory at the end.

``bench/pipeline.py`` measures the whole stack (hops, queues, other services) at a size it can
load through the API in a session; this one reaches 30,000 pages. Prints a table and writes
``bench/results/site-scale-<timestamp>.json``. Never asserts timings.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hugo_site  # noqa: E402
from bench.common import Progress, run_measured  # noqa: E402
from bench.corpus import Article, Corpus  # noqa: E402

RESULTS = ROOT / "bench" / "results"
EPOCH = datetime(2015, 1, 1, tzinfo=timezone.utc)
NAMESPACE = uuid.UUID("6f0c4a52-3f5e-4d5e-9a57-0c1b2e3d4f50")
BATCH = 500


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="source articles (3N pages); default 1000")
    p.add_argument("--publishes", type=int, default=10, help="fresh articles published one at a time; default 10")
    p.add_argument("--seed", type=int, default=1, help="corpus seed")
    p.add_argument("--skip-hugo", action="store_true", help="do not measure the Hugo ceiling")
    p.add_argument("--output", type=Path, help="JSON path (default bench/results/site-scale-<timestamp>.json)")
    p.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    return p.parse_args(argv)


def snapshot(article: Article, published_at: datetime) -> dict:
    """The publish snapshot ingest would send for a corpus article."""
    from shared.markup import make_slug, markdown_to_html

    group_id = str(uuid.uuid5(NAMESPACE, f"group-{article.group}"))
    author = dict(article.author)
    return {
        "article_id": str(uuid.uuid5(NAMESPACE, f"{article.group}-{article.lang}")),
        "group_id": group_id, "lang": article.lang, "is_source": article.lang == "en", "source_lang": "en",
        "slug": f"{make_slug(article.title, 60)}-{article.group}", "title": article.title,
        "body_html": markdown_to_html(article.body), "author": author, "authors": [author],
        "references": [dict(r, number=i) for i, r in enumerate(article.references, 1)],
        "tags": article.tags, "categories": [], "featured_image": None, "images": {}, "revision": 1,
        "published_at": published_at.isoformat(), "updated_at": published_at.isoformat(),
    }


def env_for(data_dir: Path) -> dict:
    """The environment of the rendering processes: a private DATA_DIR and nothing from the caller's databases."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({"DATA_DIR": str(data_dir), "API_TOKEN": "bench", "SITE_URL": "https://bench.example"})
    return env


def load(data_dir: Path, groups: list[list[Article]]) -> dict:
    """Store every page of ``groups`` in a fresh rendering database; pages/s."""
    from deploy import launcher
    from services.rendering import site
    from shared.config import load_settings
    from shared.db import make_engine

    settings = load_settings(env_for(data_dir))
    launcher.migrate_databases(settings)
    engine = make_engine(settings.database_url("rendering"))
    snaps = [(a, EPOCH + timedelta(minutes=a.group)) for g in groups for a in g]
    progress = Progress("pages stored")
    t0 = time.perf_counter()
    for i in range(0, len(snaps), BATCH):
        with engine.begin() as conn:
            for article, at in snaps[i:i + BATCH]:
                site.upsert_page(conn, snapshot(article, at))
        progress(min(i + BATCH, len(snaps)), len(snaps))
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {"pages": len(snaps), "seconds": seconds, "pages_per_s": len(snaps) / seconds}


WORKER = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from bench.site_scale import snapshot, EPOCH
from bench.corpus import Corpus
from datetime import timedelta
from services.rendering import site
from shared.config import load_settings
from shared.db import make_engine

def rss():
    return int(open(f"/proc/{os.getpid()}/status").read().split("VmRSS:")[1].split()[0]) / 1024

n, publishes, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
import services.rendering.celeryapp  # what the worker process imports
settings = load_settings()
engine = make_engine(settings.database_url("rendering"))
out = {"rss_imports_mb": rss()}
t0 = time.perf_counter()
with engine.begin() as conn:
    site.live_model(conn, settings)
out["load_seconds"] = time.perf_counter() - t0
out["rss_loaded_mb"] = rss()
runs = []
corpus = Corpus(seed)
for k in range(publishes):
    article = corpus.group(n + k)[0]
    snap = snapshot(article, EPOCH + timedelta(minutes=n + k))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        report = site.flush(conn, settings, [{"action": "publish", "snapshot": snap}])
    runs.append({"seconds": time.perf_counter() - t0, "files": len(report.written) + len(report.removed)})
out["publishes"] = runs
out["rss_end_mb"] = rss()
print(json.dumps(out))
"""


def worker(data_dir: Path, n: int, publishes: int, seed: int) -> dict:
    """Load the model in a fresh process and publish into it; its figures."""
    proc = subprocess.run([sys.executable, "-c", WORKER, str(ROOT), str(n), str(publishes), str(seed)],
                          env=env_for(data_dir), cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rebuild(data_dir: Path, tmp: Path, pages: int) -> dict:
    """The rebuild CLI into an empty directory; pages/s and peak memory."""
    out_dir = tmp / "rebuild-site"
    log_path = tmp / "rebuild.log"
    with open(log_path, "w") as log:
        result = run_measured([sys.executable, "-m", "services.rendering.rebuild", "--site-dir", str(out_dir)],
                              env=env_for(data_dir), cwd=ROOT, stdout=log)
    if result["returncode"] != 0:
        raise RuntimeError(f"rebuild failed ({result['returncode']}); see {log_path}")
    return dict(result, pages_per_s=pages / result["seconds"])


def hugo(tmp: Path, groups: list[list[Article]]) -> dict | None:
    """Hugo building the same corpus (None when no hugo binary is installed)."""
    binary = hugo_site.hugo_binary()
    if binary is None:
        return None
    root = tmp / "hugo"
    pages = hugo_site.write_site(root, groups)
    result = hugo_site.build(root, binary, tmp / "hugo.log")
    return dict(result, pages=pages, pages_per_s=pages / result["seconds"])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-site-scale-"))
    data_dir = tmp / "data"
    data_dir.mkdir()
    print(f"generating corpus: {args.n} groups x 3 languages...", flush=True)
    groups = Corpus(args.seed).groups(0, args.n)
    res: dict = {"n": args.n, "pages": 3 * args.n, "cpus": os.cpu_count(), "python": platform.python_version(),
                 "started": datetime.now(timezone.utc).isoformat()}
    res["load"] = load(data_dir, groups)
    print(f"full rebuild of {res['pages']} pages...", flush=True)
    res["rebuild"] = rebuild(data_dir, tmp, res["pages"])
    print(f"worker: load the model, then {args.publishes} publishes one at a time...", flush=True)
    res["worker"] = worker(data_dir, args.n, args.publishes, args.seed)
    if not args.skip_hugo:
        print("ceiling: Hugo building the same corpus...", flush=True)
        res["hugo"] = hugo(tmp, groups)
    pub = res["worker"]["publishes"]
    seconds = [p["seconds"] for p in pub]
    files = [p["files"] for p in pub]
    summary = {
        "publish_median_s": statistics.median(seconds), "publish_max_s": max(seconds),
        "publish_files_median": statistics.median(files), "publish_files_max": max(files),
        "publish_share_of_rebuild": statistics.median(seconds) / res["rebuild"]["seconds"],
        "rebuild_pages_per_s": res["rebuild"]["pages_per_s"], "rebuild_peak_mb": res["rebuild"]["peak_rss_mb"],
        "worker_rss_loaded_mb": res["worker"]["rss_loaded_mb"], "worker_rss_end_mb": res["worker"]["rss_end_mb"],
        "model_load_s": res["worker"]["load_seconds"],
    }
    h = res.get("hugo")
    if h:
        summary["rebuild_vs_hugo_pages"] = res["rebuild"]["pages_per_s"] / h["pages_per_s"]
        summary["rebuild_vs_hugo_memory"] = res["rebuild"]["peak_rss_mb"] / h["peak_rss_mb"]
    res["summary"] = summary
    print(f"\nsite at scale: N={args.n} ({res['pages']} pages), {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"stored {res['load']['pages']} pages in {res['load']['seconds']:.1f} s ({res['load']['pages_per_s']:.0f}/s)")
    print(f"one publish: median {summary['publish_median_s'] * 1000:.0f} ms (max {summary['publish_max_s'] * 1000:.0f}), "
          f"files median {summary['publish_files_median']:.0f} (max {summary['publish_files_max']}), "
          f"{summary['publish_share_of_rebuild'] * 100:.2f} % of a rebuild")
    print(f"rebuild: {res['rebuild']['seconds']:.1f} s = {summary['rebuild_pages_per_s']:.0f} pages/s, "
          f"peak {summary['rebuild_peak_mb']:.0f} MB"
          + (f"; Hugo {h['pages_per_s']:.0f} pages/s, peak {h['peak_rss_mb']:.0f} MB: ratios "
             f"{summary['rebuild_vs_hugo_pages']:.2f} (speed) and {summary['rebuild_vs_hugo_memory']:.2f} (memory)" if h else ""))
    print(f"worker: imports {res['worker']['rss_imports_mb']:.0f} MB, model loaded in {summary['model_load_s']:.1f} s "
          f"-> {summary['worker_rss_loaded_mb']:.0f} MB, after the publishes {summary['worker_rss_end_mb']:.0f} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.output or RESULTS / f"site-scale-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nresults: {out}")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept: {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
