"""ingest Flask app factory."""
from __future__ import annotations

import os

import click
from flask import Flask

from sqlalchemy.exc import IntegrityError

from shared.auth import csrf, init_forms
from shared.config import load_settings
from shared.observability import configure_logging
from shared.runtime import build_runtime, init_flask

from . import users
from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The ingest web app; ``test_config`` may carry ``SETTINGS`` and Flask config overrides."""
    configure_logging("ingest")
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)

    rt = build_runtime("ingest", settings, metadata)
    init_flask(app, rt)
    init_forms(app, "ingest", settings.service_urls)
    app.config.setdefault("LOGIN_URL", f"{settings.service_urls['ingest']}/login")
    from .api import bp as api_bp
    from .auth_views import bp as auth_bp
    from .inbound import bp as inbound_bp
    from .timeline import bp as timeline_bp
    from .views import bp as ui_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(inbound_bp)
    app.register_blueprint(timeline_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(ui_bp)
    csrf.exempt(api_bp)  # the JSON API authenticates by bearer token, not by cookie
    csrf.exempt(inbound_bp)  # webhooks authenticate by signature
    _first_admin(rt)

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", default="editor", type=click.Choice(users.ROLES))
    @click.option("--name", default=None)
    @click.password_option()
    def create_user_command(email, role, name, password):
        """Create an editor account."""
        with rt.engine.begin() as conn:
            users.create_user(conn, email, password, role, name)
        click.echo(f"created {role} {email}")

    return app


def _first_admin(rt) -> None:
    """Create the first admin from ADMIN_EMAIL / ADMIN_PASSWORD when there are no accounts yet."""
    email, password = os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD")
    if not (email and password):
        return
    try:
        with rt.engine.begin() as conn:
            if users.user_count(conn) == 0:
                users.create_user(conn, email, password, "admin", "Administrator")
    except IntegrityError:
        pass  # another process of this service created it at the same moment
