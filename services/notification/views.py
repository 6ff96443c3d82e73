"""Server-rendered forms of the notification service: subscriptions and the delivery log."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import format_decimal, ngettext
from sqlalchemy import select

from shared import tasks
from shared.auth import login_required
from shared.content import parse_datetime
from shared.errors import InvalidInput
from shared.i18n import label, language_name
from shared.runtime import runtime

from . import delivery as svc
from . import subscriptions as subs
from .db import subscriptions
from .forms import ActionForm, SubscriptionForm
from .ssrf import allowlist_entries

bp = Blueprint("notification_ui", __name__)
EDITORS = ("editor", "admin")


def _subscription_form(formdata=None, obj=None) -> SubscriptionForm:
    settings = runtime().settings
    form = SubscriptionForm(formdata=formdata, data=obj)
    form.events.choices = [(e, label(e)) for e in tasks.SUBSCRIBABLE_EVENTS]
    form.languages.choices = [(code, language_name(code)) for code in settings.languages]
    form.owner_lang.choices = [(code, language_name(code)) for code in settings.languages]
    return form


def _url_hint() -> str:
    """What the URL field accepts under this configuration (WEBHOOK_ALLOWLIST may let private targets through)."""
    allowlist = runtime().settings.webhook_allowlist
    if allowlist:
        return gettext("An http:// or https:// URL. Private, loopback and other non-public addresses are refused, "
                       "except these, which WEBHOOK_ALLOWLIST lets through: %(entries)s.",
                       entries=allowlist_entries(allowlist))
    return gettext("An http:// or https:// URL. Private, loopback and other non-public addresses are refused.")


@bp.get("/subscriptions")
@login_required(*EDITORS)
def subscriptions_page():
    """Every subscription and the form for a new one."""
    with runtime().engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(subscriptions).order_by(subscriptions.c.created_at)).mappings()]
    return render_template("subscriptions.html", rows=rows, form=_subscription_form(), action=ActionForm(),
                           url_hint=_url_hint())


@bp.post("/subscriptions")
@login_required(*EDITORS)
def create_subscription():
    """Create a subscription from the form; the secret is shown on the next page only."""
    rt = runtime()
    form = _subscription_form(request.form)
    if form.validate_on_submit():
        data = {"url": form.url.data or "", "events": form.events.data, "languages": form.languages.data,
                "description": form.description.data or "", "owner_email": form.owner_email.data or None,
                "owner_lang": form.owner_lang.data, "enabled": bool(form.enabled.data)}
        try:
            fields = subs.parse_subscription(data, rt.settings.languages, rt.settings.webhook_allowlist)
        except InvalidInput as exc:
            getattr(form, exc.field).errors.append(exc.message)  # the service layer's message, in English
        else:
            with rt.engine.begin() as conn:
                row = subs.create_subscription(conn, fields)
            flash(gettext("Subscription created. Copy the secret now: it is not shown again."))
            return render_template("secret.html", row=row, secret=row["secret"])
    with rt.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(subscriptions).order_by(subscriptions.c.created_at)).mappings()]
    return render_template("subscriptions.html", rows=rows, form=form, action=ActionForm(), url_hint=_url_hint()), 400


def _load(subscription_id: str) -> dict:
    with runtime().engine.begin() as conn:
        row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).mappings().first()
    if row is None:
        abort(404)
    return dict(row)


@bp.post("/subscriptions/<subscription_id>/enabled")
@login_required(*EDITORS)
def toggle_subscription(subscription_id: str):
    """Enable or disable a subscription."""
    row = _load(subscription_id)
    if ActionForm().validate_on_submit():
        with runtime().engine.begin() as conn:
            subs.update_subscription(conn, subscription_id, {"enabled": not row["enabled"]})
        flash(gettext("Subscription disabled.") if row["enabled"] else gettext("Subscription enabled."))
    return redirect(url_for(".subscriptions_page"))


@bp.post("/subscriptions/<subscription_id>/rotate")
@login_required(*EDITORS)
def rotate(subscription_id: str):
    """Rotate the secret; the old one signs too until the overlap ends."""
    rt = runtime()
    row = _load(subscription_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with rt.engine.begin() as conn:
        secret = subs.rotate_secret(conn, subscription_id, timedelta(hours=rt.settings.webhook_secret_overlap_hours))
    flash(gettext("New secret issued; the old one keeps signing for %(hours)s hours.",
            hours=format_decimal(rt.settings.webhook_secret_overlap_hours)))
    return render_template("secret.html", row=row, secret=secret)


@bp.post("/subscriptions/<subscription_id>/test")
@login_required(*EDITORS)
def send_test(subscription_id: str):
    """Send a signed test event now."""
    rt = runtime()
    _load(subscription_id)
    if ActionForm().validate_on_submit():
        with rt.engine.begin() as conn:
            delivery_id = svc.create_test_delivery(conn, subscription_id)
        svc.dispatch(rt.engine, rt.celery, [delivery_id])
        flash(gettext("Test event sent; its delivery is at the top of the log."))
    return redirect(url_for(".deliveries_page", subscription_id=subscription_id))


def _times() -> tuple[dict, dict]:
    """The since/until filters of the delivery log, and an error per unreadable one."""
    times, errors = {}, {}
    for name in ("since", "until"):
        try:
            times[name] = parse_datetime(request.values.get(name), name)
        except InvalidInput:
            times[name], errors[name] = None, gettext("Use a date and time such as 2026-11-29T10:00")
    return times, errors


@bp.get("/deliveries")
@login_required(*EDITORS)
def deliveries_page():
    """The delivery log with filters (subscription, event, status, time) and replay buttons."""
    return _deliveries_page()


def _deliveries_page(replay_errors: dict | None = None, status: int = 200):
    filters = {k: request.args.get(k, "") for k in ("subscription_id", "event_type", "status", "since", "until")}
    times, errors = _times() if request.method == "GET" else ({"since": None, "until": None}, {})
    rows, logs = [], {}
    with runtime().engine.begin() as conn:
        if not errors:
            rows, logs = svc.delivery_log(conn, {k: filters[k] for k in ("subscription_id", "event_type", "status") if filters[k]},
                                          since=times["since"], until=times["until"], limit=200)
        subs_ = [dict(r) for r in conn.execute(select(subscriptions.c.id, subscriptions.c.url)).mappings()]
    replay = {k: request.form.get(k, "") for k in ("since", "until")}
    return render_template("deliveries.html", rows=rows, logs=logs, subs=subs_, filters=filters, errors=errors,
                           replay=replay, replay_errors=replay_errors or {},
                           event_types=list(tasks.SUBSCRIBABLE_EVENTS) + [svc.TEST_EVENT],
                           action=ActionForm()), (400 if errors else status)


@bp.post("/deliveries/<delivery_id>/replay")
@login_required(*EDITORS)
def replay_one(delivery_id: str):
    """Re-send one delivery with its original webhook-id."""
    rt = runtime()
    if ActionForm().validate_on_submit():
        with rt.engine.begin() as conn:
            if not svc.replay(conn, delivery_id):
                abort(404)
        svc.dispatch(rt.engine, rt.celery, [delivery_id])
        flash(gettext("Delivery queued again with its original webhook-id."))
    return redirect(url_for(".deliveries_page"))


@bp.post("/deliveries/replay-failed")
@login_required(*EDITORS)
def replay_range():
    """Re-send every failed delivery created in a time range."""
    rt = runtime()
    times, errors = _times()
    since, until = times["since"], times["until"]
    if not ActionForm().validate_on_submit():
        abort(400)
    if errors or since is None or until is None or until <= since:
        # Each error next to its field; a range the wrong way round is the "before" field's.
        replay_errors = {k: gettext("Give a date and time such as 2026-11-29T10:00") for k in ("since", "until")
                         if k in errors or times[k] is None}
        if not replay_errors:
            replay_errors["until"] = gettext("Must be later than “Created from”")
        return _deliveries_page(replay_errors, status=422)
    with rt.engine.begin() as conn:
        ids = svc.replay_failed(conn, since, until, request.form.get("subscription_id") or None)
    svc.dispatch(rt.engine, rt.celery, ids)
    flash(ngettext("%(num)d failed delivery queued again.", "%(num)d failed deliveries queued again.", len(ids)))
    return redirect(url_for(".deliveries_page", status="pending"))
