"""Server-rendered editor pages of ingest: login, article list, create/edit with preview, article page with
workflow buttons, audit log and revision diff, timeline, raw page import and WordPress (WXR) import.

Every page works without JavaScript: "Preview" and "Add a reference row" are submit buttons that
re-render the form. Views are thin: they call ``validation``, ``commands``, ``queries``, ``importer``
and ``wxr`` like the JSON API does and put the service layer's ``InvalidInput`` back next to the
field it names. The login sets the session cookie every service honours (``shared.auth``).
"""
from __future__ import annotations

import re

from urllib.parse import urlsplit

import flask_login
import redis
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel import format_decimal, ngettext, refresh
from sqlalchemy import select

from shared.auth import csrf, current_user, login_required, public, sessions
from shared.errors import ApiError, Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.events import utcnow
from shared.i18n import LOCALE_NAMES, LOCALES, label, language_name, localised_datetime, search_fold
from shared.markup import markdown_to_html
from shared.runtime import runtime
from shared.throttle import TooManyAttempts
from shared.workflow import BY_ACTION, ForbiddenTransition, IllegalTransition, Role, State, UnknownAction, allowed_actions

from . import commands, forms, importer, queries, users, wxr, wxr_jobs
from .db import article_imports, articles
from .schedule import overdue_schedules
from .timeline import build_timeline
from .users import LOGIN_THROTTLE
from .validation import parse_article_input, parse_article_update

bp = Blueprint("ingest_ui", __name__)
EDITORS = (Role.EDITOR.value, Role.ADMIN.value)

ACTION_LABELS = {
    "submit": _l("Submit for review"), "request_changes": _l("Request changes"), "approve": _l("Approve"),
    "schedule": _l("Schedule"), "unschedule": _l("Unschedule"), "publish": _l("Publish"), "unpublish": _l("Unpublish"),
    "archive": _l("Archive"), "restore": _l("Restore"),
}
ACTION_DONE = {
    "submit": _l("Submitted for review; editors have been told."),
    "request_changes": _l("Changes requested: the article is a draft again."),
    "approve": _l("Approved: ready to publish or schedule."),
    "schedule": _l("Scheduled: it publishes by itself at the chosen time."),
    "unschedule": _l("Unscheduled: back to approved."),
    "publish": _l("Publishing: the page goes live as soon as rendering answers (reload to see its public URL)."),
    "unpublish": _l("Unpublished: the page is being taken off the site."),
    "archive": _l("Archived."),
    "restore": _l("Restored as a draft."),
}


# The audit log's notes are written in English by the domain layer (services.ingest.commands,
# schedule); the known ones are shown in the editor's language, anything else as written.
_AUDIT_NOTES = (
    (re.compile(r"^approves revision (\d+)$"), _l("approves revision %(n)s")),
    (re.compile(r"^ships revision (\d+)$"), _l("ships revision %(n)s")),
    (re.compile(r"^implicit approval of revision (\d+) by publishing$"), _l("implicit approval of revision %(n)s by publishing")),
    (re.compile(r"^revision (\d+) waits for approval$"), _l("revision %(n)s waits for approval")),
    (re.compile(r"^revision (\d+) stays approved$"), _l("revision %(n)s stays approved")),
    (re.compile(r"^revision (\d+) stays scheduled$"), _l("revision %(n)s stays scheduled")),
    (re.compile(r"^revision (\d+) stays live$"), _l("revision %(n)s stays live")),
    (re.compile(r"^late: published (\d+) s after its scheduled time$"), _l("late: published %(n)s s after its scheduled time")),
)


def audit_note(note: str | None) -> str:
    """An audit note in the editor's language: each known "; "-separated part translated, others as they are."""
    parts = []
    for part in (note or "").split("; "):
        for pattern, text in _AUDIT_NOTES:
            if match := pattern.match(part):
                part = str(text) % {"n": match[1]}
                break
        parts.append(part)
    return "; ".join(parts)


def _user() -> dict:
    return current_user()


def _load(conn, article_id: str) -> dict:
    try:
        return queries.get_article(conn, article_id)
    except NotFound as exc:
        abort(404, exc.message)


