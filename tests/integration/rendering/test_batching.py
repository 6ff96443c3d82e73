"""Batched rendering (batching.py): queued changes are rendered in one flush and each publish answered.

Runs the batching functions in-process on a real SQLite database; the Celery app is a stand-in
that records what the outbox relay sends.
"""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

from sqlalchemy import func, select

from services.rendering import batching, site
from services.rendering.db import inbox, outbox, pending_renders, render_log
from shared import events as ev
from shared import tasks
from shared.runtime import Runtime

from . import fixtures as fx


def _runtime(tmp_path) -> Runtime:
    settings = fx.settings_for(tmp_path)
    return Runtime("rendering", settings, fx.engine_for(settings), mock.Mock(), outbox, inbox)


def _fields(snap: dict) -> dict:
    return {"article_id": snap["article_id"], "group_id": snap["group_id"], "lang": snap["lang"],
            "state": "publishing", "revision": snap["revision"], "content_hash": "h", "title": snap["title"],
            "is_source": True, "source_lang": snap["source_lang"]}


def _publish(rt: Runtime, snap: dict) -> None:
    envelope = ev.ArticlePublishRequested(snapshot=snap, **_fields(snap)).envelope(f"cid-{snap['article_id'][-4:]}")
    rt.consume(envelope, tasks.RENDER_ARTICLE, lambda conn, e: batching.queue_change(conn, e, "publish"))


def _remove(rt: Runtime, snap: dict) -> None:
    envelope = ev.ArticleUnpublished(**dict(_fields(snap), state="unpublished")).envelope()
    rt.consume(envelope, tasks.REMOVE_ARTICLE, lambda conn, e: batching.queue_change(conn, e, "remove"))


def _sent(rt: Runtime, event_type: str) -> list[dict]:
    return [c.kwargs["kwargs"]["event"] for c in rt.celery.send_task.call_args_list
            if c.kwargs["kwargs"]["event"]["type"] == event_type]


def _pending(rt: Runtime) -> int:
    with rt.engine.begin() as conn:
        return conn.execute(select(func.count()).select_from(pending_renders)).scalar_one()


def test_one_flush_renders_a_burst_and_answers_every_publish(tmp_path):
    rt = _runtime(tmp_path)
    snaps = fx.group_snapshots() + fx.other_snapshots()
    for snap in snaps:
        _publish(rt, snap)
    _remove(rt, snaps[1])
    assert _pending(rt) == len(snaps) + 1
    assert batching.flush_pending(rt) == len(snaps) + 1
    assert _pending(rt) == 0
    answers = _sent(rt, ev.ARTICLE_RENDERED)
    assert sorted(a["data"]["article_id"] for a in answers) == sorted(s["article_id"] for s in snaps)
    first = next(a for a in answers if a["data"]["article_id"] == snaps[0]["article_id"])
    assert first["data"]["url"] == f"https://think.example/en/{snaps[0]['slug']}/"
    assert first["correlation_id"] == f"cid-{snaps[0]['article_id'][-4:]}"
    site_dir = rt.settings.site_dir
    assert (site_dir / "en" / snaps[0]["slug"] / "index.html").is_file()
    assert not (site_dir / "tr" / snaps[1]["slug"]).exists()
    with rt.engine.begin() as conn:
        logged = conn.execute(select(render_log.c.action, func.count()).group_by(render_log.c.action)).all()
    assert dict(logged) == {"rendered": len(snaps), "removed": 1}
    assert batching.flush_pending(rt) == 0
    rt.engine.dispose()


def test_a_failing_change_is_retried_then_answered_as_failed_without_holding_back_the_rest(tmp_path, monkeypatch):
    rt = _runtime(tmp_path)
    good = fx.other_snapshots()
    bad = dict(fx.group_snapshots()[0], published_at="not a date")
    _publish(rt, good[0])
    _publish(rt, bad)
    _publish(rt, good[1])
    for attempt in range(1, batching.MAX_ATTEMPTS):
        batching.flush_pending(rt)
        # The change before the failing one is rendered; the failing one and those after it wait.
        assert [a["data"]["article_id"] for a in _sent(rt, ev.ARTICLE_RENDERED)] == [good[0]["article_id"]]
        assert _pending(rt) == 2
    batching.flush_pending(rt)
    failed = _sent(rt, ev.ARTICLE_RENDER_FAILED)
    assert [f["data"]["article_id"] for f in failed] == [bad["article_id"]]
    assert "ValueError" in failed[0]["data"]["error"]
    assert {a["data"]["article_id"] for a in _sent(rt, ev.ARTICLE_RENDERED)} == {good[0]["article_id"], good[1]["article_id"]}
    assert _pending(rt) == 0
    rt.engine.dispose()


