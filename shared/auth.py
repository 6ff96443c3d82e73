"""Editor sessions shared by the four web apps.

ingest owns the users and the login form; it puts ``{"name", "role"}`` in Flask's signed session
cookie. Every service signs cookies with the same ``SECRET_KEY`` and cookie name, and browsers
send a host's cookies to every port of it, so one login works on all four services' forms.
"""
from __future__ import annotations

import functools
from typing import Callable
from urllib.parse import urlencode

from flask import Flask, current_app, redirect, request, session
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from pathlib import Path

SESSION_COOKIE = "pipeline_session"
SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
csrf = CSRFProtect()


def init_forms(app: Flask, service: str, service_urls: dict) -> None:
    """CSRF protection, the shared session cookie and the shared base templates for a service's forms."""
    app.config.setdefault("SESSION_COOKIE_NAME", SESSION_COOKIE)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(SHARED_TEMPLATES))])

    @app.context_processor
    def _nav():
        return {"service_name": service, "service_urls": service_urls, "current_user": session.get("user")}


def current_user() -> dict | None:
    """The logged-in user ``{"name", "role"}`` or None."""
    return session.get("user")


def login_required(*roles: str) -> Callable:
    """Send anonymous visitors to the login form; refuse (403) roles not in ``roles`` when given."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                login = current_app.config["LOGIN_URL"]
                return redirect(f"{login}?{urlencode({'next': request.url})}")
            if roles and user.get("role") not in roles:
                return "Your role may not open this page.", 403
            return view(*args, **kwargs)

        return wrapper

    return decorate
