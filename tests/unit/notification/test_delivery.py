"""Delivery rules: retry schedule, Retry-After, payload shape (``services/notification/delivery.py``)."""
import pytest

from services.notification import delivery
from shared import events as ev


def test_standard_schedule_then_exhausted():
    delays = [delivery.next_delay(n, 1.0) for n in range(1, 11)]
    assert delays[:9] == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert delays[9] is None


def test_scale_factor_and_retry_after():
    assert delivery.next_delay(1, 0.01) == pytest.approx(0.05)
    assert delivery.next_delay(2, 1.0, retry_after=42) == 42
    assert delivery.next_delay(2, 1.0, retry_after=10 ** 9) == 86400


def test_payload_is_small_and_typed():
    event = ev.ArticlePublished(article_id="a", group_id="g", lang="tr", state="published", revision=3,
                                content_hash="h" * 64, title="Başlık", is_source=False, source_lang="en",
                                url="http://x/tr/b/", slug="b", published_at="2026-01-01T00:00:00+00:00",
                                translations={"en": "http://x/en/a/", "tr": "http://x/tr/b/"})
    payload = delivery.payload_for(event.envelope())
    assert payload["type"] == "article.published" and payload["timestamp"]
    assert set(payload["data"]) == {"article_id", "group_id", "lang", "title", "url", "slug", "revision",
                                    "published_at", "translations", "image"}


def test_a_status_change_carries_its_sequence():
    event = ev.TranslationStatusChanged(group_id="g", lang="tr", old_status="in_progress", new_status="in_review",
                                        sequence=2)
    assert delivery.payload_for(event.envelope())["data"]["sequence"] == 2
