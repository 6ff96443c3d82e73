"""JSON log lines carrying the correlation id (``shared/logs.py``)."""
from __future__ import annotations

import io
import logging
import re

from shared import logs as obs


def test_log_lines_are_json_with_service_and_correlation_id(json_log):
    log = logging.getLogger("pipeline.test")
    log.info("no request yet %s", 1)
    token = obs.correlation_id.set("req-123")
    try:
        log.warning("inside a request")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    finally:
        obs.correlation_id.reset(token)
    first, second, third = json_log()
    assert first["message"] == "no request yet 1" and "correlation_id" not in first
    assert {k: second[k] for k in ("level", "service", "logger", "message", "correlation_id")} == {
        "level": "WARNING", "service": "ingest", "logger": "pipeline.test", "message": "inside a request",
        "correlation_id": "req-123"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", second["time"])
    assert "ValueError: boom" in third["exception"]


def test_configure_logging_twice_keeps_one_handler(json_log):
    obs.configure_logging("ingest", stream=io.StringIO())
    assert sum(h.get_name() == "pipeline-json" for h in logging.getLogger().handlers) == 1
