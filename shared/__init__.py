"""Code shared by the four services: config, workflow, events, task routing, Celery, outbox/inbox."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("policy-pipeline")  # pyproject.toml's version, the one place it is written
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
