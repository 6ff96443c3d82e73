"""ingest JSON API: create, import, read, edit and move articles (bearer token)."""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from shared.events import aware
from shared.runtime import runtime
from shared.web import ApiError, json_body
from shared.workflow import ForbiddenTransition, IllegalTransition, Role, UnknownAction

from . import articles as svc
from . import importer, users
from .db import article_imports, articles, idempotency_keys

bp = Blueprint("ingest_api", __name__, url_prefix="/api")

API_ACTOR, API_ROLE = "api", Role.ADMIN


def require_actor(view):
    """Bearer auth: the service token acts as ``api`` (admin); a personal token acts as its user and role."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing bearer token; send 'Authorization: Bearer <API_TOKEN or personal token>'")
        if hmac.compare_digest(token.encode(), current_app.config["API_TOKEN"].encode()):
            g.actor, g.role = API_ACTOR, API_ROLE.value
        else:
            with runtime().engine.begin() as conn:
                user = users.user_for_token(conn, token)
            if user is None:
                raise ApiError(401, "unknown bearer token; use the API token or your personal token")
            g.actor, g.role = user["email"], user["role"]
        return view(*args, **kwargs)

    return wrapper
# status_code of an Idempotency-Key whose first request is still being processed.
PENDING = 0
# A pending key older than this belongs to a request that died; a repeat may take it over.
PENDING_TIMEOUT = timedelta(minutes=5)


def _article_or_404(conn, article_id: str) -> dict:
    try:
        return svc.get_article(conn, article_id)
    except svc.NotFound:
        raise ApiError(404, f"no article with id {article_id}")


def _invalid(exc: svc.InvalidInput) -> ApiError:
    return ApiError(422, exc.message, field=exc.field)


@bp.post("/articles")
@require_actor
def create_article():
    """Create a draft; honours ``Idempotency-Key`` (same key and body: the first answer again)."""
    rt = runtime()
    key = _idempotency_key()
    data = json_body()
    request_hash = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def work(remember):
        with _create_errors():
            fields = svc.parse_article_input(data, rt.settings.languages, max_body=rt.settings.max_body_bytes)
            with rt.transaction() as conn:
                article = svc.create_article(conn, fields, actor=g.actor, role=g.role, correlation_id=g.correlation_id)
                body = svc.to_json(article)
                remember(conn, 201, body)
        return jsonify(body), 201, {"Location": f"/api/articles/{article['id']}"}

    return _once(key, request_hash, work)


@bp.post("/articles/import")
@require_actor
def import_article():
    """Create a draft from a raw page (text/plain) or a saved page (text/html); 201 with the article and
    an ``import`` report; a page imported before answers 200 with that article (``?on_duplicate=revise``:
    a new revision of it)."""
    rt = runtime()
    key = _idempotency_key()
    text = _text_body(("text/plain", "text/html"))
    lang = request.args.get("lang") or None
    group_id = request.args.get("group_id") or None
    on_duplicate = request.args.get("on_duplicate") or None
    request_hash = hashlib.sha256(json.dumps(["import", lang, group_id, on_duplicate, request.mimetype, text],
                                             ensure_ascii=False).encode("utf-8")).hexdigest()

    def work(remember):
        with _create_errors():
            page = importer.parse_any(text, lang=lang, languages=rt.settings.languages,
                                      html=request.mimetype == "text/html")
            with rt.transaction() as conn:
                article, result = importer.import_page(
                    conn, text, page, on_duplicate=on_duplicate, group_id=group_id, languages=rt.settings.languages,
                    max_body=rt.settings.max_body_bytes, actor=g.actor, correlation_id=g.correlation_id)
                report = page.summary()
                if result["outcome"] != "created":
                    report.update(result)
                status = 201 if result["outcome"] == "created" else 200
                body = dict(svc.to_json(article), original_languages=page.original_languages, **{"import": report})
                remember(conn, status, body)
        return jsonify(body), status, {"Location": f"/api/articles/{article['id']}"}

    return _once(key, request_hash, work)


@contextmanager
def _create_errors() -> Iterator[None]:
    """Answer the service layer's refusals of a new article as 422 / 409."""
    try:
        yield
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    except svc.Conflict as exc:
        raise ApiError(409, str(exc), field="lang")
    except IntegrityError:
        raise ApiError(409, "a concurrent request created a conflicting article; retry")


def _text_body(types: tuple[str, ...] = ("text/plain",)) -> str:
    """The request body as text (of one of ``types``), or an ApiError naming what is wrong with it."""
    if request.mimetype not in types:
        raise ApiError(415, "send the raw page with 'Content-Type: text/plain; charset=utf-8' "
                            "(or a saved page with 'Content-Type: text/html; charset=utf-8')")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, f"charset {charset!r} is not supported; send the page as UTF-8")
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 (byte {exc.start}); send the page as UTF-8")


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ApiError(422, "Idempotency-Key is longer than 200 characters", field="Idempotency-Key")
    return key


