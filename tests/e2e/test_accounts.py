"""Password reset by email through the real stack: ingest records the reset and emits the event, the
notification worker signs the link and mails it to the real test SMTP server; the link works once,
a second use and an expired link are refused, and the same answer is given for unknown addresses."""
from __future__ import annotations

import email
import re
import uuid
from email import policy

import pytest
import requests
from lxml import html
from sqlalchemy import create_engine, text

from tests.helpers import wait_for

pytestmark = pytest.mark.integration
PASSWORD = "the first long password"
NEW_PASSWORD = "a brand new long password"
LINK = re.compile(r"https?://\S+/password-reset/\S+")


def _csrf(page: requests.Response) -> str:
    return html.fromstring(page.content).xpath("string(//input[@name='csrf_token']/@value)")


def _login(stack, address: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(stack.url("ingest") + "/login", timeout=10)
    browser.post(stack.url("ingest") + "/login", data={"email": address, "password": password, "csrf_token": _csrf(page)},
                 timeout=10, allow_redirects=False)
    return browser


def _logged_in(stack, browser: requests.Session) -> bool:
    return browser.get(stack.url("ingest") + "/articles", timeout=10, allow_redirects=False).status_code == 200


def _ask_reset(stack, address: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(stack.url("ingest") + "/password-reset", timeout=10)
    return browser.post(stack.url("ingest") + "/password-reset", data={"email": address, "csrf_token": _csrf(page)},
                        timeout=10)


def _links(smtp_server, address: str) -> list[str]:
    found = []
    for envelope in smtp_server.to(address):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        found += LINK.findall(message.get_body().get_content())
    return found


def _set_password(link: str, password: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert page.status_code == 200, page.text
    return browser.post(link, data={"new_password": password, "confirm": password, "csrf_token": _csrf(page)},
                        timeout=10, allow_redirects=False)


def _db(stack, service: str):
    return create_engine(stack.settings.database_url(service))


def test_password_reset_link_arrives_by_email_works_once_and_expires(stack, smtp_server):
    address = f"forgetful-{uuid.uuid4().hex[:6]}@example.org"
    resp = stack.api("ingest", "POST", "/api/users", json={"email": address, "password": PASSWORD, "role": "editor"})
    assert resp.status_code == 201, resp.text
    elsewhere = _login(stack, address, PASSWORD)
    assert _logged_in(stack, elsewhere)

    unknown = f"nobody-{uuid.uuid4().hex[:6]}@example.org"
    for_unknown, for_known = _ask_reset(stack, unknown), _ask_reset(stack, address)
    assert for_unknown.status_code == for_known.status_code == 200
    strip = lambda r, who: re.sub(r'name="csrf_token"[^>]*', "", r.text).replace(who, "ADDRESS")  # noqa: E731
    assert strip(for_unknown, unknown) == strip(for_known, address), "the answer never tells whether an account exists"

    link = wait_for(lambda: _links(smtp_server, address), timeout=30, message="the reset email")[0]
    assert link.startswith(stack.url("ingest") + "/password-reset/")
    assert not smtp_server.to(unknown)
    token = link.rsplit("/", 1)[1]
    with _db(stack, "ingest").connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM password_resets WHERE email = :e"), {"e": unknown}).scalar() == 0
        outbox = " ".join(str(r[0]) for r in conn.execute(text("SELECT envelope FROM outbox")))
    with _db(stack, "notification").connect() as conn:
        stored = " ".join(str(r[0]) for r in conn.execute(text("SELECT body FROM emails")))
    assert address in outbox and token not in outbox, "the event names the reset, never the token"
    assert "password-reset-link" in stored and token not in stored, "the stored email holds a slot, not the link"

    done = _set_password(link, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert not _logged_in(stack, elsewhere), "a reset ends every session of the account"
    assert _logged_in(stack, _login(stack, address, NEW_PASSWORD))
    assert not _logged_in(stack, _login(stack, address, PASSWORD))

    again = requests.get(link, timeout=10)
    assert again.status_code == 410 and "no longer works" in again.text, "a link works once"
    assert requests.post(link, data={"new_password": "yet another password", "confirm": "yet another password"},
                         timeout=10).status_code in (400, 410)
    assert _logged_in(stack, _login(stack, address, NEW_PASSWORD)), "the spent link changed nothing"

    _ask_reset(stack, address)
    second = wait_for(lambda: [x for x in _links(smtp_server, address) if x != link], timeout=30,
                      message="the second reset email")[0]
    with _db(stack, "ingest").begin() as conn:
        conn.execute(text("UPDATE password_resets SET expires_at = :past WHERE used_at IS NULL AND email = :e"),
                     {"past": "2000-01-01 00:00:00.000000", "e": address})
    expired = requests.get(second, timeout=10)
    assert expired.status_code == 410, "an expired link is refused"
    assert _logged_in(stack, _login(stack, address, NEW_PASSWORD))
