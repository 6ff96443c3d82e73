"""Code shared by the four services: config, workflow, events, task routing, Celery, outbox/inbox."""
