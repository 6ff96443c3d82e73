"""Server-rendered editor pages of ingest: login, article list, create/edit with preview, article page with
workflow buttons, the public page's preview, audit log and revision diff, timeline, raw page import and
WordPress (WXR) import, what waits, and accounts (own password, password reset by email, the users page).

Every page works without JavaScript: "Preview" and "Add a reference row" are submit buttons that
re-render the form. Views are thin: they call ``validation``, ``commands``, ``queries``, ``importer``
and ``wxr`` like the JSON API does and put the service layer's ``InvalidInput`` back next to the
field it names. The login sets the session cookie every service honours (``shared.auth``).
"""
from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

import flask_login
import redis
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from kombu.exceptions import OperationalError
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel import format_decimal, ngettext, refresh
from sqlalchemy import select

from shared import tasks
from shared.auth import csrf, current_user, login_required, public, read_password_reset_token, sessions
from shared.errors import ApiError, Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.events import utcnow
from shared.db import read_only
from shared.i18n import LOCALE_NAMES, LOCALES, label, language_name, localised_datetime, search_fold
from shared.markup import markdown_to_html
from shared.media import media_store
from shared.runtime import runtime
from shared.throttle import TooManyAttempts
from shared.workflow import BY_ACTION, ForbiddenTransition, IllegalTransition, Role, State, UnknownAction, allowed_actions

from . import commands, forms, importer, media, queries, users, waiting, wxr, wxr_jobs
from .db import article_imports, articles
from .schedule import overdue_schedules
from .timeline import build_timeline
from .users import LOGIN_THROTTLE, RESET_THROTTLE
from .validation import parse_article_input, parse_article_update

log = logging.getLogger(__name__)
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


LIST_PAGE = 50


@bp.get("/")
@bp.get("/articles")
@login_required()
def article_list():
    """Articles, most recently updated first, filterable by state, language, author and text (the search
    index: title, body, authors, reference titles), in pages of ``LIST_PAGE`` with a "more" link."""
    filters = {k: request.args.get(k, "").strip() for k in ("state", "lang", "author", "q")}
    columns = [articles.c.id, articles.c.title, articles.c.lang, articles.c.state, articles.c.author,
               articles.c.authors, articles.c.revision, articles.c.updated_at, articles.c.public_url,
               articles.c.is_source]
    cursor = request.args.get("cursor") or None
    with runtime().engine.begin() as conn:
        # A mangled cursor is refused (422 naming it) by page_articles, like the API's.
        rows, after = queries.page_articles(conn, columns, order="updated_at", filters=filters, limit=LIST_PAGE,
                                            cursor=cursor, languages=runtime().settings.languages)
        overdue = overdue_schedules(conn, runtime().settings.schedule_late_after_seconds)
    kept = {k: v for k, v in filters.items() if v}
    return render_template("articles.html", rows=rows, filters=filters, overdue=overdue,
                           more_url=url_for(".article_list", **kept, cursor=after) if after else None,
                           first_url=url_for(".article_list", **kept) if cursor else None,
                           states=[s.value for s in State], languages=runtime().settings.languages)


def _article_form(conn, languages, *, exclude_group: str | None = None) -> forms.ArticleForm:
    form = forms.article_form(languages)
    form.lang.choices = [(code, language_name(code)) for code in languages]
    form.author_id.choices = forms.author_choices(conn)
    form.translation_of.choices = forms.source_choices(conn, exclude_group)
    form.featured_image.choices = forms.featured_choices(conn)
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
            if not data["featured_image"]:
                del data["featured_image"]  # a translation then shares its source's image
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
        shown = _preview_target(conn, article, group)
    last = article["revision"]
    selected = {"from": raw["from"] or str(max(1, last - 1)), "to": raw["to"] or str(last)}
    return render_template(
        "article.html", article=article, audit=audit, revisions=revisions, group=group, diff=diff, preview=shown,
        imported=dict(imported) if imported else None, actions=_actions(article["state"], _user()["role"]),
        labels=ACTION_LABELS, form=transition_form or forms.TransitionForm(formdata=None), errors=errors,
        selected=selected, role=_user()["role"], config_languages=runtime().settings.languages, audit_note=audit_note,
    ), (400 if errors else status)


