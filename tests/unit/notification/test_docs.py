"""docs/webhooks.md documents one example for every event type a subscription may ask for."""
import json
import re
from pathlib import Path

from services.notification.delivery import TEST_EVENT
from shared import tasks

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def test_every_subscribable_event_has_a_parsable_example():
    text = DOC.read_text(encoding="utf-8")
    documented = {}
    for name, block in re.findall(r"### `([^`]+)`.*?```json\n(.*?)```", text, re.S):
        documented[name] = block
    assert set(tasks.SUBSCRIBABLE_EVENTS) | {TEST_EVENT} == set(documented)
    for name in tasks.SUBSCRIBABLE_EVENTS:
        body = json.loads(documented[name])
        assert body["type"] == name and set(body) == {"type", "timestamp", "data"}


def test_the_status_change_example_carries_every_payload_field_and_the_order_is_explained():
    from services.notification.delivery import _PAYLOAD_FIELDS
    from shared import events as ev
    text = DOC.read_text(encoding="utf-8")
    block = dict(re.findall(r"### `([^`]+)`.*?```json\n(.*?)```", text, re.S))[ev.TRANSLATION_STATUS_CHANGED]
    assert list(json.loads(block)["data"]) == list(_PAYLOAD_FIELDS[ev.TRANSLATION_STATUS_CHANGED])
    assert "## Order of status changes" in text and "`sequence`" in text
