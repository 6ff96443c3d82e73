"""Events round-trip through their JSON envelope."""
import json

import pytest

from shared import events as ev


def _fields(**over):
    base = dict(article_id="a", group_id="g", lang="en", state="published", revision=2, content_hash="h",
                title="T", is_source=True, source_lang="en")
    base.update(over)
    return base


def test_envelope_round_trip_through_json():
    event = ev.ArticlePublished(**_fields(), url="http://x/en/t/", slug="t", translations={"en": "http://x/en/t/"})
    envelope = json.loads(json.dumps(event.envelope("corr-1")))
    assert envelope["type"] == "article.published" and envelope["correlation_id"] == "corr-1"
    assert ev.parse(envelope) == event


def test_events_are_frozen_and_past_tense():
    event = ev.ArticleCreated(**_fields(state="draft"))
    with pytest.raises(Exception):
        event.title = "changed"
    for type_name in ev.EVENT_CLASSES:
        assert type_name.split(".")[1].endswith(("ed", "changed")), type_name


def test_unknown_fields_from_newer_producers_are_ignored():
    envelope = ev.ArticleRendered(article_id="a", revision=1, url="u").envelope()
    envelope["data"]["new_field"] = 1
    assert ev.parse(envelope).url == "u"


def test_parse_refuses_unknown_type():
    with pytest.raises(ValueError):
        ev.parse({"type": "article.exploded", "data": {}})
