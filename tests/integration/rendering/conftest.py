"""Fixtures for the rendering tests: a rendered sample site and the Nu HTML Checker (vnu.jar).

vnu.jar comes from npm (``vnu-jar``) into a cache outside the repository and runs with the
machine's Java. When it is missing and cannot be installed, its tests skip, or fail when
``REQUIRE_VNU=1`` (CI).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from services.rendering import site

from . import fixtures as fx

VNU_VERSION = "26.9.27"
VNU_PREFIX = Path(os.environ.get("VNU_PREFIX") or
                  Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policy-pipeline" / "vnu")
VNU_JAR = VNU_PREFIX / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(VNU_PREFIX), f"vnu-jar@{VNU_VERSION}"]


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_VNU") == "1":
        pytest.fail(f"REQUIRE_VNU=1 but the Nu HTML Checker is unavailable: {reason}. "
                    f"Install it with: {' '.join(INSTALL)} (needs npm and Java 11+).")
    pytest.skip(f"Nu HTML Checker unavailable: {reason} (set REQUIRE_VNU=1 to fail instead)")


@pytest.fixture(scope="session")
def vnu():
    """A function checking HTML files with vnu.jar; returns its error output ('' when valid)."""
    if shutil.which("java") is None:
        _unavailable("no java on PATH")
    if not VNU_JAR.exists():
        if shutil.which("npm") is None:
            _unavailable(f"{VNU_JAR} is missing and npm is not on PATH")
        VNU_PREFIX.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(INSTALL, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not VNU_JAR.exists():
            _unavailable(f"'{' '.join(INSTALL)}' failed: {done.stderr[-500:]}")

    def check(files: list[Path]) -> str:
        done = subprocess.run(["java", "-jar", str(VNU_JAR), "--errors-only", *map(str, files)],
                              capture_output=True, text=True, timeout=300)
        return "" if done.returncode == 0 else (done.stderr + done.stdout)

    return check


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A site with the water article in three languages, six English articles and the real sample if present."""
    tmp = tmp_path_factory.mktemp("rendered")
    settings = fx.settings_for(tmp)
    engine = fx.engine_for(settings)
    snaps = fx.group_snapshots() + fx.other_snapshots() + fx.neighbour_snapshots()
    sample = fx.sample_snapshot()
    if sample:
        snaps.append(sample)
    with engine.begin() as conn:
        for snap in snaps:
            site.publish_snapshot(conn, snap, settings)
        # One changed slug, so a redirect page exists too.
        moved = dict(snaps[4], slug=snaps[4]["slug"] + "-2", revision=2)
        site.publish_snapshot(conn, moved, settings)
    yield settings, engine, {s["article_id"]: s for s in snaps}, sample
    engine.dispose()
