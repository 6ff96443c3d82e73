"""ingest JSON API: create, import, read, edit and move articles (bearer token)."""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Iterator, Literal

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError

from shared.auth import require_token, sessions
from shared.content import Reference, parse_datetime
from shared.db import read_only
from shared.errors import ApiError, Conflict, InvalidInput, PreconditionFailed
from shared.events import aware, iso, utcnow
from shared.openapi import NAME, ONE_LINE, Answer, Body, Header, Link, Query, operation, site_language
from shared.runtime import runtime
from shared.web import json_body
from shared.workflow import TRANSITIONS, Role, State

from . import commands, importer, media, queries, users, wxr, wxr_jobs
from .db import article_imports, articles, idempotency_keys
from .validation import MAX_AUTHORS, MAX_CATEGORIES, MAX_TAGS, MAX_TITLE, parse_article_input, parse_article_update

bp = Blueprint("ingest_api", __name__, url_prefix="/api")

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
IDEMPOTENCY_KEY = Header("Idempotency-Key", False, "at most 200 characters; a repeat with the same key and body "
                                                   "gets the first answer, another body 422, while in flight 409")

BY_ID = {"article_id": "$response.body#/id"}
# What a client does with an article it just got: read it, edit it (with its ETag), move it, see its history.
ARTICLE_LINKS = {
    "GetArticle": Link("ingest_api.get_article", BY_ID),
    "EditArticle": Link("ingest_api.update_article", {**BY_ID, "header.If-Match": "$response.header.ETag"}),
    "MoveArticle": Link("ingest_api.post_transition", BY_ID),
    "ListRevisions": Link("ingest_api.list_revisions", BY_ID),
    "DiffRevisions": Link("ingest_api.diff_revisions", BY_ID),
}

# A tag or category name: one line of at most 60 characters (blank ones are dropped).
Name = Annotated[str, Field(max_length=60, pattern=NAME)]


class Author(Body):
    """An author; ``bio_lang`` says which language the bio is written in."""

    name: str = Field(max_length=200, pattern=ONE_LINE, examples=["A. Writer"])
    bio: str | None = Field(None, max_length=5000)
    bio_lang: str | None = site_language(None)


class ArticleFields(Body):
    """The fields of an article that an edit may change (any subset, at least one)."""

    title: str = Field(None, max_length=MAX_TITLE, pattern=ONE_LINE, description="one line, no control characters")
    body: str = Field(None, pattern=r"\S", description="Markdown; footnote markers such as [1]; at most MAX_BODY_BYTES")
    author: Author = Field(None, description="the main author (the first of authors)")
    authors: list[Author] = Field(None, min_length=1, max_length=MAX_AUTHORS, description="the main author first")
    references: list[Reference] = Field(None, max_length=200)
    tags: list[Name] = Field(None, description=f"names; at most {MAX_TAGS} distinct")
    categories: list[Name] = Field(None, description=f"names; at most {MAX_CATEGORIES} distinct")
    featured_image: str | None = Field(None, pattern=UUID_PATTERN, description="the id of a media library image, "
                                       "or null for none; a translation takes its source's when it names none")


