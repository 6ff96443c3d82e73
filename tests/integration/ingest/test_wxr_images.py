"""WordPress featured images (``_thumbnail_id``) and images inside post bodies on a real SQLite database and
media directory: imported into the media library from the uploads folder (stripped, alt text in the post's
language, resized copies' names resolved to the original, bodies embedding ``![](media:<id>)``), linked by
URL with a warning when the file is not there or refused, and never read from outside the uploads folder."""
from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select

from services.ingest import wxr
from services.ingest.db import articles, media
from shared.config import load_settings
from shared.db import make_engine
from tests.helpers import migrated_db
from tests.images import gps_jpeg, photo_jpeg, polyglot_jpeg, stored_files

pytestmark = pytest.mark.integration
SITE = "https://pictures.example.org"


def _item(post_id: int, title: str, *, post_type: str = "post", meta: dict | None = None, extra: str = "",
          excerpt: str = "") -> str:
    metas = "".join(f"<wp:postmeta><wp:meta_key>{k}</wp:meta_key><wp:meta_value><![CDATA[{v}]]></wp:meta_value>"
                    f"</wp:postmeta>" for k, v in (meta or {}).items())
    return f"""<item><title>{title}</title><guid isPermaLink="false">{SITE}/?p={post_id}</guid>
<dc:creator>writer</dc:creator><content:encoded><![CDATA[{'<p>Text of ' + title + '.</p>' if post_type == 'post' else ''}]]></content:encoded>
<excerpt:encoded><![CDATA[{excerpt}]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id><wp:post_date>2024-05-02 10:00:00</wp:post_date><wp:post_date_gmt>2024-05-02 10:00:00</wp:post_date_gmt>
<wp:status>{'inherit' if post_type == 'attachment' else 'draft'}</wp:status><wp:post_type>{post_type}</wp:post_type>{extra}{metas}</item>"""


