"""Background WordPress imports: an uploaded export becomes a job the ingest worker runs.

The upload is saved under ``DATA_DIR/wxr-uploads/`` and the job row committed before the task
``ingest.import_wxr_file`` is sent, so nothing depends on Redis keeping the message. Each
translation group's report rows (``wxr_job_posts``) commit with its articles, so the job page
shows progress as it goes and a job interrupted by a worker restart resumes where it stopped:
posts already imported are recognised by their dedupe key and their first outcome is kept.
A run holds a lease (``heartbeat_at``, renewed while it works); a second delivery of the task
waits for the lease to lapse, and an editor may start a job again once it has.
"""
from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Connection

from shared import tasks
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import aware, iso, utcnow
from shared.runtime import Runtime

from . import wxr
from .db import wxr_job_posts, wxr_jobs

UPLOAD_DIR = "wxr-uploads"
MAX_UPLOAD_BYTES = 2_000_000_000  # exports of whole archives; the form streams them to disk
INLINE_MAX_BYTES = 1_000_000  # smaller uploads are imported during the request
LEASE = timedelta(seconds=60)
HEARTBEAT_EVERY = timedelta(seconds=5)
ACTIVE = ("queued", "running")


def upload_path(rt: Runtime, name: str) -> Path:
    """Where an uploaded export is kept until its import is done."""
    folder = Path(rt.settings.data_dir) / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def save_upload(rt: Runtime, stream: BinaryIO) -> tuple[Path, int]:
    """Copy an upload to a new file under DATA_DIR in chunks; (its path, its size)."""
    path = upload_path(rt, f"{uuid.uuid4()}.xml")
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    return path, size


def create_job(rt: Runtime, path: Path, size: int, filename: str, *, default_lang: str | None,
               actor: str, role: str) -> str:
    """Commit a queued job for a saved upload, then send its task; the job id."""
    job_id = path.stem
    with rt.engine.begin() as conn:
        conn.execute(wxr_jobs.insert().values(
            id=job_id, status="queued", filename=(filename or "export.xml")[:300], path=str(path), size=size,
            default_lang=default_lang, actor=actor, role=str(role), attempts=0, created_at=utcnow()))
    send(rt, job_id)
    return job_id


def send(rt: Runtime, job_id: str) -> bool:
    """Send the job's task; False when the broker did not take it (the job page offers to retry)."""
    try:
        rt.celery.send_task(tasks.IMPORT_WXR_FILE, kwargs={"job_id": job_id}, queue=tasks.queue_for(tasks.IMPORT_WXR_FILE))
    except Exception:  # noqa: BLE001 - the job row is committed; starting it again sends it
        return False
    return True


def _stale(job: dict) -> bool:
    if job["status"] == "running" and job["heartbeat_at"] is None:
        return True  # a run that failed released its lease
    beat = aware(job["heartbeat_at"]) or aware(job["created_at"])
    return beat < utcnow() - LEASE


def can_restart(job: dict) -> bool:
    """Whether an editor may start the job again: it is unfinished and nothing has worked on it for a lease."""
    return job["status"] in ACTIVE and _stale(job)


def restart(rt: Runtime, job_id: str) -> dict:
    """Send an unfinished, idle job's task again (after a lost message or a dead worker)."""
    job = get_job(rt, job_id)
    if not can_restart(job):
        raise Conflict(f"job {job_id} is {job['status']} and "
                       f"{'still working' if job['status'] in ACTIVE else 'finished'}; nothing to start")
    with rt.engine.begin() as conn:
        conn.execute(update(wxr_jobs).where(wxr_jobs.c.id == job_id).values(heartbeat_at=None))
    send(rt, job_id)
    return get_job(rt, job_id)


class JobBusy(Exception):
    """Another run holds the job's lease; the task retries until it lapses."""


def _claim(rt: Runtime, job_id: str) -> dict | None:
    """Take the job's lease; None when the job is finished (or unknown); JobBusy while another run holds it."""
    now = utcnow()
    with rt.engine.begin() as conn:
        job = conn.execute(select(wxr_jobs).where(wxr_jobs.c.id == job_id)).mappings().first()
        if job is None or job["status"] not in ACTIVE:
            return None
        taken = conn.execute(update(wxr_jobs).where(and_(
            wxr_jobs.c.id == job_id, wxr_jobs.c.status.in_(ACTIVE),
            or_(wxr_jobs.c.heartbeat_at.is_(None), wxr_jobs.c.heartbeat_at < now - LEASE)))
            .values(status="running", heartbeat_at=now, started_at=job["started_at"] or now,
                    attempts=wxr_jobs.c.attempts + 1)).rowcount
    if not taken:
        raise JobBusy(f"job {job_id} is being run by another worker")
    return dict(job)


