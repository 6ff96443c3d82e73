"""Editors' previews (``services/rendering/preview.py``): the preview of a snapshot is byte for byte the page
that publishing the same snapshot writes, and rendering it changes neither the site nor the read model."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.rendering import preview, site
from services.rendering.db import pages
from services.rendering.app import create_app
from tests.helpers import quiet_redis

from . import fixtures as fx


def _published_site(settings):
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.other_snapshots() + fx.group_snapshots()[:2]:  # en and tr live, ru not yet
            site.publish_snapshot(conn, snap, settings)
    return engine


def _files(settings) -> dict:
    return {p: p.read_bytes() for p in settings.site_dir.rglob("*") if p.is_file()}


def test_a_preview_is_the_page_publishing_would_write_and_changes_nothing(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = _published_site(settings)
    before = _files(settings)
    en, _, ru = fx.group_snapshots()
    edited = dict(en, revision=2, title="Water Diplomacy in the Aral Basin, Revised",
                  body_html=en["body_html"] + "<p>Canal repairs and glaciers now shape summer water.</p>",
                  updated_at=(fx.BASE_TIME + timedelta(days=2)).isoformat())
    with engine.begin() as conn:
        shown = {en["article_id"]: preview.render_preview(conn, settings, edited)}
        assert conn.execute(select(pages.c.revision).where(pages.c.article_id == en["article_id"])).scalar() == 1
    assert _files(settings) == before, "a preview writes nothing on the site"
    assert "Revised" in shown[en["article_id"]] and "Ледники" not in shown[en["article_id"]]

    with engine.begin() as conn:
        site.publish_snapshot(conn, edited, settings)
    assert (settings.site_dir / "en" / fx.SLUGS["en"] / "index.html").read_text() == shown[en["article_id"]]
    with engine.begin() as conn:
        shown[ru["article_id"]] = preview.render_preview(conn, settings, ru)
        preview.store_preview(conn, ru, shown[ru["article_id"]])
    assert "Revised" in shown[ru["article_id"]], "the language line names the live English title"
    with engine.begin() as conn:
        site.publish_snapshot(conn, ru, settings)
        assert preview.find_preview(conn, ru["article_id"], 1) == shown[ru["article_id"]]
        assert preview.find_preview(conn, ru["article_id"], 2) is None
    assert (settings.site_dir / "ru" / fx.SLUGS["ru"] / "index.html").read_text() == shown[ru["article_id"]], \
        "a never-published translation too (its language line, similar posts and links as publishing makes them)"


def test_previews_are_for_logged_in_editors_only_and_never_cached(tmp_path, redis_url):
    settings = fx.settings_for(tmp_path)
    engine = _published_site(settings)
    en = fx.group_snapshots()[0]
    import dataclasses
    app = create_app({"SETTINGS": dataclasses.replace(settings, redis_url=quiet_redis(redis_url)), "TESTING": True})
    client = app.test_client()
    anonymous = client.get(f"/preview/{en['article_id']}/1")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with app.test_request_context():
        from shared.auth import sessions
        opened = sessions().open({"email": "ed@example.org", "name": "Ed", "role": "editor"})
    with client.session_transaction() as sess:
        sess["_user_id"] = opened.id
    waiting = client.get(f"/preview/{en['article_id']}/1")
    assert waiting.status_code == 202 and 'http-equiv="refresh"' in waiting.get_data(as_text=True)
    with engine.begin() as conn:
        preview.store_preview(conn, en, preview.render_preview(conn, settings, en))
    shown = client.get(f"/preview/{en['article_id']}/1")
    assert shown.status_code == 200 and fx.TITLES["en"] in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["X-Robots-Tag"] == "noindex"
    assert "frame-ancestors 'self' http://127.0.0.1:5001" in shown.headers["Content-Security-Policy"]
    assert client.get("/en/").status_code in (200, 304), "the public site stays public"
