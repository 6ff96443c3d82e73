"""``/healthz``, ``/readyz`` and ``/metrics`` of every service (``shared/health.py``)."""
from __future__ import annotations

import logging

import pytest
from flask import Flask

from shared import health as obs
from shared import metrics
from shared import tasks
from shared.web import register_errors
from tests.helpers import dead_redis_url, metric_families, metric_value

TOKEN = "metrics-token"


def _ops_app(service, redis_url, db_ok=True, backlog=3):
    def check_db():
        if not db_ok:
            raise RuntimeError("database is locked")

    app = Flask(__name__)
    app.register_blueprint(obs.ops_blueprint(service, redis_url, check_db, lambda: backlog, TOKEN))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_metrics_expose_tasks_queue_depth_outbox_and_latency_for_ingest(r, redis_url):
    metrics.count_task("ingest", tasks.RECORD_RENDER_RESULT, "succeeded", url=redis_url)
    metrics.count_task("ingest", tasks.RECORD_RENDER_RESULT, "failed", url=redis_url)
    for seconds in (0.02, 0.2, 0.2, 45.0):
        metrics.observe_publish_latency(seconds, url=redis_url)
    r.lpush("ingest", "m1", "m2")
    r.lpush("ingest\x06\x163", "m3")
    r.lpush("rendering", "other queue")
    resp = _ops_app("ingest", redis_url).get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    fams = metric_families(resp.get_data(as_text=True))
    assert metric_value(fams, "pipeline_tasks", task=tasks.RECORD_RENDER_RESULT, outcome="succeeded", service="ingest") == 1
    assert metric_value(fams, "pipeline_tasks", task=tasks.RECORD_RENDER_RESULT, outcome="failed") == 1
    assert metric_value(fams, "pipeline_queue_depth", queue="ingest") == 3
    assert metric_value(fams, "pipeline_outbox_pending", service="ingest") == 3
    assert metric_value(fams, "pipeline_metrics_backend_up") == 1
    hist = "pipeline_publish_latency_seconds"
    assert metric_value(fams, hist, f"{hist}_bucket", le="0.05") == 1
    assert metric_value(fams, hist, f"{hist}_bucket", le="0.25") == 3
    assert metric_value(fams, hist, f"{hist}_bucket", le="30.0") == 3
    assert metric_value(fams, hist, f"{hist}_bucket", le="+Inf") == 4 == metric_value(fams, hist, f"{hist}_count")
    assert metric_value(fams, hist, f"{hist}_sum") == pytest.approx(45.42)
    assert "pipeline_webhook_deliveries" not in fams, "each figure is exposed by the service that owns it"


def test_metrics_expose_webhook_outcomes_on_notification(r, redis_url):
    for outcome in ("succeeded", "succeeded", "retry", "gone"):
        metrics.count_delivery_outcome(outcome, url=redis_url)
    fams = metric_families(_ops_app("notification", redis_url).get("/metrics").get_data(as_text=True))
    assert metric_value(fams, "pipeline_webhook_deliveries", outcome="succeeded") == 2
    assert metric_value(fams, "pipeline_webhook_deliveries", outcome="retry") == 1
    assert metric_value(fams, "pipeline_webhook_deliveries", outcome="exhausted") == 0
    assert "pipeline_publish_latency_seconds" not in fams


def test_metrics_answer_when_redis_and_db_are_down(caplog):
    def backlog():
        raise RuntimeError("database is locked")

    app = Flask(__name__)
    app.register_blueprint(obs.ops_blueprint("rendering", dead_redis_url(), lambda: None, backlog, TOKEN))
    with caplog.at_level(logging.WARNING, logger="shared.metrics"):
        resp = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    fams = metric_families(resp.get_data(as_text=True))
    assert metric_value(fams, "pipeline_metrics_backend_up") == 0
    assert "pipeline_outbox_pending" not in fams
    assert len(caplog.records) == 2


def test_readyz_reports_queue_depth_and_backlog(r, redis_url):
    r.lpush("rendering", "a", "b")
    resp = _ops_app("rendering", redis_url, backlog=5).get("/readyz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"
    assert resp.json["checks"] == {"db": "ok", "redis": "ok", "queue_depth": 2, "outbox_pending": 5}


def test_readyz_stays_ready_without_redis_but_not_without_the_database(redis_url):
    degraded = _ops_app("ingest", dead_redis_url()).get("/readyz")
    assert degraded.status_code == 200, "the outbox keeps accepting work while Redis is down"
    assert degraded.json["status"] == "degraded" and degraded.json["checks"]["redis"].startswith("error")
    assert degraded.json["checks"]["queue_depth"] is None
    down = _ops_app("ingest", redis_url, db_ok=False).get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["db"] == "error: database is locked"


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
def test_readiness_and_metrics_need_the_metrics_token_and_healthz_does_not(redis_url, path):
    app = Flask(__name__)
    register_errors(app)
    app.register_blueprint(obs.ops_blueprint("ingest", redis_url, lambda: None, lambda: 0, TOKEN))
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 401 and "METRICS_TOKEN" in resp.get_json()["error"], headers
    assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_healthz_names_the_release(redis_url):
    import tomllib
    from pathlib import Path

    import shared

    pyproject = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    assert shared.__version__ == pyproject["project"]["version"] == "0.2.0"
    assert _ops_app("ingest", redis_url).get("/healthz").get_json()["version"] == "0.2.0"
