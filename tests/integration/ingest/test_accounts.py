"""Accounts on ingest's pages (``views.py``, ``users.py``): changing one's password ends the other
sessions, reset requests are throttled and answer alike for any address, a reset link is refused
once spent or expired, and the admin's users page creates, demotes and deactivates accounts.

Sessions and throttles live in a real Redis; the reset email itself is the e2e test's
(tests/e2e/test_accounts.py), here the link is signed as the notification worker signs it.
"""
from __future__ import annotations

import uuid

import pytest
from lxml import html
from sqlalchemy import select, update

from services.ingest import users
from services.ingest.app import create_app as ingest_app
from services.ingest.db import outbox, password_resets
from shared.auth import password_reset_token
from shared.config import load_settings
from shared.events import utcnow
from tests.helpers import migrated, quiet_redis

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


@pytest.fixture
def app(tmp_path, redis_url):
    settings = migrated(load_settings({
        "DATA_DIR": str(tmp_path), "API_TOKEN": "accounts-token", "SECRET_KEY": "accounts-key",
        "REDIS_URL": quiet_redis(redis_url), "INBOUND_WEBHOOK_SECRET": "whsec_x",
        "PASSWORD_RESET_THROTTLE": "3 per 5 minutes", "PASSWORD_RESET_MINUTES": "30"}))
    return ingest_app({"SETTINGS": settings, "TESTING": True})


def _engine(app):
    return app.extensions["pipeline"].engine


def _account(app, role="editor") -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    with _engine(app).begin() as conn:
        users.create_user(conn, email, PASSWORD, role)
    return email


def _csrf(client, path: str) -> str:
    return html.fromstring(client.get(path).data).xpath("string(//input[@name='csrf_token']/@value)")


def _login(app, email, password=PASSWORD):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": _csrf(client, "/login")})
    assert resp.status_code == 302, resp.data
    return client


def _in(client) -> bool:
    return client.get("/articles").status_code == 200


def _errors(resp) -> dict:
    doc = html.fromstring(resp.data)
    return {p.get("id").removesuffix("-error"): p.text_content() for p in doc.xpath("//p[@class='error']")}


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app):
    email = _account(app)
    here, there = _login(app, email), _login(app, email)
    wrong = here.post("/account", data={"current_password": "not it at all", "new_password": "new long password",
                                        "confirm": "new long password", "csrf_token": _csrf(here, "/account")})
    assert wrong.status_code == 400 and "not your current password" in _errors(wrong)["current_password"]
    differ = here.post("/account", data={"current_password": PASSWORD, "new_password": "new long password",
                                         "confirm": "other long password", "csrf_token": _csrf(here, "/account")})
    assert differ.status_code == 400 and "differ" in _errors(differ)["confirm"]
    assert _in(there), "a refused change ends nothing"

    done = here.post("/account", data={"current_password": PASSWORD, "new_password": "new long password",
                                       "confirm": "new long password", "csrf_token": _csrf(here, "/account")},
                     follow_redirects=True)
    assert done.status_code == 200 and "1 other session" in done.get_data(as_text=True)
    assert _in(here) and not _in(there)
    _login(app, email, "new long password")
    client = app.test_client()
    old = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
    assert old.status_code == 400


def test_reset_requests_answer_alike_write_nothing_for_unknown_addresses_and_are_throttled(app):
    email = _account(app)
    client = app.test_client()
    unknown = client.post("/password-reset", data={"email": "nobody@example.org", "csrf_token": _csrf(client, "/password-reset")})
    known = client.post("/password-reset", data={"email": email, "csrf_token": _csrf(client, "/password-reset")})
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data(as_text=True).replace("nobody@example.org", "X") == known.get_data(as_text=True).replace(email, "X")
    with _engine(app).begin() as conn:
        rows = conn.execute(select(password_resets.c.email)).scalars().all()
        events = [r.envelope for r in conn.execute(select(outbox))]
    assert rows == [email]
    assert [e["type"] for e in events] == ["account.password_reset_requested"]
    assert set(events[0]["data"]) == {"reset_id", "email", "name", "lang", "expires_at"}, "no token in the event"

    bad = client.post("/password-reset", data={"email": "not an address", "csrf_token": _csrf(client, "/password-reset")})
    assert bad.status_code == 400 and "email address" in _errors(bad)["email"]
    client.post("/password-reset", data={"email": email, "csrf_token": _csrf(client, "/password-reset")})
    limited = client.post("/password-reset", data={"email": "third@example.org", "csrf_token": _csrf(client, "/password-reset")})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0, "3 requests per address per window"


