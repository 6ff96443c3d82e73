"""The media library through ingest's API on a real SQLite database and media directory: uploads, bad
files refused with nothing stored, featured images, and publishing refused without alt text."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from services.ingest.app import create_app
from services.ingest.db import media, outbox
from shared.config import load_settings
from tests.helpers import migrated
from tests.images import bomb_png, gps_jpeg, photo_jpeg, polyglot_jpeg, stored_files

pytestmark = pytest.mark.integration
TOKEN = "api-test-token"
ARTICLE = {"lang": "en", "title": "Ports and prices", "body": "A text about harbours.", "author": {"name": "A. Writer"}}


@pytest.fixture
def app(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": TOKEN, "REDIS_URL": "redis://127.0.0.1:1/0"})
    return create_app({"SETTINGS": migrated(settings), "TESTING": True})


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return c


def upload(client, data: bytes, name: str = "photo.jpg", **fields):
    form = {"file": (io.BytesIO(data), name), **fields}
    return client.post("/api/media", data=form, content_type="multipart/form-data")


def media_count(app) -> int:
    with app.extensions["pipeline"].engine.begin() as conn:
        return conn.execute(select(func.count()).select_from(media)).scalar_one()


def test_upload_strips_gps_and_stores_once(app, client, tmp_path):
    resp = upload(client, gps_jpeg(), alt="A harbour crane at dusk", alt_tr="Akşamüstü bir liman vinci")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["alt"] == {"en": "A harbour crane at dusk", "tr": "Akşamüstü bir liman vinci"}
    assert (body["width"], body["height"], body["format"]) == (1600, 900, "jpeg")
    files = stored_files(tmp_path / "media")
    assert len(files) == 1
    stored = Image.open(files[0])
    assert not stored.getexif().get_ifd(0x8825)  # no GPS IFD
    assert b"GPS" not in files[0].read_bytes()
    again = upload(client, gps_jpeg(), name="copy.jpg", alt="Another description")
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    assert again.get_json()["alt"]["en"] == "A harbour crane at dusk"  # the first texts stay
    assert len(stored_files(tmp_path / "media")) == 1
    assert client.get(f"/api/media/{body['id']}").get_json()["sha256"] == body["sha256"]


BAD_FILES = [
    ("polyglot", polyglot_jpeg, 422, "also another kind of file"),
    ("truncated", lambda: photo_jpeg()[:4000], 422, "truncated"),
    ("bomb", bomb_png, 413, "pixels"),
    ("not an image", lambda: b"<html><body>hello</body></html>", 415, "not an image"),
    ("php named jpg", lambda: b"<?php system($_GET['c']); ?>", 415, "not an image"),
    ("empty", lambda: b"", 422, "is empty"),
]


@pytest.mark.parametrize("name,make,status,words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_leave_nothing(app, client, tmp_path, name, make, status, words):
    resp = upload(client, make(), alt="An image")
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["field"] == "file"
    assert words in resp.get_json()["error"]
    assert media_count(app) == 0
    assert stored_files(tmp_path / "media") == []


def test_alt_text_is_required_at_upload(app, client, tmp_path):
    resp = upload(client, photo_jpeg())
    assert resp.status_code == 422
    assert resp.get_json()["field"] == "alt"
    assert media_count(app) == 0 and stored_files(tmp_path / "media") == []


def test_featured_image_and_publish_needs_alt_in_the_language(app, client):
    image = upload(client, photo_jpeg(), alt="A harbour crane at dusk").get_json()
    bad = client.post("/api/articles", json=dict(ARTICLE, featured_image="00000000-0000-4000-8000-000000000000"))
    assert bad.status_code == 422 and bad.get_json()["field"] == "featured_image"
    source = client.post("/api/articles", json=dict(ARTICLE, featured_image=image["id"])).get_json()
    assert source["featured_image"] == image["id"]
    translation = client.post("/api/articles", json=dict(ARTICLE, lang="tr", title="Limanlar ve fiyatlar",
                                                         group_id=source["group_id"])).get_json()
    assert translation["featured_image"] == image["id"]  # shared with the source

    refused = client.post(f"/api/articles/{translation['id']}/transitions", json={"action": "publish"})
    assert refused.status_code == 409
    assert "no alt text in 'tr'" in refused.get_json()["error"]
    assert client.get(f"/api/articles/{translation['id']}").get_json()["state"] == "draft"

    assert client.patch(f"/api/media/{image['id']}", json={"alt_tr": "Akşamüstü bir liman vinci"}).status_code == 200
    ok = client.post(f"/api/articles/{translation['id']}/transitions", json={"action": "publish"})
    assert ok.status_code == 202
    with app.extensions["pipeline"].engine.begin() as conn:
        envelope = conn.execute(select(outbox.c.envelope).order_by(outbox.c.created_at.desc())).scalars().first()
    snap = envelope["data"]["snapshot"]
    assert snap["featured_image"] == image["id"]
    assert snap["images"][image["id"]]["alt"] == "Akşamüstü bir liman vinci"
    assert snap["images"][image["id"]]["sha256"] == image["sha256"]


def test_inline_image_must_exist_and_have_alt(app, client):
    image = upload(client, photo_jpeg(), alt_tr="Bir vinç").get_json()
    missing = client.post("/api/articles", json=dict(ARTICLE, body="![](media:00000000-0000-4000-8000-000000000000)"))
    assert missing.status_code == 422 and missing.get_json()["field"] == "body"
    article = client.post("/api/articles", json=dict(ARTICLE, body=f"Text.\n\n![](media:{image['id']})\n")).get_json()
    refused = client.post(f"/api/articles/{article['id']}/transitions", json={"action": "publish"})
    assert refused.status_code == 409 and "image in the text" in refused.get_json()["error"]
