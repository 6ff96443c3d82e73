"""Celery entry point of the translation_status worker: ``celery -A services.translation_status.celeryapp worker -Q translation_status``."""
from services.translation_status.worker import create_worker

app = create_worker()
