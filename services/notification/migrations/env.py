"""Alembic environment of the notification service (its own history and version table; see shared/migrate.py)."""
from shared.migrate import run_env

run_env("notification")
