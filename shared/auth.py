"""Who is asking: bearer tokens on the JSON APIs, editor sessions on the forms, for all four web apps.

JSON APIs take ``Authorization: Bearer <API_TOKEN>`` (acting as ``api`` with the admin role); a
service that knows personal tokens (ingest) gives its app factory a resolver, and the same
decorator lets those act as their user and role.

Editor sessions are Flask-Login sessions kept on the server: ingest owns the users and the login
form; a login stores ``{email, name, role}`` in Redis under a random session token, and the signed
cookie (the same ``SECRET_KEY`` and cookie name on all four services, so one login works on every
service's pages) carries only that token. Every request reads the user from the server, so logging
out, deactivating a user or changing their role (ingest deletes their sessions) takes effect at
once, even for a copied cookie. Losing Redis logs everyone out; nothing else is lost.
"""
from __future__ import annotations

import functools
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import urlencode

import flask_login
import redis
from flask import Flask, current_app, g, redirect, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, FileSystemLoader
from pathlib import Path

from shared.config import Settings
from shared.errors import ApiError
from shared.throttle import Throttle
from shared.workflow import Role

log = logging.getLogger(__name__)

SESSION_COOKIE = "pipeline_session"
SERVICE_ACTOR = "api"
TOKEN_RESOLVER = "pipeline_token_resolver"
TOKEN_THROTTLE = "pipeline_token_throttle"
SESSIONS = "pipeline_sessions"
SESSION_TTL_SECONDS = 12 * 3600
RESET_SALT = "pipeline-password-reset"
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
        throttle: Throttle | None = current_app.extensions.get(TOKEN_THROTTLE)
        address = request.remote_addr or "unknown"
        if throttle is not None:
            throttle.check(address=address)
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
                if throttle is not None:
                    throttle.fail(address=address)
                raise ApiError(401, "wrong bearer token; send 'Authorization: Bearer <API_TOKEN>'"
                                    + (" or your personal token" if resolver else ""))
            g.actor, g.role = found
        return view(*args, **kwargs)

    wrapper.pipeline_auth = ("bearer token", "the API token (admin) or, on ingest, a personal token (its role)")
    return wrapper


def public(reason: str) -> Callable:
    """Mark a route that needs no credentials, saying why (the route review lists it)."""

    def decorate(view: Callable) -> Callable:
        view.pipeline_auth = ("none", reason)
        return view

    return decorate


@dataclass
class SessionUser(flask_login.UserMixin):
    """The user of an editor session, as the server holds it; ``id`` is the session token."""

    id: str
    email: str
    name: str
    role: str
    language: str | None = None  # the editor pages' language; None follows the browser

    def as_dict(self) -> dict:
        """``{"email", "name", "role", "language"}`` for templates and views."""
        return {"email": self.email, "name": self.name, "role": self.role, "language": self.language}


