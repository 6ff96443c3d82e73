"""An article's timeline: each step across the four services with its time, on one editor page.

ingest owns the audit log; the other facts are read from the other services' JSON APIs (they are
not ingest's to store): renders from rendering, webhook deliveries from notification.
"""
from __future__ import annotations

from shared.errors import ApiError
from shared.events import iso
from shared.runtime import Runtime, read_service

from .queries import audit_entries, get_article


def _get(service: str, path: str) -> tuple[dict | None, str | None]:
    try:
        return read_service(service, path, timeout=5), None
    except ApiError as exc:  # the timeline shows what it has and says which service did not answer
        return None, exc.message


def build_timeline(rt: Runtime, article_id: str) -> tuple[dict, list[dict], list[str]]:
    """The article, its steps sorted by time, and the services that could not be asked (NotFound for no article)."""
    with rt.engine.begin() as conn:
        article = get_article(conn, article_id)
        audit = audit_entries(conn, article_id)
    # Each step names what happened (``step``: an audit action, a render action or "webhook") and carries
    # its facts; the page words them in the editor's language (templates/timeline.html).
    steps = [{"at": iso(e["at"]), "service": "ingest", "step": e["action"], "from_state": e["from_state"],
              "to_state": e["to_state"], "actor": e["actor"], "note": e["note"]} for e in audit]
    problems = []
    renders, error = _get("rendering", f"/api/articles/{article_id}/renders")
    if error:
        problems.append(error)
    for r in (renders or {}).get("renders", []):
        steps.append({"at": r["at"], "service": "rendering", "step": r["action"], "revision": r["revision"],
                      "files": r["files_written"], "ms": r["duration_ms"]})
    deliveries, error = _get("notification", f"/api/deliveries?article_id={article_id}")
    if error:
        problems.append(error)
    for d in (deliveries or {}).get("deliveries", []):
        for a in d.get("attempt_log", []):
            steps.append({"at": a["started_at"], "service": "notification", "step": "webhook",
                          "event_type": d["event_type"], "attempt": a["number"],
                          "result": a["status_code"] or a["error"], "ms": a["latency_ms"], "webhook_id": d["webhook_id"]})
    steps.sort(key=lambda s: s["at"])
    return article, steps, problems
