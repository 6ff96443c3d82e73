"""The one beat process: periodic outbox sweeps, webhook retries and due schedules for all services.

Run with ``celery -A shared.beat beat``; it only sends task names to their queues.
"""
from celery import Celery

from shared.celery_app import beat_schedule, make_celery
from shared.config import load_settings
from shared.logs import configure_logging


def create_beat() -> Celery:
    """A Celery app carrying the beat schedule (it registers no tasks)."""
    settings = load_settings()
    configure_logging("beat")
    app = make_celery("ingest", settings)
    app.conf.beat_schedule = beat_schedule(settings)
    app.conf.beat_schedule_filename = str(settings.data_dir / "celerybeat-schedule")
    return app


app = create_beat()
