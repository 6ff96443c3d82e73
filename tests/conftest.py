"""Fixtures every test folder may use: the real stack's parts (``tests/stack.py``)."""
from tests.stack import receiver, redis_url, smtp_server, stack  # noqa: F401  (pytest fixtures)