@bp.get("/")
@bp.get("/articles")
@login_required()
def article_list():
    """Articles, newest first, filterable by state, language, author and text."""
    filters = {k: request.args.get(k, "").strip() for k in ("state", "lang", "author", "q")}
    query = select(articles.c.id, articles.c.title, articles.c.lang, articles.c.state, articles.c.author,
                   articles.c.authors, articles.c.revision, articles.c.updated_at, articles.c.public_url, articles.c.is_source
                   ).order_by(articles.c.updated_at.desc())
    if filters["state"]:
        query = query.where(articles.c.state == filters["state"])
    if filters["lang"]:
        query = query.where(articles.c.lang == filters["lang"])
    if filters["q"]:
        # Matched in Python with search_fold: SQL's case-blind LIKE knows neither İ/ı nor Cyrillic case.
        query = query.add_columns(articles.c.body)
    with runtime().engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        overdue = overdue_schedules(conn, runtime().settings.schedule_late_after_seconds)
    if filters["q"]:
        text = search_fold(filters["q"])
        rows = [r for r in rows if text in search_fold(r["title"]) or text in search_fold(r["body"] or "")]
    if filters["author"]:
        # The author is a JSON column; matching its name in Python works on SQLite and PostgreSQL alike.
        wanted = search_fold(filters["author"])
        rows = [r for r in rows if any(wanted in search_fold(a.get("name", "")) for a in (r["authors"] or [r["author"]]))]
    return render_template("articles.html", rows=rows[:200], more=len(rows) > 200, filters=filters, overdue=overdue,
                           states=[s.value for s in State], languages=runtime().settings.languages)


def _article_form(conn, languages, *, exclude_group: str | None = None) -> forms.ArticleForm:
    form = forms.article_form(languages)
    form.lang.choices = [(code, language_name(code)) for code in languages]
    form.author_id.choices = forms.author_choices(conn)
    form.translation_of.choices = forms.source_choices(conn, exclude_group)
    return form


def _render_form(form, *, article=None, preview=None, status=200, conflict=None):
    languages = runtime().settings.languages
    return render_template("article_form.html", form=form, article=article, preview=preview, conflict=conflict,
                           bio_fields=forms.bio_fields(form, languages)), status


def _rerender(form, article=None):
    """Handle the form's non-saving buttons; None when the Save button was pressed."""
    if form.add_reference.data:
        forms.pad_references(form, extra=1)
        return _render_form(form, article=article)
    if form.preview.data:
        forms.pad_references(form)
        return _render_form(form, article=article, preview=markdown_to_html(form.body.data or ""))
    return None


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required()
def new_article():
    """The create form; saving goes through ``commands.create_article``."""
    rt = runtime()
    languages = rt.settings.languages
    with rt.engine.begin() as conn:
        form = _article_form(conn, languages)
    if request.method == "GET":
        form.lang.data = request.args.get("lang") if request.args.get("lang") in languages else languages[0]
        form.translation_of.data = request.args.get("translation_of", "")
        forms.pad_references(form)
        return _render_form(form)
    if not form.validate_on_submit():
        return _render_form(form, status=400)
    if (page := _rerender(form)) is not None:
        return page
    _, rows = forms.reference_rows(form)
    try:
        with rt.transaction() as conn:
            data = dict(forms.article_data(conn, form, form.lang.data, languages),
                        group_id=form.translation_of.data or None)
            fields = parse_article_input(data, languages, max_body=rt.settings.max_body_bytes)
            article = commands.create_article(conn, fields, actor=_user()["email"], role=_user()["role"])
    except InvalidInput as exc:
        forms.attach_error(form, exc, lang=form.lang.data, rows=rows)
    except Conflict as exc:
        form.translation_of.errors = [gettext("%(problem)s; or pick another language", problem=exc)]
    else:
        flash(gettext("Created “%(title)s” as a draft (revision 1).", title=article["title"]))
        return redirect(url_for(".article_page", article_id=article["id"]), 303)
    forms.pad_references(form)
    return _render_form(form, status=422)


