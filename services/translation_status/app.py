"""translation_status Flask app factory: the translator dashboard, its JSON API and the vendor callback."""
from __future__ import annotations

from flask import Flask

from shared.factory import create_service_app

from . import api, views, webhooks
from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The translation_status web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    return create_service_app("translation_status", metadata, import_name=__name__,
                              blueprints=[api.bp, webhooks.bp, views.bp],
                              csrf_exempt=[api.bp, webhooks.bp], test_config=test_config)
