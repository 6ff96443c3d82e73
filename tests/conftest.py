"""Fixtures every test folder may use: the real stack's parts (``tests/stack.py``); the skipped-parts summary."""
from tests.stack import receiver, redis_url, smtp_server, stack  # noqa: F401  (pytest fixtures)

pytest_plugins = ["tests.skipped_parts"]
