"""Placing translation requests and comparing a translation's source: the parts that read ingest's API.

translation_status does not own article content: the source article and its revisions are read
from ingest's JSON API (``shared.runtime.read_service``) when a request or a diff needs them.
"""
from __future__ import annotations

from sqlalchemy import and_, select

from shared.errors import InvalidInput, NotFound
from shared.runtime import Runtime, read_service

from . import status as svc
from .db import groups, statuses


def place_request(rt: Runtime, group_id: str, data: dict, requested_by: str) -> dict:
    """Validate and record a translation request (API and form alike); InvalidInput says what is wrong."""
    fields = svc.parse_request(data, rt.settings.languages)
    with rt.engine.begin() as conn:
        group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
    if group is None:
        raise InvalidInput("group_id", f"no translation group with id {group_id}", status=404)
    source = read_service("ingest", f"/api/articles/{group['source_article_id']}")
    with rt.transaction() as conn:
        return svc.request_translation(
            conn, group_id, fields, source, requested_by=requested_by,
            callback_url=f"{rt.settings.service_urls['translation_status']}/webhooks/translations")


def source_changes(rt: Runtime, group_id: str, lang: str) -> dict:
    """The diff (from ingest) between the source revision a translation follows and the current source."""
    with rt.engine.begin() as conn:
        group = conn.execute(select(groups).where(groups.c.group_id == group_id)).mappings().first()
        cell = conn.execute(select(statuses).where(and_(statuses.c.group_id == group_id, statuses.c.lang == lang))).mappings().first()
    # A published translation is compared from the source its live revision was made from, not from a
    # newer delivery that still waits for review.
    follows = (cell["live_source_hash"] or cell["source_hash"]) if cell else None
    if group is None or not follows:
        raise NotFound(f"no {lang} translation with a known source revision in group {group_id}")
    revs = read_service("ingest", f"/api/articles/{group['source_article_id']}/revisions")["revisions"]
    made_from = max((r["revision"] for r in revs if r["content_hash"] == follows), default=None)
    if made_from is None:
        raise NotFound("the source revision this translation was made from is unknown")
    current = revs[-1]["revision"]
    result = read_service("ingest", f"/api/articles/{group['source_article_id']}/diff?from={made_from}&to={current}")
    return dict(result, lang=lang, status=cell["status"], translated_from_revision=made_from, source_revision=current)
