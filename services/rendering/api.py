"""rendering JSON API (bearer token): what rendering did to an article's page, for the timeline."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select

from shared.auth import require_token
from shared.events import iso
from shared.openapi import Answer, operation
from shared.runtime import runtime

from .db import render_log

bp = Blueprint("rendering_api", __name__, url_prefix="/api")


class Render(Answer):
    """One render or removal of the page."""

    at: str


class RenderList(Answer):
    """Renders and removals, oldest first."""

    renders: list[Render]


@bp.get("/articles/<article_id>/renders")
@require_token
@operation(responses={200: RenderList})
def article_renders(article_id: str):
    """Every render and removal of an article's page, oldest first (for the timeline)."""
    with runtime().engine.begin() as conn:
        rows = conn.execute(select(render_log).where(render_log.c.article_id == article_id)
                            .order_by(render_log.c.id)).mappings().all()
    return jsonify({"renders": [dict(r, at=iso(r["at"])) for r in rows]})
