"""The editor pages' language: Flask-Babel with one shared gettext catalog (shared/translations).

The locale is the logged-in editor's own setting, else the best match of the browser's
``Accept-Language`` among ``LOCALES``, else English. Dates, numbers and relative times go through
Babel in that locale (the Jinja filters ``datetime``, ``date``, ``number`` and ``ago``).
Turkish has a dotted and a dotless i (İ/i, I/ı): ``collation_key`` sorts names in the editor's
language with them in their alphabetical places, and ``search_fold`` matches text whatever the
casing of those letters. The public site (services/rendering) keeps its own strings
(services/rendering/i18n.py) and does not use this module.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path

import flask_login
from flask import Flask, request
from babel import Locale
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_timedelta, get_locale
from flask_babel import lazy_gettext as _l

LOCALES = ("en", "tr", "ru")
DEFAULT_LOCALE = "en"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
# Each language's name in itself, for the language setting.
LOCALE_NAMES = {"en": "English", "tr": "Türkçe", "ru": "Русский"}

# What editors read for the codes stored in the databases: article states, translation statuses,
# roles, workflow actions, delivery statuses and event types (the ``label`` filter; badges show it).
LABELS = {
    "draft": _l("draft"), "in_review": _l("in review"), "approved": _l("approved"), "scheduled": _l("scheduled"),
    "publishing": _l("publishing"), "published": _l("published"), "unpublished": _l("unpublished"),
    "archived": _l("archived"),
    "missing": _l("missing"), "requested": _l("requested"), "in_progress": _l("in progress"), "ready": _l("ready"),
    "needs_update": _l("needs update"),
    "author": _l("author"), "editor": _l("editor"), "translator": _l("translator"), "admin": _l("admin"),
    "partner": _l("partner"), "system": _l("system"),
    "create": _l("create"), "edit": _l("edit"), "submit": _l("submit"), "request_changes": _l("request changes"),
    "approve": _l("approve"), "schedule": _l("schedule"), "unschedule": _l("unschedule"), "publish": _l("publish"),
    "unpublish": _l("unpublish"), "archive": _l("archive"), "restore": _l("restore"), "rendered": _l("rendered"),
    "render_failed": _l("render failed"),
    "pending": _l("pending"), "succeeded": _l("succeeded"), "failed": _l("failed"), "running": _l("running"),
    "queued": _l("queued"), "done": _l("done"),
    "article.published": _l("article published"), "article.schedule_missed": _l("scheduled publish missed"),
    "article.submitted": _l("article submitted"), "article.unpublished": _l("article unpublished"),
    "translation.delivered": _l("translation delivered"), "translation.requested": _l("translation requested"),
    "translation.status_changed": _l("translation status changed"), "webhook.test": _l("test event"),
    "ingest": _l("ingest"), "translation_status": _l("translation status"), "rendering": _l("rendering"),
    "notification": _l("notification"), "publish_due": _l("scheduled publish"), "removed": _l("removed"),
}
# The badge colour of each state or status (the label is always written out beside the colour).
BADGE_TONES = {
    "draft": "neutral", "in_review": "wait", "approved": "ok", "scheduled": "wait", "publishing": "wait",
    "published": "ok", "unpublished": "neutral", "archived": "neutral", "missing": "bad", "requested": "wait",
    "in_progress": "wait", "ready": "ok", "needs_update": "bad", "pending": "wait", "succeeded": "ok",
    "failed": "bad", "running": "wait", "queued": "wait", "done": "ok",
}

_TURKISH = "abcçdefgğhıijklmnoöprsştuüvyz"
_TURKISH_RANK = {ch: i for i, ch in enumerate(_TURKISH)}
_RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_RUSSIAN_RANK = {ch: i for i, ch in enumerate(_RUSSIAN)}


def select_locale() -> str:
    """The editor's own language setting, else the browser's best match among LOCALES, else English."""
    user = flask_login.current_user
    chosen = getattr(user, "language", None) if user and user.is_authenticated else None
    if chosen in LOCALES:
        return chosen
    # By the browser's order of preference, a regional tag counting for its language ("en-GB" is "en");
    # werkzeug's best_match would prefer a later exact "tr" over a first "en-GB".
    for tag, _quality in request.accept_languages:  # sorted by quality
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


def init_i18n(app: Flask) -> None:
    """Flask-Babel on an editor app: the locale selector, the shared catalog and the formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS_DIR),
          default_domain=DOMAIN)
    app.jinja_env.filters.update(datetime=localised_datetime, date=localised_date, number=format_decimal,
                                 ago=ago, label=label, language_name=language_name,
                                 iso=iso_time)
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale() or DEFAULT_LOCALE),
                                 locale_names=LOCALE_NAMES, badge_tones=BADGE_TONES)


