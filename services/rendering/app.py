"""rendering Flask app factory: the public site (static files from SITE_DIR), editors' previews and its API."""
from __future__ import annotations

from flask import Flask

from shared.factory import create_service_app

from . import api, views
from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The rendering web app; ``test_config`` may carry ``SETTINGS`` and Flask config overrides."""
    return create_service_app("rendering", metadata, import_name=__name__, blueprints=[api.bp, views.bp],
                              setup=_make_site_dir, test_config=test_config)


def _make_site_dir(_app: Flask, rt) -> None:
    rt.settings.site_dir.mkdir(parents=True, exist_ok=True)
