"""Alembic environment of the rendering service (its own history and version table; see deploy/migrate.py)."""
from deploy.migrate import run_env

run_env("rendering")
