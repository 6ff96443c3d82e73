"""A pytest plugin: the run ends with a plain list of the parts it did not run and how to install them.

Tests that need PostgreSQL, docker-compose, Java with the Nu HTML Checker, or Chromium skip on a
machine without them (and fail when the part's ``REQUIRE_*`` variable is 1, as ``.ci/run`` sets).
A skip is easy to miss among hundreds of dots, so the terminal summary names each missing part,
how many tests it cost and the command that installs it. Should a required part still be
skipped, the run fails.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """Something on the machine that some tests need."""

    name: str
    markers: tuple[str, ...]  # text in the skip reason that points at this part
    install: str
    require: str  # the variable that turns its skips into failures


PARTS = (
    Part("PostgreSQL", ("PostgreSQL",),
         "apt-get install postgresql (a server on 127.0.0.1:5432, user postgres, trust auth), "
         "or point TEST_POSTGRES_URL at one", "REQUIRE_POSTGRES"),
    Part("docker-compose (validates docker-compose.yml)", ("docker-compose", "PyYAML"),
         "apt-get install docker-compose", "REQUIRE_COMPOSE_VALIDATOR"),
    Part("Java + Nu HTML Checker (validates every rendered page)", ("Nu HTML Checker",),
         "apt-get install default-jre-headless npm; the tests then fetch vnu.jar with npm "
         "(vnu-jar@26.9.27)", "REQUIRE_VNU"),
    Part("Chromium (browser tests)", ("Chromium",), "apt-get install chromium", "REQUIRE_BROWSER"),
)
# Skipped on purpose in the first pytest run; `make test` runs them in its second one.
NOT_MISSING = ("chaos tests run when selected",)


def classify(reasons: list[str]) -> tuple[dict[Part, int], list[str]]:
    """Skip reasons -> (tests skipped per missing part, reasons that match no part)."""
    parts: dict[Part, int] = {}
    other = []
    for reason in reasons:
        if any(text in reason for text in NOT_MISSING):
            continue
        part = next((p for p in PARTS if any(m in reason for m in p.markers)), None)
        if part is None:
            other.append(reason)
        else:
            parts[part] = parts.get(part, 0) + 1
    return parts, other


def summary_lines(reasons: list[str], env: dict | None = None) -> list[str]:
    """The lines of the summary ('' list when nothing was left out)."""
    env = os.environ if env is None else env
    parts, other = classify(reasons)
    if not parts and not other:
        return []
    lines = []
    for part, count in parts.items():
        required = " REQUIRED here" if env.get(part.require) == "1" else ""
        lines.append(f"NOT RUN: {part.name}: {count} test(s) skipped{required}.")
        lines.append(f"         install: {part.install}")
    for reason in sorted(set(other)):
        lines.append(f"skipped: {reason} ({other.count(reason)} test(s))")
    if parts:
        lines.append("CI sets " + ", ".join(sorted({p.require for p in PARTS})) +
                     "=1 (.ci/run), so there these parts fail instead of skipping.")
    return lines


def _reasons(terminalreporter) -> list[str]:
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reasons.append(text.removeprefix("Skipped: "))
    return reasons


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the parts this run did not exercise, with how to install them."""
    lines = summary_lines(_reasons(terminalreporter))
    if lines:
        terminalreporter.section("parts not run on this machine", sep="=", yellow=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    """A part that CI requires (REQUIRE_*=1) and was still skipped fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    parts, _ = classify(_reasons(reporter))
    if any(os.environ.get(p.require) == "1" for p in parts) and session.exitstatus == 0:
        session.exitstatus = 1
