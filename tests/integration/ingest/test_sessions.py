"""Sessions that can be revoked and logins that cannot be guessed at speed (``shared/auth.py``, ``shared/throttle.py``).

The sessions and the throttle counters live in a real Redis (a database no worker reads).
"""
from __future__ import annotations

import time
import uuid

import pytest
from lxml import html

from services.ingest import users
from services.ingest.app import create_app as ingest_app
from services.translation_status.app import create_app as translation_app
from shared.config import load_settings
from tests.helpers import migrated, quiet_redis

pytestmark = pytest.mark.integration
TOKEN = "sessions-test-token"
PASSWORD = "a long enough password"


def _settings(tmp_path, redis_url, **extra):
    return migrated(load_settings(dict({"DATA_DIR": str(tmp_path), "API_TOKEN": TOKEN, "SECRET_KEY": "same-key-everywhere",
                               "REDIS_URL": quiet_redis(redis_url), "INBOUND_WEBHOOK_SECRET": "whsec_x",
                               "LOGIN_THROTTLE": "5 per 4 seconds", "TOKEN_THROTTLE": "3 per 4 seconds"}, **extra)))


@pytest.fixture
def apps(tmp_path, redis_url):
    settings = _settings(tmp_path, redis_url)
    ingest = ingest_app({"SETTINGS": settings, "TESTING": True})
    return ingest, translation_app({"SETTINGS": settings, "TESTING": True})


def _account(app, role="editor") -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    with app.extensions["pipeline"].engine.begin() as conn:
        users.create_user(conn, email, PASSWORD, role)
    return email


def _login(client, email, password=PASSWORD):
    page = client.get("/login")
    token = html.fromstring(page.data).xpath("string(//input[@name='csrf_token']/@value)")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _cookie(resp) -> str:
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("pipeline_session="))


def test_the_session_cookie_is_httponly_samesite_and_carries_no_role(apps):
    ingest, _ = apps
    resp = _login(ingest.test_client(), _account(ingest))
    assert resp.status_code == 302
    cookie = _cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "editor" not in cookie, "the role is read from the server, never from the cookie"


def test_the_cookie_is_secure_when_the_site_is_https(tmp_path, redis_url):
    app = ingest_app({"SETTINGS": _settings(tmp_path, redis_url, SITE_URL="https://policy.example.org"), "TESTING": True})
    assert "Secure" in _cookie(_login(app.test_client(), _account(app)))


def test_after_logout_a_copied_cookie_is_refused_on_every_service(apps):
    ingest, translation = apps
    browser = ingest.test_client()
    value = _cookie(_login(browser, _account(ingest))).split(";", 1)[0].split("=", 1)[1]
    thief_ingest, thief_translation = ingest.test_client(), translation.test_client()
    for thief in (thief_ingest, thief_translation):
        thief.set_cookie("pipeline_session", value)
    assert thief_ingest.get("/articles").status_code == 200, "the copied cookie worked while the session lived"
    assert thief_translation.get("/").status_code == 200, "one login works on every service"
    page = browser.get("/articles")
    csrf = html.fromstring(page.data).xpath("string(//form[contains(@action, 'logout')]//input[@name='csrf_token']/@value)")
    assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 302
    for thief, path in ((thief_ingest, "/articles"), (thief_translation, "/")):
        resp = thief.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


