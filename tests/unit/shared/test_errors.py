"""One error hierarchy mapped to HTTP once: JSON on API routes, an escaped page elsewhere (``shared/errors.py``)."""
from __future__ import annotations

from flask import Flask

from shared.errors import ApiError, Conflict, InvalidInput, NotFound
from shared.web import register_errors
from shared.workflow import ForbiddenTransition, IllegalTransition, Role, State, UnknownAction


def _client(exc: Exception):
    app = Flask(__name__)
    register_errors(app)

    @app.get("/api/boom")
    @app.get("/page/boom")
    def boom():
        raise exc

    return app.test_client()


def test_each_error_class_answers_its_status_and_names_the_field():
    cases = [(InvalidInput("title", "must not be empty"), 422, "title"), (NotFound("no article"), 404, None),
             (Conflict("taken", field="lang"), 409, "lang"), (InvalidInput("email", "taken", status=409), 409, "email"),
             (UnknownAction("unknown action 'fly'"), 422, "action"),
             (ForbiddenTransition("approve", Role.AUTHOR), 403, None)]
    for exc, status, field in cases:
        resp = _client(exc).get("/api/boom")
        assert resp.status_code == status and resp.json["error"] == exc.message, exc
        assert resp.json.get("field") == field, exc


def test_an_illegal_transition_carries_the_state_and_the_allowed_actions():
    resp = _client(IllegalTransition("approve", State.DRAFT, ["submit", "publish"])).get("/api/boom")
    assert resp.status_code == 409
    assert resp.json["state"] == "draft" and resp.json["allowed_actions"] == ["submit", "publish"]


def test_outside_the_api_the_message_is_an_escaped_page():
    resp = _client(ApiError(400, "<script>alert(1)</script>")).get("/page/boom")
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert b"<script>" not in resp.data and b"&lt;script&gt;" in resp.data


def test_str_of_an_input_error_names_the_field():
    assert str(InvalidInput("references[2].url", "must be an absolute http(s) URL")) == (
        "references[2].url: must be an absolute http(s) URL")
