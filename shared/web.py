"""Flask helpers every service uses: strict JSON and text bodies, errors answered as JSON once."""
from __future__ import annotations

import json
import logging

from flask import Flask, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from shared.errors import ApiError, InvalidInput

log = logging.getLogger(__name__)


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


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query argument within [low, high]; 422 naming it otherwise (never a 500)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().lstrip("-").isdigit() or len(raw) > 12:
        raise InvalidInput(name, f"must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(name, f"must be from {low} to {high}, not {value}")
    return value


def register_errors(app: Flask) -> None:
    """Answer API errors and HTTP errors on API routes as JSON."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if _wants_json():
            return jsonify(exc.body()), exc.status
        # An editor page that did not catch a refusal still says why, escaped.
        return f"<!DOCTYPE html><title>{exc.status}</title><p>{escape(exc.message)}</p>", exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            message = exc.description or exc.name
            if exc.code == 413:
                message = f"the body is larger than the limit of {app.config.get('MAX_CONTENT_LENGTH')} bytes"
            return jsonify({"error": message}), exc.code
        return exc


def _wants_json() -> bool:
    return (request.path.startswith(("/api/", "/webhooks/")) or request.path in ("/healthz", "/readyz", "/metrics")
            or request.accept_mimetypes.best == "application/json")
