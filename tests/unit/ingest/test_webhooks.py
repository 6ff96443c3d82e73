"""ingest's inbound ``article.upsert`` payloads name the field and the fix (``services/ingest/webhooks.py``)."""
import json

import pytest

from services.ingest.webhooks import parse_payload
from shared.errors import ApiError, InvalidInput

BODY = json.dumps({"type": "article.upsert", "data": {"external_id": "p-1"}})


def test_payload_parsing():
    source, external_id, data = parse_payload(json.dumps(
        {"type": "article.upsert", "data": {"external_id": " p-9 ", "source": "acme", "lang": "en"}}))
    assert (source, external_id, data) == ("acme", "p-9", {"lang": "en"})
    assert parse_payload(BODY)[0] == "partner"


@pytest.mark.parametrize("payload,field", [
    ([], "body"), ({"type": "article.delete", "data": {}}, "type"), ({"type": "article.upsert"}, "data"),
    ({"type": "article.upsert", "data": []}, "data"),
    ({"type": "article.upsert", "data": {}}, "data.external_id"),
    ({"type": "article.upsert", "data": {"external_id": 5}}, "data.external_id"),
    ({"type": "article.upsert", "data": {"external_id": "x" * 201}}, "data.external_id"),
    ({"type": "article.upsert", "data": {"external_id": "a", "source": "Bad Source!"}}, "data.source"),
    ({"type": "article.upsert", "data": {"external_id": "a"}, "extra": 1}, "extra"),
])
def test_bad_payloads_name_the_field(payload, field):
    with pytest.raises(InvalidInput) as info:
        parse_payload(json.dumps(payload))
    assert info.value.field == field


def test_malformed_json_payload():
    with pytest.raises(ApiError) as info:
        parse_payload("{nope")
    assert info.value.status == 400
