"""ingest Flask app factory: editor pages, the JSON API, signed inbound webhooks and the create-user command."""
from __future__ import annotations

import os

import click
from flask import Flask
from sqlalchemy.exc import IntegrityError

from shared.errors import InvalidInput
from shared.factory import create_service_app
from shared.i18n import LOCALES
from shared.runtime import Runtime
from shared.throttle import Throttle

from . import api, users, views, webhooks
from .db import metadata


def create_app(test_config: dict | None = None) -> Flask:
    """The ingest web app; ``test_config`` may carry ``SETTINGS`` and Flask config overrides."""
    return create_service_app("ingest", metadata, import_name=__name__,
                              blueprints=[api.bp, webhooks.bp, views.bp],
                              csrf_exempt=[api.bp, webhooks.bp], token_resolver=users.token_resolver,
                              setup=_setup, test_config=test_config)


def _setup(app: Flask, rt: Runtime) -> None:
    """Create the first admin, the failed-login and password-reset throttles and the ``create-user`` command."""
    _first_admin(rt)
    app.extensions[users.LOGIN_THROTTLE] = (Throttle(rt.settings.redis_url, rt.settings.login_throttle, "login"),
                                            Throttle(rt.settings.redis_url, rt.settings.login_address_throttle, "login"))
    app.extensions[users.RESET_THROTTLE] = Throttle(rt.settings.redis_url, rt.settings.password_reset_throttle,
                                                    "password-reset")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", default="editor", type=click.Choice(users.ROLES))
    @click.option("--name", default=None)
    @click.option("--language", default=None, type=click.Choice(LOCALES),
                  help="the editor pages' language (default: the browser's)")
    @click.password_option()
    def create_user_command(email, role, name, language, password):
        """Create an editor account."""
        try:
            with rt.engine.begin() as conn:
                users.create_user(conn, email, password, role, name, language=language)
        except InvalidInput as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field)
        click.echo(f"created {role} {email}")


def _first_admin(rt: Runtime) -> None:
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
