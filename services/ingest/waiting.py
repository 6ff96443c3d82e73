"""What waits for an editor, on one page: articles in review and overdue schedules (ingest's own),
overdue translations (translation_status's) and failed webhook deliveries (notification's).

Each service keeps its waiting items in its own database and lists them on its own page (the
translation dashboard's "overdue" filter, the delivery log's "failed" filter); this page reads the
other two through their JSON APIs, as the timeline does, shows the first few with the total, and
links to the owning page for the rest. A service that does not answer costs only its section.
"""
from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import func, select

from shared.errors import ApiError
from shared.runtime import Runtime, read_service
from shared.workflow import Role, State

from .db import articles
from .schedule import overdue_schedules

SHOWN = 10
EDITORS = (Role.EDITOR.value, Role.ADMIN.value)


def _read(service: str, path: str) -> tuple[dict | None, str | None]:
    try:
        return read_service(service, path, timeout=3), None
    except ApiError as exc:  # the page shows the other sections and says which service did not answer
        return None, exc.message


def in_review(conn, *, created_by: str | None = None) -> tuple[list[dict], int]:
    """Articles waiting for an editor's review (optionally only one person's), oldest first, and how many."""
    where = [articles.c.state == State.IN_REVIEW.value]
    if created_by:
        where.append(articles.c.created_by == created_by)
    rows = conn.execute(select(articles.c.id, articles.c.title, articles.c.lang, articles.c.revision,
                               articles.c.created_by, articles.c.updated_at).where(*where)
                        .order_by(articles.c.updated_at).limit(SHOWN)).mappings().all()
    count = conn.execute(select(func.count()).select_from(articles).where(*where)).scalar_one()
    return [dict(r) for r in rows], count


def build_waiting(rt: Runtime, user: dict) -> dict:
    """The sections of the "what waits" page for ``user`` (editors and admins see everything; others
    see their own submissions and the translations assigned to them)."""
    editor = user["role"] in EDITORS
    urls = rt.settings.service_urls
    with rt.engine.begin() as conn:
        review, review_count = in_review(conn, created_by=None if editor else user["email"])
        late = overdue_schedules(conn, rt.settings.schedule_late_after_seconds) if editor else []
    path = f"/api/translations/overdue?limit={SHOWN}"
    if user["role"] == Role.TRANSLATOR.value:
        path += f"&translator={quote(user['email'])}"
    translations, translations_error = _read("translation_status", path)
    deliveries, deliveries_error = None, None
    if editor:
        deliveries, deliveries_error = _read("notification", f"/api/deliveries?status=failed&limit={SHOWN + 1}")
    failed = (deliveries or {}).get("deliveries", [])
    return {
        "editor": editor,
        "review": {"rows": review, "count": review_count,
                   "link": "/articles?state=in_review"},
        "schedules": late,
        "translations": {"rows": (translations or {}).get("overdue", []), "count": (translations or {}).get("count", 0),
                         "error": translations_error, "link": f"{urls['translation_status']}/?overdue=1"},
        "deliveries": {"rows": failed[:SHOWN], "more": len(failed) > SHOWN, "error": deliveries_error,
                       "count": len(failed[:SHOWN]),
                       "link": f"{urls['notification']}/deliveries?status=failed"},
    }
