"""Content rules shared by the services: date-times, page paths, roman numerals (``shared/content.py``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.content import page_path, parse_datetime, roman_value
from shared.errors import InvalidInput


def test_date_times_are_stored_in_utc_and_naive_ones_are_utc_only_when_allowed():
    embargo = parse_datetime("2026-12-01T09:00:00+03:00", "publish_at")
    assert embargo == datetime(2026, 12, 1, 6, tzinfo=timezone.utc) and embargo.utcoffset() == timedelta(0)
    with pytest.raises(InvalidInput) as info:
        parse_datetime("0001-01-01T00:00:00+05:00", "publish_at")
    assert info.value.field == "publish_at"
    assert parse_datetime("2026-12-01T09:00", "since") == datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    assert parse_datetime("2026-12-01", "due_at") == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_datetime(None, "since") is None and parse_datetime("", "since") is None
    with pytest.raises(InvalidInput) as info:
        parse_datetime("2026-12-01T09:00", "publish_at", naive_is_utc=False)
    assert info.value.field == "publish_at" and "offset" in info.value.message
    with pytest.raises(InvalidInput) as info:
        parse_datetime("tomorrow", "until")
    assert info.value.field == "until" and "2026-12-01T09:00:00+00:00" in info.value.message


def test_roman_numerals_up_to_399_in_either_case():
    assert [roman_value(x) for x in ("i", "iv", "ix", "xiv", "XL", "xc", "cccxcix")] == [1, 4, 9, 14, 40, 90, 399]
    assert roman_value("iiii") is None and roman_value("") is None and roman_value("abc") is None


def test_page_path():
    assert page_path("tr", "su-diplomasisi") == "/tr/su-diplomasisi/"
