"""Signed inbound webhooks: verification names the header and the fix (``shared/signed.py``)."""
import base64
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from shared.errors import ApiError
from shared.signed import SignatureRejected, verify

SECRET = "whsec_" + base64.b64encode(b"unit-test-secret-unit-test-secret").decode()
BODY = json.dumps({"type": "article.upsert", "data": {"external_id": "p-1"}})


def signed(body: str = BODY, *, msg_id: str = "msg_1", at: datetime | None = None, secret: str = SECRET) -> dict:
    at = at or datetime.now(timezone.utc)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body)}


def test_a_good_signature_returns_the_body():
    assert verify(SECRET, BODY.encode(), signed()) == BODY
    headers = signed()
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]  # several signatures: one matches
    assert verify(SECRET, BODY.encode(), {k.upper(): v for k, v in headers.items()}) == BODY


@pytest.mark.parametrize("change,field", [
    ({"webhook-id": None}, "webhook-id"),
    ({"webhook-timestamp": None}, "webhook-timestamp"),
    ({"webhook-signature": None}, "webhook-signature"),
    ({"webhook-signature": "garbage"}, "webhook-signature"),
    ({"webhook-signature": "v1,not base64!"}, "webhook-signature"),
    ({"webhook-signature": "v1,QUJD="}, "webhook-signature"),  # bad padding once the library decodes it
    ({"webhook-signature": "v1"}, "webhook-signature"),
    ({"webhook-signature": ","}, "webhook-signature"),
    ({"webhook-timestamp": "yesterday"}, "webhook-timestamp"),
    ({"webhook-timestamp": "1e9"}, "webhook-timestamp"),
    ({"webhook-id": "x" * 201}, "webhook-id"),
    ({"webhook-id": "bad\nid"}, "webhook-id"),
])
def test_malformed_headers_are_rejected_not_crashed(change, field):
    headers = signed()
    for k, v in change.items():
        if v is None:
            headers.pop(k)
        else:
            headers[k] = v
    with pytest.raises(SignatureRejected) as info:
        verify(SECRET, BODY.encode(), headers)
    assert info.value.field == field


def test_stale_future_tampered_and_wrongly_keyed_requests_are_rejected():
    old = datetime.now(timezone.utc) - timedelta(minutes=6)
    with pytest.raises(SignatureRejected) as info:
        verify(SECRET, BODY.encode(), signed(at=old))
    assert info.value.field == "webhook-timestamp" and "5 minutes" in info.value.message
    with pytest.raises(SignatureRejected):
        verify(SECRET, BODY.encode(), signed(at=datetime.now(timezone.utc) + timedelta(minutes=6)))
    with pytest.raises(SignatureRejected) as info:
        verify(SECRET, BODY.replace("p-1", "p-2").encode(), signed())
    assert info.value.field == "webhook-signature"
    other = "whsec_" + base64.b64encode(b"another-secret-another-secret").decode()
    with pytest.raises(SignatureRejected):
        verify(SECRET, BODY.encode(), signed(secret=other))


def test_a_timestamp_inside_the_window_passes():
    at = datetime.fromtimestamp(time.time() - 240, timezone.utc)
    assert verify(SECRET, BODY.encode(), signed(at=at)) == BODY


def test_a_body_that_is_not_utf8_is_malformed():
    with pytest.raises(ApiError) as info:
        verify(SECRET, b"\xff\xfe", signed())
    assert info.value.status == 400


