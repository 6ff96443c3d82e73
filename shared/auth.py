"""Who is asking: bearer tokens on the JSON APIs, editor sessions on the forms, for all four web apps.

JSON APIs take ``Authorization: Bearer <API_TOKEN>`` (acting as ``api`` with the admin role); a
service that knows personal tokens (ingest) gives its app factory a resolver, and the same
decorator lets those act as their user and role.

ingest owns the users and the login form; it puts ``{"name", "role"}`` in Flask's signed session
cookie. Every service signs cookies with the same ``SECRET_KEY`` and cookie name, and browsers
send a host's cookies to every port of it, so one login works on all four services' forms.
"""
from __future__ import annotations

import functools
import hmac
from typing import Callable, Optional
from urllib.parse import urlencode

from flask import Flask, current_app, g, redirect, request, session
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from pathlib import Path

from shared.errors import ApiError
from shared.workflow import Role

SESSION_COOKIE = "pipeline_session"
SERVICE_ACTOR = "api"
TOKEN_RESOLVER = "pipeline_token_resolver"
# A resolver maps a personal token to (actor, role), or None when it is unknown.
TokenResolver = Callable[[str], Optional[tuple[str, str]]]
SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
csrf = CSRFProtect()


def require_token(view: Callable) -> Callable:
    """Bearer auth: the service token acts as ``api`` (admin); a personal token, where the app knows them, as its user.

    Sets ``g.actor`` and ``g.role``; anything else is a 401 saying what to send.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing bearer token; send 'Authorization: Bearer <API_TOKEN>'")
        if hmac.compare_digest(token.encode(), current_app.config["API_TOKEN"].encode()):
            g.actor, g.role = SERVICE_ACTOR, Role.ADMIN.value
        else:
            resolver: TokenResolver | None = current_app.extensions.get(TOKEN_RESOLVER)
            found = resolver(token) if resolver else None
            if found is None:
                raise ApiError(401, "wrong bearer token; send 'Authorization: Bearer <API_TOKEN>'"
                                    + (" or your personal token" if resolver else ""))
            g.actor, g.role = found
        return view(*args, **kwargs)

    return wrapper


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
