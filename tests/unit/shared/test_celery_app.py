"""Celery safety for every app, every task and every countdown (``shared/celery_app.py``)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.celery_app import beat_schedule, task_options
from shared.config import load_settings

ROOT = Path(__file__).resolve().parents[3]


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
