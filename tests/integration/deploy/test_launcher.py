"""`make up`'s launcher from nothing: starts its own Redis, every process, loads the demo, stops on Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from lxml import html

from deploy import launcher
from shared.config import SERVICES
from tests.helpers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def test_launcher_brings_up_everything_and_stops_it(tmp_path):
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    assert not launcher.redis_answers(redis_url)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_PORT", "API_TOKEN"))}
    env.update({"DATA_DIR": str(tmp_path / "var"), "REDIS_URL": redis_url, "WEB_WORKERS": "1", "WORKER_CONCURRENCY": "2"})
    ports = {svc: free_port() for svc in SERVICES}
    env.update({f"{svc.upper()}_PORT": str(port) for svc, port in ports.items()})
    out = open(tmp_path / "launcher.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "deploy.launcher", "up"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C stops everything." not in (tmp_path / "launcher.log").read_text():
            assert proc.poll() is None, (tmp_path / "launcher.log").read_text()[-4000:]
            assert time.monotonic() < deadline, (tmp_path / "launcher.log").read_text()[-4000:]
            time.sleep(0.5)
        log = (tmp_path / "launcher.log").read_text()
        assert launcher.redis_answers(redis_url), "the launcher started Redis"
        assert (tmp_path / "var" / "redis" / "appendonlydir").exists() or list((tmp_path / "var" / "redis").glob("*.aof*"))
        token = next(line.split()[-1] for line in log.splitlines() if "API token" in line)
        demo_urls = [line.split()[-1] for line in log.splitlines() if "demo page" in line]
        assert len(demo_urls) == 3
        for url in demo_urls:
            assert url.startswith(f"http://127.0.0.1:{ports['rendering']}/")
            doc = html.fromstring(requests.get(url, timeout=5).content)
            assert len(doc.xpath("//p[@class='lang-line']/a")) == 2, "each demo page links its two translations"
            assert doc.xpath("//section[@class='references']//li")
        resp = requests.get(f"http://127.0.0.1:{ports['ingest']}/api/articles", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert {a["state"] for a in resp.json()["articles"]} == {"published"}
        login_line = next(line for line in log.splitlines() if "editor login" in line)
        email, password = login_line.split()[-3], login_line.split()[-1]
        s = requests.Session()
        form = html.fromstring(s.get(f"http://127.0.0.1:{ports['ingest']}/login", timeout=5).content)
        done = s.post(f"http://127.0.0.1:{ports['ingest']}/login", timeout=5, allow_redirects=False, data={
            "email": email, "password": password, "csrf_token": form.xpath("string(//input[@name='csrf_token']/@value)")})
        assert done.status_code == 302, "the printed editor login works"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    time.sleep(0.5)
    assert not launcher.redis_answers(redis_url), "Ctrl-C stopped the Redis the launcher started"
    for port in ports.values():
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def _launch(tmp_path, extra: dict | None = None):
    """Start `python -m deploy.launcher up --no-demo` on free ports; (process, env, ports, log path)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_PORT", "API_TOKEN"))}
    env.update({"DATA_DIR": str(tmp_path / "var"), "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                "WEB_WORKERS": "1", "WORKER_CONCURRENCY": "2", "API_TOKEN": "launcher-test-token"}, **(extra or {}))
    ports = {svc: free_port() for svc in SERVICES}
    env.update({f"{svc.upper()}_PORT": str(port) for svc, port in ports.items()})
    log_path = tmp_path / "launcher.log"
    proc = subprocess.Popen([sys.executable, "-m", "deploy.launcher", "up", "--no-demo"], cwd=ROOT, env=env,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while "Ctrl-C stops everything." not in log_path.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-4000:]
        time.sleep(0.5)
    return proc, env, ports, log_path


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def test_a_worker_killed_under_the_launcher_comes_back_and_nothing_published_is_lost(tmp_path):
    # Short redelivery so a message the killed worker had taken is sent again within the test.
    proc, env, ports, log_path = _launch(tmp_path, {"OUTBOX_REDELIVERY_SECONDS": "10", "CELERY_VISIBILITY_TIMEOUT": "20"})
    api = f"http://127.0.0.1:{ports['ingest']}/api/articles"
    headers = {"Authorization": "Bearer launcher-test-token"}
    pid_file = tmp_path / "var" / "run" / "rendering_worker.pid"
    try:
        ids = []
        for i in range(12):
            resp = requests.post(api, headers=headers, timeout=10, json={
                "lang": "en", "title": f"Supervised article {i}", "body": "Text.", "author": {"name": "A. Writer"}})
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["id"])
        killed_at, old_pid = None, int(pid_file.read_text())
        for i, article_id in enumerate(ids):
            requests.post(f"{api}/{article_id}/transitions", headers=headers, json={"action": "publish"},
                          timeout=10).raise_for_status()
            if i == 3:  # mid-burst: the renderer dies with work queued and maybe one task in hand
                os.kill(old_pid, signal.SIGKILL)
                killed_at = time.monotonic()
        while True:
            text = pid_file.read_text() if pid_file.exists() else ""
            if text.strip() and int(text) != old_pid:
                break
            assert time.monotonic() - killed_at < 30, log_path.read_text()[-4000:]
            time.sleep(0.1)
        new_pid = int(pid_file.read_text())
        os.kill(new_pid, 0)  # alive
        restarted_in = time.monotonic() - killed_at
        deadline = time.monotonic() + 120
        while True:
            states = {a["id"]: a["state"] for a in requests.get(api, headers=headers, timeout=10).json()["articles"]}
            if all(states.get(i) == "published" for i in ids):
                break
            assert time.monotonic() < deadline, (states, log_path.read_text()[-4000:])
            time.sleep(1)
        published_in = time.monotonic() - killed_at
        log = log_path.read_text()
        assert "rendering_worker exited (signal 9)" in log and "restarting rendering_worker (restart 1)" in log
        for article_id in ids:
            page = requests.get(api + f"/{article_id}", headers=headers, timeout=10).json()["public_url"]
            assert requests.get(page, timeout=10).status_code == 200
        print(f"rendering_worker restarted {restarted_in:.1f} s after kill -9; all 12 published {published_in:.1f} s after it")
    finally:
        _stop(proc)
