"""notification Flask app factory: subscriptions, the delivery log and their JSON API."""
from __future__ import annotations

from flask import Flask

from shared.factory import create_service_app

from . import api, views
from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The notification web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    return create_service_app("notification", metadata, import_name=__name__, blueprints=[api.bp, views.bp],
                              csrf_exempt=[api.bp],
                              test_config=test_config)
