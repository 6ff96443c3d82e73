"""Observability: JSON logs with correlation ids, Redis-backed worker metrics, /readyz, /metrics, Celery safety.

The metrics live in Redis, so these tests use a private real Redis (started like `make up` does).
"""
from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
import redis
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from shared import launcher, observability as obs, tasks
from shared.celery_app import beat_schedule, make_celery, task_options
from shared.config import load_settings
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private Redis for this module."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = launcher.start_redis(url, tmp_path_factory.mktemp("redis"), log=lambda *_: None)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def r(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def _settings(tmp_path, redis_url, **extra):
    return load_settings(dict({"DATA_DIR": str(tmp_path), "REDIS_URL": redis_url, "API_TOKEN": "t",
                               "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_x"}, **extra))


def _dead_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families, name, sample_name=None, **labels):
    for sample in families[name].samples:
        if (sample_name is None or sample.name == sample_name) and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise KeyError((name, sample_name, labels))


# --- logging ----------------------------------------------------------------------------------------

@pytest.fixture
def json_log():
    """Capture the root logger's JSON output; restore the previous handlers afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    obs.configure_logging("ingest", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers, root.level = saved, level


def test_log_lines_are_json_with_service_and_correlation_id(json_log):
    log = logging.getLogger("pipeline.test")
    log.info("no request yet %s", 1)
    token = obs.correlation_id.set("req-123")
    try:
        log.warning("inside a request")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    finally:
        obs.correlation_id.reset(token)
    first, second, third = json_log()
    assert first["message"] == "no request yet 1" and "correlation_id" not in first
    assert {k: second[k] for k in ("level", "service", "logger", "message", "correlation_id")} == {
        "level": "WARNING", "service": "ingest", "logger": "pipeline.test", "message": "inside a request",
        "correlation_id": "req-123"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", second["time"])
    assert "ValueError: boom" in third["exception"]


def test_configure_logging_twice_keeps_one_handler(json_log):
    obs.configure_logging("ingest", stream=io.StringIO())
    assert sum(h.get_name() == "pipeline-json" for h in logging.getLogger().handlers) == 1


# --- worker instrumentation -------------------------------------------------------------------------

@pytest.fixture
def worker_app(tmp_path, redis_url, r):
    app = make_celery("rendering", _settings(tmp_path, redis_url))
    app.conf.task_always_eager = False
    calls = []

    @app.task(name="rendering.test_ok", shared=False)
    def ok(event=None):
        logging.getLogger("pipeline.task").info("working")
        calls.append(obs.current_correlation_id())
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
    app = make_celery("ingest", _settings(tmp_path, redis_url))

    @app.task(name="ingest.test_plain", shared=False)
    def plain():
        return 1

    plain.apply()
    assert r.hgetall(obs.tasks_key("ingest")) == {}


def test_sent_tasks_carry_the_current_correlation_id_as_a_header(tmp_path, redis_url, r):
    app = make_celery("notification", _settings(tmp_path, redis_url))
    obs.instrument_worker(app, "notification")
    token = obs.correlation_id.set("corr-send")
    try:
        app.send_task(tasks.DELIVER_WEBHOOK, args=["d1"], queue="notification")
    finally:
        obs.correlation_id.reset(token)
    message = json.loads(r.lrange("notification", 0, -1)[0])
    assert message["headers"][obs.CORRELATION_TASK_HEADER] == "corr-send"
    assert obs.correlation_headers() == {}


def test_a_dead_metrics_backend_is_logged_not_raised(caplog):
    with caplog.at_level(logging.WARNING, logger="shared.observability"):
        obs.count_task("ingest", "ingest.x", "succeeded", url=_dead_url())
        obs.observe_publish_latency(1.0, url=_dead_url())
        obs.count_delivery_outcome("succeeded", url=_dead_url())
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 3


def test_unknown_outcomes_keep_cardinality_low(r, redis_url):
    with pytest.raises(ValueError):
        obs.count_task("ingest", "ingest.x", "weird", url=redis_url)
    obs.count_delivery_outcome("http-599-from-somewhere", url=redis_url)
    assert r.hgetall(obs.deliveries_key()) == {b"other": b"1"}


# --- /metrics and /readyz -----------------------------------------------------------------------------

def _ops_app(service, redis_url, db_ok=True, backlog=3):
    def check_db():
        if not db_ok:
            raise RuntimeError("database is locked")

    app = Flask(__name__)
    app.register_blueprint(obs.ops_blueprint(service, redis_url, check_db, lambda: backlog))
    return app.test_client()


def test_metrics_expose_tasks_queue_depth_outbox_and_latency_for_ingest(r, redis_url):
    obs.count_task("ingest", tasks.RECORD_RENDER_RESULT, "succeeded", url=redis_url)
    obs.count_task("ingest", tasks.RECORD_RENDER_RESULT, "failed", url=redis_url)
    for seconds in (0.02, 0.2, 0.2, 45.0):
        obs.observe_publish_latency(seconds, url=redis_url)
    r.lpush("ingest", "m1", "m2")
    r.lpush("ingest\x06\x163", "m3")
    r.lpush("rendering", "other queue")
    resp = _ops_app("ingest", redis_url).get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    fams = _families(resp.get_data(as_text=True))
    assert _value(fams, "pipeline_tasks", task=tasks.RECORD_RENDER_RESULT, outcome="succeeded", service="ingest") == 1
    assert _value(fams, "pipeline_tasks", task=tasks.RECORD_RENDER_RESULT, outcome="failed") == 1
    assert _value(fams, "pipeline_queue_depth", queue="ingest") == 3
    assert _value(fams, "pipeline_outbox_pending", service="ingest") == 3
    assert _value(fams, "pipeline_metrics_backend_up") == 1
    hist = "pipeline_publish_latency_seconds"
    assert _value(fams, hist, f"{hist}_bucket", le="0.05") == 1
    assert _value(fams, hist, f"{hist}_bucket", le="0.25") == 3
    assert _value(fams, hist, f"{hist}_bucket", le="30.0") == 3
    assert _value(fams, hist, f"{hist}_bucket", le="+Inf") == 4 == _value(fams, hist, f"{hist}_count")
    assert _value(fams, hist, f"{hist}_sum") == pytest.approx(45.42)
    assert "pipeline_webhook_deliveries" not in fams, "each figure is exposed by the service that owns it"


def test_metrics_expose_webhook_outcomes_on_notification(r, redis_url):
    for outcome in ("succeeded", "succeeded", "retry", "gone"):
        obs.count_delivery_outcome(outcome, url=redis_url)
    fams = _families(_ops_app("notification", redis_url).get("/metrics").get_data(as_text=True))
    assert _value(fams, "pipeline_webhook_deliveries", outcome="succeeded") == 2
    assert _value(fams, "pipeline_webhook_deliveries", outcome="retry") == 1
    assert _value(fams, "pipeline_webhook_deliveries", outcome="exhausted") == 0
    assert "pipeline_publish_latency_seconds" not in fams


def test_metrics_answer_when_redis_and_db_are_down(caplog):
    def backlog():
        raise RuntimeError("database is locked")

    app = Flask(__name__)
    app.register_blueprint(obs.ops_blueprint("rendering", _dead_url(), lambda: None, backlog))
    with caplog.at_level(logging.WARNING, logger="shared.observability"):
        resp = app.test_client().get("/metrics")
    assert resp.status_code == 200
    fams = _families(resp.get_data(as_text=True))
    assert _value(fams, "pipeline_metrics_backend_up") == 0
    assert "pipeline_outbox_pending" not in fams
    assert len(caplog.records) == 2


def test_readyz_reports_queue_depth_and_backlog(r, redis_url):
    r.lpush("rendering", "a", "b")
    resp = _ops_app("rendering", redis_url, backlog=5).get("/readyz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"
    assert resp.json["checks"] == {"db": "ok", "redis": "ok", "queue_depth": 2, "outbox_pending": 5}


def test_readyz_stays_ready_without_redis_but_not_without_the_database(redis_url):
    degraded = _ops_app("ingest", _dead_url()).get("/readyz")
    assert degraded.status_code == 200, "the outbox keeps accepting work while Redis is down"
    assert degraded.json["status"] == "degraded" and degraded.json["checks"]["redis"].startswith("error")
    assert degraded.json["checks"]["queue_depth"] is None
    down = _ops_app("ingest", redis_url, db_ok=False).get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["db"] == "error: database is locked"


def test_every_service_app_has_readyz_metrics_and_the_log_context(tmp_path, redis_url, r):
    from services.ingest.app import create_app as ingest
    from services.notification.app import create_app as notification
    from services.rendering.app import create_app as rendering
    from services.translation_status.app import create_app as translation_status

    settings = _settings(tmp_path, redis_url)
    for name, factory in (("ingest", ingest), ("translation_status", translation_status),
                          ("rendering", rendering), ("notification", notification)):
        client = factory({"SETTINGS": settings, "TESTING": True}).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"]["outbox_pending"] == 0, (name, ready.json)
        fams = _families(client.get("/metrics").get_data(as_text=True))
        assert _value(fams, "pipeline_queue_depth", queue=name) == 0, name
        assert client.get("/healthz", headers={"X-Correlation-ID": "abc"}).headers["X-Correlation-ID"] == "abc"
    assert obs.current_correlation_id() is None, "the request's id does not leak past the request"


# --- Celery safety: every app, every task, every countdown ---------------------------------------------

@pytest.fixture(scope="module")
def worker_apps(tmp_path_factory):
    from services.ingest.worker import create_worker as ingest
    from services.notification.worker import create_worker as notification
    from services.rendering.worker import create_worker as rendering
    from services.translation_status.worker import create_worker as translation_status

    settings = load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("data")), "API_TOKEN": "t"})
    return settings, {"ingest": ingest(settings), "translation_status": translation_status(settings),
                      "rendering": rendering(settings), "notification": notification(settings)}


def test_every_worker_app_and_task_acks_late_and_requeues_on_worker_loss(worker_apps):
    settings, apps = worker_apps
    for service, app in apps.items():
        conf = app.conf
        assert conf.task_acks_late and conf.task_reject_on_worker_lost, service
        assert conf.worker_prefetch_multiplier == 1, service
        for name, task in app.tasks.items():
            if name.startswith("celery."):
                continue
            # A task-level option would override the app's; check what each task really does.
            assert task.acks_late is True, name
            assert task.reject_on_worker_lost in (True, None), name
            assert task.reject_on_worker_lost or conf.task_reject_on_worker_lost, name


def test_one_visibility_timeout_everywhere_and_longer_than_any_countdown(worker_apps, monkeypatch, tmp_path):
    settings, apps = worker_apps
    # shared.beat builds its app from the environment at import: keep its secrets out of ./var.
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CELERY_VISIBILITY_TIMEOUT", raising=False)
    from shared.beat import create_beat

    timeouts = {svc: app.conf.broker_transport_options["visibility_timeout"] for svc, app in apps.items()}
    timeouts["beat"] = create_beat().conf.broker_transport_options["visibility_timeout"]
    assert set(timeouts.values()) == {settings.visibility_timeout}, timeouts

    # Every countdown in the code, with the cap it is bounded by.
    caps = [task_options()["retry_backoff_max"]]
    for path in sorted((ROOT / "services").rglob("*.py")) + sorted((ROOT / "shared").rglob("*.py")):
        text = path.read_text()
        assert not re.search(r"\beta\s*=", text), f"{path}: a Celery ETA is re-delivered after the visibility timeout"
        for match in re.finditer(r"countdown\s*=\s*(.*)", text):
            expr = match.group(1)
            bound = re.match(r"min\(\s*(\d+(?:\.\d+)?)\s*,", expr) or re.match(r"(\d+(?:\.\d+)?)\s*[,)]", expr)
            assert bound, f"{path}: countdown={expr} has no literal cap; bound it with min(<seconds>, ...)"
            caps.append(float(bound.group(1)))
    # Jitter never adds to the cap; a countdown at the cap must still be collected before redelivery.
    assert max(caps) < settings.visibility_timeout, (max(caps), settings.visibility_timeout)
    for entry in beat_schedule(settings).values():
        assert entry["options"]["expires"] < settings.visibility_timeout
