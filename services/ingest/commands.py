"""Changes to articles: create, edit (a new revision) and workflow transitions, each with its outbox event.

Every function takes an open connection (the caller's transaction) and writes its events to the
outbox in that same transaction; the entry points commit and then relay."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from shared import events as ev
from shared import workflow
from shared.errors import Conflict, InvalidInput, PreconditionFailed
from shared.events import iso, utcnow
from shared.markup import content_hash, make_slug, markdown_to_html
from shared.outbox import emit
from shared.workflow import Role, State

from . import media, search
from .db import articles, audit_log, outbox, revisions
from .queries import (editor_recipients, get_article, is_assigned, published_translations, source_article, source_lang,
                      source_revision)



def _unique_slug(conn: Connection, lang: str, title: str, exclude_id: str | None = None) -> str:
    base = make_slug(title)
    slug, n = base, 1
    while True:
        query = select(articles.c.id).where(and_(articles.c.lang == lang, articles.c.slug == slug))
        if exclude_id:
            query = query.where(articles.c.id != exclude_id)
        if conn.execute(query).first() is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def next_seq(conn: Connection, article_id: str) -> int:
    """Bump and return the article's sequence number (in the caller's transaction, with the event it numbers)."""
    # An UPDATE, not read-then-write: concurrent transactions on one article queue on the row lock,
    # so seq order is commit order.
    conn.execute(update(articles).where(articles.c.id == article_id).values(seq=articles.c.seq + 1))
    return conn.execute(select(articles.c.seq).where(articles.c.id == article_id)).scalar_one()


def waiting_revision(article: dict) -> int | None:
    """The revision saved after the approved one that waits for an editor, while the article keeps its state."""
    if article["state"] in (State.APPROVED, State.SCHEDULED, State.PUBLISHED) and article["approved_revision"] is not None \
            and article["revision"] > article["approved_revision"]:
        return article["revision"]
    return None


def live_source_hash(conn: Connection, article: dict) -> str | None:
    """For a published translation: the source's hash its live revision was made from."""
    if article["is_source"] or article["published_revision"] is None:
        return None
    return conn.execute(select(revisions.c.source_hash).where(and_(
        revisions.c.article_id == article["id"], revisions.c.revision == article["published_revision"]))).scalar()


def event_fields(conn: Connection, article: dict, actor: str) -> dict:
    """The ArticleChanged fields of ``article``, numbered with the article's next seq."""
    return {
        "seq": next_seq(conn, article["id"]),
        "waiting_revision": waiting_revision(article),
        "live_source_hash": live_source_hash(conn, article),
        "article_id": article["id"],
        "group_id": article["group_id"],
        "lang": article["lang"],
        "state": article["state"],
        "revision": article["revision"],
        "content_hash": article["content_hash"],
        "title": article["title"],
        "is_source": bool(article["is_source"]),
        "source_lang": source_lang(conn, article["group_id"]) or article["lang"],
        "actor": actor,
        "source_hash": None if article["is_source"] else article["source_hash"],
        "source_revision": None if article["is_source"] else source_revision(conn, article["group_id"], article["source_hash"]),
    }


