"""The webhook transport reads Retry-After as seconds or an HTTP date (``services/notification/transport.py``)."""
from datetime import timedelta
from email.utils import format_datetime

import pytest

from services.notification.transport import retry_after_seconds
from shared.events import utcnow


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(format_datetime(utcnow() + timedelta(seconds=90), usegmt=True)) == pytest.approx(90, abs=2)
    assert retry_after_seconds(format_datetime(utcnow() - timedelta(hours=1), usegmt=True)) == 0.0
    assert retry_after_seconds("not a date") is None
    assert retry_after_seconds(None) is None