def export() -> bytes:
    items = [
        _item(1, "Cranes of the Old Port", meta={"_thumbnail_id": "10"}),
        _item(2, "Quays Without Pictures", meta={"_thumbnail_id": "11"}),
        _item(3, "A Path Too Far", meta={"_thumbnail_id": "12"}),
        _item(10, "crane", post_type="attachment", excerpt="The old crane.",
              extra=f"<wp:attachment_url>{SITE}/wp-content/uploads/2024/05/crane.jpg</wp:attachment_url>",
              meta={"_wp_attached_file": "2024/05/crane.jpg", "_wp_attachment_image_alt": "A rusty crane on a quay"}),
        _item(11, "quay", post_type="attachment",
              extra=f"<wp:attachment_url>{SITE}/wp-content/uploads/2024/05/quay.jpg</wp:attachment_url>",
              meta={"_wp_attached_file": "2024/05/quay.jpg"}),
        _item(12, "secret", post_type="attachment",
              extra=f"<wp:attachment_url>{SITE}/secret.jpg</wp:attachment_url>",
              meta={"_wp_attached_file": "../outside.jpg"}),
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<title>Pictures</title><link>{SITE}</link><wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>{SITE}</wp:base_site_url>
<wp:author><wp:author_login>writer</wp:author_login><wp:author_display_name>Will Writer</wp:author_display_name></wp:author>
{''.join(items)}</channel></rss>""".encode()


@pytest.fixture
def setup(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path / "data"), "API_TOKEN": "t"})
    engine = make_engine(migrated_db("ingest", settings.database_url("ingest")))
    uploads = tmp_path / "uploads"
    (uploads / "2024" / "05").mkdir(parents=True)
    (uploads / "2024" / "05" / "crane.jpg").write_bytes(gps_jpeg())
    (tmp_path / "outside.jpg").write_bytes(gps_jpeg())  # next to the uploads folder, never to be read
    yield settings, engine, uploads
    engine.dispose()


def _by_title(engine) -> dict:
    with engine.begin() as conn:
        return {r["title"]: dict(r) for r in conn.execute(select(articles)).mappings()}


def test_featured_images_come_from_the_uploads_folder(setup):
    settings, engine, uploads = setup
    summary = wxr.import_wxr(engine, export(), media_settings=settings, uploads_dir=uploads)
    assert summary["counts"]["created"] == 3
    rows = {r["title"]: r for r in summary["created"]}
    stored = _by_title(engine)
    with engine.begin() as conn:
        images = [dict(r) for r in conn.execute(select(media)).mappings()]
    assert len(images) == 1
    image = images[0]
    assert stored["Cranes of the Old Port"]["featured_image"] == image["id"]
    assert image["alt"] == {"en": "A rusty crane on a quay"} and image["caption"] == {"en": "The old crane."}
    assert image["source_url"] == f"{SITE}/wp-content/uploads/2024/05/crane.jpg"
    files = stored_files(settings.media_dir)
    assert len(files) == 1 and not Image.open(files[0]).getexif()
    assert rows["Cranes of the Old Port"]["warnings"] == []

    assert stored["Quays Without Pictures"]["featured_image"] is None
    assert any(f"{SITE}/wp-content/uploads/2024/05/quay.jpg was not found" in w and "linked by URL" in w
               for w in rows["Quays Without Pictures"]["warnings"])
    assert stored["A Path Too Far"]["featured_image"] is None
    assert any("was not found" in w for w in rows["A Path Too Far"]["warnings"])


def test_without_an_uploads_folder_images_stay_linked_with_a_warning(setup):
    settings, engine, _ = setup
    summary = wxr.import_wxr(engine, export(), media_settings=settings)
    rows = {r["title"]: r for r in summary["created"]}
    assert all(a["featured_image"] is None for a in _by_title(engine).values())
    assert any("import with the uploads folder" in w for w in rows["Cranes of the Old Port"]["warnings"])
    assert stored_files(settings.media_dir) == []


# ---------------------------------------------------------------- images inside post bodies

UP = f"{SITE}/wp-content/uploads/2024/06"


def _body_item(post_id: int, title: str, body: str) -> str:
    return _item(post_id, title).replace(f"<p>Text of {title}.</p>", body)


def body_export() -> bytes:
    items = [
        _body_item(1, "Harbour Lights", f'<p>Before.</p><figure class="wp-block-image size-large"><img src="{UP}/lamp.jpg" '
                   f'alt="A lamp on the pier" srcset="{UP}/lamp-300x200.jpg 300w, {UP}/lamp.jpg 1600w" '
                   f'class="wp-image-20"/><figcaption>The pier lamp at dusk.</figcaption></figure><p>After.</p>'),
        _body_item(2, "Resized Boats", f'<p>Boats:</p>\n<p><img src="{UP}/boat-300x169.jpg" class="wp-image-21" '
                   f'width="300" height="169"></p>\n[caption id="attachment_20" width="300"]<img src="{UP}/lamp-300x200.jpg" '
                   f'alt="" /> Lamp again[/caption]'),
        _body_item(3, "Gone Missing", f'<p>Here: <img src="{UP}/ghost.jpg" alt="A ghost"> was.</p>'),
        _body_item(4, "Climbing Out", f'<p><img src="{SITE}/wp-content/uploads/../outside.jpg" alt="Escape"></p>'),
        _body_item(5, "Two Faced", f'<p><img src="{UP}/polyglot.jpg" alt="A zip in disguise"></p>'),
        _item(20, "lamp", post_type="attachment", extra=f"<wp:attachment_url>{UP}/lamp.jpg</wp:attachment_url>",
              meta={"_wp_attached_file": "2024/06/lamp.jpg", "_wp_attachment_image_alt": "Lamp (attachment alt)"}),
        _item(21, "boat", post_type="attachment", extra=f"<wp:attachment_url>{UP}/boat.jpg</wp:attachment_url>",
              meta={"_wp_attached_file": "2024/06/boat.jpg", "_wp_attachment_image_alt": "Two boats moored"}),
    ]
    return export().replace(export().split(b"</wp:author>", 1)[1].rsplit(b"</channel>", 1)[0],
                            "\n".join(items).encode())


@pytest.fixture
def body_setup(setup):
    settings, engine, uploads = setup
    folder = uploads / "2024" / "06"
    folder.mkdir(parents=True)
    (folder / "lamp.jpg").write_bytes(gps_jpeg())
    (folder / "boat.jpg").write_bytes(photo_jpeg(800, 450, seed=3))  # only the original; the body names boat-300x169.jpg
    (folder / "polyglot.jpg").write_bytes(polyglot_jpeg())
    return settings, engine, uploads


def _images(engine) -> dict:
    with engine.begin() as conn:
        return {r["filename"]: dict(r) for r in conn.execute(select(media)).mappings()}


def test_body_images_become_library_images_referenced_as_media(body_setup):
    settings, engine, uploads = body_setup
    summary = wxr.import_wxr(engine, body_export(), media_settings=settings, uploads_dir=uploads)
    assert summary["counts"]["created"] == 5
    rows = {r["title"]: r for r in summary["created"]}
    stored = _by_title(engine)
    images = _images(engine)
    assert set(images) == {"lamp.jpg", "boat.jpg"}  # the resized lamp in post 2 is the same file, stored once
    lamp, boat = images["lamp.jpg"], images["boat.jpg"]
    assert lamp["alt"] == {"en": "A lamp on the pier"} and lamp["caption"] == {"en": "The pier lamp at dusk."}
    assert lamp["source_url"] == f"{UP}/lamp.jpg"
    body = stored["Harbour Lights"]["body"]
    assert f"![](media:{lamp['id']})" in body and UP not in body
    assert "figcaption" not in body and "Before." in body and "After." in body
    assert rows["Harbour Lights"]["warnings"] == []
    assert all(not Image.open(f).getexif() for f in stored_files(settings.media_dir))
    assert len(stored_files(settings.media_dir)) == 2


def test_size_suffixed_names_resolve_to_the_original_file(body_setup):
    settings, engine, uploads = body_setup
    summary = wxr.import_wxr(engine, body_export(), media_settings=settings, uploads_dir=uploads)
    rows = {r["title"]: r for r in summary["created"]}
    images = _images(engine)
    body = _by_title(engine)["Resized Boats"]["body"]
    assert f"![](media:{images['boat.jpg']['id']})" in body and f"![](media:{images['lamp.jpg']['id']})" in body
    assert "[caption" not in body and UP not in body
    assert images["boat.jpg"]["alt"] == {"en": "Two boats moored"}  # the attachment's alt when the img has none
    assert rows["Resized Boats"]["warnings"] == []


def test_missing_outside_and_polyglot_files_stay_linked_with_a_warning(body_setup):
    settings, engine, uploads = body_setup
    summary = wxr.import_wxr(engine, body_export(), media_settings=settings, uploads_dir=uploads)
    rows = {r["title"]: r for r in summary["created"]}
    stored = _by_title(engine)
    for title, url, why in (("Gone Missing", f"{UP}/ghost.jpg", "is not in"),
                            ("Climbing Out", f"{SITE}/wp-content/uploads/../outside.jpg", "outside the uploads folder"),
                            ("Two Faced", f"{UP}/polyglot.jpg", "also another kind of file")):
        assert f'src="{url}"' in stored[title]["body"] and "media:" not in stored[title]["body"]
        assert any(url in w and why in w and "linked by URL" in w for w in rows[title]["warnings"]), rows[title]
    assert set(_images(engine)) == {"lamp.jpg", "boat.jpg"}


def test_without_an_uploads_folder_body_images_keep_their_urls(body_setup):
    settings, engine, _ = body_setup
    summary = wxr.import_wxr(engine, body_export(), media_settings=settings)
    rows = {r["title"]: r for r in summary["created"]}
    assert f'src="{UP}/lamp.jpg"' in _by_title(engine)["Harbour Lights"]["body"]
    assert any(f"{UP}/lamp.jpg" in w and "no uploads folder" in w for w in rows["Harbour Lights"]["warnings"])
    assert _images(engine) == {}


def test_a_caption_with_a_link_stays_in_the_body_and_other_sites_images_are_named(body_setup):
    settings, engine, uploads = body_setup
    body = (f'<figure class="wp-block-image"><img data-src="{UP}/ghost.jpg" src="{UP}/lamp.jpg" alt="Lamp">'
            f'<figcaption>Photo by <a href="https://people.example/ana">Ana</a></figcaption></figure>'
            f'<p><img src="https://elsewhere.example/cat.png" alt="A cat"></p>')
    source = body_export().replace(b"<p>Before.</p>", body.encode())
    summary = wxr.import_wxr(engine, source, media_settings=settings, uploads_dir=uploads)
    row = next(r for r in summary["created"] if r["title"] == "Harbour Lights")
    stored = _by_title(engine)["Harbour Lights"]["body"]
    lamp = _images(engine)["lamp.jpg"]
    assert f"![](media:{lamp['id']})" in stored and '<a href="https://people.example/ana">Ana</a>' in stored
    assert "Ana" not in lamp["caption"].get("en", "")  # not a plain caption: kept in the body, not in the library
    assert 'src="https://elsewhere.example/cat.png"' in stored
    assert any("https://elsewhere.example/cat.png" in w and "not a file of the site's uploads folder" in w
               for w in row["warnings"])