class SessionStore:
    """Editor sessions in Redis: token -> user, and user -> tokens so all of a user's sessions can end at once."""

    def __init__(self, redis_url: str, ttl_seconds: int = SESSION_TTL_SECONDS):
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        self.ttl = ttl_seconds

    @staticmethod
    def _key(token: str) -> str:
        return f"pipeline:session:{token}"

    @staticmethod
    def _user_key(email: str) -> str:
        return f"pipeline:user-sessions:{email.lower()}"

    def open(self, user: dict) -> SessionUser:
        """Start a session for ``user`` (email, name, role, language); return its user with a fresh token."""
        token = secrets.token_urlsafe(32)
        record = {"email": user["email"], "name": user["name"], "role": user["role"], "language": user.get("language")}
        pipe = self.redis.pipeline()
        pipe.set(self._key(token), json.dumps(record), ex=self.ttl)
        pipe.sadd(self._user_key(user["email"]), token)
        pipe.expire(self._user_key(user["email"]), self.ttl)
        pipe.execute()
        return SessionUser(token, **record)

    def load(self, token: str) -> SessionUser | None:
        """The session's user, None when it ended (logout, deactivation, role change) or expired."""
        try:
            raw = self.redis.get(self._key(token))
        except redis.RedisError as exc:
            log.error("sessions unavailable (Redis): %s; treating the visitor as logged out", exc)
            return None
        return SessionUser(token, **json.loads(raw)) if raw else None

    def set_language(self, email: str, language: str | None) -> None:
        """Change the language of every open session of ``email`` (the editor changed the setting)."""
        for raw_token in self.redis.smembers(self._user_key(email)):
            key = self._key(raw_token.decode())
            raw = self.redis.get(key)
            if raw:
                ttl = self.redis.ttl(key)
                self.redis.set(key, json.dumps(dict(json.loads(raw), language=language)), ex=max(ttl, 1))

    def end(self, token: str) -> None:
        """End one session (logout)."""
        raw = self.redis.get(self._key(token))
        self.redis.delete(self._key(token))
        if raw:
            self.redis.srem(self._user_key(json.loads(raw)["email"]), token)

    def end_all(self, email: str, keep: str | None = None) -> int:
        """End every session of ``email`` but ``keep`` (deactivation, role change, new password); return how many ended."""
        tokens = [t.decode() for t in self.redis.smembers(self._user_key(email))]
        ending = [t for t in tokens if t != keep]
        if ending:
            self.redis.delete(*[self._key(t) for t in ending])
            self.redis.srem(self._user_key(email), *ending)
        return len(ending)


def password_reset_token(secret_key: str, reset_id: str) -> str:
    """The signed, timestamped token of a password reset link; it names the reset, never the account."""
    return URLSafeTimedSerializer(secret_key, salt=RESET_SALT).dumps(reset_id)


def read_password_reset_token(secret_key: str, token: str, max_age_seconds: int) -> str | None:
    """The reset id a token signs, or None when it is forged, damaged or older than ``max_age_seconds``."""
    try:
        value = URLSafeTimedSerializer(secret_key, salt=RESET_SALT).loads(token, max_age=max_age_seconds)
    except BadData:
        return None
    return value if isinstance(value, str) else None


def sessions() -> SessionStore:
    """The current app's session store."""
    return current_app.extensions[SESSIONS]


def init_forms(app: Flask, service: str, settings: Settings) -> None:
    """CSRF protection, the server-side editor sessions and the shared base templates for a service's forms."""
    secure = any(u.startswith("https://") for u in (settings.site_url, *settings.service_urls.values()))
    # Set, not setdefault: Flask's defaults already hold these keys ("session", SameSite None).
    app.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure, REMEMBER_COOKIE_HTTPONLY=True)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    store = SessionStore(settings.redis_url)
    app.extensions[SESSIONS] = store
    manager = flask_login.LoginManager()
    manager.init_app(app)
    manager.user_loader(store.load)

    @manager.unauthorized_handler
    def _to_login():
        return redirect(f"{current_app.config['LOGIN_URL']}?{urlencode({'next': request.url})}")

    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(SHARED_TEMPLATES))])

    @app.context_processor
    def _nav():
        return {"service_name": service, "service_urls": settings.service_urls, "current_user": current_user()}


def current_user() -> dict | None:
    """The logged-in user ``{"email", "name", "role", "language"}`` (read from the server), or None."""
    user = flask_login.current_user
    return user.as_dict() if user and user.is_authenticated else None


def login_required(*roles: str) -> Callable:
    """Send anonymous visitors to the login form; refuse (403) roles not in ``roles`` when given."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return current_app.login_manager.unauthorized()
            if roles and user.get("role") not in roles:
                return gettext("Your role may not open this page."), 403
            return view(*args, **kwargs)

        wrapper.pipeline_auth = ("session", ", ".join(roles) if roles else "any logged-in role")
        return wrapper

    return decorate
