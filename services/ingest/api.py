"""ingest JSON API: create, import, read, edit and move articles (bearer token)."""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

from flask import Blueprint, g, jsonify, request
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from shared.auth import require_token, sessions
from shared.content import parse_datetime
from shared.errors import ApiError, Conflict, InvalidInput, PreconditionFailed
from shared.events import aware, iso, utcnow
from shared.runtime import runtime
from shared.web import int_arg, json_body
from shared.workflow import Role

from . import commands, importer, queries, users, wxr, wxr_jobs
from .db import article_imports, articles, idempotency_keys
from .validation import parse_article_input, parse_article_update

bp = Blueprint("ingest_api", __name__, url_prefix="/api")

# status_code of an Idempotency-Key whose first request is still being processed.
PENDING = 0
# A pending key older than this belongs to a request that died; a repeat may take it over.
PENDING_TIMEOUT = timedelta(minutes=5)


@bp.post("/articles")
@require_token
def create_article():
    """Create a draft; honours ``Idempotency-Key`` (same key and body: the first answer again)."""
    rt = runtime()
    key = _idempotency_key()
    data = json_body()
    request_hash = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def work(remember):
        with _create_errors():
            fields = parse_article_input(data, rt.settings.languages, max_body=rt.settings.max_body_bytes)
            with rt.transaction() as conn:
                article = commands.create_article(conn, fields, actor=g.actor, role=g.role)
                body = queries.to_json(article)
                remember(conn, 201, body)
        return jsonify(body), 201, {"Location": f"/api/articles/{article['id']}"}

    return _once(key, request_hash, work)


@bp.post("/articles/import")
@require_token
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
                    max_body=rt.settings.max_body_bytes, actor=g.actor, role=g.role)
                report = page.summary()
                if result["outcome"] != "created":
                    report.update(result)
                status = 201 if result["outcome"] == "created" else 200
                body = dict(queries.to_json(article), original_languages=page.original_languages, **{"import": report})
                remember(conn, status, body)
        return jsonify(body), status, {"Location": f"/api/articles/{article['id']}"}

    return _once(key, request_hash, work)


@bp.post("/articles/import-wxr")
@require_token
def import_wxr():
    """Import a WordPress export (the XML as the body): 200 with the per-post report, or with
    ``?background=1`` (or a body over 1 MB) 202 with a job to follow at ``GET /api/wxr-jobs/<id>``."""
    rt = runtime()
    request.max_content_length = wxr_jobs.MAX_UPLOAD_BYTES
    if request.mimetype not in ("application/xml", "text/xml", "application/rss+xml"):
        raise ApiError(415, "send the export with 'Content-Type: application/xml'")
    lang = request.args.get("lang") or None
    if lang is not None and lang not in rt.settings.languages:
        raise InvalidInput("lang", f"{lang!r} is not a site language; use one of {', '.join(rt.settings.languages)}")
    path, size = wxr_jobs.save_upload(rt, request.stream)
    if request.args.get("background") in ("1", "true", "yes") or size > wxr_jobs.INLINE_MAX_BYTES:
        job_id = wxr_jobs.create_job(rt, path, size, request.args.get("filename") or "export.xml",
                                     default_lang=lang, actor=g.actor, role=g.role)
        job = wxr_jobs.to_json(rt, wxr_jobs.get_job(rt, job_id), with_report=False)
        return jsonify(job), 202, {"Location": f"/api/wxr-jobs/{job_id}"}
    try:
        summary = wxr.import_wxr(rt, path, default_lang=lang, actor=g.actor, role=g.role)
    finally:
        path.unlink(missing_ok=True)
    return jsonify(summary)


@bp.get("/wxr-jobs/<job_id>")
@require_token
def get_wxr_job(job_id: str):
    """A background WordPress import: status, counts and the per-post report so far (first 500 rows)."""
    rt = runtime()
    return jsonify(wxr_jobs.to_json(rt, wxr_jobs.get_job(rt, job_id)))


@contextmanager
def _create_errors() -> Iterator[None]:
    """A unique-constraint race between two creations is a 409 the client can retry."""
    try:
        yield
    except IntegrityError:
        raise Conflict("a concurrent request created a conflicting article; retry")


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
        raise InvalidInput("Idempotency-Key", "is longer than 200 characters")
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
    now = utcnow()
    for _ in range(2):
        try:
            with runtime().engine.begin() as conn:
                row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).mappings().first()
                if row is None:
                    conn.execute(idempotency_keys.insert().values(
                        key=key, request_hash=request_hash, status_code=PENDING, response={}, created_at=now))
                    return None
                if row["request_hash"] != request_hash:
                    raise InvalidInput("Idempotency-Key", "this Idempotency-Key was used with a different body; use a new key")
                if row["status_code"] != PENDING:
                    return jsonify(row["response"]), row["status_code"]
                if now - aware(row["created_at"]) > PENDING_TIMEOUT:
                    # The first request died mid-way (its process was killed): take the key over.
                    conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key).values(created_at=now))
                    return None
                raise Conflict("a request with this Idempotency-Key is still being processed; "
                                    "retry in a moment to get its answer", field="Idempotency-Key",
                               retry_after_seconds=1)
        except IntegrityError:
            continue  # a concurrent request inserted the key first: read its row
    raise Conflict("a concurrent request holds this Idempotency-Key; retry", field="Idempotency-Key")


