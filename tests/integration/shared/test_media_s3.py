"""The S3-compatible media store against a real S3 API (moto's server mode on loopback): ingest's upload
puts the stripped original in the bucket (nothing under MEDIA_DIR), once per hash, and rendering reads it
back to write its variants."""
from __future__ import annotations

import dataclasses
import io

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.ingest.app import create_app
from services.rendering import images as rendering_images
from services.rendering import site
from shared.config import load_settings
from shared.media import S3Store, media_store
from tests.helpers import migrated, migrated_db
from tests.images import gps_jpeg, stored_files
from shared.db import make_engine

pytestmark = pytest.mark.integration
BUCKET = "think-media"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(tmp_path, s3_endpoint, monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": "redis://127.0.0.1:1/0",
                              "MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
                              "MEDIA_S3_REGION": "us-east-1", "SITE_URL": "https://think.example"})
    yield settings, client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_store_puts_once_and_reads_back(s3_settings):
    settings, client = s3_settings
    store = media_store(settings)
    assert isinstance(store, S3Store)
    assert not store.exists("ab" * 32)
    assert store.put("ab" * 32, b"bytes") is True
    assert store.put("ab" * 32, b"bytes") is False
    assert store.get("ab" * 32) == b"bytes"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["originals/" + "ab" * 32]


def test_upload_goes_to_the_bucket_and_rendering_reads_it(s3_settings, tmp_path):
    settings, client = s3_settings
    app = create_app({"SETTINGS": migrated(settings), "TESTING": True})
    http = app.test_client()
    http.environ_base["HTTP_AUTHORIZATION"] = "Bearer t"
    resp = http.post("/api/media", data={"file": (io.BytesIO(gps_jpeg()), "crane.jpg"), "alt": "A crane"},
                     content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    image = resp.get_json()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"originals/{image['sha256']}"]
    assert stored_files(settings.media_dir) == []

    render_settings = dataclasses.replace(settings, site_dir=tmp_path / "site")
    engine = make_engine(migrated_db("rendering", render_settings.database_url("rendering")))
    snap_image = {k: image[k] for k in ("sha256", "width", "height", "format")} | {"alt": "A crane", "caption": "",
                                                                                  "credit": ""}
    with engine.begin() as conn:
        made = rendering_images.ensure_variants(conn, render_settings, {image["id"]: snap_image}, site.write_atomic)
    engine.dispose()
    assert made > 0
    assert len(stored_files(render_settings.site_dir / "media" / image["sha256"])) == made