def label(code: str | None) -> str:
    """What editors read for a stored code (state, status, role, action, event type); unknown codes as they are."""
    return "" if code is None else str(LABELS.get(code, code))


def language_name(code: str) -> str:
    """A language code as the language's name in the editor's language ("tr" -> "Turkish", "Türkçe", "турецкий")."""
    try:
        return Locale.parse(code).get_display_name(str(get_locale() or DEFAULT_LOCALE)) or code
    except (ValueError, LookupError):
        return code


def _as_datetime(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso_time(value: datetime | str | None) -> str:
    """A time for a ``<time datetime>`` attribute (ISO 8601 to the second, as HTML wants it)."""
    return "" if value in (None, "") else _as_datetime(value).isoformat(timespec="seconds")


def localised_datetime(value: datetime | str | None, format: str = "short") -> str:
    """A date and time (UTC) in the editor's language, e.g. 1.12.2026 09:00 in Turkish; '' for None."""
    return "" if value in (None, "") else format_datetime(_as_datetime(value), format)


def localised_date(value: date | datetime | str | None, format: str = "medium") -> str:
    """A date in the editor's language; '' for None."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format)


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """How long ago (or how far ahead) a time is, in the editor's language: "3 hours ago", "3 saat önce"."""
    if value in (None, ""):
        return ""
    delta = _as_datetime(value) - (now or datetime.now(timezone.utc))
    return format_timedelta(delta, add_direction=True)


def lower(text: str, lang: str) -> str:
    """Lower case by the language's rules: Turkish I -> ı and İ -> i."""
    if lang == "tr":
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def collation_key(text: str, lang: str) -> tuple:
    """A sort key for names in ``lang``: Turkish ç ğ ı ö ş ü and Russian ё in their alphabetical places.

    Case is a secondary difference only (lower before upper for otherwise equal names), and other
    letters sort by their base letter, so "Émile" sits with the e's.
    """
    rank = _TURKISH_RANK if lang == "tr" else _RUSSIAN_RANK if lang == "ru" else {}
    primary = []
    for ch in lower(text, lang):
        if ch in rank:
            primary.append((0, rank[ch]))
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        if lang == "tr" and base in _TURKISH_RANK:
            primary.append((0, _TURKISH_RANK[base]))
        elif base in _RUSSIAN_RANK:
            primary.append((2, _RUSSIAN_RANK[base]))
        else:
            primary.append((1, ord(base)))
    return tuple(primary), text.swapcase()


def search_fold(text: str) -> str:
    """Text folded for a case-blind search: every form of i (I, İ, ı, i) is one letter, so "istanbul" finds "İSTANBUL"."""
    return (text.replace("İ", "i").replace("I", "i").replace("ı", "i")).casefold()


def sort_by_name(items: list, name, lang: str | None = None) -> list:
    """``items`` sorted by ``name(item)`` with ``collation_key`` in ``lang`` (default: the editor's language)."""
    lang = lang or str(get_locale() or DEFAULT_LOCALE)
    return sorted(items, key=lambda item: collation_key(name(item), lang))
