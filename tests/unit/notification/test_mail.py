"""Email composition (``services/notification/mail.py``): the password reset email in every language keeps
a slot for the link, which is made only when the message is sent."""
from __future__ import annotations

import pytest

from services.notification import mail


@pytest.mark.parametrize("lang", ["en", "tr", "ru", "de"])
def test_the_reset_email_names_the_site_and_expiry_and_holds_a_slot_not_a_link(lang):
    subject, body = mail.compose("password_reset", lang, {"site": "Steppe Policy Review", "name": "Leyla",
                                                           "email": "leyla@example.org", "minutes": 45,
                                                           "link": mail.RESET_LINK_SLOT})
    assert "Steppe Policy Review" in subject
    assert body.count(mail.RESET_LINK_SLOT) == 1 and "45" in body and "leyla@example.org" in body
    assert "http" not in body
