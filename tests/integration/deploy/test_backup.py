"""`make backup` / `make restore`: a populated stack is backed up, wiped, restored, and everything is found again."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import launcher
from shared.config import load_settings
from tests.helpers import free_port, wait_for
from tests.stack import Stack, make_env

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.backup", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _facts(stack: Stack) -> dict:
    """What must survive: every article, translation status, subscription and delivery."""
    articles = stack.api("ingest", "GET", "/api/articles").json()["articles"]
    groups = {a["group_id"] for a in articles}
    statuses = {g: stack.api("translation_status", "GET", f"/api/groups/{g}").json() for g in groups}
    return {
        "articles": sorted((a["id"], a["state"], a["revision"], a["public_url"]) for a in articles),
        "statuses": {g: sorted((lang, s["status"]) for lang, s in body["languages"].items()) for g, body in statuses.items()},
        "subscriptions": sorted(s["id"] for s in stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]),
        "deliveries": sorted((d["id"], d["status"]) for d in stack.api("notification", "GET", "/api/deliveries").json()["deliveries"]),
    }


@pytest.fixture
def own_redis_url(tmp_path):
    """A Redis of this test's own: the session stack's workers listen on the shared one's queues."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = launcher.start_redis(url, tmp_path / "redis", log=lambda *_: None)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_backup_wipe_restore_finds_everything_again(tmp_path, own_redis_url, receiver):
    env = make_env(tmp_path / "data", own_redis_url)
    settings = load_settings(env)
    launcher.migrate_databases(settings)
    (tmp_path / "logs").mkdir()
    stack = Stack(settings, env, tmp_path / "logs")
    try:
        stack.start_all()
        sub = stack.api("notification", "POST", "/api/subscriptions",
                        json={"url": receiver.url + "/hook", "events": ["article.published"], "languages": []})
        assert sub.status_code == 201, sub.text
        ids = []
        for i, lang in enumerate(("en", "tr")):
            body = {"lang": lang, "title": f"Backed up article {i}", "body": "Text.", "author": {"name": "A"}}
            if ids:
                body["group_id"] = stack.api("ingest", "GET", f"/api/articles/{ids[0]}").json()["group_id"]
            created = stack.api("ingest", "POST", "/api/articles", json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
            stack.api("ingest", "POST", f"/api/articles/{ids[-1]}/transitions", json={"action": "publish"})
        wait_for(lambda: all(stack.api("ingest", "GET", f"/api/articles/{i}").json()["state"] == "published" for i in ids),
                 timeout=60, message="both articles published")
        wait_for(lambda: len(stack.api("notification", "GET", "/api/deliveries?status=succeeded").json()["deliveries"]) == 2,
                 timeout=60, message="both deliveries succeeded")
        before = _facts(stack)
        assert len(before["articles"]) == 2 and before["subscriptions"] and len(before["deliveries"]) == 2

        made = _cli(env, "backup")  # online, while everything runs
        assert made.returncode == 0, made.stderr
        folder = Path(made.stdout.split("backed up into ")[1].strip())
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["manifest.json", "secrets.json", "ingest.db", "translation_status.db", "rendering.db", "notification.db"])

        stack.stop_all()
        for db in (tmp_path / "data").glob("*.db*"):
            db.unlink()
        shutil.rmtree(settings.site_dir)

        restored = _cli(env, "restore", str(folder))
        assert restored.returncode == 0, restored.stderr
        assert "site rebuilt" in restored.stdout
        stack.start_all()
        assert _facts(stack) == before
        page = stack.api("ingest", "GET", f"/api/articles/{ids[0]}").json()["public_url"]
        assert stack.api("rendering", "GET", page.replace(settings.site_url, "")).status_code == 200
    finally:
        stack.stop_all()


def test_restore_refuses_while_make_up_runs(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_x",
           "PATH": "/usr/bin:/bin"}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ingest_web.pid").write_text(f"{__import__('os').getpid()}\n")  # this test process: alive
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text('{"databases": {}}')
    done = _cli(env, "restore", str(tmp_path / "b"))
    assert done.returncode != 0 and "stop `make up` first (still running: ingest_web)" in done.stderr