@bp.route("/articles/<article_id>/edit", methods=["GET", "POST"])
@login_required()
def edit_article(article_id: str):
    """The edit form; saving makes a new revision through ``commands.update_article``."""
    rt = runtime()
    languages = rt.settings.languages
    user = _user()
    with rt.engine.begin() as conn:
        article = _load(conn, article_id)
        commands.check_edit(conn, article, actor=user["email"], role=user["role"])  # 403/409 page saying why
        form = _article_form(conn, languages)
        if request.method == "GET":
            forms.fill_from_article(form, conn, article, languages)
            return _render_form(form, article=article)
    if not form.validate_on_submit():
        return _render_form(form, article=article, status=400)
    if (page := _rerender(form, article)) is not None:
        return page
    _, rows = forms.reference_rows(form)
    try:
        with rt.transaction() as conn:
            data = forms.article_data(conn, form, article["lang"], languages)
            del data["lang"]
            changes = parse_article_update(data, languages, max_body=rt.settings.max_body_bytes)
            saved = commands.update_article(conn, article_id, changes, actor=user["email"], role=user["role"],
                                            base_revision=forms.revision_of(form.base_revision))
    except InvalidInput as exc:
        forms.attach_error(form, exc, lang=article["lang"], rows=rows)
    except PreconditionFailed as exc:
        # Keep the editor's text and show what the other save changed; nothing is overwritten.
        with rt.engine.begin() as conn:
            conflict = queries.diff(conn, article_id, forms.revision_of(form.base_revision), exc.extra["current_revision"])
        forms.pad_references(form)
        return _render_form(form, article=article, conflict=conflict, status=409)
    except ApiError as exc:  # the edit table refused (403) or the state forbids edits (409)
        form.form_errors.append(exc.message)
        forms.pad_references(form)
        return _render_form(form, article=article, status=exc.status)
    else:
        if saved["revision"] == article["revision"]:
            flash(gettext("Nothing changed; the article stays at revision %(n)s.", n=saved["revision"]))
        elif article["state"] in (State.APPROVED, State.SCHEDULED) and article["approved_revision"]:
            flash(gettext("Saved as revision %(n)s. Revision %(approved)s stays %(state)s; this revision waits for an "
                    "editor's approval.", n=saved["revision"], approved=article["approved_revision"],
                    state=label(article["state"])))
        elif saved["published_revision"]:
            flash(gettext("Saved as revision %(n)s. The live page keeps the published revision until an editor publishes "
                    "this one.", n=saved["revision"]))
        else:
            flash(gettext("Saved as revision %(n)s.", n=saved["revision"]))
        return redirect(url_for(".article_page", article_id=article_id), 303)
    forms.pad_references(form)
    return _render_form(form, article=article, status=422)


def _actions(state: str, role: str) -> list[str]:
    """The buttons to show: what the role may do in this state, without the pipeline's own actions."""
    return [a for a in allowed_actions(State(state), Role(role)) if BY_ACTION[a].roles != {Role.SYSTEM}]


def _article_page(article_id: str, transition_form: forms.TransitionForm | None = None, status: int = 200):
    errors = {}
    with runtime().engine.begin() as conn:
        article = _load(conn, article_id)
        audit = queries.audit_entries(conn, article_id)
        revisions = queries.revision_list(conn, article_id)
        group = forms.group_of_article(conn, article["group_id"])
        imported = conn.execute(select(article_imports).where(article_imports.c.article_id == article_id)).mappings().first()
        diff = None
        raw = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
        if raw["from"] or raw["to"]:
            try:
                start, end = int(raw["from"]), int(raw["to"])
                diff = queries.diff(conn, article_id, start, end)
            except ValueError:
                errors["from"] = gettext("Choose two revisions from the lists")
            except NotFound:
                missing = end if not 1 <= end <= article["revision"] else start
                errors["to"] = gettext("Revision %(n)s does not exist; choose one of 1 to %(last)s", n=missing,
                                 last=article["revision"])
    last = article["revision"]
    selected = {"from": raw["from"] or str(max(1, last - 1)), "to": raw["to"] or str(last)}
    return render_template(
        "article.html", article=article, audit=audit, revisions=revisions, group=group, diff=diff,
        imported=dict(imported) if imported else None, actions=_actions(article["state"], _user()["role"]),
        labels=ACTION_LABELS, form=transition_form or forms.TransitionForm(formdata=None), errors=errors,
        selected=selected, role=_user()["role"], config_languages=runtime().settings.languages, audit_note=audit_note,
    ), (400 if errors else status)


@bp.get("/articles/<article_id>")
@login_required()
def article_page(article_id: str):
    """The article, its public URL, workflow buttons, audit log, revisions and a diff between two."""
    return _article_page(article_id)