@bp.get("/articles")
@require_token
def list_articles():
    """Articles, newest first, filterable by ``state``, ``lang`` and ``group_id``."""
    query = select(articles).order_by(articles.c.created_at.desc()).limit(int_arg("limit", 100, low=1, high=500))
    for name in ("state", "lang", "group_id"):
        if request.args.get(name):
            query = query.where(articles.c[name] == request.args[name])
    with runtime().engine.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return jsonify({"articles": [queries.to_json(dict(r)) for r in rows]})


@bp.get("/articles/<article_id>")
@require_token
def get_article(article_id: str):
    """One article with its audit log."""
    with runtime().engine.begin() as conn:
        article = queries.get_article(conn, article_id)
        body = queries.to_json(article)
        imported = conn.execute(select(article_imports.c.original_languages)
                                .where(article_imports.c.article_id == article_id)).first()
        if imported:
            body["original_languages"] = imported[0]
        body["audit"] = [dict(e, at=iso(e["at"])) for e in queries.audit_entries(conn, article_id)]
    return jsonify(body), 200, {"ETag": commands.revision_etag(article)}


@bp.patch("/articles/<article_id>")
@require_token
def update_article(article_id: str):
    """Edit an article as a new revision; ``If-Match`` must carry the ETag of the revision the edit was made on.

    412 with the current revision when someone saved since, 428 without ``If-Match``; an approved or
    scheduled article goes back to review; the live page keeps the published revision until republished.
    """
    rt = runtime()
    base_revision = _if_match_revision(article_id)
    changes = parse_article_update(json_body(), rt.settings.languages, max_body=rt.settings.max_body_bytes)
    with rt.transaction() as conn:
        article = commands.update_article(conn, article_id, changes, actor=g.actor, role=g.role,
                                          base_revision=base_revision)
    return jsonify(queries.to_json(article)), 200, {"ETag": commands.revision_etag(article)}


def _if_match_revision(article_id: str) -> int:
    """The revision named by ``If-Match`` (the ETag GET answered); 428 when absent, 412 when it is not this article's."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(428, "send If-Match with the ETag of the revision you edited (GET /api/articles/<id> "
                            "answers it), so a newer save is never overwritten", field="If-Match")
    tag = header.removeprefix("W/").strip('"')
    prefix = f"{article_id}-r"
    if not tag.startswith(prefix) or not tag[len(prefix):].isdigit():
        raise PreconditionFailed(f"If-Match {header[:80]!r} is not an ETag of this article; GET it again for its ETag")
    return int(tag[len(prefix):])


@bp.post("/articles/<article_id>/transitions")
@require_token
def post_transition(article_id: str):
    """Apply a workflow action: 202 (the pipeline carries on), 409 illegal, 403 forbidden."""
    rt = runtime()
    data = json_body()
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidInput("action", "action is required, e.g. {\"action\": \"publish\"}")
    publish_at = parse_datetime(data.get("publish_at"), "publish_at", naive_is_utc=False)
    expected = data.get("revision")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 1):
        raise InvalidInput("revision", "must be the revision number you looked at, e.g. 3")
    with rt.transaction() as conn:
        article = commands.transition(conn, article_id, action, actor=g.actor, role=g.role,
                                      site_url=rt.settings.site_url, publish_at=publish_at, expected_revision=expected)
    return jsonify(queries.to_json(article)), 202


@bp.post("/users")
@require_token
def create_user():
    """Create an account (admins only); the answer carries its personal API token, shown once."""
    if g.role != Role.ADMIN:
        raise ApiError(403, "only admins may create accounts")
    data = json_body()
    with runtime().engine.begin() as conn:
        row = users.create_user(conn, str(data.get("email", "")), str(data.get("password", "")),
                                str(data.get("role", "")), data.get("name"), str(data.get("lang") or "en"),
                                with_token=True, language=data.get("language") or None)
    return jsonify({"email": row["email"], "name": row["name"], "role": row["role"], "lang": row["lang"],
                    "language": row["language"], "token": row["token"]}), 201


@bp.patch("/users/<email>")
@require_token
def change_user(email: str):
    """Change an account's role or deactivate it (admins only); its sessions end at once and its token stops working."""
    if g.role != Role.ADMIN:
        raise ApiError(403, "only admins may change accounts")
    data = json_body()
    unknown = sorted(set(data) - {"role", "active"})
    if unknown:
        raise InvalidInput(unknown[0], "unknown field; send role and/or active")
    with runtime().engine.begin() as conn:
        row = users.change_user(conn, email, role=data.get("role"), active=data.get("active"))
    ended = sessions().end_all(row["email"])
    return jsonify({"email": row["email"], "role": row["role"], "active": row["active"], "sessions_ended": ended})


@bp.get("/articles/<article_id>/revisions")
@require_token
def list_revisions(article_id: str):
    """Every revision of an article, oldest first (without bodies)."""
    with runtime().engine.begin() as conn:
        queries.get_article(conn, article_id)
        rows = queries.revision_list(conn, article_id)
    return jsonify({"revisions": rows})


@bp.get("/articles/<article_id>/diff")
@require_token
def diff_revisions(article_id: str):
    """What changed between two revisions (``from`` and ``to``; default: the last two)."""
    with runtime().engine.begin() as conn:
        article = queries.get_article(conn, article_id)
        to = int_arg("to", article["revision"], low=1, high=article["revision"])
        start = int_arg("from", max(1, to - 1), low=1, high=article["revision"])
        return jsonify(queries.diff(conn, article_id, start, to))
