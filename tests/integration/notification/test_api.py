"""notification's JSON API answers bad query arguments with 422 naming them, never a 500."""
from __future__ import annotations

import pytest

from services.notification.app import create_app
from shared.config import load_settings
from tests.helpers import migrated

pytestmark = pytest.mark.integration


@pytest.fixture
def client(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": "redis://127.0.0.1:1/0"})
    c = create_app({"SETTINGS": migrated(settings), "TESTING": True}).test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = "Bearer t"
    return c


@pytest.mark.parametrize("query,field", [("limit=ten", "limit"), ("limit=0", "limit"), ("limit=5000", "limit"),
                                         ("since=yesterday", "since"), ("until=9999-99-99", "until"),
                                         ("since=0001-01-01T00:00:00%2B05:00", "since")])
def test_bad_delivery_log_arguments_are_422(client, query, field):
    resp = client.get(f"/api/deliveries?{query}")
    assert resp.status_code == 422 and resp.get_json()["field"] == field, resp.get_json()


def test_a_good_query_answers(client):
    assert client.get("/api/deliveries?limit=5&since=2026-01-01T00:00:00%2B00:00").status_code == 200
