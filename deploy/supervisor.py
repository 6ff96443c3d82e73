"""The process supervisor of ``make up``: runs every Procfile process and restarts one that dies.

Each process runs as ``sh -c "exec <command>"`` in a process group of its own, its output
prefixed with its name. A process that exits while the supervisor is not stopping (a crash, the
OOM killer, ``kill -9``) is logged and started again after a pause that doubles with each quick
death (1 s, 2 s, 4 s ... up to 30 s) and goes back to 1 s once it has run for a minute. Nothing is
lost meanwhile: events wait in the outboxes and Redis keeps unacknowledged messages. Its
children's pids are written to ``<run_dir>/<name>.pid``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class Child:
    """One supervised process and its restart state."""

    name: str
    command: str
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 0.0
    restart_at: float | None = None


class Supervisor:
    """Start, watch, restart (with backoff) and stop a set of named shell commands."""

    def __init__(self, commands: dict[str, str], env: dict, cwd: Path, run_dir: Path, out: IO[str] | None = None,
                 min_backoff: float = 1.0, max_backoff: float = 30.0, stable_after: float = 60.0):
        self.children = {name: Child(name, command) for name, command in commands.items()}
        self.env, self.cwd, self.run_dir = env, cwd, run_dir
        self.out = out or sys.stdout
        self.min_backoff, self.max_backoff, self.stable_after = min_backoff, max_backoff, stable_after
        self.stopping = False
        self._lock = threading.Lock()  # output lines
        self._state = threading.RLock()  # poll() runs in a thread; stop() in a signal handler
        self._width = max(map(len, commands), default=10)
        run_dir.mkdir(parents=True, exist_ok=True)

    def log(self, name: str, line: str) -> None:
        """Write one line, prefixed with the time and the process name."""
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {line.rstrip()}\n")
            self.out.flush()

    def start_all(self) -> None:
        """Start every process."""
        for child in self.children.values():
            self._start(child)

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(["/bin/sh", "-c", f"exec {child.command}"], cwd=self.cwd, env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True, text=True, errors="replace", bufsize=1)
        child.started_at, child.restart_at = time.monotonic(), None
        (self.run_dir / f"{child.name}.pid").write_text(f"{child.proc.pid}\n")
        threading.Thread(target=self._pump, args=(child.name, child.proc.stdout), daemon=True).start()

    def _pump(self, name: str, stream) -> None:
        for line in stream:
            self.log(name, line)

    def poll(self) -> None:
        """Notice processes that died and restart those whose pause is over; call it often."""
        with self._state:
            self._poll(time.monotonic())

    def _poll(self, now: float) -> None:
        for child in self.children.values():
            if self.stopping:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.log("supervisor", f"restarting {child.name} (restart {child.restarts})")
                    self._start(child)
                continue
            code = child.proc.poll() if child.proc else None
            if code is None:
                continue
            _kill_group(child.proc.pid, signal.SIGKILL)  # leftovers such as orphaned gunicorn workers
            ran = now - child.started_at
            child.backoff = self.min_backoff if ran >= self.stable_after or not child.backoff \
                else min(child.backoff * 2, self.max_backoff)
            how = f"signal {-code}" if code < 0 else f"code {code}"
            self.log("supervisor", f"{child.name} exited ({how}) after {ran:.1f} s; "
                                   f"restarting in {child.backoff:.0f} s")
            child.restart_at = now + child.backoff

    def running(self) -> bool:
        """Whether any process runs or waits to be restarted."""
        return any(c.restart_at is not None or (c.proc and c.proc.poll() is None) for c in self.children.values())

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every process group, wait up to ``timeout`` seconds, then SIGKILL what is left."""
        with self._state:
            self.stopping = True
        live = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in live:
            _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for proc in live:  # members of a group its leader left behind
            _kill_group(proc.pid, signal.SIGKILL)
        for child in self.children.values():
            (self.run_dir / f"{child.name}.pid").unlink(missing_ok=True)


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
