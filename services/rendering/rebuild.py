"""Render the whole public site from the read model: ``python -m services.rendering.rebuild``.

Use it after a template or setting change (such as SITE_URL), or to repair SITE_DIR. It writes
only files whose bytes change and removes stale output files, printing its progress.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from shared.config import load_settings
from shared.db import make_engine

from . import site


def main(argv: list[str] | None = None) -> int:
    """Rebuild SITE_DIR (or ``--site-dir``) from the rendering database; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.rendering.rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--site-dir", type=Path, help="render here instead of SITE_DIR")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.site_dir:
        settings = dataclasses.replace(settings, site_dir=args.site_dir.resolve())
    engine = make_engine(settings.database_url("rendering"))
    step = 0

    def progress(done: int, total: int) -> None:
        nonlocal step
        # About twenty progress lines whatever the size of the site.
        if not args.quiet and (done == total or done * 20 // total > step):
            step = done * 20 // total
            print(f"rendered {done}/{total} files", flush=True)

    try:
        with engine.begin() as conn:
            report = site.rebuild(conn, settings, progress)
    finally:
        engine.dispose()
    print(f"done: {len(report.written)} written, {len(report.removed)} removed, "
          f"{report.unchanged} unchanged in {settings.site_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
