"""The one app factory: every service's app has /readyz, /metrics and the correlation-id context (``shared/factory.py``)."""
from __future__ import annotations

from shared import logs
from tests.helpers import metric_families, metric_value, migrated, unit_settings


def test_every_service_app_has_readyz_metrics_and_the_log_context(tmp_path, redis_url, r):
    from services.ingest.app import create_app as ingest
    from services.notification.app import create_app as notification
    from services.rendering.app import create_app as rendering
    from services.translation_status.app import create_app as translation_status

    settings = unit_settings(tmp_path, redis_url)
    for name, factory in (("ingest", ingest), ("translation_status", translation_status),
                          ("rendering", rendering), ("notification", notification)):
        client = factory({"SETTINGS": settings, "TESTING": True}).test_client()
        assert client.get("/readyz").status_code == 401, "readiness is not for strangers"
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.api_token}"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"]["outbox_pending"] == 0, (name, ready.json)
        fams = metric_families(client.get("/metrics").get_data(as_text=True))
        assert metric_value(fams, "pipeline_queue_depth", queue=name) == 0, name
        assert client.get("/healthz", headers={"X-Correlation-ID": "abc"}).headers["X-Correlation-ID"] == "abc"
    assert logs.current_correlation_id() is None, "the request's id does not leak past the request"


def test_data_dir_databases_and_secrets_are_private(tmp_path, redis_url):
    import stat

    from services.ingest.app import create_app
    from shared.config import load_settings

    data = tmp_path / "data"
    settings = load_settings({"DATA_DIR": str(data), "REDIS_URL": redis_url})  # secrets generated here
    create_app({"SETTINGS": migrated(settings), "TESTING": True})
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(data) == 0o700
    assert mode(data / "secrets.json") == 0o600
    assert mode(data / "ingest.db") == 0o600


def test_a_metrics_token_of_its_own_replaces_the_api_token(tmp_path, redis_url):
    from services.rendering.app import create_app

    settings = unit_settings(tmp_path, redis_url, METRICS_TOKEN="scrape-only")
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    assert client.get("/metrics", headers={"Authorization": f"Bearer {settings.api_token}"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-only"}).status_code == 200
