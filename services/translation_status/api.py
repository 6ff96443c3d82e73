"""translation_status JSON API (bearer token): group statuses, translation requests, source diffs."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from shared.auth import require_token
from shared.errors import NotFound
from shared.runtime import runtime
from shared.web import int_arg, json_body

from . import status as svc
from .translations import place_request, source_changes

bp = Blueprint("translation_status_api", __name__, url_prefix="/api")


@bp.get("/groups/<group_id>")
@require_token
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
def overdue():
    """Translations past their due date, oldest due first (``translator=`` for one person's, ``limit``)."""
    with runtime().engine.begin() as conn:
        found = svc.overdue_translations(conn, translator=request.args.get("translator") or None,
                                         limit=int_arg("limit", 50, low=1, high=500))
    return jsonify(found)


@bp.post("/groups/<group_id>/translations")
@require_token
def request_translation(group_id: str):
    """Ask a translator (email) or a vendor for a language, with a due date; 201 with the new status."""
    return jsonify(place_request(runtime(), group_id, json_body(), request.headers.get("X-Requested-By", "api"))), 201


@bp.get("/groups/<group_id>/languages/<lang>/source-diff")
@require_token
def source_diff(group_id: str, lang: str):
    """What changed in the source since this language's translation was made."""
    return jsonify(source_changes(runtime(), group_id, lang))