def _preview_target(conn, article: dict, group: list[dict]) -> dict:
    """Ask rendering for the preview of the chosen language version (``?preview=<lang>``, else this one).

    Rendering renders it on its worker (the site's own renderer and model; no service reads another's
    database) and serves it at ``/preview/<id>/<revision>``, which the page frames. A request lost
    with Redis is asked again by the next page view, so it needs no outbox.
    """
    wanted = request.args.get("preview", article["lang"])
    version = next((v for v in group if v["lang"] == wanted), None) or {"id": article["id"], "lang": article["lang"]}
    target = article if version["id"] == article["id"] else queries.get_article(conn, version["id"])
    rt = runtime()
    shown = {"lang": target["lang"], "id": target["id"], "revision": target["revision"], "error": None,
             "url": f"{rt.settings.service_urls['rendering']}/preview/{target['id']}/{target['revision']}"}
    try:
        rt.celery.send_task(tasks.RENDER_PREVIEW, args=[commands.snapshot(conn, target, target["revision"])],
                            queue=tasks.queue_for(tasks.RENDER_PREVIEW))
    except (OperationalError, redis.RedisError) as exc:
        log.error("preview of %s not requested: %s", target["id"], exc)
        shown["error"] = gettext("The preview cannot be requested right now (the task queue does not answer); "
                                 "reload in a minute.")
    return shown


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


@bp.get("/waiting")
@login_required()
def waiting_page():
    """What waits for you: articles in review, late schedules, overdue translations, failed deliveries."""
    return render_template("waiting.html", w=waiting.build_waiting(runtime(), _user()))


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


# --- accounts: own password, password reset by email, the admin's user page ---


@bp.route("/account", methods=["GET", "POST"])
@login_required()
def account():
    """Change one's own password (the current one required); the account's other sessions end."""
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        me = _user()
        try:
            with runtime().engine.begin() as conn:
                users.change_password(conn, me["email"], form.current_password.data, form.new_password.data)
        except InvalidInput as exc:
            forms.attach_error(form, exc)
            return render_template("account.html", form=form), 400
        ended = sessions().end_all(me["email"], keep=flask_login.current_user.id)
        flash(ngettext("Password changed. Your %(num)d other session has ended.",
                       "Password changed. Your %(num)d other sessions have ended.", ended) if ended
              else gettext("Password changed."))
        return redirect(url_for("ingest_ui.account"))
    return render_template("account.html", form=form), 400 if form.errors else 200


