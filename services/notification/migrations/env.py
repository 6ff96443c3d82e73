"""Alembic environment of the notification service (its own history and version table; see deploy/migrate.py)."""
from deploy.migrate import run_env

run_env("notification")