def _tree(site_dir) -> dict[str, bytes]:
    return {p.relative_to(site_dir).as_posix(): p.read_bytes() for p in site_dir.rglob("*") if p.is_file()}


def test_a_render_that_fails_part_way_publishes_nothing(tmp_path, monkeypatch):
    rt = _runtime(tmp_path)
    first, second = fx.other_snapshots()[:2]
    _publish(rt, first)
    batching.flush_pending(rt)
    site_dir = rt.settings.site_dir
    before = _tree(site_dir)
    real = site.SiteModel.render

    def fails_on_the_sitemap_index(self, rel, renderer=None):
        # Sorted after the article's own page, so that page is rendered before the failure.
        if rel == "sitemap.xml":
            raise OSError("disk trouble")
        return real(self, rel, renderer)

    monkeypatch.setattr(site.SiteModel, "render", fails_on_the_sitemap_index)
    _publish(rt, second)
    batching.flush_pending(rt)
    assert _pending(rt) == 1
    assert _tree(site_dir) == before  # no page of the failed render is live, not even staged
    monkeypatch.setattr(site.SiteModel, "render", real)
    batching.flush_pending(rt)
    assert (site_dir / "en" / second["slug"] / "index.html").is_file()
    assert not [p for p in site_dir.rglob(".*")]
    rt.engine.dispose()


def test_the_sweep_finds_changes_left_waiting(tmp_path):
    rt = _runtime(tmp_path)
    _publish(rt, fx.other_snapshots()[0])
    assert batching.has_stale_changes(rt, timedelta(0))
    assert not batching.has_stale_changes(rt, timedelta(minutes=1))
    rt.engine.dispose()


def test_one_flush_task_per_burst_of_requests(redis_url):
    celery = mock.Mock()
    requests = batching.FlushRequests(celery, redis_url)
    requests.clear()
    for _ in range(5):
        requests.request()
    assert celery.send_task.call_count == 1
    requests.clear()  # the flush started: the next request sends a new one
    requests.request()
    assert celery.send_task.call_count == 2
    celery.send_task.side_effect = ConnectionError("broker down")
    requests.clear()
    try:
        requests.request()
    except ConnectionError:
        pass
    assert requests.flags.get(batching.FLUSH_FLAG) is None, "a flush that was never sent holds nothing back"
    requests.clear()


def test_the_sweep_flushes_changes_left_waiting(tmp_path, monkeypatch):
    rt = _runtime(tmp_path)
    rt.sweep_outbox = mock.Mock(return_value=0)
    _publish(rt, fx.other_snapshots()[0])
    flushed = []
    monkeypatch.setattr(batching, "flush_pending", lambda r: flushed.append(r) or 1)
    monkeypatch.setattr(batching, "has_stale_changes", lambda r, older: True)
    assert batching.sweep(rt) == 0 and flushed == [rt]
    rt.engine.dispose()


def test_warm_loads_the_site_model_before_the_first_flush(tmp_path, monkeypatch):
    rt = _runtime(tmp_path)
    loads = []
    real = site.load_model
    monkeypatch.setattr(site, "load_model", lambda conn, s: loads.append(1) or real(conn, s))
    batching.warm(rt)
    assert loads == [1]
    for snap in fx.other_snapshots()[:2]:
        _publish(rt, snap)
        batching.flush_pending(rt)
    assert loads == [1], "every flush works on the model loaded at start"
    rt.engine.dispose()


def test_a_publish_overtaken_by_its_unpublish_changes_nothing(tmp_path):
    rt = _runtime(tmp_path)
    snap = fx.other_snapshots()[0]
    fields = _fields(snap)
    unpublish = ev.ArticleUnpublished(**dict(fields, state="unpublished", seq=6)).envelope()
    late_publish = ev.ArticlePublishRequested(snapshot=snap, **dict(fields, seq=5)).envelope()
    rt.consume(unpublish, tasks.REMOVE_ARTICLE, lambda conn, e: batching.queue_change(conn, e, "remove"))
    rt.consume(late_publish, tasks.RENDER_ARTICLE, lambda conn, e: batching.queue_change(conn, e, "publish"))
    with rt.engine.begin() as conn:
        actions = conn.execute(select(pending_renders.c.action)).scalars().all()
    assert actions == ["remove"], "the older publish arrived late and was dropped"
    newer = ev.ArticlePublishRequested(snapshot=snap, **dict(fields, seq=7)).envelope()
    rt.consume(newer, tasks.RENDER_ARTICLE, lambda conn, e: batching.queue_change(conn, e, "publish"))
    assert _pending(rt) == 2, "a newer publish is applied"
