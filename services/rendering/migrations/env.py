"""Alembic environment of the rendering service (its own history and version table; see shared/migrate.py)."""
from shared.migrate import run_env

run_env("rendering")
