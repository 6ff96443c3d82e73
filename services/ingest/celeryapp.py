"""Celery entry point of the ingest worker: ``celery -A services.ingest.celeryapp worker -Q ingest``."""
from services.ingest.worker import create_worker

app = create_worker()
