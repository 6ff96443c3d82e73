"""Fixtures of the shared package's unit tests: a private real Redis (metrics live there), captured JSON logs."""
from __future__ import annotations

import io
import json
import logging

import pytest
import redis

from deploy import launcher
from shared.logs import configure_logging
from tests.helpers import free_port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A private Redis for this test module (started like `make up` does)."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = launcher.start_redis(url, tmp_path_factory.mktemp("redis"), log=lambda *_: None)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def r(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def json_log():
    """Capture the root logger's JSON output; restore the previous handlers afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("ingest", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers, root.level = saved, level
