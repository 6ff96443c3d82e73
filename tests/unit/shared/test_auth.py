"""The one bearer-auth decorator: the service token, personal tokens where the app resolves them, 401 otherwise."""
from __future__ import annotations

from flask import Flask, g, jsonify

from shared.auth import TOKEN_RESOLVER, require_token
from shared.web import register_errors


def _app(resolver=None) -> Flask:
    app = Flask(__name__)
    app.config["API_TOKEN"] = "service-token"
    register_errors(app)
    if resolver is not None:
        app.extensions[TOKEN_RESOLVER] = resolver

    @app.get("/api/who")
    @require_token
    def who():
        return jsonify({"actor": g.actor, "role": g.role})

    return app


def test_the_service_token_acts_as_api_with_the_admin_role():
    resp = _app().test_client().get("/api/who", headers={"Authorization": "Bearer service-token"})
    assert resp.status_code == 200 and resp.json == {"actor": "api", "role": "admin"}


def test_personal_tokens_act_as_their_user_only_where_the_app_resolves_them():
    people = {"p-1": ("ayse@example.org", "editor")}
    with_resolver = _app(people.get).test_client()
    assert with_resolver.get("/api/who", headers={"Authorization": "Bearer p-1"}).json == {
        "actor": "ayse@example.org", "role": "editor"}
    unknown = with_resolver.get("/api/who", headers={"Authorization": "Bearer p-2"})
    assert unknown.status_code == 401 and "personal token" in unknown.json["error"]
    assert _app().test_client().get("/api/who", headers={"Authorization": "Bearer p-1"}).status_code == 401


def test_missing_or_malformed_authorization_is_401_saying_what_to_send():
    client = _app().test_client()
    for header in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}, {"Authorization": "service-token"}):
        resp = client.get("/api/who", headers=header)
        assert resp.status_code == 401 and "Authorization: Bearer" in resp.json["error"], header


def test_a_password_reset_token_names_its_reset_and_is_refused_forged_from_another_key_or_old(monkeypatch):
    import time

    from shared.auth import password_reset_token, read_password_reset_token

    token = password_reset_token("key", "reset-1")
    assert read_password_reset_token("key", token, 60) == "reset-1"
    assert read_password_reset_token("other-key", token, 60) is None
    assert read_password_reset_token("key", token[:-2] + "xx", 60) is None
    assert read_password_reset_token("key", "not-a-token", 60) is None
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert read_password_reset_token("key", token, 60) is None, "older than the expiry"
