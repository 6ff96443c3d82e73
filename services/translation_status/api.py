"""translation_status JSON API (bearer token): group statuses, translation requests, source diffs."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from pydantic import ConfigDict, Field

from shared.auth import require_token
from shared.errors import NotFound
from shared.openapi import Answer, Body, Header, Query, operation, site_language
from shared.runtime import runtime
from shared.web import json_body

from . import status as svc
from .translations import place_request, source_changes

bp = Blueprint("translation_status_api", __name__, url_prefix="/api")


class Group(Answer):
    """A translation group: per language its status, article, revision, translator or vendor, due date."""

    group_id: str
    languages: dict[str, Answer]


class TranslationRequest(Body):
    """A translation asked of a translator (by email) or a vendor, not both."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["translator"]}, {"required": ["vendor"]}]})
    lang: str = site_language(description="one of the site's languages, not the group's source language")
    translator: str | None = Field(None, max_length=320, pattern="@", description="the translator's email address")
    vendor: str | None = Field(None, max_length=100, description="a vendor's name")
    due_at: str | None = Field(None, json_schema_extra={"format": "date-time"}, description="read as UTC without offset")


class Status(Answer):
    """One language's status after the request."""


class SourceDiff(Answer):
    """The source's diff since the revision a translation was made from."""

    lang: str
    status: str


class OverdueQuery(Query):
    """Whose overdue translations, and how many."""

    translator: str | None = Field(None, max_length=320, description="one translator's email address")
    limit: int = Field(50, ge=1, le=500)


class Overdue(Answer):
    """Translations past their due date, oldest due first, and how many there are in all."""

    count: int
    overdue: list[Answer]


@bp.get("/groups/<group_id>")
@require_token
@operation(responses={200: Group})
def get_group(group_id: str):
    """Languages, statuses, source hash and URLs of one translation group."""
    rt = runtime()
    with rt.engine.begin() as conn:
        view = svc.group_view(conn, group_id, rt.settings.languages)
    if view is None:
        raise NotFound(f"no translation group with id {group_id}")
    return jsonify(view)


@bp.get("/translations/overdue")
@require_token
@operation(query=OverdueQuery, responses={200: Overdue})
def overdue():
    """Translations past their due date, oldest due first (``translator=`` for one person's, ``limit``)."""
    with runtime().engine.begin() as conn:
        found = svc.overdue_translations(conn, translator=g.query.translator or None, limit=g.query.limit)
    return jsonify(found)


@bp.post("/groups/<group_id>/translations")
@require_token
@operation(body=TranslationRequest, responses={201: Status},
           headers=(Header("X-Requested-By", False, "who asked, for the audit (default: api)"),))
def request_translation(group_id: str):
    """Ask a translator (email) or a vendor for a language, with a due date; 201 with the new status."""
    return jsonify(place_request(runtime(), group_id, json_body(), request.headers.get("X-Requested-By", "api"))), 201


@bp.get("/groups/<group_id>/languages/<lang>/source-diff")
@require_token
@operation(responses={200: SourceDiff})
def source_diff(group_id: str, lang: str):
    """What changed in the source since this language's translation was made."""
    return jsonify(source_changes(runtime(), group_id, lang))
