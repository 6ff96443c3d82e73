"""Server-rendered editor pages of ingest (the article list; the full editor forms build on it)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import or_, select

from shared.auth import login_required
from shared.runtime import runtime
from shared.workflow import State

from .db import articles

bp = Blueprint("ingest_ui", __name__)


@bp.get("/")
@bp.get("/articles")
@login_required()
def article_list():
    """Articles, newest first, filterable by state, language, author and text."""
    filters = {k: request.args.get(k, "").strip() for k in ("state", "lang", "author", "q")}
    query = select(articles).order_by(articles.c.updated_at.desc()).limit(200)
    if filters["state"]:
        query = query.where(articles.c.state == filters["state"])
    if filters["lang"]:
        query = query.where(articles.c.lang == filters["lang"])
    if filters["q"]:
        like = f"%{filters['q']}%"
        query = query.where(or_(articles.c.title.ilike(like), articles.c.body.ilike(like)))
    with runtime().engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    if filters["author"]:
        rows = [r for r in rows if filters["author"].lower() in r["author"].get("name", "").lower()]
    return render_template("articles.html", rows=rows, filters=filters, states=[s.value for s in State],
                           languages=runtime().settings.languages)
