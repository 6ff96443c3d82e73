"""WordPress import through the JSON API and as a job, on a real ingest app (SQLite, Redis down): the per-post
report as JSON, a refused file stores nothing, and a job interrupted mid-way resumes without duplicates."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.ingest import wxr, wxr_jobs
from services.ingest.db import articles, wxr_job_posts, wxr_jobs as jobs_table
from shared.events import utcnow

from .conftest import FIXTURES

pytestmark = pytest.mark.integration
XML = {"Content-Type": "application/xml"}


def _count(live, table=articles) -> int:
    return live.count(table)


def test_api_import_returns_the_per_post_report(live):
    resp = live.api("POST", "/api/articles/import-wxr", data=(FIXTURES / "wxr-polylang-messy.xml").read_bytes(),
                    headers=XML)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["counts"] == {"created": 7, "already_imported": 0, "skipped": 0, "failed": 1}
    assert body["site"] == "https://kazan.example.net"
    [failed] = body["failed"]
    assert failed["field"] == "title" and failed["fix"] and failed["reason"]
    empty = next(r for r in body["created"] if r["post_id"] == "502")
    assert empty["state"] == "draft" and empty["warnings"]
    again = live.api("POST", "/api/articles/import-wxr", data=(FIXTURES / "wxr-polylang-messy.xml").read_bytes(),
                     headers=XML).json()
    assert again["counts"]["created"] == 0 and again["counts"]["already_imported"] == 7
    assert {r["reason"] for r in again["already_imported"]} == {"imported before (same site and post id)"}


@pytest.mark.parametrize("name, status, words", [
    ("wxr-bomb.xml", 422, "entities"), ("wxr-truncated.xml", 422, "not well-formed"),
])
def test_api_refuses_a_bad_file_and_stores_nothing(live, name, status, words):
    resp = live.api("POST", "/api/articles/import-wxr", data=(FIXTURES / name).read_bytes(), headers=XML)
    assert resp.status_code == status and words in resp.json()["error"] and resp.json()["field"] == "file"
    assert _count(live) == 0
    assert not list((live.app.extensions["pipeline"].settings.data_dir / wxr_jobs.UPLOAD_DIR).iterdir())


def test_api_wants_xml_and_a_site_language(live):
    assert live.api("POST", "/api/articles/import-wxr", data=b"<rss/>", headers={"Content-Type": "text/plain"}).status_code == 415
    bad = live.api("POST", "/api/articles/import-wxr?lang=de", data=b"<rss/>", headers=XML)
    assert bad.status_code == 422 and bad.json()["field"] == "lang"


def test_a_background_job_is_stored_before_its_task_and_resumes_after_an_interruption(live, monkeypatch):
    rt = live.app.extensions["pipeline"]
    resp = live.api("POST", "/api/articles/import-wxr?background=1&filename=messy.xml",
                    data=(FIXTURES / "wxr-polylang-messy.xml").read_bytes(), headers=XML)
    assert resp.status_code == 202 and resp.headers["Location"] == f"/api/wxr-jobs/{resp.json()['id']}"
    job_id = resp.json()["id"]
    job = live.api("GET", f"/api/wxr-jobs/{job_id}").json()
    assert job["status"] == "queued" and job["filename"] == "messy.xml", "Redis is down: the job waits, stored"

    # The worker dies after the first translation group was stored.
    real, calls = wxr._store_group, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(wxr, "_store_group", dying)
    with pytest.raises(RuntimeError):
        wxr_jobs.run_job(rt, job_id)
    half = live.api("GET", f"/api/wxr-jobs/{job_id}").json()
    assert half["status"] == "running" and half["counts"]["created"] == 2 and _count(live) == 2
    assert half["can_restart"], "the run released its lease when it died"

    monkeypatch.setattr(wxr, "_store_group", real)
    assert wxr_jobs.run_job(rt, job_id)["created"] == 7
    done = live.api("GET", f"/api/wxr-jobs/{job_id}").json()
    assert done["status"] == "done" and done["attempts"] == 2 and done["total"] == 8
    assert done["counts"] == {"created": 7, "already_imported": 0, "skipped": 0, "failed": 1}
    assert _count(live) == 7, "nothing was created twice"
    assert [r["post_id"] for r in done["report"]] == ["501", "502", "511", "512", "520", "530", "535", "540"]
    assert wxr_jobs.run_job(rt, job_id) == {"job_id": job_id, "ran": False}, "a repeated task changes nothing"
    assert not (rt.settings.data_dir / wxr_jobs.UPLOAD_DIR / f"{job_id}.xml").exists()


def test_a_job_held_by_a_live_run_is_not_run_twice(live):
    rt = live.app.extensions["pipeline"]
    path, size = wxr_jobs.save_upload(rt, open(FIXTURES / "wxr-site-a.xml", "rb"))
    job_id = wxr_jobs.create_job(rt, path, size, "a.xml", default_lang=None, actor="t", role="admin")
    with rt.engine.begin() as conn:
        conn.execute(jobs_table.update().values(status="running", heartbeat_at=utcnow()))
    with pytest.raises(wxr_jobs.JobBusy):
        wxr_jobs.run_job(rt, job_id)
    with rt.engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(wxr_job_posts)).scalar_one() == 0


def test_an_idle_job_may_be_started_again_and_a_working_one_may_not(live):
    rt = live.app.extensions["pipeline"]
    path, size = wxr_jobs.save_upload(rt, open(FIXTURES / "wxr-site-b.xml", "rb"))
    job_id = wxr_jobs.create_job(rt, path, size, "b.xml", default_lang=None, actor="t", role="admin")
    with pytest.raises(wxr_jobs.Conflict):
        wxr_jobs.restart(rt, job_id)  # just queued: the broker may still deliver it
    with rt.engine.begin() as conn:
        conn.execute(jobs_table.update().values(created_at=utcnow() - wxr_jobs.LEASE * 2))
    assert wxr_jobs.restart(rt, job_id)["status"] == "queued"
    assert wxr_jobs.run_job(rt, job_id)["created"] == 2
    with pytest.raises(wxr_jobs.Conflict, match="finished"):
        wxr_jobs.restart(rt, job_id)
