"""The one app factory and the one worker factory: every service is built the same way.

A service's ``app.py`` calls ``create_service_app`` with its name, tables and blueprints; its
``worker.py`` calls ``create_service_worker`` with its name, tables and ``register_tasks``. Both
build the service's ``Runtime`` (settings, engine, Celery app, outbox) and wire the same logging,
errors, health/readiness/metrics endpoints and correlation ids (in the spirit of Flask's
``celery_init_app``).
"""
from __future__ import annotations

import uuid
from typing import Callable, Iterable

from celery import Celery
from flask import Blueprint, Flask, g, request
from sqlalchemy import MetaData

from shared.auth import TOKEN_RESOLVER, TOKEN_THROTTLE, TokenResolver, csrf, init_forms
from shared.config import Settings, load_settings
from shared.db import check_db
from shared.health import ops_blueprint
from shared.i18n import init_i18n
from shared.logs import CORRELATION_HEADER, configure_logging, correlation_id, current_correlation_id
from shared.metrics import connect_signals, instrument_worker, set_metrics_redis
from shared.openapi import contract_blueprint
from shared.outbox import BackgroundRelay, pending_count
from shared.runtime import Runtime, build_runtime
from shared.throttle import Throttle
from shared.web import register_errors

# Flask config keys whose values come from the settings unless the caller (a test) set them.
_FROM_SETTINGS = (("SECRET_KEY", "secret_key"), ("API_TOKEN", "api_token"), ("MAX_CONTENT_LENGTH", "max_body_bytes"))


def create_service_app(service: str, metadata: MetaData, *, import_name: str, blueprints: Iterable[Blueprint],
                       csrf_exempt: Iterable[Blueprint] = (), editor_pages: bool = True,
                       token_resolver: Callable[[Runtime], TokenResolver] | None = None,
                       setup: Callable[[Flask, Runtime], None] | None = None,
                       test_config: dict | None = None) -> Flask:
    """A service's Flask app: runtime, JSON errors, correlation ids, /healthz, /readyz, /metrics, /openapi.json, blueprints.

    ``import_name`` is the service's app module (``__name__``): its folder holds the templates.
    ``test_config`` may carry ``SETTINGS`` and Flask config overrides. ``editor_pages`` adds the
    session login, CSRF, shared templates and the editor's language (Flask-Babel); blueprints in ``csrf_exempt`` authenticate by bearer
    token or signature instead of a cookie. ``token_resolver(rt)`` returns the function that maps
    a personal API token to ``(actor, role)``.
    """
    configure_logging(service)
    test_config = dict(test_config or {})
    settings: Settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(import_name)
    app.config.update(test_config)
    # Flask pre-sets some keys to None, so "setdefault" would not apply ours.
    for key, attr in _FROM_SETTINGS:
        if app.config.get(key) is None:
            app.config[key] = getattr(settings, attr)

    rt = build_runtime(service, settings, metadata)
    if rt.outbox is not None and settings.outbox_relay == "background":
        # A request answers once its transaction commits; the broker round trips happen after.
        rt.background = BackgroundRelay(rt.engine, rt.outbox, rt.celery)
    app.extensions["pipeline"] = rt
    register_errors(app)
    _bind_correlation_ids(app, settings.redis_url)
    app.register_blueprint(ops_blueprint(service, settings.redis_url, lambda: check_db(rt.engine),
                                         lambda: pending_count(rt.engine, rt.outbox) if rt.outbox is not None else 0,
                                         settings.metrics_token or app.config["API_TOKEN"]))
    app.extensions[TOKEN_THROTTLE] = Throttle(settings.redis_url, settings.token_throttle, "bearer-token")
    if editor_pages:
        init_forms(app, service, settings)
        init_i18n(app)
        app.config.setdefault("LOGIN_URL", f"{settings.service_urls['ingest']}/login")
    if token_resolver is not None:
        app.extensions[TOKEN_RESOLVER] = token_resolver(rt)
    app.register_blueprint(contract_blueprint(service))
    for bp in blueprints:
        app.register_blueprint(bp)
    for bp in csrf_exempt:
        csrf.exempt(bp)
    if setup is not None:
        setup(app, rt)
    return app


def _bind_correlation_ids(app: Flask, redis_url: str) -> None:
    """Every request runs under a correlation id (the caller's, or a new one) that is echoed back."""
    set_metrics_redis(redis_url)
    connect_signals()  # tasks sent while handling a request carry its correlation id too
    @app.before_request
    def _bind():
        incoming = request.headers.get(CORRELATION_HEADER, "")
        cid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else str(uuid.uuid4())
        g.correlation_token = correlation_id.set(cid)

    @app.after_request
    def _echo(response):
        response.headers[CORRELATION_HEADER] = current_correlation_id() or ""
        return response

    @app.teardown_request
    def _unbind(_exc):
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)


def create_service_worker(service: str, metadata: MetaData, register_tasks: Callable[[Celery, Runtime], None],
                          settings: Settings | None = None) -> Celery:
    """A service's Celery worker app with its tasks registered (explicitly) and instrumented."""
    rt = build_runtime(service, settings or load_settings(), metadata)
    register_tasks(rt.celery, rt)
    instrument_worker(rt.celery, service)
    return rt.celery
