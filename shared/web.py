"""Flask helpers every service uses: bearer auth, JSON errors, strict JSON bodies, /healthz."""
from __future__ import annotations

import functools
import hmac
import json
import logging
from typing import Callable

import redis
from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered as JSON: ``{"error": message, "field": field}`` with ``status``."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra

    def response(self):
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return jsonify(body), self.status


def require_token(view: Callable) -> Callable:
    """Refuse the request with 401 unless it carries ``Authorization: Bearer $API_TOKEN``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        expected = current_app.config["API_TOKEN"]
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise ApiError(401, "missing or wrong bearer token; send 'Authorization: Bearer <API_TOKEN>'")
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    """The request body as a JSON object, or an ApiError naming what is wrong with it."""
    if not request.is_json:
        raise ApiError(415, "send the body as JSON with 'Content-Type: application/json'")
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8")
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except RecursionError:
        raise ApiError(400, "the JSON is nested too deeply; flatten it")
    if not isinstance(data, dict):
        raise ApiError(422, "the JSON body must be an object")
    return data


def register_errors(app: Flask) -> None:
    """Answer API errors and HTTP errors on API routes as JSON."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(("/api/", "/webhooks/")) or request.accept_mimetypes.best == "application/json":
            message = exc.description or exc.name
            if exc.code == 413:
                message = f"the body is larger than the limit of {app.config.get('MAX_CONTENT_LENGTH')} bytes"
            return jsonify({"error": message}), exc.code
        return exc


def ping_redis(url: str) -> None:
    """Raise unless Redis at ``url`` answers PING within a second."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def health_blueprint(service: str, checks: dict[str, Callable[[], None]]) -> Blueprint:
    """``GET /healthz``: 200 with each check's result, 503 when one fails."""
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        results, ok = {}, True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # a failing dependency is the answer, not a crash
                results[name] = f"error: {exc}"
                ok = False
        return jsonify({"service": service, "status": "ok" if ok else "degraded", "checks": results}), (
            200 if ok else 503
        )

    return bp


def verify_signed_request(secret: str) -> tuple[str, bytes]:
    """Check the request's Standard Webhooks signature (±5 minutes); return its webhook-id and raw body.

    Any malformed, missing, stale or wrong signature is a 401 naming the problem, never a 500.
    """
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    raw = request.get_data(cache=True)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        Webhook(secret).verify(raw, headers, json_parse=False)
    except (WebhookVerificationError, ValueError) as exc:
        raise ApiError(401, f"signature check failed ({exc}); sign the raw body with the shared secret as Standard Webhooks describes")
    return headers["webhook-id"][:200], raw