def _recorder(rt: Runtime, job_id: str):
    """The import's sink: write report rows for the job, keeping a post's first ``created`` outcome."""

    def write(conn: Connection, rows: list[dict]) -> None:
        keys = [r["key"] for r in rows]
        existing = dict(conn.execute(select(wxr_job_posts.c.dedupe_key, wxr_job_posts.c.outcome).where(and_(
            wxr_job_posts.c.job_id == job_id, wxr_job_posts.c.dedupe_key.in_(keys)))).all())
        replace = [k for k, outcome in existing.items() if outcome != "created"]
        if replace:
            conn.execute(delete(wxr_job_posts).where(and_(
                wxr_job_posts.c.job_id == job_id, wxr_job_posts.c.dedupe_key.in_(replace))))
        fresh = [r for r in rows if existing.get(r["key"]) != "created"]
        if fresh:
            conn.execute(wxr_job_posts.insert(), [
                {"job_id": job_id, "dedupe_key": r["key"], "seq": r.get("seq") or 0, "outcome": r["outcome"], "row": r}
                for r in fresh])

    def sink(conn: Connection | None, rows: list[dict]) -> None:
        if conn is not None:
            write(conn, rows)
        else:
            with rt.engine.begin() as own:
                write(own, rows)

    return sink


def run_job(rt: Runtime, job_id: str) -> dict:
    """Run (or resume) a job to its end; returns its counts. File-wide refusals end it as ``failed``."""
    job = _claim(rt, job_id)
    if job is None:
        return {"job_id": job_id, "ran": False}
    last_beat = [utcnow()]

    def beat(done: int, total: int) -> None:
        now = utcnow()
        if now - last_beat[0] >= HEARTBEAT_EVERY:
            last_beat[0] = now
            with rt.engine.begin() as conn:
                conn.execute(update(wxr_jobs).where(wxr_jobs.c.id == job_id).values(heartbeat_at=now))

    def set_total(total: int) -> None:
        with rt.engine.begin() as conn:
            conn.execute(update(wxr_jobs).where(wxr_jobs.c.id == job_id).values(total=total, heartbeat_at=utcnow()))

    try:
        wxr.import_wxr(rt, job["path"], default_lang=job["default_lang"], actor=job["actor"], role=job["role"],
                       progress=beat, scan_progress=lambda seen: beat(0, 0), sink=_recorder(rt, job_id),
                       on_total=set_total)
    except InvalidInput as exc:
        _finish(rt, job, "failed", exc.message)
    except FileNotFoundError:
        _finish(rt, job, "failed", "the uploaded file is gone from DATA_DIR; upload the export again")
    except BaseException:
        # Let the retry (or an editor) take the job again at once instead of waiting for the lease.
        with rt.engine.begin() as conn:
            conn.execute(update(wxr_jobs).where(wxr_jobs.c.id == job_id).values(heartbeat_at=None))
        raise
    else:
        _finish(rt, job, "done", None)
    return {"job_id": job_id, "ran": True, **counts(rt, job_id)}


def _finish(rt: Runtime, job: dict, status: str, error: str | None) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(wxr_jobs).where(wxr_jobs.c.id == job["id"]).values(
            status=status, error=error, finished_at=utcnow(), heartbeat_at=utcnow()))
    try:
        os.unlink(job["path"])
    except OSError:
        pass  # already removed by an earlier run


def get_job(rt: Runtime, job_id: str) -> dict:
    """The job row, or NotFound."""
    with rt.engine.begin() as conn:
        job = conn.execute(select(wxr_jobs).where(wxr_jobs.c.id == job_id)).mappings().first()
    if job is None:
        raise NotFound(f"no WordPress import job {job_id}")
    return dict(job)


def counts(rt: Runtime, job_id: str) -> dict:
    """Posts reported so far, by outcome."""
    with rt.engine.begin() as conn:
        found = dict(conn.execute(select(wxr_job_posts.c.outcome, func.count()).where(
            wxr_job_posts.c.job_id == job_id).group_by(wxr_job_posts.c.outcome)).all())
    return {k: found.get(k, 0) for k in wxr.OUTCOMES}


def report(rt: Runtime, job_id: str, *, outcome: str | None = None, limit: int = 500, offset: int = 0) -> list[dict]:
    """The job's report rows in file order (optionally one outcome)."""
    query = select(wxr_job_posts.c.row).where(wxr_job_posts.c.job_id == job_id)
    if outcome:
        query = query.where(wxr_job_posts.c.outcome == outcome)
    with rt.engine.begin() as conn:
        return list(conn.execute(query.order_by(wxr_job_posts.c.seq).limit(limit).offset(offset)).scalars())


def to_json(rt: Runtime, job: dict, *, with_report: bool = True) -> dict:
    """The job as the API and the job page show it."""
    done = counts(rt, job["id"])
    out = {k: job[k] for k in ("id", "status", "filename", "size", "default_lang", "actor", "total", "error", "attempts")}
    out.update({k: iso(job[k]) for k in ("created_at", "started_at", "finished_at", "heartbeat_at")})
    out["counts"] = done
    out["reported"] = sum(done.values())
    out["imported"] = done["created"] + done["already_imported"] + done["failed"]  # of ``total``
    out["can_restart"] = can_restart(job)
    if with_report:
        out["report"] = report(rt, job["id"])
    return out
