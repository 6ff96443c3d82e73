"""Celery entry point of the notification worker: ``celery -A services.notification.celeryapp worker -Q notification``."""
from services.notification.worker import create_worker

app = create_worker()