def test_a_demoted_editor_cannot_approve_with_an_old_session_and_a_deactivated_one_cannot_log_in(apps):
    ingest, _ = apps
    api = {"Authorization": f"Bearer {TOKEN}"}
    admin = ingest.test_client()
    article = admin.post("/api/articles", headers=api, json={"lang": "en", "title": "Snow Cover", "body": "Text.",
                                                             "author": {"name": "A"}}).get_json()
    admin.post(f"/api/articles/{article['id']}/transitions", headers=api, json={"action": "submit"})
    editor_email = _account(ingest)
    editor = ingest.test_client()
    _login(editor, editor_email)
    page = editor.get(f"/articles/{article['id']}")
    assert b'value="approve"' in page.data
    csrf = html.fromstring(page.data).xpath("string(//input[@name='csrf_token']/@value)")

    changed = admin.patch(f"/api/users/{editor_email}", headers=api, json={"role": "author"})
    assert changed.status_code == 200 and changed.get_json()["sessions_ended"] == 1
    refused = editor.post(f"/articles/{article['id']}/transitions", data={"csrf_token": csrf, "action": "approve"})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert admin.get(f"/api/articles/{article['id']}", headers=api).get_json()["state"] == "in_review"

    assert admin.patch(f"/api/users/{editor_email}", headers=api, json={"active": False}).status_code == 200
    again = _login(ingest.test_client(), editor_email)
    assert again.status_code == 400 and b"Wrong email or password" in again.data
    assert admin.patch(f"/api/users/{editor_email}", headers=api, json={"colour": "red"}).status_code == 422
    assert admin.patch("/api/users/nobody@example.org", headers=api, json={"role": "editor"}).status_code == 404


def test_repeated_wrong_passwords_get_429_and_the_right_one_works_after_the_window(apps):
    ingest, _ = apps
    email = _account(ingest)
    client = ingest.test_client()
    statuses = [_login(client, email, "wrong password!").status_code for _ in range(30)]
    assert statuses[:5] == [400] * 5, "the first failures are plain wrong passwords"
    assert 429 in statuses and statuses.index(429) < 29, statuses
    throttled = _login(client, email)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1, "even the right one waits"
    time.sleep(int(throttled.headers["Retry-After"]) + 0.5)
    assert _login(client, email).status_code == 302, "the account is not locked out for good"


def test_wrong_bearer_tokens_are_throttled_per_address(apps):
    ingest, translation = apps
    for app in (ingest, translation):
        client = app.test_client()
        answers = [client.get("/api/groups/x" if app is translation else "/api/articles",
                              headers={"Authorization": "Bearer guess"}).status_code for _ in range(4)]
        assert answers == [401, 401, 401, 429], answers
        time.sleep(4.5)


def _set_language(client, value):
    page = client.get("/settings")
    token = html.fromstring(page.data).xpath("string(//input[@name='csrf_token']/@value)")
    return client.post("/settings", data={"language": value, "csrf_token": token}, follow_redirects=True)


def test_the_language_setting_applies_at_once_on_every_service_and_outlives_the_session(apps):
    ingest, translation = apps
    email = _account(ingest)
    client = ingest.test_client()
    _login(client, email)
    assert html.fromstring(client.get("/articles", headers={"Accept-Language": "ru"}).data).xpath("//h1/text()") == ["Статьи"]
    saved = _set_language(client, "tr")
    assert "Editör sayfalarınız artık şu dilde: Türkçe." in saved.get_data(as_text=True), "the confirmation is in Turkish"
    other = translation.test_client()
    other.set_cookie("pipeline_session", _cookie(_login(ingest.test_client(), email)).split(";")[0].split("=", 1)[1])
    page = html.fromstring(other.get("/", headers={"Accept-Language": "ru"}).data)
    assert page.xpath("//h1/text()") == ["Çeviriler"] and page.xpath("string(/html/@lang)") == "tr"
    with ingest.extensions["pipeline"].engine.begin() as conn:
        assert users.authenticate(conn, email, PASSWORD)["language"] == "tr"
    _set_language(client, "")
    assert html.fromstring(client.get("/articles", headers={"Accept-Language": "ru"}).data).xpath("//h1/text()") == ["Статьи"]


def test_an_unknown_language_is_refused_next_to_the_field(apps):
    ingest, _ = apps
    client = ingest.test_client()
    _login(client, _account(ingest))
    refused = _set_language(client, "de")
    assert refused.status_code == 400
    assert html.fromstring(refused.data).xpath("string(//p[@id='language-error'])") == "Not a valid choice."
