"""Worker metrics counted in Redis and correlation ids carried through tasks (``shared/metrics.py``).

The metrics live in Redis, so these tests use a private real Redis (started like `make up` does).
"""
from __future__ import annotations

import json
import logging

import pytest

from shared import logs, metrics as obs, tasks
from shared.celery_app import make_celery
from tests.helpers import dead_redis_url, unit_settings


@pytest.fixture
def worker_app(tmp_path, redis_url, r):
    app = make_celery("rendering", unit_settings(tmp_path, redis_url))
    app.conf.task_always_eager = False
    calls = []

    @app.task(name="rendering.test_ok", shared=False)
    def ok(event=None):
        logging.getLogger("pipeline.task").info("working")
        calls.append(logs.current_correlation_id())
        return True

    @app.task(name="rendering.test_fail", shared=False)
    def fail(event=None):
        raise RuntimeError("nope")

    @app.task(name="rendering.test_retry", bind=True, shared=False, max_retries=3)
    def retry(self, event=None):
        raise self.retry(countdown=1, exc=RuntimeError("again"))

    obs.instrument_worker(app, "rendering")
    return app, calls


def test_task_outcomes_are_counted_per_task_in_redis(worker_app, r):
    app, _ = worker_app
    app.tasks["rendering.test_ok"].apply(kwargs={"event": {"correlation_id": "c1"}})
    app.tasks["rendering.test_ok"].apply()
    app.tasks["rendering.test_fail"].apply()
    app.tasks["rendering.test_retry"].apply()
    counts = {k.decode(): int(v) for k, v in r.hgetall(obs.tasks_key("rendering")).items()}
    assert counts["rendering.test_ok|succeeded"] == 2
    assert counts["rendering.test_fail|failed"] == 1
    assert counts["rendering.test_retry|retried"] >= 1


def test_task_logs_carry_the_envelope_correlation_id_and_the_task(worker_app, json_log):
    app, calls = worker_app
    app.tasks["rendering.test_ok"].apply(kwargs={"event": {"id": "e", "correlation_id": "corr-7"}}, task_id="tid-1")
    app.tasks["rendering.test_ok"].apply()
    assert calls == ["corr-7", None], "set for the task, cleared after it"
    line = next(x for x in json_log() if x["message"] == "working")
    assert (line["correlation_id"], line["task_name"], line["task_id"]) == ("corr-7", "rendering.test_ok", "tid-1")


def test_uninstrumented_apps_are_not_counted(tmp_path, redis_url, r):
    app = make_celery("ingest", unit_settings(tmp_path, redis_url))

    @app.task(name="ingest.test_plain", shared=False)
    def plain():
        return 1

    plain.apply()
    assert r.hgetall(obs.tasks_key("ingest")) == {}


def test_sent_tasks_carry_the_current_correlation_id_as_a_header(tmp_path, redis_url, r):
    app = make_celery("notification", unit_settings(tmp_path, redis_url))
    obs.instrument_worker(app, "notification")
    token = logs.correlation_id.set("corr-send")
    try:
        app.send_task(tasks.DELIVER_WEBHOOK, args=["d1"], queue="notification")
    finally:
        logs.correlation_id.reset(token)
    message = json.loads(r.lrange("notification", 0, -1)[0])
    assert message["headers"][logs.CORRELATION_TASK_HEADER] == "corr-send"
    assert logs.correlation_headers() == {}


def test_a_dead_metrics_backend_is_logged_not_raised(caplog):
    with caplog.at_level(logging.WARNING, logger="shared.metrics"):
        obs.count_task("ingest", "ingest.x", "succeeded", url=dead_redis_url())
        obs.observe_publish_latency(1.0, url=dead_redis_url())
        obs.count_delivery_outcome("succeeded", url=dead_redis_url())
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 3


def test_unknown_outcomes_keep_cardinality_low(r, redis_url):
    with pytest.raises(ValueError):
        obs.count_task("ingest", "ingest.x", "weird", url=redis_url)
    obs.count_delivery_outcome("http-599-from-somewhere", url=redis_url)
    assert r.hgetall(obs.deliveries_key()) == {b"other": b"1"}