@bp.post("/articles/<article_id>/transitions")
@login_required()
def post_transition(article_id: str):
    """Apply a workflow button as the session user; refusals (403/409) come back as flash errors."""
    rt = runtime()
    form = forms.TransitionForm()
    action = form.action.data or ""
    user = _user()
    try:
        publish_at = forms.publish_at(form.publish_at.data, utcnow()) if action == "schedule" else None
        with rt.transaction() as conn:
            before = _load(conn, article_id)["state"]
            article = commands.transition(conn, article_id, action, actor=user["email"], role=user["role"],
                                          site_url=rt.settings.site_url, publish_at=publish_at,
                                          expected_revision=forms.revision_of(form.revision))
    except InvalidInput as exc:
        form.publish_at.errors = [exc.message]
        return _article_page(article_id, form, status=422)
    except PreconditionFailed as exc:
        flash(gettext("Not done: %(problem)s.", problem=exc.message), "error")
    except Conflict as exc:
        flash(gettext("Not possible now: %(problem)s.", problem=exc.message), "error")
    except ForbiddenTransition as exc:
        flash(gettext("Refused: your role (%(role)s) may not %(action)s; ask an editor (%(problem)s).", role=label(user["role"]),
                action=str(ACTION_LABELS.get(action, action)).lower(), problem=exc), "error")
    except IllegalTransition as exc:
        flash(gettext("Not possible now: %(problem)s. Reload the page to see its current state.", problem=exc), "error")
    except UnknownAction as exc:
        flash(gettext("Unknown button: %(problem)s.", problem=exc), "error")
    else:
        when = " (" + gettext("%(when)s UTC", when=localised_datetime(publish_at)) + ")" if publish_at else ""
        flash(gettext("%(done)s%(when)s State: %(before)s → %(after)s.", done=ACTION_DONE[action], when=when,
                before=label(before), after=label(article["state"])))
    return redirect(url_for(".article_page", article_id=article_id), 303)


def _import_form(conn, languages) -> forms.ImportForm:
    form = forms.ImportForm()
    form.lang.choices = [("", gettext("detect from the text"))] + [(code, language_name(code)) for code in languages]
    form.translation_of.choices = forms.source_choices(conn)
    return form


@bp.route("/articles/import", methods=["GET", "POST"])
@login_required()
def import_page():
    """Raw page import (paste or upload): the same parser and service calls as ``POST /api/articles/import``."""
    rt = runtime()
    languages = rt.settings.languages
    with rt.engine.begin() as conn:
        form = _import_form(conn, languages)
    if request.method == "GET":
        return render_template("import.html", form=form)
    if not form.validate_on_submit():
        return render_template("import.html", form=form), 400
    uploaded = bool(form.file.data and getattr(form.file.data, "filename", ""))
    is_html = uploaded and form.file.data.filename.lower().endswith((".html", ".htm"))
    try:
        text = forms.uploaded_text(form)
        page = importer.parse_any(text, lang=form.lang.data or None, languages=languages, html=is_html or None)
        with rt.transaction() as conn:
            article, result = importer.import_page(
                conn, text, page, on_duplicate="revise" if form.revise.data else None,
                group_id=form.translation_of.data or None, languages=languages,
                max_body=rt.settings.max_body_bytes, actor=_user()["email"], role=_user()["role"])
    except InvalidInput as exc:
        # "body", "author", "title", "references[n]...": parts of the page, so next to where it came from.
        forms.attach_error(form, exc, fallback="file" if uploaded else "text", label=False)
    except Conflict as exc:
        form.translation_of.errors = [gettext("%(problem)s; or pick another group", problem=exc)]
    else:
        if result["outcome"] == "created":
            flash(ngettext("Imported “%(title)s” (%(language)s, %(num)d reference) as a draft.",
                           "Imported “%(title)s” (%(language)s, %(num)d references) as a draft.",
                           len(page.references), title=article["title"], language=language_name(article["lang"])))
        else:
            flash(gettext("Not imported again: %(note)s.", note=result["note"]), "warning" if result["outcome"] == "duplicate" else "message")
        for warning in page.warnings:
            flash(gettext("Import warning: %(warning)s", warning=warning), "warning")
        return redirect(url_for(".article_page", article_id=article["id"]), 303)
    return render_template("import.html", form=form), 422


