"""Celery entry point of the rendering worker: ``celery -A services.rendering.celeryapp worker -Q rendering``."""
from services.rendering.worker import create_worker

app = create_worker()
