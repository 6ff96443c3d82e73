"""The translator dashboard: one row per translation group, one column per language."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from shared.auth import current_user, login_required
from shared.errors import InvalidInput
from shared.i18n import language_name
from shared.runtime import runtime

from . import status as svc
from .db import groups
from .forms import RequestForm
from .translations import place_request, source_changes

EDITORS = ("editor", "admin")

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
    return render_template("changes.html", change=source_changes(runtime(), group_id, lang), group_id=group_id)


@bp.route("/groups/<group_id>/request", methods=["GET", "POST"])
@login_required(*EDITORS)
def request_page(group_id: str):
    """Ask a translator or a vendor for one language of a group, with a due date."""
    rt = runtime()
    with rt.engine.begin() as conn:
        view = svc.group_view(conn, group_id, rt.settings.languages)
    if view is None:
        abort(404)
    form = RequestForm()
    form.lang.choices = [(code, language_name(code)) for code, cell in view["languages"].items()
                         if code != view["source_lang"] and cell["status"] in svc.REQUESTABLE]
    if request.method == "GET" and request.args.get("lang"):
        form.lang.data = request.args["lang"]
    status = 200
    if form.validate_on_submit():
        data = {"lang": form.lang.data, "translator": form.translator.data or None, "vendor": form.vendor.data or None,
                "due_at": form.due_at.data.isoformat() if form.due_at.data else None}
        try:
            place_request(rt, group_id, data, current_user()["email"])
        except InvalidInput as exc:
            target = getattr(form, exc.field, None) or form.lang
            target.errors = list(target.errors) + [exc.message]
            status = 400
        else:
            who = data["translator"] or data["vendor"]
            flash(gettext("The %(language)s translation was requested from %(who)s.", language=language_name(data["lang"]), who=who))
            return redirect(url_for(".dashboard"))
    elif request.method == "POST":
        status = 400
    source = view["languages"][view["source_lang"]] if view["source_lang"] else {}
    return render_template("request.html", form=form, view=view, source=source), status