class NewArticle(ArticleFields):
    """A new article (a draft): language, title, body, author or authors, and optionally the rest."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["author"]}, {"required": ["authors"]}]})
    lang: str = site_language(description="one of the site's languages (LANGUAGES)", examples=["en"])
    title: str = Field(max_length=MAX_TITLE, pattern=ONE_LINE, description="one line, no control characters",
                       examples=["Water rights along the river"])
    body: str = Field(pattern=r"\S", description="Markdown; footnote markers such as [1]; at most MAX_BODY_BYTES",
                      examples=["Two provinces share one river.[1]"])
    group_id: str | None = Field(None, pattern=UUID_PATTERN, description="the translation group to join")


class Article(Answer):
    """An article at its newest revision."""

    id: str
    group_id: str
    lang: str
    title: str
    state: str
    revision: int


class ArticleWithAudit(Article):
    """An article with its audit log."""

    audit: list[Answer]


class ArticleList(Answer):
    """Articles, newest first, and the cursor of the next page (null on the last)."""

    articles: list[Article]
    next_cursor: str | None = None


class ArticleQuery(Query):
    """Filters and paging of the article list."""

    limit: int = Field(100, ge=1, le=500)
    state: State | None = None
    lang: str | None = Field(None, max_length=8)
    group_id: str | None = Field(None, max_length=36)
    author: str | None = Field(None, max_length=200, description="part of an author's name")
    q: str | None = Field(None, max_length=500, description="words to find in titles, bodies, authors and references")
    cursor: str | None = Field(None, max_length=200, description="the previous page's next_cursor")


class ImportQuery(Query):
    """Options of a page import."""

    lang: str | None = Field(None, max_length=8, description="the page's language when detection should not decide")
    group_id: str | None = Field(None, pattern=UUID_PATTERN, description="the translation group to join")
    on_duplicate: Literal["revise"] | None = Field(None, description="revise: a page imported before gets a new revision")


class WxrQuery(Query):
    """Options of a WordPress import."""

    lang: str | None = Field(None, max_length=8, description="the language of posts that name none")
    background: Literal["1", "true", "yes", "0", "false", "no"] | None = Field(None, description="run it as a job")
    filename: str | None = Field(None, max_length=200)


class WxrReport(Answer):
    """What happened to each post of a WordPress export."""


class WxrJob(Answer):
    """A background WordPress import."""

    id: str
    status: str


class Transition(Body):
    """A workflow action."""

    action: Literal[tuple(dict.fromkeys(t.action for t in TRANSITIONS))] = Field(
        description="an action of the workflow table (shared/workflow.py); who may take it depends on the role")
    publish_at: str | None = Field(None, json_schema_extra={"format": "date-time"},
                                   description="with schedule: when, with its offset (stored in UTC)")
    revision: int | None = Field(None, ge=1, description="the revision you looked at (refused when newer exists)")


class NewUser(Body):
    """An account."""

    email: str = Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=10, max_length=1000)
    role: Literal["author", "editor", "translator", "admin"]
    name: str | None = Field(None, max_length=200)
    lang: str | None = Field(None, max_length=8, description="the language of the emails the account gets")
    language: Literal["en", "tr", "ru"] | None = Field(None, description="the language of the editor pages; "
                                                      "none: follow the browser")


class User(Answer):
    """An account; ``token`` (its personal API token) only in the answer that created it."""

    email: str
    role: str


class UserChange(Body):
    """A change of an account's role, or its deactivation."""

    role: Literal["author", "editor", "translator", "admin"] | None = None
    active: bool | None = None


class RevisionList(Answer):
    """Revisions, oldest first."""

    revisions: list[Answer]


class DiffQuery(Query):
    """Two revisions to compare (default: the last two)."""

    start: int | None = Field(None, alias="from", ge=1)
    to: int | None = Field(None, ge=1)


class Diff(Answer):
    """What changed between two revisions."""

# status_code of an Idempotency-Key whose first request is still being processed.
PENDING = 0
# A pending key older than this belongs to a request that died; a repeat may take it over.
PENDING_TIMEOUT = timedelta(minutes=5)


@bp.post("/articles")
@require_token
@operation(body=NewArticle, headers=(IDEMPOTENCY_KEY,), responses={201: Article}, links=ARTICLE_LINKS)
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
        return jsonify(body), 201, {"Location": f"/api/articles/{article['id']}", "ETag": commands.revision_etag(article)}

    return _once(key, request_hash, work)


@bp.post("/articles/import")
@require_token
@operation(query=ImportQuery, raw_body=("text/plain", "text/html"), headers=(IDEMPOTENCY_KEY,),
           responses={200: Article, 201: Article}, links=ARTICLE_LINKS)
def import_article():
    """Create a draft from a raw page (text/plain) or a saved page (text/html); 201 with the article and
    an ``import`` report; a page imported before answers 200 with that article (``?on_duplicate=revise``:
    a new revision of it)."""
    rt = runtime()
    key = _idempotency_key()
    text = _text_body(("text/plain", "text/html"))
    lang, group_id, on_duplicate = g.query.lang or None, g.query.group_id or None, g.query.on_duplicate
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
        return jsonify(body), status, {"Location": f"/api/articles/{article['id']}", "ETag": commands.revision_etag(article)}

    return _once(key, request_hash, work)


@bp.post("/articles/import-wxr")
@require_token
@operation(query=WxrQuery, raw_body=("application/xml", "text/xml", "application/rss+xml"),
           responses={200: WxrReport, 202: WxrJob},
           links={"GetJob": Link("ingest_api.get_wxr_job", {"job_id": "$response.body#/id"})})