def _once(key: str, request_hash: str, work):
    """Run ``work(remember)`` once per Idempotency-Key: a repeat gets the first answer, 409 while in flight.

    The key is recorded as pending and committed before the work starts, so a concurrent repeat sees
    it; ``remember`` stores the answer in the work's own transaction; a failure releases the key.
    """
    if not key:
        return work(lambda conn, status, body: None)
    if (stored := _claim_key(key, request_hash)) is not None:
        return stored

    def remember(conn, status: int, body: dict) -> None:
        conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key)
                     .values(status_code=status, response=body))

    try:
        return work(remember)
    except BaseException:
        with runtime().engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(and_(
                idempotency_keys.c.key == key, idempotency_keys.c.status_code == PENDING)))
        raise


def _claim_key(key: str, request_hash: str):
    """None when this request now owns ``key``; else the stored answer (or 409 / 422)."""
    now = svc.utcnow()
    for _ in range(2):
        try:
            with runtime().engine.begin() as conn:
                row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).mappings().first()
                if row is None:
                    conn.execute(idempotency_keys.insert().values(
                        key=key, request_hash=request_hash, status_code=PENDING, response={}, created_at=now))
                    return None
                if row["request_hash"] != request_hash:
                    raise ApiError(422, "this Idempotency-Key was used with a different body; use a new key",
                                   field="Idempotency-Key")
                if row["status_code"] != PENDING:
                    return jsonify(row["response"]), row["status_code"]
                if now - aware(row["created_at"]) > PENDING_TIMEOUT:
                    # The first request died mid-way (its process was killed): take the key over.
                    conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key).values(created_at=now))
                    return None
                raise ApiError(409, "a request with this Idempotency-Key is still being processed; "
                                    "retry in a moment to get its answer", field="Idempotency-Key",
                               retry_after_seconds=1)
        except IntegrityError:
            continue  # a concurrent request inserted the key first: read its row
    raise ApiError(409, "a concurrent request holds this Idempotency-Key; retry", field="Idempotency-Key")


@bp.get("/articles")
@require_actor
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
@require_actor
def get_article(article_id: str):
    """One article with its audit log."""
    with runtime().engine.begin() as conn:
        article = _article_or_404(conn, article_id)
        body = svc.to_json(article)
        imported = conn.execute(select(article_imports.c.original_languages)
                                .where(article_imports.c.article_id == article_id)).first()
        if imported:
            body["original_languages"] = imported[0]
        body["audit"] = [dict(e, at=svc.iso(e["at"])) for e in svc.audit_entries(conn, article_id)]
    return jsonify(body)


@bp.patch("/articles/<article_id>")
@require_actor
def update_article(article_id: str):
    """Edit an article: a new revision (the live page keeps the published one until republished)."""
    rt = runtime()
    try:
        changes = svc.parse_article_update(json_body(), rt.settings.languages, max_body=rt.settings.max_body_bytes)
        with rt.transaction() as conn:
            article = svc.update_article(conn, article_id, changes, actor=g.actor, correlation_id=g.correlation_id)
    except svc.InvalidInput as exc:
        raise _invalid(exc)
    except svc.NotFound:
        raise ApiError(404, f"no article with id {article_id}")
    except svc.Conflict as exc:
        raise ApiError(409, str(exc))
    return jsonify(svc.to_json(article))


@bp.post("/articles/<article_id>/transitions")
@require_actor
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
            article = svc.transition(conn, article_id, action, actor=g.actor, role=g.role,
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


@bp.post("/users")
@require_actor
def create_user():
    """Create an account (admins only); the answer carries its personal API token, shown once."""
    if g.role != Role.ADMIN:
        raise ApiError(403, "only admins may create accounts")
    data = json_body()
    try:
        with runtime().engine.begin() as conn:
            row = users.create_user(conn, str(data.get("email", "")), str(data.get("password", "")),
                                    str(data.get("role", "")), data.get("name"), str(data.get("lang") or "en"),
                                    with_token=True)
    except users.UserError as exc:
        field, _, message = str(exc).partition(": ")
        raise ApiError(422 if "already" not in message else 409, message, field=field)
    return jsonify({"email": row["email"], "name": row["name"], "role": row["role"], "lang": row["lang"],
                    "token": row["token"]}), 201


@bp.get("/articles/<article_id>/revisions")
@require_actor
def list_revisions(article_id: str):
    """Every revision of an article, oldest first (without bodies)."""
    with runtime().engine.begin() as conn:
        _article_or_404(conn, article_id)
        rows = svc.revision_list(conn, article_id)
    return jsonify({"revisions": rows})


@bp.get("/articles/<article_id>/diff")
@require_actor
def diff_revisions(article_id: str):
    """What changed between two revisions (``from`` and ``to``; default: the last two)."""
    with runtime().engine.begin() as conn:
        article = _article_or_404(conn, article_id)
        try:
            to = int(request.args.get("to", article["revision"]))
            start = int(request.args.get("from", max(1, to - 1)))
        except ValueError:
            raise ApiError(422, "from and to must be revision numbers", field="from")
        try:
            return jsonify(svc.diff(conn, article_id, start, to))
        except svc.NotFound as exc:
            raise ApiError(404, f"no revision {exc} of article {article_id}")
