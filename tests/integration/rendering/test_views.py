"""The public site never redirects to another host, whatever the path holds (``services/rendering/views.py``)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from services.rendering.app import create_app
from shared.config import load_settings
from tests.helpers import migrated

pytestmark = pytest.mark.integration

# Paths as the server sees them (PATH_INFO, decoded). Hosts without a dot ("attacker:8080") are the
# dangerous ones: a path whose last segment has no dot is redirected to its directory.
PATHS = [
    "//attacker:8080/x", "///attacker/x", "/\t/attacker:8080/x", "/\n/attacker/x", "/\r\n//attacker/x",
    "/\\attacker/x", "/\\\\attacker/x", "/en//attacker/x", "/ //attacker/x", "/\u202e//attacker/x", "/\x00/x",
    "/\t\t//attacker", "/en/page", "/en/page/",
]


@pytest.fixture
def client(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "REDIS_URL": "redis://127.0.0.1:1/0"})
    (settings.site_dir / "en" / "page").mkdir(parents=True)
    (settings.site_dir / "en" / "page" / "index.html").write_text("<!DOCTYPE html><title>p</title>")
    return create_app({"SETTINGS": migrated(settings), "TESTING": True}).test_client()


@pytest.mark.parametrize("path", PATHS)
def test_no_path_redirects_off_the_site(client, path):
    # WSGI carries the path as latin-1 text of its UTF-8 bytes.
    resp = client.get("/", environ_overrides={"PATH_INFO": path.encode("utf-8").decode("latin-1")})
    if resp.status_code in (301, 302, 303, 307, 308):
        location = resp.headers["Location"]
        parts = urlsplit(location)
        assert not parts.netloc or parts.netloc == "localhost", location
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert not any(ch in location for ch in "\t\r\n\\"), location
    else:
        assert resp.status_code in (200, 404), (path, resp.status_code)


def test_ordinary_addresses_still_redirect_to_their_directory(client):
    resp = client.get("/en/page")
    assert resp.status_code == 301 and resp.headers["Location"] == "/en/page/"
    assert client.get("/en/page/").status_code == 200


def test_hidden_files_such_as_staged_renders_are_never_served(client, tmp_path):
    staged = next(tmp_path.rglob("en/page/index.html")).with_name(".tmp-abc.html")
    staged.write_text("<!DOCTYPE html><title>half rendered</title>")
    assert client.get("/en/page/.tmp-abc.html").status_code == 404
    assert client.get("/en/page/index.html").status_code == 200


def test_a_missing_image_variant_is_never_cached(client):
    # Its URL is immutable once the variant exists: a browser must not keep the 404 (a preview can ask first).
    resp = client.get("/media/" + "0" * 64 + "/320.avif")
    assert resp.status_code == 404
    assert "no-store" in resp.headers["Cache-Control"] and "max-age" not in resp.headers["Cache-Control"]
