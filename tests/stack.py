"""The real stack for tests: a private Redis, the processes of deploy/Procfile, an SMTP server, a webhook receiver.

Its fixtures are registered for every test folder by ``tests/conftest.py``.

The processes are started from the same Procfile that ``make up`` runs, on free ports and a
temporary DATA_DIR, so these tests exercise the real process definitions.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from deploy import launcher
from shared.config import SERVICES, Settings, load_settings
from tests.helpers import free_port, start_receiver

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("admin@example.org", "correct horse battery")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis: $TEST_REDIS_URL when set, else a private redis-server started like `make up` does."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = launcher.start_redis(url, tmp_path_factory.mktemp("redis"), log=lambda *_: None)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


class SmtpInbox:
    """Messages a real SMTP server (aiosmtpd) accepted."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(envelope)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.rcpt_tos]


@contextmanager
def running_smtp():
    """A real SMTP server (aiosmtpd) on a free loopback port; yields its inbox (with ``.url``)."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}?from=pipeline@example.org"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback for the stack's emails."""
    with running_smtp() as inbox:
        yield inbox


@dataclass
class Stack:
    """The running pipeline: settings, environment and one OS process per Procfile entry."""

    settings: Settings
    env: dict
    log_dir: Path
    procs: dict = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.settings.api_token

    def url(self, service: str) -> str:
        return self.settings.service_urls[service]

    def api(self, service: str, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, self.url(service) + path, headers=headers, timeout=15, **kwargs)

    def start(self, name: str) -> None:
        command = launcher.read_procfile()[name]
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def start_all(self) -> None:
        for name in launcher.read_procfile():
            if name not in self.procs:
                self.start(name)
        launcher.wait_healthy(self.settings, timeout=60)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("*.log")))


def make_env(tmp: Path, redis_url: str, extra: dict | None = None) -> dict:
    """An environment for a private stack under ``tmp`` on free ports."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_PORT"))}
    env.update({
        "DATA_DIR": str(tmp),
        "REDIS_URL": redis_url,
        "WEBHOOK_ALLOWLIST": "127.0.0.1/32",
        "WEBHOOK_RETRY_SCALE": "0.001",
        "WEBHOOK_TIMEOUT": "3",
        "ADMIN_EMAIL": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
        "OUTBOX_SWEEP_SECONDS": "1",
        # The once-more resend of every event (5 min by default) would replay each burst a test made into
        # the queues of the tests running five minutes later; it has tests of its own (test_outbox, chaos).
        "OUTBOX_REDELIVERY_SECONDS": "7200",
        # Longer than a beat period (15 s), so an on-time schedule is never flagged late.
        "SCHEDULE_LATE_AFTER_SECONDS": "20",
        "WEB_WORKERS": "1",
        "WORKER_CONCURRENCY": "2",
        "API_TOKEN": "test-token-" + os.urandom(6).hex(),
        "SITE_URL": "",
    })
    # The kernel may hand the same free port out twice in a row; two services on one port would
    # answer each other's requests (a chaos run once met notification's port served by another app).
    taken = {int(redis_url.rsplit(":", 1)[1].split("/")[0])} if redis_url.count(":") >= 2 else set()
    for service in SERVICES:
        port = free_port()
        while port in taken:
            port = free_port()
        taken.add(port)
        env[f"{service.upper()}_PORT"] = str(port)
    env["SITE_URL"] = f"http://127.0.0.1:{env['RENDERING_PORT']}"
    env.update(extra or {})
    return launcher.process_env(load_settings(env), env)


@pytest.fixture(scope="session")
def stack(tmp_path_factory, redis_url, smtp_server):
    """The whole pipeline (4 web apps, 4 workers, beat) running as real processes."""
    tmp = tmp_path_factory.mktemp("stack")
    env = make_env(tmp, redis_url, {"SMTP_URL": smtp_server.url})
    settings = load_settings(env)
    launcher.migrate_databases(settings)
    log_dir = tmp / "logs"
    log_dir.mkdir()
    running = Stack(settings, env, log_dir)
    for name in launcher.read_procfile():
        running.start(name)
    try:
        launcher.wait_healthy(settings, timeout=60)
    except RuntimeError:
        print(running.logs(), file=sys.stderr)
        raise
    yield running
    for name in list(running.procs):
        running.stop(name)


@pytest.fixture
def receiver(request):
    """A real loopback HTTP receiver for webhooks; on the shared stack, subscriptions to it are disabled when
    the test ends, so the notification queue does not fill with retries to a receiver that is gone (later
    tests would wait behind them)."""
    rec = start_receiver()
    yield rec
    if "stack" in request.fixturenames:
        running = request.getfixturevalue("stack")
        for sub in running.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]:
            if sub["url"].startswith(rec.url) and sub.get("enabled"):
                running.api("notification", "PATCH", f"/api/subscriptions/{sub['id']}", json={"enabled": False})
    rec.close()