# Exempt from the app-wide CSRF hook only because that hook reads the body before the view can
# raise the upload limit; the form's own csrf_token is still checked by validate_on_submit.
@csrf.exempt
@bp.route("/articles/import-wxr", methods=["GET", "POST"])
@login_required(*EDITORS)
def import_wxr_page():
    """Upload a WordPress export: small files are imported at once (the report follows), large ones become a job."""
    rt = runtime()
    request.max_content_length = wxr_jobs.MAX_UPLOAD_BYTES
    form = forms.WxrForm()
    form.default_lang.choices = [(code, language_name(code)) for code in rt.settings.languages]
    if request.method == "GET":
        return render_template("import_wxr.html", form=form)
    if not form.validate_on_submit():
        return render_template("import_wxr.html", form=form), 400
    upload = form.file.data
    if not (upload and getattr(upload, "filename", "")):
        form.file.errors = [gettext("Choose the .xml file WordPress exported (Tools → Export → Posts or All content)")]
        return render_template("import_wxr.html", form=form), 422
    user = _user()
    path, size = wxr_jobs.save_upload(rt, upload.stream)
    if form.background.data or size > wxr_jobs.INLINE_MAX_BYTES:
        job_id = wxr_jobs.create_job(rt, path, size, upload.filename, default_lang=form.default_lang.data or None,
                                     actor=user["email"], role=user["role"])
        flash(gettext("Importing %(file)s (%(size)s bytes) in the background; this page follows it.", file=upload.filename,
                size=format_decimal(size)))
        return redirect(url_for(".wxr_job_page", job_id=job_id), 303)
    try:
        summary = wxr.import_wxr(rt, path, default_lang=form.default_lang.data or None,
                                 actor=user["email"], role=user["role"])
    except InvalidInput as exc:
        form.file.errors = [exc.message]
        return render_template("import_wxr.html", form=form), 422
    finally:
        path.unlink(missing_ok=True)
    counts = summary["counts"]
    flash(gettext("WordPress import: %(created)s created, %(already)s already imported, %(skipped)s skipped, %(failed)s failed.",
            created=counts["created"], already=counts["already_imported"], skipped=counts["skipped"],
            failed=counts["failed"]))
    approved = [row for row in summary["created"] if row["state"] == State.APPROVED]
    return render_template("wxr_summary.html", summary=summary, approved=approved,
                           publish_form=forms.PublishImportedForm())


@bp.get("/articles/import-wxr/jobs/<job_id>")
@login_required(*EDITORS)
def wxr_job_page(job_id: str):
    """A background import: status, progress, counts and the per-post report (reloads itself while it runs)."""
    rt = runtime()
    try:
        job = wxr_jobs.to_json(rt, wxr_jobs.get_job(rt, job_id), with_report=False)
    except NotFound as exc:
        abort(404, exc.message)
    outcome = request.args.get("outcome") if request.args.get("outcome") in wxr.OUTCOMES else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = wxr_jobs.report(rt, job_id, outcome=outcome, limit=500, offset=(page - 1) * 500)
    summary = {"counts": job["counts"], "site": None, **{k: [r for r in rows if r["outcome"] == k] for k in wxr.OUTCOMES}}
    approved = [r for r in summary["created"] if r.get("state") == State.APPROVED]
    return render_template("wxr_job.html", job=job, summary=summary, approved=approved, outcome=outcome, page=page,
                           more=len(rows) == 500, publish_form=forms.PublishImportedForm(),
                           restart_form=forms.JobRestartForm(), refresh=job["status"] in wxr_jobs.ACTIVE)


@bp.post("/articles/import-wxr/jobs/<job_id>/restart")
@login_required(*EDITORS)
def restart_wxr_job(job_id: str):
    """Start an interrupted job again: it skips what it already imported."""
    if not forms.JobRestartForm().validate_on_submit():
        abort(400)
    try:
        wxr_jobs.restart(runtime(), job_id)
    except NotFound as exc:
        abort(404, exc.message)
    except Conflict as exc:
        flash(gettext("Not started again: %(problem)s.", problem=exc.message), "error")
    else:
        flash(gettext("Started again: posts already imported are skipped."))
    return redirect(url_for(".wxr_job_page", job_id=job_id), 303)