def import_wxr():
    """Import a WordPress export (the XML as the body): 200 with the per-post report, or with
    ``?background=1`` (or a body over 1 MB) 202 with a job to follow at ``GET /api/wxr-jobs/<id>``."""
    rt = runtime()
    request.max_content_length = wxr_jobs.MAX_UPLOAD_BYTES
    if request.mimetype not in ("application/xml", "text/xml", "application/rss+xml"):
        raise ApiError(415, "send the export with 'Content-Type: application/xml'")
    lang = g.query.lang or None
    if lang is not None and lang not in rt.settings.languages:
        raise InvalidInput("lang", f"{lang!r} is not a site language; use one of {', '.join(rt.settings.languages)}")
    path, size = wxr_jobs.save_upload(rt, request.stream)
    if g.query.background in ("1", "true", "yes") or size > wxr_jobs.INLINE_MAX_BYTES:
        job_id = wxr_jobs.create_job(rt, path, size, g.query.filename or "export.xml",
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
@operation(responses={200: WxrJob})
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
@operation(query=ArticleQuery, responses={200: ArticleList})
def list_articles():
    """Articles, newest first, filterable by ``state``, ``lang``, ``group_id``, ``author`` and ``q`` (full text),
    paged by ``cursor`` (the previous page's ``next_cursor``) and ``limit`` (1-500)."""
    limit = g.query.limit
    filters = {name: getattr(g.query, name) or "" for name in queries.LIST_FILTERS}
    filters = {name: (value.value if isinstance(value, State) else value).strip() for name, value in filters.items()}
    with runtime().engine.begin() as conn:
        rows, after = queries.page_articles(conn, [articles], order="created_at", filters=filters, limit=limit,
                                            cursor=g.query.cursor or None,
                                            languages=runtime().settings.languages)
    return jsonify({"articles": [queries.to_json(r) for r in rows], "next_cursor": after})


@bp.get("/articles/<article_id>")
@require_token
@operation(responses={200: ArticleWithAudit}, links=ARTICLE_LINKS)
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
@operation(body=ArticleFields, responses={200: Article}, headers=(Header(
    "If-Match", True, "the ETag of the revision the edit was made on (GET answers it); 412 when stale, 428 without"),),
    links=ARTICLE_LINKS)
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
@operation(body=Transition, responses={202: Article}, links=ARTICLE_LINKS)
def post_transition(article_id: str):
    """Apply a workflow action: 202 (the pipeline carries on), 409 illegal, 403 forbidden."""
    rt = runtime()
    asked: Transition = g.body
    publish_at = parse_datetime(asked.publish_at, "publish_at", naive_is_utc=False)
    with rt.transaction() as conn:
        article = commands.transition(conn, article_id, asked.action, actor=g.actor, role=g.role,
                                      site_url=rt.settings.site_url, publish_at=publish_at,
                                      expected_revision=asked.revision)
    return jsonify(queries.to_json(article)), 202, {"ETag": commands.revision_etag(article)}


class MediaUpload(BaseModel):
    """An image and its texts; ``alt_<lang>`` and ``caption_<lang>`` per site language are taken too."""

    model_config = ConfigDict(extra="allow")
    file: str = Field(json_schema_extra={"format": "binary"}, description="JPEG, PNG, WebP or GIF, judged by content")
    alt: str | None = Field(None, max_length=500, description="alt text in ``lang``")
    lang: str | None = Field(None, max_length=8, description="the language of alt and caption (default: the first site language)")
    caption: str | None = Field(None, max_length=1000)
    credit: str | None = Field(None, max_length=300)


class MediaImage(Answer):
    """A library image: its id, size, per-language alt texts and captions, and the URL of its shared variant."""

    id: str
    width: int
    height: int
    alt: dict[str, str]
    share_url: str


class MediaList(Answer):
    """The newest library images."""

    images: list[MediaImage]


class MediaListQuery(Query):
    """How many images."""

    limit: int = Field(100, ge=1, le=500)


class MediaTexts(Body):
    """Alt texts, captions and credit to set; ``alt_<lang>`` and ``caption_<lang>`` per site language too."""

    model_config = ConfigDict(extra="allow", strict=True)
    lang: str | None = Field(None, max_length=8)
    alt: str | None = Field(None, max_length=500)
    caption: str | None = Field(None, max_length=1000)
    credit: str | None = Field(None, max_length=300)


@bp.post("/media")
@require_token
@operation(form=MediaUpload, responses={200: MediaImage, 201: MediaImage})
def upload_media():
    """Add an image to the media library: multipart with the image in ``file``, its alt text in ``alt`` (for
    ``lang``, default the first site language) or ``alt_<lang>``, ``caption``/``caption_<lang>``, ``credit``;
    201 with the image (200 with the library's row when the same image was uploaded before)."""
    rt = runtime()
    request.max_content_length = rt.settings.max_image_bytes + 1_000_000
    image, created = media.upload_image(rt, request.files.get("file"), request.form,
                                        default_lang=request.form.get("lang"), actor=g.actor)
    return jsonify(media.to_json(image, rt.settings.site_url)), 201 if created else 200, {
        "Location": f"/api/media/{image['id']}"}


@bp.get("/media")
@require_token
@operation(query=MediaListQuery, responses={200: MediaList})
def list_media():
    """The newest library images (``?limit=``, at most 500)."""
    rt = runtime()
    limit = g.query.limit
    with read_only(rt.engine) as conn:
        return jsonify({"images": [media.to_json(i, rt.settings.site_url) for i in media.list_images(conn, limit)]})


@bp.get("/media/<image_id>")
@require_token
@operation(responses={200: MediaImage})
def get_media(image_id: str):
    """One library image."""
    rt = runtime()
    with read_only(rt.engine) as conn:
        return jsonify(media.to_json(media.get_image(conn, image_id), rt.settings.site_url))


@bp.patch("/media/<image_id>")
@require_token
@operation(body=MediaTexts, responses={200: MediaImage})
def patch_media(image_id: str):
    """Set alt texts (``alt_<lang>``, or ``alt`` with ``lang``), captions and the credit; an empty text removes it."""
    rt = runtime()
    data = json_body()
    known = {"lang", "alt", "caption", "credit"} | {f"{k}_{lang}" for k in ("alt", "caption") for lang in rt.settings.languages}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field; known fields are {', '.join(sorted(known))}")
    texts = media.parse_texts(data, rt.settings.languages, default_lang=data.get("lang") or rt.settings.languages[0],
                              partial=True)
    with rt.transaction() as conn:
        image = media.update_texts(conn, image_id, texts)
    return jsonify(media.to_json(image, rt.settings.site_url))


@bp.post("/users")
@require_token
@operation(body=NewUser, responses={201: User},
           links={"ChangeUser": Link("ingest_api.change_user", {"email": "$response.body#/email"})})
def create_user():
    """Create an account (admins only); the answer carries its personal API token, shown once."""
    if g.role != Role.ADMIN:
        raise ApiError(403, "only admins may create accounts")
    new: NewUser = g.body
    with runtime().engine.begin() as conn:
        row = users.create_user(conn, new.email, new.password, new.role, new.name, new.lang or "en", with_token=True,
                                language=new.language or None)
    return jsonify({"email": row["email"], "name": row["name"], "role": row["role"], "lang": row["lang"],
                    "language": row["language"], "token": row["token"]}), 201


@bp.patch("/users/<email>")
@require_token
@operation(body=UserChange, responses={200: User})
def change_user(email: str):
    """Change an account's role or deactivate it (admins only); its sessions end at once and its token stops working."""
    if g.role != Role.ADMIN:
        raise ApiError(403, "only admins may change accounts")
    change: UserChange = g.body
    with runtime().engine.begin() as conn:
        row = users.change_user(conn, email, role=change.role, active=change.active)
    ended = sessions().end_all(row["email"])
    return jsonify({"email": row["email"], "role": row["role"], "active": row["active"], "sessions_ended": ended})


@bp.get("/articles/<article_id>/revisions")
@require_token
@operation(responses={200: RevisionList})
def list_revisions(article_id: str):
    """Every revision of an article, oldest first (without bodies)."""
    with runtime().engine.begin() as conn:
        queries.get_article(conn, article_id)
        rows = queries.revision_list(conn, article_id)
    return jsonify({"revisions": rows})


@bp.get("/articles/<article_id>/diff")
@require_token
@operation(query=DiffQuery, responses={200: Diff})
def diff_revisions(article_id: str):
    """What changed between two revisions (``from`` and ``to``; default: the last two)."""
    with runtime().engine.begin() as conn:
        article = queries.get_article(conn, article_id)
        newest = article["revision"]
        to = g.query.to if g.query.to is not None else newest
        start = g.query.start if g.query.start is not None else max(1, to - 1)
        for name, value in (("to", to), ("from", start)):
            if value > newest:
                raise InvalidInput(name, f"must be from 1 to {newest}, not {value}")
        return jsonify(queries.diff(conn, article_id, start, to))
