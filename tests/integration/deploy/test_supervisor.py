"""deploy/supervisor.py: a process that dies is restarted with a growing pause; stop ends every process group."""
from __future__ import annotations

import io
import os
import time

import pytest

from deploy.supervisor import Supervisor

pytestmark = pytest.mark.integration


def test_a_dying_process_is_restarted_with_doubling_backoff_and_the_others_keep_running(tmp_path):
    out = io.StringIO()
    sup = Supervisor({"crasher": "sh -c 'echo started; exit 3'", "steady": "sleep 60"}, dict(os.environ), tmp_path,
                     tmp_path / "run", out=out, min_backoff=0.2, max_backoff=0.8, stable_after=60)
    sup.start_all()
    steady_pid = sup.children["steady"].proc.pid
    try:
        deadline = time.monotonic() + 20
        while sup.children["crasher"].restarts < 4 and time.monotonic() < deadline:
            sup.poll()
            time.sleep(0.05)
        log = out.getvalue()
        assert sup.children["crasher"].restarts >= 4, log
        pauses = [line.rsplit("restarting in ", 1)[1] for line in log.splitlines() if "crasher exited (code 3)" in line]
        assert pauses[:4] == ["0 s", "0 s", "1 s", "1 s"], pauses  # 0.2, 0.4, 0.8, 0.8 rounded
        assert sup.children["crasher"].backoff == 0.8, "capped at max_backoff"
        assert log.count("| started") >= 4, "its output is shown, prefixed with its name"
        assert sup.children["steady"].proc.pid == steady_pid and sup.children["steady"].restarts == 0
        assert (tmp_path / "run" / "steady.pid").read_text().strip() == str(steady_pid)
    finally:
        sup.stop(timeout=10)
    assert sup.children["steady"].proc.poll() is not None
    assert not list((tmp_path / "run").glob("*.pid"))