@bp.post("/articles/import-wxr/publish")
@login_required(*EDITORS)
def publish_imported():
    """Publish the approved articles of a WordPress import (each through the workflow's publish)."""
    rt = runtime()
    if not forms.PublishImportedForm().validate_on_submit():
        abort(400)
    user = _user()
    done = 0
    for article_id in request.form.getlist("article_id"):
        try:
            with rt.transaction() as conn:
                commands.transition(conn, article_id, "publish", actor=user["email"], role=user["role"],
                               site_url=rt.settings.site_url)
            done += 1
        except NotFound:
            flash(gettext("Article %(id)s no longer exists; skipped.", id=article_id), "error")
        except (ForbiddenTransition, IllegalTransition) as exc:
            flash(gettext("Article %(id)s was not published: %(problem)s.", id=article_id, problem=exc), "error")
    flash(ngettext("Publishing %(num)d imported article; its page goes live as soon as rendering answers.",
                   "Publishing %(num)d imported articles; each page goes live as soon as rendering answers.", done))
    return redirect(url_for(".article_list", state=State.PUBLISHING.value if done else ""), 303)


@bp.get("/articles/<article_id>/timeline")
@login_required()
def timeline(article_id: str):
    """The article's timeline: each step across the four services with its time."""
    with runtime().engine.begin() as conn:
        _load(conn, article_id)
    article, steps, problems = build_timeline(runtime(), article_id)
    return render_template("timeline.html", article=article, steps=steps, problems=problems, audit_note=audit_note)


def _safe_next(target: str | None) -> str:
    """Only redirect to one of our own services after login (no open redirect)."""
    if not target:
        return "/articles"
    allowed = {urlsplit(u).netloc for u in runtime().settings.service_urls.values()} | {request.host}
    parts = urlsplit(target)
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return "/articles"  # browsers read "/\\host" and stripped tabs as another host
    if parts.scheme in ("http", "https") and parts.netloc in allowed:
        return target
    if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return "/articles"


@bp.route("/login", methods=["GET", "POST"])
@public("the login form (CSRF-protected, throttled per account and per address)")
def login():
    """The login form; failed attempts are throttled per account and per client address (429 with Retry-After)."""
    form = forms.LoginForm()
    if form.validate_on_submit():
        per_account, per_address = current_app.extensions[LOGIN_THROTTLE]
        account, address = form.email.data.strip().lower(), request.remote_addr or "unknown"
        try:
            per_account.check(account=account)
            per_address.check(address=address)
        except TooManyAttempts as exc:
            form.password.errors.append(gettext("Too many failed attempts; try again in %(seconds)s s", seconds=exc.retry_after))
            return render_template("login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        with runtime().engine.begin() as conn:
            user = users.authenticate(conn, form.email.data, form.password.data)
        if user is None:
            per_account.fail(account=account)
            per_address.fail(address=address)
            form.password.errors.append(gettext("Wrong email or password; check both and try again"))
        else:
            try:
                opened = sessions().open(user)
            except redis.RedisError:
                form.password.errors.append(gettext("Logging in is not possible right now (the session store does not "
                                              "answer); try again in a minute"))
                return render_template("login.html", form=form), 503
            session.clear()
            flask_login.login_user(opened)
            with runtime().engine.begin() as conn:
                users.record_login(conn, user["email"])
            flash(gettext("Logged in as %(name)s.", name=user["name"]))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400 if form.errors else 200


@bp.route("/settings", methods=["GET", "POST"])
@login_required()
def settings_page():
    """The editor's own settings: the language of the editor pages (or the browser's)."""
    user = _user()
    form = forms.LanguageForm()
    form.language.choices = [("", gettext("The browser's language"))] + [(code, LOCALE_NAMES[code]) for code in LOCALES]
    if request.method == "GET":
        form.language.data = user.get("language") or ""
        return render_template("settings.html", form=form)
    if not form.validate_on_submit():
        return render_template("settings.html", form=form), 400
    language = form.language.data or None
    with runtime().engine.begin() as conn:
        users.set_language(conn, user["email"], language)
    sessions().set_language(user["email"], language)
    flask_login.current_user.language = language
    refresh()  # the confirmation below already speaks the new language
    flash(gettext("Your editor pages are now in %(language)s.", language=LOCALE_NAMES[language]) if language
          else gettext("Your editor pages now follow your browser's language."))
    return redirect(url_for(".settings_page"), 303)


@bp.post("/logout")
@public("ends the caller's own session, if any (CSRF-protected)")
def logout():
    """End the session on every service: the server forgets it, so a copied cookie is refused too."""
    user = flask_login.current_user
    if user.is_authenticated:
        sessions().end(user.id)
    flask_login.logout_user()
    session.clear()
    flash(gettext("Logged out."))
    return redirect(current_app.config["LOGIN_URL"])
