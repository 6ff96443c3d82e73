"""Chaos fixtures: one private stack per module, with its own Redis that a test may stop and restart.

The stack is built like the integration ``stack`` fixture (same Procfile processes, ``make_env``),
but each module gets a fresh DATA_DIR and a Redis of its own, because these tests kill processes
and take Redis down.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy import launcher
from shared import tasks
from shared.config import load_settings
from tests.chaos import checks
from tests.helpers import free_port
from tests.stack import Stack, make_env

# Short enough that a message held by a SIGKILLed worker comes back within the test, and still
# longer than a webhook attempt (WEBHOOK_TIMEOUT=3 in make_env) or a render.
VISIBILITY_TIMEOUT = int(os.environ.get("CHAOS_VISIBILITY_TIMEOUT", "20"))
WORKERS = ("ingest_worker", "translation_status_worker", "rendering_worker", "notification_worker")


CHAOS_DIR = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos: kills workers and restarts Redis under load (takes minutes)")


def _selected(config) -> bool:
    """Whether the command line named tests/chaos (or something inside it), or CHAOS=1 is set."""
    if os.environ.get("CHAOS") == "1":
        return True
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == CHAOS_DIR or CHAOS_DIR in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    # Minutes of killing and restarting: run when asked for (make chaos), not in every `pytest`.
    if _selected(config):
        return
    skip = pytest.mark.skip(reason="chaos tests run when selected: `pytest tests/chaos`, `make chaos` or CHAOS=1")
    for item in items:
        if CHAOS_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


@dataclass
class ChaosStack:
    """A running stack plus control of its private Redis."""

    stack: Stack
    redis_url: str
    redis_data: Path
    redis_proc: subprocess.Popen | None = None
    exits: Counter = field(default_factory=Counter)  # workers that exited on their own (and were restarted)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def supervise(self) -> None:
        """Restart any worker that exits on its own, like docker compose's ``restart: unless-stopped``."""
        def loop():
            while not self.stopping.wait(0.5):
                for name in WORKERS:
                    with self.lock:
                        proc = self.stack.procs.get(name)
                        if proc is not None and proc.poll() is not None:
                            self.exits[name] += 1
                            self.stack.start(name)

        threading.Thread(target=loop, daemon=True).start()

    def stop_redis(self, sig: int = signal.SIGTERM) -> None:
        """Stop Redis (SIGTERM: it flushes its AOF first) and wait until it is gone."""
        proc, self.redis_proc = self.redis_proc, None
        proc.send_signal(sig)
        proc.wait(timeout=20)
        assert not launcher.redis_answers(self.redis_url)

    def start_redis(self) -> float:
        """Start Redis again on the same port and AOF directory; return when it answered (monotonic)."""
        self.redis_proc = launcher.start_redis(self.redis_url, self.redis_data, log=lambda *_: None)
        assert self.redis_proc is not None, "something else answers on the private Redis port"
        return time.monotonic()

    def kill_worker(self, name: str) -> bool:
        """SIGKILL a worker and start it again at once, as a supervisor would; False if it was not running."""
        with self.lock:
            proc = self.stack.procs.get(name)
            alive = proc is not None and proc.poll() is None
            self.stack.stop(name, signal.SIGKILL)
            self.stack.start(name)
        return alive


# Events are sent a second time this long after the first send (see shared/outbox.redeliver).
REDELIVERY_SECONDS = 30


def start_chaos_stack(tmp: Path, extra_env: dict | None = None) -> ChaosStack:
    """Start a private Redis and every Procfile process under ``tmp``."""
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    redis_data = tmp / "redis-data"
    redis_proc = launcher.start_redis(redis_url, redis_data, log=lambda *_: None)
    env = make_env(tmp / "data", redis_url, dict({"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                                                   "OUTBOX_REDELIVERY_SECONDS": str(REDELIVERY_SECONDS)},
                                                  **(extra_env or {})))
    settings = load_settings(env)
    launcher.migrate_databases(settings)
    log_dir = tmp / "logs"
    log_dir.mkdir()
    stack = Stack(settings, env, log_dir)
    chaos = ChaosStack(stack, redis_url, redis_data, redis_proc)
    for name in launcher.read_procfile():
        stack.start(name)
    try:
        launcher.wait_healthy(settings, timeout=60)
        # /healthz covers the web apps; a chaos run also needs every worker consuming (each queue
        # gets a harmless periodic task: a relay, or notification's delivery sweep).
        consuming = checks.probe_queues(redis_url, timeout=60)
        if set(consuming) != set(tasks.QUEUES):
            raise RuntimeError(f"workers not consuming after 60 s; only {sorted(consuming)}")
    except RuntimeError:
        print(stack.logs(), file=sys.stderr)
        stop_chaos_stack(chaos)
        raise
    chaos.supervise()
    return chaos


def stop_chaos_stack(chaos: ChaosStack) -> None:
    """Stop every process and the private Redis."""
    chaos.stopping.set()
    for name in list(chaos.stack.procs):
        chaos.stack.stop(name)
    if chaos.redis_proc is not None and chaos.redis_proc.poll() is None:
        chaos.redis_proc.terminate()
        chaos.redis_proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chaos_stack(tmp_path_factory):
    """A fresh stack for one chaos module."""
    chaos = start_chaos_stack(tmp_path_factory.mktemp("chaos"))
    yield chaos
    stop_chaos_stack(chaos)
