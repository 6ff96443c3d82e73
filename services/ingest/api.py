"""ingest JSON API: create, read, edit and move articles (bearer token)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from shared.runtime import runtime
from shared.web import ApiError, json_body, require_token
from shared.workflow import ForbiddenTransition, IllegalTransition, Role, UnknownAction

from . import articles as svc
from .db import articles, idempotency_keys

bp = Blueprint("ingest_api", __name__, url_prefix="/api")

API_ACTOR, API_ROLE = "api", Role.ADMIN


def _invalid(exc: svc.InvalidInput) -> ApiError:
    return ApiError(422, exc.message, field=exc.field)


@bp.post("/articles")
@require_token
def create_article():
    """Create a draft; honours ``Idempotency-Key`` (same key and body: the first answer again)."""
    rt = runtime()
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ApiError(422, "Idempotency-Key is longer than 200 characters", field="Idempotency-Key")
    data = json_body()
    request_hash = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    if key:
        stored = _stored_answer(key, request_hash)
        if stored:
            return stored
    try:
        fields = svc.parse_article_input(data, rt.settings.languages, max_body=rt.settings.max_body_bytes)
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    try:
        with rt.transaction() as conn:
            article = svc.create_article(conn, fields, actor=API_ACTOR, correlation_id=g.correlation_id)
            body = svc.to_json(article)
            if key:
                conn.execute(idempotency_keys.insert().values(
                    key=key, request_hash=request_hash, status_code=201, response=body,
                    created_at=svc.utcnow(),
                ))
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    except svc.Conflict as exc:
        raise ApiError(409, str(exc), field="lang")
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key (or slug) won the race.
        if key and (stored := _stored_answer(key, request_hash)):
            return stored
        raise ApiError(409, "a concurrent request created a conflicting article; retry")
    return jsonify(body), 201, {"Location": f"/api/articles/{article['id']}"}


def _stored_answer(key: str, request_hash: str):
    with runtime().engine.begin() as conn:
        row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).mappings().first()
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        raise ApiError(422, "this Idempotency-Key was used with a different body; use a new key",
                       field="Idempotency-Key")
    return jsonify(row["response"]), row["status_code"]


@bp.get("/articles")
@require_token
def list_articles():
    """Articles, newest first, filterable by ``state``, ``lang`` and ``group_id``."""
    query = select(articles).order_by(articles.c.created_at.desc()).limit(min(int(request.args.get("limit", 100)), 500))
    for name in ("state", "lang", "group_id"):
        if request.args.get(name):
            query = query.where(articles.c[name] == request.args[name])
    with runtime().engine.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return jsonify({"articles": [svc.to_json(dict(r)) for r in rows]})


@bp.get("/articles/<article_id>")
@require_token
def get_article(article_id: str):
    """One article with its audit log."""
    with runtime().engine.begin() as conn:
        try:
            article = svc.get_article(conn, article_id)
        except svc.NotFound:
            raise ApiError(404, f"no article with id {article_id}")
        body = svc.to_json(article)
        body["audit"] = [dict(e, at=svc.iso(e["at"])) for e in svc.audit_entries(conn, article_id)]
    return jsonify(body)


@bp.patch("/articles/<article_id>")
@require_token
def update_article(article_id: str):
    """Edit an article: a new revision (the live page keeps the published one until republished)."""
    rt = runtime()
    try:
        changes = svc.parse_article_update(json_body(), rt.settings.languages, max_body=rt.settings.max_body_bytes)
        with rt.transaction() as conn:
            article = svc.update_article(conn, article_id, changes, actor=API_ACTOR, correlation_id=g.correlation_id)
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    except svc.NotFound:
        raise ApiError(404, f"no article with id {article_id}")
    except svc.Conflict as exc:
        raise ApiError(409, str(exc))
    return jsonify(svc.to_json(article))


@bp.post("/articles/<article_id>/transitions")
@require_token
def post_transition(article_id: str):
    """Apply a workflow action: 202 (the pipeline carries on), 409 illegal, 403 forbidden."""
    rt = runtime()
    data = json_body()
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise ApiError(422, "action is required, e.g. {\"action\": \"publish\"}", field="action")
    publish_at = None
    if data.get("publish_at") is not None:
        try:
            publish_at = datetime.fromisoformat(str(data["publish_at"]))
        except ValueError:
            raise ApiError(422, "publish_at must be an ISO date-time such as 2026-12-01T09:00:00+00:00",
                           field="publish_at")
        if publish_at.tzinfo is None:
            raise ApiError(422, "publish_at needs a timezone offset, e.g. +00:00", field="publish_at")
    try:
        with rt.transaction() as conn:
            if action in ("rendered", "render_failed", "publish_due"):
                raise ForbiddenTransition(action, API_ROLE)
            article = svc.transition(conn, article_id, action, actor=API_ACTOR, role=API_ROLE,
                                     site_url=rt.settings.site_url, correlation_id=g.correlation_id,
                                     publish_at=publish_at)
    except svc.NotFound:
        raise ApiError(404, f"no article with id {article_id}")
    except UnknownAction as exc:
        raise ApiError(422, str(exc), field="action")
    except IllegalTransition as exc:
        raise ApiError(409, str(exc), state=exc.state.value, allowed_actions=exc.allowed)
    except ForbiddenTransition as exc:
        raise ApiError(403, str(exc))
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    return jsonify(svc.to_json(article)), 202