def create_article(conn: Connection, fields: dict, *, actor: str,
                   role: Role | str | None = None) -> dict:
    """Insert a draft (revision 1) and emit ArticleCreated; return the article (``role`` goes to the audit log)."""
    now = utcnow()
    group_id = fields["group_id"]
    is_source = True
    source_hash = None
    featured = media.check_featured(conn, fields.get("featured_image"))
    media.check_inline(conn, fields["body"])
    if group_id:
        siblings = conn.execute(
            select(articles.c.lang, articles.c.is_source, articles.c.content_hash, articles.c.featured_image)
            .where(articles.c.group_id == group_id)
        ).all()
        if not siblings:
            raise InvalidInput("group_id", "no article belongs to this group; create the source article first")
        if any(lang == fields["lang"] for lang, _, _, _ in siblings):
            raise Conflict(f"group {group_id} already has a {fields['lang']!r} version; edit that one instead", field="lang")
        is_source = False
        source_hash = next((h for _, src, h, _ in siblings if src), None)
        if "featured_image" not in fields:
            # Translations share the source's image (each language has its own alt text and caption).
            featured = next((f for _, src, _, f in siblings if src), None)
    else:
        group_id = str(uuid.uuid4())
    article_id = str(uuid.uuid4())
    digest = content_hash(fields["title"], fields["body"], fields["references"])
    row = {
        "id": article_id,
        "group_id": group_id,
        "lang": fields["lang"],
        "is_source": is_source,
        "slug": _unique_slug(conn, fields["lang"], fields["title"]),
        "title": fields["title"],
        "body": fields["body"],
        "body_html": markdown_to_html(fields["body"]),
        "author": (fields.get("authors") or [fields["author"]])[0],
        "authors": fields.get("authors") or [fields["author"]],
        "references": fields["references"],
        "tags": fields["tags"],
        "categories": fields.get("categories") or [],
        "state": State.DRAFT.value,
        "revision": 1,
        "content_hash": digest,
        "source_hash": source_hash,
        "featured_image": featured,
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(articles.insert().values(**row))
    search.index_article(conn, row)
    _add_revision(conn, row, actor, now)
    conn.execute(audit_log.insert().values(
        article_id=article_id, action="create", from_state=None, to_state=State.DRAFT.value,
        actor=actor, role=Role(role).value if role else (Role.ADMIN.value if actor == "api" else Role.AUTHOR.value),
        revision=1, at=now,
    ))
    article = get_article(conn, article_id)
    emit(conn, outbox, ev.ArticleCreated(**event_fields(conn, article, actor)))
    return article


def _add_revision(conn: Connection, row: dict, actor: str, now: datetime) -> None:
    conn.execute(revisions.insert().values(
        article_id=row["id"], revision=row["revision"], title=row["title"], body=row["body"],
        author=row["author"], authors=row["authors"], references=row["references"], tags=row["tags"],
        categories=row["categories"], content_hash=row["content_hash"], featured_image=row.get("featured_image"),
        source_hash=None if row["is_source"] else row.get("source_hash"), created_by=actor, created_at=now,
    ))


def check_edit(conn: Connection, article: dict, *, actor: str, role: Role | str) -> None:
    """Raise unless ``role`` acting as ``actor`` may edit ``article`` now (the one edit table in shared.workflow)."""
    own = article["created_by"] == actor
    assigned = Role(role) == Role.TRANSLATOR and not article["is_source"] and is_assigned(
        conn, article["group_id"], article["lang"], actor)
    workflow.may_edit(role, article["state"], own=own, assigned=assigned)


def update_article(conn: Connection, article_id: str, changes: dict, *, actor: str, role: Role | str,
                   base_revision: int | None = None, origin: str | None = None) -> dict:
    """Save an edit as a new revision, if ``role`` may edit the article and nobody saved since ``base_revision``.

    The state does not change: an approved or scheduled article keeps its approved revision (that is
    what a schedule or a publish ships) and the new revision waits for an editor's approval; a
    published article keeps its live revision until an editor publishes the new one. ``origin`` (a
    vendor delivery) opens the audit note of such an edit.
    """
    article = get_article(conn, article_id)
    check_edit(conn, article, actor=actor, role=role)
    if base_revision is not None and base_revision != article["revision"]:
        raise PreconditionFailed(
            f"revision {base_revision} is not the latest: revision {article['revision']} was saved since; "
            "load the article again and apply your change to it", current_revision=article["revision"],
            etag=revision_etag(article))
    merged = {k: changes.get(k, article[k]) for k in ("title", "body", "references", "tags", "categories")}
    merged["authors"] = _merged_authors(article, changes)
    merged["author"] = merged["authors"][0]
    merged["featured_image"] = (media.check_featured(conn, changes["featured_image"]) if "featured_image" in changes
                                else article["featured_image"])
    if "body" in changes:
        media.check_inline(conn, merged["body"])
    digest = content_hash(merged["title"], merged["body"], merged["references"])
    if digest == article["content_hash"] and all(merged[k] == article[k]
                                                 for k in ("authors", "tags", "categories", "featured_image")):
        return article
    now = utcnow()
    values = dict(merged, body_html=markdown_to_html(merged["body"]), content_hash=digest,
                  revision=article["revision"] + 1, updated_at=now)
    if not article["is_source"]:
        # A translator's edit brings the translation up to the source as it is now.
        source = source_article(conn, article["group_id"])
        values["source_hash"] = changes.get("source_hash") or (source["content_hash"] if source else None)
    conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
    search.index_article(conn, dict(article, **values))
    if article["approved_revision"] is not None and article["state"] in (State.APPROVED, State.SCHEDULED, State.PUBLISHED):
        kept = {State.APPROVED: "stays approved", State.SCHEDULED: "stays scheduled",
                State.PUBLISHED: "stays live"}[State(article["state"])]
        conn.execute(audit_log.insert().values(
            article_id=article_id, action="edit", from_state=article["state"], to_state=article["state"],
            actor=actor, role=Role(role).value, revision=values["revision"], at=now,
            note=(f"{origin}; " if origin else "")
            + f"revision {values['revision']} waits for approval; revision {article['approved_revision']} {kept}"))
    article = get_article(conn, article_id)
    _add_revision(conn, article, actor, now)
    emit(conn, outbox, ev.ArticleUpdated(**event_fields(conn, article, actor)))
    return article


def revision_etag(article: dict) -> str:
    """The ETag of an article's current revision (``If-Match`` on an edit must carry it)."""
    return f'"{article["id"]}-r{article["revision"]}"'


def revision_content(conn: Connection, article_id: str, revision: int) -> dict:
    """Title, body, author, references, tags and content hash of one stored revision."""
    row = conn.execute(select(revisions).where(and_(
        revisions.c.article_id == article_id, revisions.c.revision == revision))).mappings().one()
    return dict(row)


def _merged_authors(article: dict, changes: dict) -> list[dict]:
    """``authors`` as edited; an edit naming only ``author`` (older clients) replaces the first, keeping co-authors."""
    if "authors" in changes:
        return changes["authors"]
    if "author" in changes:
        first = changes["author"]
        return [first] + [a for a in article["authors"][1:] if a["name"] != first["name"]]
    return article["authors"]


def snapshot(conn: Connection, article: dict, revision: int | None = None) -> dict:
    """Everything rendering needs to render the approved revision of ``article`` (or ``revision``, for a
    preview), so it never reads this database."""
    published_at = article["published_at"] or utcnow()
    shipped = revision_content(conn, article["id"], revision or article["approved_revision"])
    return {
        "article_id": article["id"],
        "group_id": article["group_id"],
        "lang": article["lang"],
        "is_source": bool(article["is_source"]),
        "source_lang": source_lang(conn, article["group_id"]) or article["lang"],
        "slug": article["slug"],
        "title": shipped["title"],
        "body_html": markdown_to_html(shipped["body"]),
        "author": shipped["author"],  # the first of authors: what rendering shows today
        "authors": shipped["authors"] or [shipped["author"]],
        "references": shipped["references"],
        "tags": shipped["tags"],
        "categories": shipped["categories"] or [],
        # The images by id with this language's texts (bytes stay in the media store).
        "featured_image": shipped["featured_image"],
        "images": media.snapshot_images(conn, shipped["featured_image"], shipped["body"], article["lang"]),
        "revision": shipped["revision"],
        "published_at": iso(published_at),
        "updated_at": iso(article["updated_at"]),
    }


def transition(conn: Connection, article_id: str, action: str, *, actor: str, role: Role | str,
               site_url: str, url: str | None = None, error: str | None = None,
               publish_at: datetime | None = None, expected_revision: int | None = None) -> dict:
    """Apply ``action`` as ``role`` (the transition table decides), audit it and emit its event.

    ``expected_revision`` is the revision the person saw: acting on a newer one is refused (412).
    """
    article = get_article(conn, article_id)
    move = workflow.decide(article["state"], action, role)
    if action == "schedule" and publish_at is None:
        raise InvalidInput("publish_at", "scheduling needs publish_at, an ISO date-time with a timezone")
    now = utcnow()
    values: dict = {"state": move.target.value, "updated_at": now}
    note = None
    revision = article["revision"]
    if expected_revision is not None and expected_revision != revision:
        raise PreconditionFailed(f"you saw revision {expected_revision}, but revision {revision} was saved since; "
                                 "look at it before you act", current_revision=revision, etag=revision_etag(article))
    if action == "approve":
        if article["state"] == State.APPROVED and article["approved_revision"] == revision:
            raise Conflict(f"revision {revision} is already approved", field="action")
        values["approved_revision"] = revision
        note = f"approves revision {revision}"
    if action == "publish" and article["state"] in (State.DRAFT, State.IN_REVIEW, State.PUBLISHED):
        # An editor publishing from draft or review, or republishing an edited page, approves the
        # revision they publish.
        values["approved_revision"] = revision
        note = f"implicit approval of revision {revision} by publishing"
    if move.target == State.PUBLISHING:
        revision = values.get("approved_revision") or article["approved_revision"]
        if revision is None:
            raise Conflict("no approved revision to publish; approve the article first", field="action")
    if action in ("publish", "schedule"):
        # A person's decision; the due-schedule sweep (publish_due) ships what "schedule" checked.
        shipped_revision = values.get("approved_revision") or article["approved_revision"] or revision
        shipped = revision_content(conn, article_id, shipped_revision)
        if problem := media.missing_alt(conn, shipped["featured_image"], shipped["body"], article["lang"]):
            raise Conflict(f"cannot {action.replace('_', ' ')}: {problem}", field="featured_image")
    if move.target == State.PUBLISHING or action == "schedule":
        # Every move towards the live site names the revision it ships (the due sweep's too).
        note = (note + "; " if note else "") + f"ships revision {revision}"
    if action == "schedule":
        values["publish_at"] = publish_at
    if action in ("unschedule",):
        values["publish_at"] = None
    if action == "rendered":
        revision = article["approved_revision"]
        values.update(public_url=url, published_revision=revision, last_error=None)
        if article["published_at"] is None:
            values["published_at"] = now
    if action == "render_failed":
        values["last_error"] = error
        note = error
    conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
    conn.execute(audit_log.insert().values(
        article_id=article_id, action=action, from_state=article["state"], to_state=move.target.value,
        actor=actor, role=Role(role).value, revision=revision, note=note, at=now,
    ))
    article = get_article(conn, article_id)
    fields = event_fields(conn, article, actor)
    event_cls = ev.ACTION_EVENTS[action]
    if event_cls is ev.ArticlePublishRequested:
        shipped = dict(snapshot(conn, article), seq=fields["seq"])
        # The event names the revision it ships, so a stale render answer can be told apart.
        fields.update(revision=shipped["revision"],
                      content_hash=revision_content(conn, article["id"], shipped["revision"])["content_hash"])
        event = event_cls(**fields, snapshot=shipped)
    elif event_cls is ev.ArticlePublished:
        live = revision_content(conn, article["id"], article["published_revision"])
        event = event_cls(
            **fields, url=article["public_url"], slug=article["slug"],
            published_at=iso(article["published_at"]),
            image=media.published_image(conn, live["featured_image"], article["lang"], site_url),
            translations=published_translations(conn, article["group_id"], site_url),
        )
    elif event_cls is ev.ArticleUnpublished:
        event = event_cls(**fields, url=article["public_url"] or "", slug=article["slug"])
    elif event_cls is ev.ArticlePublishFailed:
        event = event_cls(**fields, error=error or "")
    elif event_cls is ev.ArticleSubmitted:
        event = event_cls(**dict(fields, recipients=editor_recipients(conn)))
    else:
        event = event_cls(**fields)
    emit(conn, outbox, event)
    return article
