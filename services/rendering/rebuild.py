"""Render the whole public site from the read model: ``python -m services.rendering.rebuild``.

Use it after a template or setting change (such as SITE_URL), or to repair SITE_DIR. It renders
from the stored fragments on every core (``--jobs``), writes only files whose bytes change and
removes stale output files, showing its progress (a bar on a terminal, about twenty lines otherwise).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from shared.config import load_settings
from shared.db import make_engine

from . import site

BAR_WIDTH = 30


def progress_printer(quiet: bool, stream=None):
    """A ``progress(done, total)`` callback: a bar redrawn in place on a terminal, else progress lines."""
    stream = stream or sys.stdout
    tty = stream.isatty()
    step = 0
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        nonlocal step
        if quiet or total == 0:
            return
        if tty:
            filled = BAR_WIDTH * done // total
            rate = done / max(time.perf_counter() - started, 1e-9)
            stream.write(f"\r[{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {done}/{total} files, {rate:,.0f}/s")
            if done == total:
                stream.write("\n")
            stream.flush()
        elif done == total or done * 20 // total > step:
            step = done * 20 // total
            print(f"rendered {done}/{total} files", file=stream, flush=True)

    return progress


def main(argv: list[str] | None = None) -> int:
    """Rebuild SITE_DIR (or ``--site-dir``) from the rendering database; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.rendering.rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, help="render here instead of SITE_DIR")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="rendering processes (default: every core)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    settings = load_settings()
    # Digests of written files are kept for SITE_DIR only; another directory is compared on disk.
    record = args.site_dir is None or args.site_dir.resolve() == settings.site_dir.resolve()
    if args.site_dir:
        settings = dataclasses.replace(settings, site_dir=args.site_dir.resolve())
    engine = make_engine(settings.database_url("rendering"))
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            report = site.rebuild(conn, settings, progress_printer(args.quiet), jobs=max(1, args.jobs), record=record)
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    print(f"done: {len(report.written)} written, {len(report.removed)} removed, "
          f"{report.unchanged} unchanged in {settings.site_dir} ({seconds:.1f} s, {max(1, args.jobs)} processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
