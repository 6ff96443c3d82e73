"""Subscription rules: secret format, validation naming the field (``services/notification/subscriptions.py``)."""
import ipaddress

import pytest

from services.notification import subscriptions
from shared.errors import InvalidInput


def test_new_secret_format():
    secret = subscriptions.new_secret()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret != subscriptions.new_secret()


@pytest.mark.parametrize("data,field", [
    ({}, "url"),
    ({"url": "http://127.0.0.1/x", "events": ["article.published"]}, "url"),
    ({"url": "http://127.0.0.1:1/x", "events": []}, "events"),
    ({"url": "http://127.0.0.1:1/x", "events": ["article.exploded"]}, "events"),
    ({"url": "http://127.0.0.1:1/x", "events": ["article.published"], "languages": ["de"]}, "languages"),
])
def test_subscription_validation_names_the_field(data, field):
    allow = () if field == "url" else (ipaddress.ip_network("127.0.0.1/32"),)
    with pytest.raises(InvalidInput) as info:
        subscriptions.parse_subscription(data, ("en", "tr", "ru"), allow)
    assert info.value.field == field
