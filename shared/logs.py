"""Logs shared by every service: JSON lines carrying the correlation id of the request or task.

The correlation id travels one way: a context variable. A web request binds it (from the
``X-Correlation-ID`` header or a new one), a task binds it from its event envelope or message
header, ``shared.outbox.emit`` stamps it on every event, and tasks sent meanwhile carry it as a
message header (see ``shared.metrics``).
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

CORRELATION_HEADER = "X-Correlation-ID"
# The Celery message header that carries the correlation id to tasks whose arguments have no envelope.
CORRELATION_TASK_HEADER = "correlation_id"

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
current_task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("celery_task", default=None)


def current_correlation_id() -> str | None:
    """The correlation id of the request or task being handled, if any."""
    return correlation_id.get()


@contextmanager
def bound_correlation_id(cid: str | None) -> Iterator[None]:
    """Bind ``cid`` as the current correlation id for the block (events emitted in it carry it)."""
    token = correlation_id.set(cid or None)
    try:
        yield
    finally:
        correlation_id.reset(token)


def correlation_headers() -> dict[str, str]:
    """Headers that pass the current correlation id on (for outbound webhooks and HTTP calls)."""
    cid = correlation_id.get()
    return {CORRELATION_HEADER: cid} if cid else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, correlation and task ids."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            out["correlation_id"] = cid
        task = current_task.get()
        if task:
            out["task_name"], out["task_id"] = task
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(service: str, level: int | str | None = None, stream=None) -> logging.Handler:
    """Send every log record of this process to ``stream`` (stderr) as one JSON object per line."""
    level = level or os.environ.get("LOG_LEVEL") or logging.INFO
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.set_name("pipeline-json")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "pipeline-json"]
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else str(level).upper())
    # Celery's task logger does not propagate by default; route it through the JSON handler too.
    logging.getLogger("celery.task").propagate = True
    return handler