@bp.route("/password-reset", methods=["GET", "POST"])
@public("asks for a password reset link (CSRF-protected, throttled per address and per email, same answer for any address)")
def password_reset_request():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = forms.ResetRequestForm()
    rt = runtime()
    if form.validate_on_submit():
        throttle = current_app.extensions[RESET_THROTTLE]
        email, address = form.email.data.strip().lower(), request.remote_addr or "unknown"
        try:
            throttle.check(email=email, address=address)
        except TooManyAttempts as exc:
            form.email.errors.append(gettext("Too many reset requests; try again in %(seconds)s s",
                                             seconds=exc.retry_after))
            return render_template("password_reset_request.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        throttle.fail(email=email, address=address)  # every request counts, found or not
        with rt.transaction() as conn:
            users.request_password_reset(conn, email, rt.settings.password_reset_minutes)
        return render_template("password_reset_request.html", form=None, sent_to=email,
                               minutes=rt.settings.password_reset_minutes)
    return render_template("password_reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@public("sets a new password with a signed, expiring, single-use reset link (CSRF-protected)")
def password_reset(token: str):
    """Set a new password from an emailed link: it works once, until it expires, and ends every session."""
    rt = runtime()
    reset_id = read_password_reset_token(rt.settings.secret_key, token, rt.settings.password_reset_minutes * 60)
    headers = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    with rt.engine.begin() as conn:
        usable = users.usable_reset(conn, reset_id)
    if usable is None:
        return render_template("password_reset.html", form=None), 410, headers
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        with rt.engine.begin() as conn:
            email = users.reset_password(conn, reset_id, form.new_password.data)
        if email is None:
            return render_template("password_reset.html", form=None), 410, headers
        sessions().end_all(email)
        flash(gettext("Your new password is set; log in with it."))
        return redirect(current_app.config["LOGIN_URL"])
    return render_template("password_reset.html", form=form, email=usable["email"]), 400 if form.errors else 200, headers


def _change_form(email: str, **kwargs) -> forms.UserChangeForm:
    """One account's row form; the prefix keeps field ids unique on the page and stable across processes."""
    form = forms.UserChangeForm(prefix="u" + hashlib.sha256(email.encode()).hexdigest()[:10], **kwargs)
    form.role.choices = [(r, label(r)) for r in users.ROLES]
    return form


def _user_forms(rows: list[dict]) -> list[tuple[dict, forms.UserChangeForm]]:
    pairs = []
    for row in rows:
        form = _change_form(row["email"], formdata=None)
        form.role.data, form.active.data = row["role"], "1" if row["active"] else "0"
        pairs.append((row, form))
    return pairs


def _users_page(new_form: forms.NewUserForm, status: int = 200):
    with runtime().engine.begin() as conn:
        rows = users.list_users(conn)
    return render_template("users.html", rows=_user_forms(rows), form=new_form, me=_user()["email"]), status


def _new_user_form() -> forms.NewUserForm:
    form = forms.NewUserForm()
    form.role.choices = [(r, label(r)) for r in users.ROLES]
    form.lang.choices = [(code, language_name(code)) for code in runtime().settings.languages]
    return form


@bp.route("/users", methods=["GET", "POST"])
@login_required(Role.ADMIN.value)
def users_page():
    """Admins: every account with its role, state and last login; create an account."""
    form = _new_user_form()
    if request.method == "GET":
        form.role.data = Role.EDITOR.value
        return _users_page(form)
    if not form.validate_on_submit():
        return _users_page(form, 400)
    try:
        with runtime().engine.begin() as conn:
            row = users.create_user(conn, form.email.data, form.password.data, form.role.data,
                                    form.name.data.strip() or None, form.lang.data)
    except InvalidInput as exc:
        forms.attach_error(form, exc)
        return _users_page(form, exc.status if exc.status != 422 else 400)
    flash(gettext("Created the %(role)s account %(email)s.", role=label(row["role"]), email=row["email"]))
    return redirect(url_for("ingest_ui.users_page"))


@bp.post("/users/<email>")
@login_required(Role.ADMIN.value)
def change_user_page(email: str):
    """Admins: change an account's role or deactivate it; its sessions end at once."""
    with runtime().engine.begin() as conn:
        rows = [r for r in users.list_users(conn) if r["email"] == email.lower()]
    if not rows:
        abort(404, gettext("No account has the email %(email)s.", email=email))
    form = _change_form(rows[0]["email"])
    if not form.validate_on_submit():
        flash(gettext("%(email)s not changed: %(problems)s", email=email,
                      problems="; ".join(str(e) for errs in form.errors.values() for e in errs)), "error")
        return redirect(url_for("ingest_ui.users_page"))
    if email.lower() == _user()["email"]:
        flash(gettext("You cannot change your own role or deactivate yourself here; ask another admin."), "error")
        return redirect(url_for("ingest_ui.users_page"))
    with runtime().engine.begin() as conn:
        row = users.change_user(conn, email, role=form.role.data, active=form.active.data == "1")
    ended = sessions().end_all(row["email"])
    changed = {"email": row["email"], "role": label(row["role"])}
    if row["active"]:
        flash(ngettext("%(email)s: %(role)s, active; %(num)d session ended.",
                       "%(email)s: %(role)s, active; %(num)d sessions ended.", ended, **changed) if ended
              else gettext("%(email)s: %(role)s, active.", **changed))
    else:
        flash(ngettext("%(email)s: %(role)s, deactivated; %(num)d session ended.",
                       "%(email)s: %(role)s, deactivated; %(num)d sessions ended.", ended, **changed) if ended
              else gettext("%(email)s: %(role)s, deactivated.", **changed))
    return redirect(url_for("ingest_ui.users_page"))


# --- the media library ---------------------------------------------------------------------------


def _media_page(form, status: int = 200):
    rt = runtime()
    with read_only(rt.engine) as conn:
        images = media.list_images(conn, 200)
    return render_template("media.html", form=form, images=images, languages=rt.settings.languages,
                           max_bytes=rt.settings.max_image_bytes,
                           alt_fields=[getattr(form, f"alt_{lang}") for lang in rt.settings.languages],
                           caption_fields=[getattr(form, f"caption_{lang}") for lang in rt.settings.languages]), status


@bp.route("/media", methods=["GET", "POST"])
@csrf.exempt  # the app-wide hook would read the upload under the default body limit; the form checks CSRF itself
@login_required()
def media_library():
    """The media library: every image with its alt texts, and the upload form (drag and drop, or a file input)."""
    rt = runtime()
    request.max_content_length = rt.settings.max_image_bytes + 1_000_000
    languages = rt.settings.languages
    form = forms.media_form(forms.MediaUploadForm, languages)
    if request.method == "GET":
        return _media_page(form)
    if not form.validate_on_submit():
        return _media_page(form, 400)
    try:
        image, created = media.upload_image(rt, form.file.data, forms.media_texts(form, languages), default_lang=None,
                                            actor=_user()["email"])
    except InvalidInput as exc:
        if exc.field == "alt":
            getattr(form, f"alt_{languages[0]}").errors = [gettext("Alt text %(problem)s", problem=exc.message)]
        else:
            forms.attach_error(form, exc, fallback="file", label=exc.field != "file")
        return _media_page(form, exc.status)
    if created:
        flash(gettext("Added “%(file)s” (%(width)s×%(height)s) to the library; its metadata (camera, GPS position) "
                      "was removed.", file=image["filename"], width=image["width"], height=image["height"]))
    else:
        flash(gettext("This image is already in the library as “%(file)s”; alt texts it lacked were added.",
                      file=image["filename"]))
    return redirect(url_for(".media_image", image_id=image["id"]), 303)


@bp.route("/media/<image_id>", methods=["GET", "POST"])
@login_required()
def media_image(image_id: str):
    """One library image: edit its alt texts, captions and credit; the articles that use it."""
    rt = runtime()
    languages = rt.settings.languages
    with read_only(rt.engine) as conn:
        try:
            image = media.get_image(conn, image_id)
        except NotFound as exc:
            abort(404, exc.message)
        used_by = media.articles_using(conn, image_id)
    form = forms.media_form(forms.MediaTextsForm, languages)
    if request.method == "GET":
        form.credit.data = image["credit"] or ""
        for lang in languages:
            getattr(form, f"alt_{lang}").data = image["alt"].get(lang, "")
            getattr(form, f"caption_{lang}").data = image["caption"].get(lang, "")
    elif form.validate_on_submit():
        try:
            texts = media.parse_texts(forms.media_texts(form, languages), languages, default_lang=None)
            with rt.transaction() as conn:
                image = media.update_texts(conn, image_id, texts)
        except InvalidInput as exc:
            forms.attach_error(form, exc)
        else:
            flash(gettext("Saved the alt texts, captions and credit."))
            return redirect(url_for(".media_image", image_id=image_id), 303)
    status = 200 if request.method == "GET" else 422
    return render_template("media_image.html", form=form, image=image, used_by=used_by, languages=languages,
                           alt_fields=[getattr(form, f"alt_{lang}") for lang in languages],
                           caption_fields=[getattr(form, f"caption_{lang}") for lang in languages]), status


@bp.get("/_image/<image_id>")
@login_required()
def media_file(image_id: str):
    """A library image's stored original (the library's thumbnails, and images in the editor's preview)."""
    rt = runtime()
    with read_only(rt.engine) as conn:
        try:
            image = media.get_image(conn, image_id)
        except NotFound as exc:
            abort(404, exc.message)
    data = media_store(rt.settings).get(image["sha256"])
    response = current_app.response_class(data, mimetype=f"image/{image['format']}")
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/media-upload.js")
@login_required()
def media_script():
    """The upload form's progressive enhancement (a drop zone); a file of its own so a CSP can forbid inline scripts."""
    response = current_app.response_class(render_template("media_upload.js"), mimetype="text/javascript")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
