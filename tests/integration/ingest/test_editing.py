"""Approved means approved: publishes ship the approved revision, the edit table holds on the API, the
webhook and the forms, and two people editing the same revision cannot overwrite each other."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from lxml import html
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from services.ingest import handlers, schedule, users
from services.ingest.app import create_app
from services.ingest.db import articles, audit_log, outbox
from shared import events as ev
from shared.config import load_settings
from tests.helpers import migrated, quiet_redis

pytestmark = pytest.mark.integration
TOKEN = "edit-test-token"
SECRET = "whsec_" + base64.b64encode(b"edit-tests-inbound-secret").decode()
PASSWORD = "a long enough password"
ARTICLE = {"lang": "en", "title": "Reservoirs Before Winter", "body": "Approved text about reservoirs.",
           "author": {"name": "A. Writer"}}


@pytest.fixture
def app(tmp_path, redis_url):
    # A real Redis holds the editor sessions; no worker consumes, so events stay in the outbox to read.
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": TOKEN, "REDIS_URL": quiet_redis(redis_url),
                              "INBOUND_WEBHOOK_SECRET": SECRET})
    app = create_app({"SETTINGS": migrated(settings), "TESTING": True})
    with app.extensions["pipeline"].engine.begin() as conn:
        for email, role in (("editor@example.org", "editor"), ("author@example.org", "author"),
                            ("other@example.org", "author"), ("tr@example.org", "translator"),
                            ("tr2@example.org", "translator")):
            users.create_user(conn, email, PASSWORD, role)
    return app


def _token(app, email):
    """A personal API token for ``email`` (made fresh: tokens are shown only once)."""
    import secrets

    from services.ingest.db import users as users_table
    from services.ingest.users import _token_hash

    token = secrets.token_urlsafe(16)
    with app.extensions["pipeline"].engine.begin() as conn:
        conn.execute(update(users_table).where(users_table.c.email == email).values(token_hash=_token_hash(token)))
    return token


class Api:
    def __init__(self, app, token=TOKEN):
        self.client, self.token = app.test_client(), token

    def __call__(self, method, path, **kwargs):
        headers = dict(kwargs.pop("headers", {}), Authorization=f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def move(self, article_id, action, **body):
        return self("POST", f"/api/articles/{article_id}/transitions", json={"action": action, **body})

    def edit(self, article_id, etag=None, **changes):
        etag = etag or self("GET", f"/api/articles/{article_id}").headers["ETag"]
        return self("PATCH", f"/api/articles/{article_id}", json=changes, headers={"If-Match": etag})


def _publish_requests(app, article_id):
    with app.extensions["pipeline"].engine.begin() as conn:
        rows = conn.execute(select(outbox.c.envelope).where(outbox.c.event_type == ev.ARTICLE_PUBLISH_REQUESTED)
                            .order_by(outbox.c.created_at)).scalars().all()
    return [e for e in rows if e["data"]["article_id"] == article_id]


def _audit(app, article_id):
    with app.extensions["pipeline"].engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.article_id == article_id)
                                              .order_by(audit_log.c.id)).mappings()]


def test_an_edit_after_approval_waits_and_the_publish_ships_the_approved_revision(app):
    api = Api(app)
    art = api("POST", "/api/articles", json=ARTICLE).get_json()
    api.move(art["id"], "submit")
    assert api.move(art["id"], "approve").status_code == 202
    edited = api.edit(art["id"], body="Unreviewed text slipped in after approval.")
    assert edited.status_code == 200 and edited.get_json()["revision"] == 2
    assert edited.get_json()["state"] == "approved" and edited.get_json()["approved_revision"] == 1
    assert api.move(art["id"], "publish").status_code == 202
    [request] = _publish_requests(app, art["id"])
    assert request["data"]["revision"] == 1 and request["data"]["snapshot"]["revision"] == 1
    assert "Approved text" in request["data"]["snapshot"]["body_html"]
    assert "Unreviewed" not in json.dumps(request)
    notes = [(e["action"], e["revision"], e["note"]) for e in _audit(app, art["id"])]
    assert ("approve", 1, "approves revision 1") in notes
    assert any(a == "edit" and r == 2 and "revision 1 stays approved" in n for a, r, n in notes)
    assert any(a == "publish" and r == 1 and n == "ships revision 1" for a, r, n in notes)

    # Rendering answers for the shipped revision: that is what the live page shows.
    with app.extensions["pipeline"].engine.begin() as conn:
        handlers.record_render_result(conn, ev.ArticleRendered(article_id=art["id"], revision=1, url="http://x/en/r/",
                                                               files_written=3), site_url="http://x")
        row = conn.execute(select(articles).where(articles.c.id == art["id"])).mappings().one()
    assert row["state"] == "published" and row["published_revision"] == 1 and row["revision"] == 2


def test_approving_again_approves_the_newest_revision_and_a_republish_ships_it(app):
    api = Api(app)
    art = api("POST", "/api/articles", json=ARTICLE).get_json()
    api.move(art["id"], "submit")
    api.move(art["id"], "approve")
    assert api.move(art["id"], "approve").status_code == 409, "nothing new to approve"
    api.edit(art["id"], title="Reservoirs Before a Dry Winter")
    stale = api.move(art["id"], "approve", revision=1)
    assert stale.status_code == 412 and stale.get_json()["current_revision"] == 2, "approving what you did not see"
    assert api.move(art["id"], "approve", revision=2).status_code == 202
    api.move(art["id"], "publish")
    assert _publish_requests(app, art["id"])[-1]["data"]["snapshot"]["title"] == "Reservoirs Before a Dry Winter"


def test_a_due_schedule_ships_the_approved_revision_not_a_later_partner_edit(app):
    api = Api(app)
    rt = app.extensions["pipeline"]
    body = json.dumps({"type": "article.upsert", "data": dict(ARTICLE, external_id="p-7", source="acme")})

    def webhook(text, msg_id):
        at = datetime.now(timezone.utc)
        headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": Webhook(SECRET).sign(msg_id, at, text)}
        return app.test_client().post("/webhooks/articles", data=text, headers=headers)

    created = webhook(body, "m1")
    assert created.status_code == 201
    article_id = created.get_json()["article"]["id"]
    api.move(article_id, "submit")
    api.move(article_id, "approve")
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert api.move(article_id, "schedule", publish_at=soon).status_code == 202
    changed = json.loads(body)
    changed["data"]["body"] = "The partner's later text, never reviewed."
    updated = webhook(json.dumps(changed), "m2")
    assert updated.status_code == 200 and updated.get_json()["article"]["state"] == "scheduled"
    with rt.engine.begin() as conn:
        conn.execute(update(articles).where(articles.c.id == article_id)
                     .values(publish_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert schedule.publish_due(rt) == 1
    [request] = _publish_requests(app, article_id)
    assert request["data"]["snapshot"]["revision"] == 1 and "Approved text" in request["data"]["snapshot"]["body_html"]


def test_who_may_edit_what_on_the_api(app):
    editor = Api(app)
    author, other = Api(app, _token(app, "author@example.org")), Api(app, _token(app, "other@example.org"))
    mine = author("POST", "/api/articles", json=ARTICLE).get_json()
    assert author.edit(mine["id"], body="My own draft, again.").status_code == 200
    refused = other.edit(mine["id"], body="Not mine.")
    assert refused.status_code == 403 and "only articles it created" in refused.get_json()["error"]
    author.move(mine["id"], "submit")
    in_review = author.edit(mine["id"], body="Too late.")
    assert in_review.status_code == 403 and "request changes" in in_review.get_json()["error"]
    editor.move(mine["id"], "request_changes")
    assert author.edit(mine["id"], body="Sent back, so mine to fix.").status_code == 200

    # Translators edit the translations assigned to them (translation_status tells ingest who).
    tr_token, tr2_token = _token(app, "tr@example.org"), _token(app, "tr2@example.org")
    tr_article = Api(app, tr2_token)("POST", "/api/articles", json=dict(
        ARTICLE, lang="tr", title="Kış Öncesi Barajlar", group_id=mine["group_id"])).get_json()
    assert Api(app, tr_token).edit(tr_article["id"], body="Atanmadım.").status_code == 403
    with app.extensions["pipeline"].engine.begin() as conn:
        handlers.record_translation_assignment(conn, ev.TranslationRequested(
            group_id=mine["group_id"], lang="tr", source_lang="en", source_article_id=mine["id"], source_revision=1,
            source_hash="h", title="t", body="b", references=[], due_at=None, translator="TR@example.org",
            vendor=None, requested_by="editor@example.org", callback_url=""))
    assert Api(app, tr_token).edit(tr_article["id"], body="Artık bana atandı.").status_code == 200
    assert Api(app, tr_token).edit(mine["id"], body="The source is not mine.").status_code == 403

    # Nobody edits a publish in flight; an editor edits anything else.
    editor.move(mine["id"], "publish")
    assert editor.edit(mine["id"], body="During the publish.").status_code == 409


def test_if_match_is_required_and_a_stale_one_loses_nothing(app):
    api = Api(app)
    art = api("POST", "/api/articles", json=ARTICLE).get_json()
    etag = api("GET", f"/api/articles/{art['id']}").headers["ETag"]
    missing = api("PATCH", f"/api/articles/{art['id']}", json={"body": "x"})
    assert missing.status_code == 428 and missing.get_json()["field"] == "If-Match"
    first = api.edit(art["id"], etag, body="The first person's paragraph.")
    assert first.status_code == 200 and first.headers["ETag"] != etag
    second = api.edit(art["id"], etag, body="The second person's paragraph.")
    assert second.status_code == 412 and second.get_json()["current_revision"] == 2
    assert second.get_json()["etag"] == first.headers["ETag"]
    assert api("GET", f"/api/articles/{art['id']}").get_json()["body"] == "The first person's paragraph."
    foreign = api.edit(art["id"], '"someone-else-r2"', body="x")
    assert foreign.status_code == 412


def _login(app, email):
    client = app.test_client()
    page = client.get("/login")
    token = html.fromstring(page.data).xpath("string(//input[@name='csrf_token']/@value)")
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def _edit_form(client, article_id):
    doc = html.fromstring(client.get(f"/articles/{article_id}/edit").data)
    form = doc.xpath("//form[.//textarea[@name='body']]")[0]
    data = {i.name: i.value or "" for i in form.inputs
            if i.name and getattr(i, "type", "text") not in ("submit", "checkbox")}
    data["save"] = "Save"
    return data


def test_the_edit_form_refuses_to_save_over_a_newer_revision_and_shows_the_diff(app):
    art = Api(app)("POST", "/api/articles", json=ARTICLE).get_json()
    first, second = _login(app, "editor@example.org"), _login(app, "editor@example.org")
    mine, theirs = _edit_form(first, art["id"]), _edit_form(second, art["id"])
    assert mine["base_revision"] == theirs["base_revision"] == "1"
    saved = first.post(f"/articles/{art['id']}/edit", data=dict(mine, body="Water levels fell in October."))
    assert saved.status_code == 303
    clash = second.post(f"/articles/{art['id']}/edit", data=dict(theirs, body="Snowfall decides the spring."))
    assert clash.status_code == 409
    page = html.fromstring(clash.data)
    assert "Not saved" in page.xpath("string(//section[@class='conflict'])")
    assert "+Water levels fell in October." in page.xpath("string(//pre[@class='diff'])")
    assert page.xpath("string(//textarea[@name='body'])").strip() == "Snowfall decides the spring.", "the text is kept"
    got = Api(app)("GET", f"/api/articles/{art['id']}").get_json()
    assert got["revision"] == 2 and got["body"] == "Water levels fell in October."


def test_the_edit_form_follows_the_edit_table(app):
    art = Api(app)("POST", "/api/articles", json=ARTICLE).get_json()
    author = _login(app, "author@example.org")
    refused = author.get(f"/articles/{art['id']}/edit")
    assert refused.status_code == 403 and b"only articles it created" in refused.data
