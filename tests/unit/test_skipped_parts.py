"""`make test` ends with the parts it did not run and how to install them (``tests/skipped_parts.py``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.skipped_parts import classify, summary_lines

ROOT = Path(__file__).resolve().parents[2]


def test_reasons_are_grouped_by_missing_part_with_the_install_command():
    lines = summary_lines([
        "PostgreSQL does not answer at postgresql+psycopg://postgres@127.0.0.1:5432/postgres (set REQUIRE_POSTGRES=1 ...)",
        "PostgreSQL does not answer at postgresql+psycopg://postgres@127.0.0.1:5432/postgres (set REQUIRE_POSTGRES=1 ...)",
        "no Chromium at /usr/bin/chromium (apt-get install chromium); set REQUIRE_BROWSER=1 to fail instead",
        "chaos tests run when selected: `pytest tests/chaos`, `make chaos` or CHAOS=1",
    ], env={})
    text = "\n".join(lines)
    assert "NOT RUN: PostgreSQL: 2 test(s) skipped." in text and "apt-get install postgresql" in text
    assert "NOT RUN: Chromium (browser tests): 1 test(s) skipped." in text and "apt-get install chromium" in text
    assert "chaos" not in text, "make test runs the chaos tests in its second step"


def test_nothing_missing_prints_nothing():
    assert summary_lines(["chaos tests run when selected: make chaos"], env={}) == []
    assert classify([]) == ({}, [])


def _run(tmp_path, env_extra):
    test = tmp_path / "test_needs_parts.py"
    test.write_text("import pytest\n"
                    "def test_pg():\n    pytest.skip('PostgreSQL does not answer at x')\n"
                    "def test_vnu():\n    pytest.skip('Nu HTML Checker unavailable: no java on PATH')\n"
                    "def test_ok():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REQUIRE_")}
    env.update(PYTHONPATH=str(ROOT), **env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.skipped_parts", "-p", "no:cacheprovider",
                           str(test)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_real_run_ends_with_the_list(tmp_path):
    done = _run(tmp_path, {})
    assert done.returncode == 0, done.stdout
    tail = done.stdout[done.stdout.index("parts not run on this machine"):]
    assert "NOT RUN: PostgreSQL: 1 test(s) skipped." in tail
    assert "NOT RUN: Java + Nu HTML Checker" in tail and "default-jre-headless" in tail


def test_a_required_part_that_was_skipped_fails_the_run(tmp_path):
    done = _run(tmp_path, {"REQUIRE_POSTGRES": "1"})
    assert done.returncode == 1, done.stdout
    assert "REQUIRED here" in done.stdout
