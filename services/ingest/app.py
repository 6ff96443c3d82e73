"""ingest Flask app factory."""
from __future__ import annotations

from flask import Flask

from shared.config import load_settings
from shared.runtime import build_runtime, init_flask

from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The ingest web app; ``test_config`` may carry ``SETTINGS`` and Flask config overrides."""
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("ingest", settings, metadata))
    from .api import bp as api_bp

    app.register_blueprint(api_bp)
    return app