def _reset_link(app, email) -> str:
    with _engine(app).begin() as conn:
        reset_id = users.request_password_reset(conn, email, 30)
    return "/password-reset/" + password_reset_token("accounts-key", reset_id)


def _use(client, link, password="fresh long password"):
    return client.post(link, data={"new_password": password, "confirm": password, "csrf_token": _csrf(client, link)})


def test_a_reset_link_works_once_and_not_after_it_expired_or_the_password_changed(app):
    email = _account(app)
    client = app.test_client()
    first, second = _reset_link(app, email), _reset_link(app, email)
    assert client.get(first).headers["Referrer-Policy"] == "no-referrer"
    short = _use(client, first, "short")
    assert short.status_code == 400 and "10 characters" in _errors(short)["new_password"]
    assert _use(client, first).status_code == 302
    assert client.get(first).status_code == 410, "spent"
    assert client.get(second).status_code == 410, "using one link spends the account's other open links"

    expiring = _reset_link(app, email)
    with _engine(app).begin() as conn:
        conn.execute(update(password_resets).where(password_resets.c.used_at.is_(None)).values(expires_at=utcnow()))
    assert client.get(expiring).status_code == 410

    stale = _reset_link(app, email)
    here = _login(app, email, "fresh long password")
    here.post("/account", data={"current_password": "fresh long password", "new_password": "changed long password",
                                "confirm": "changed long password", "csrf_token": _csrf(here, "/account")})
    assert client.get(stale).status_code == 410, "a link asked for before a password change does not work after it"

    assert client.get("/password-reset/forged.token.value").status_code == 410
    with _engine(app).begin() as conn:
        reset_id = users.request_password_reset(conn, email, 30)
    other_key = "/password-reset/" + password_reset_token("another-key", reset_id)
    assert client.get(other_key).status_code == 410, "signed with another key"


def test_the_admin_users_page_creates_demotes_and_deactivates_accounts_ending_their_sessions(app):
    admin, editor, idle = _account(app, "admin"), _account(app, "editor"), _account(app, "author")
    assert _login(app, editor).get("/users").status_code == 403
    client = _login(app, admin)
    page = client.get("/users")
    assert page.status_code == 200
    doc = html.fromstring(page.data)
    rows = {tr.xpath("string(td[1]/small)").split(" ·")[0]: tr for tr in doc.xpath("//tbody/tr")}
    assert "UTC" in rows[admin].xpath("string(td[3])") and rows[idle].xpath("string(td[3])") == "never"

    token = _csrf(client, "/users")
    bad = client.post("/users", data={"email": "new@example.org", "name": "", "role": "editor", "lang": "tr",
                                      "password": "short", "csrf_token": token})
    assert bad.status_code == 400 and "10 characters" in _errors(bad)["password"]
    taken = client.post("/users", data={"email": editor, "name": "", "role": "editor", "lang": "en",
                                        "password": PASSWORD, "csrf_token": token})
    assert taken.status_code == 409 and "already has an account" in _errors(taken)["email"]
    made = client.post("/users", data={"email": "new@example.org", "name": "New Person", "role": "translator",
                                       "lang": "tr", "password": PASSWORD, "csrf_token": token})
    assert made.status_code == 302
    assert _in(_login(app, "new@example.org"))

    theirs = _login(app, editor)
    form = html.fromstring(client.get("/users").data).xpath(f"//form[contains(@action, '{editor}')]")[0]
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    role_name, active_name = form.xpath(".//select/@name")
    changed = client.post(form.get("action"), data=dict(fields, **{role_name: "author", active_name: "1"}),
                          follow_redirects=True)
    assert "author, active; 2 sessions ended" in " ".join(html.fromstring(changed.data).xpath("//p[contains(@class, 'flash')]/text()"))
    assert not _in(theirs)
    client.post(form.get("action"), data=dict(fields, **{role_name: "author", active_name: "0"}))
    refused = app.test_client()
    assert refused.post("/login", data={"email": editor, "password": PASSWORD,
                                        "csrf_token": _csrf(refused, "/login")}).status_code == 400
    assert not html.fromstring(client.get("/users").data).xpath(f"//form[contains(@action, '{admin}')]"), \
        "an admin cannot lock themselves out from this page"
