"""The translator dashboard: one row per translation group, one column per language."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from shared.auth import login_required
from shared.runtime import runtime

from . import status as svc
from .db import groups

bp = Blueprint("translation_ui", __name__)


@bp.get("/")
@login_required()
def dashboard():
    """Every group's per-language status, filterable by language and status."""
    rt = runtime()
    lang, status = request.args.get("lang", ""), request.args.get("status", "")
    overdue = request.args.get("overdue") == "1"
    with rt.engine.begin() as conn:
        ids = list(conn.execute(select(groups.c.group_id).order_by(groups.c.updated_at.desc()).limit(200)).scalars())
        rows = [svc.group_view(conn, gid, rt.settings.languages) for gid in ids]
    if lang or status or overdue:
        rows = [r for r in rows if any((not lang or code == lang) and (not status or cell["status"] == status)
                                       and (not overdue or cell["overdue"]) for code, cell in r["languages"].items())]
    return render_template("dashboard.html", rows=rows, languages=rt.settings.languages, statuses=svc.STATUSES,
                           filters={"lang": lang, "status": status, "overdue": overdue})


@bp.get("/groups/<group_id>/<lang>/changes")
@login_required()
def source_changes_page(group_id: str, lang: str):
    """What changed in the source since the translation was made (for needs_update cells)."""
    from .app import source_changes

    return render_template("changes.html", change=source_changes(group_id, lang), group_id=group_id)
