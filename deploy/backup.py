"""Local backups: ``python -m deploy.backup backup`` and ``restore FOLDER`` (``make backup`` / ``make restore``).

``backup`` copies every service's SQLite database with SQLite's online backup API (consistent
while ``make up`` runs) and ``DATA_DIR/secrets.json`` into ``DATA_DIR/backups/<UTC time>/``,
with a ``manifest.json`` naming the release and each database's migration revision.

``restore`` needs the stack stopped: it copies each database back (again through the backup API),
brings it to the current migration head (a backup of an older release is upgraded), and
rebuilds the public site from the rendering database. Redis is not backed up: it holds only
queued messages, and the outboxes send anything unsent again.

PostgreSQL (compose) is backed up with ``pg_dump -Fc`` and restored with ``pg_restore``
(docs/ops.md, "Backups").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from deploy.launcher import process_env
from deploy import migrate
from shared import __version__
from shared.config import SERVICES, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def sqlite_path(settings: Settings, service: str) -> Path:
    """The SQLite file of ``service``; stops with a message pointing at pg_dump when it is not SQLite."""
    url = make_url(settings.database_url(service))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise SystemExit(f"{service.upper()}_DATABASE_URL is not a SQLite file; back PostgreSQL up with "
                         "pg_dump -Fc (docs/ops.md, Backups)")
    return Path(url.database)


def _copy(source: Path, target: Path) -> None:
    """Copy one SQLite database with the online backup API (readers and writers may go on)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup(settings: Settings, dest: Path | None = None) -> Path:
    """Back up every service's database and the local secrets; return the backup folder."""
    folder = dest or settings.data_dir / "backups" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True, exist_ok=False)
    manifest = {"version": __version__, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "databases": {}}
    for service in SERVICES:
        source = sqlite_path(settings, service)
        if not source.exists():
            raise SystemExit(f"{source} does not exist: nothing to back up for {service} (is DATA_DIR right?)")
        _copy(source, folder / f"{service}.db")
        manifest["databases"][service] = {"file": f"{service}.db",
                                          "revision": migrate.current(service, settings.database_url(service))}
    secrets = settings.data_dir / "secrets.json"
    if secrets.exists():
        shutil.copy2(secrets, folder / "secrets.json")
        os.chmod(folder / "secrets.json", 0o600)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def running_processes(settings: Settings) -> list[str]:
    """Names of ``make up`` processes that still run (from the supervisor's pid files)."""
    alive = []
    for pid_file in sorted((settings.data_dir / "run").glob("*.pid")):
        try:
            os.kill(int(pid_file.read_text()), 0)
            alive.append(pid_file.stem)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
    return alive


def restore(settings: Settings, folder: Path, log=print) -> None:
    """Put a backup back: databases, secrets, migrations to head, the site rebuilt. The stack must be stopped."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise SystemExit(f"{folder} has no manifest.json: not a backup made by `make backup`")
    running = running_processes(settings)
    if running:
        raise SystemExit(f"stop `make up` first (still running: {', '.join(running)})")
    manifest = json.loads(manifest_path.read_text())
    for service in SERVICES:
        target = sqlite_path(settings, service)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        _copy(folder / manifest["databases"][service]["file"], target)
        rev = migrate.upgrade(service, settings.database_url(service))
        log(f"{service}: restored from {folder.name} (revision {manifest['databases'][service]['revision']}, now {rev})")
    if (folder / "secrets.json").exists():
        shutil.copy2(folder / "secrets.json", settings.data_dir / "secrets.json")
        os.chmod(settings.data_dir / "secrets.json", 0o600)
    done = subprocess.run([sys.executable, "-m", "services.rendering.rebuild", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, env=process_env(settings))
    if done.returncode != 0:
        raise SystemExit(f"the site could not be rebuilt: {done.stderr[-2000:]}")
    log(f"site rebuilt: {done.stdout.strip()}")


def main(argv: list[str] | None = None) -> int:
    """Command line: backup [--dest DIR] or restore FOLDER (latest when omitted)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.backup")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("backup", help="back up every database (online) into DATA_DIR/backups/<time>/")
    b.add_argument("--dest", type=Path)
    r = sub.add_parser("restore", help="restore a backup folder (the newest one when omitted); stop make up first")
    r.add_argument("folder", type=Path, nargs="?")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.cmd == "backup":
        print(f"backed up into {backup(settings, args.dest)}")
        return 0
    folder = args.folder
    if folder is None:
        found = sorted((settings.data_dir / "backups").glob("*/manifest.json"))
        if not found:
            raise SystemExit(f"no backup under {settings.data_dir / 'backups'}; run `make backup` first")
        folder = found[-1].parent
    restore(settings, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
