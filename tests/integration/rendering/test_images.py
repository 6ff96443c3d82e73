"""Images on the public site, rendered from snapshots into a real SQLite read model and SITE_DIR:
variants once per hash and width, no metadata in any of them, responsive markup, sharing tags, feed
enclosures, and valid HTML (the Nu HTML Checker)."""
from __future__ import annotations

import io
import json
import re

import feedparser
import pytest
from PIL import Image
from sqlalchemy import func, select

from services.rendering import site
from services.rendering.db import image_variants
from shared.media import variant_formats, variant_widths
from tests.images import gps_jpeg, library_image, photo_jpeg, stored_files

from . import fixtures as fx

pytestmark = pytest.mark.integration
FEATURED_ID = "00000000-0000-4000-8000-0000000f0001"
INLINE_ID = "00000000-0000-4000-8000-0000000f0002"


@pytest.fixture(scope="module")
def pictured(tmp_path_factory):
    """An English article with a featured photo (taken with GPS metadata) and an inline one, published."""
    tmp = tmp_path_factory.mktemp("pictured")
    settings = fx.settings_for(tmp)
    engine = fx.engine_for(settings)
    featured = library_image(settings, gps_jpeg(), alt="A harbour crane at dusk", caption="The old port.",
                             credit="Photo: the authors")
    inline = library_image(settings, photo_jpeg(800, 600, seed=3), alt="Containers stacked on a quay")
    body = (fx.BODIES["en"] + f'<p><img src="/_image/{INLINE_ID}" alt=""></p>'
            + f'<p>A small one <img src="/_image/{INLINE_ID}" alt=""> in the text.</p>')
    snap = fx.snapshot("00000000-0000-4000-8000-0000000000a1", "en", body_html=body)
    snap.update(featured_image=FEATURED_ID, images={FEATURED_ID: featured, INLINE_ID: inline})
    with engine.begin() as conn:
        report = site.publish(conn, snap, settings)
    yield settings, engine, snap, report
    engine.dispose()


def _page(settings, snap) -> str:
    return (settings.site_dir / "en" / snap["slug"] / "index.html").read_text(encoding="utf-8")


def test_variants_exist_once_without_metadata(pictured):
    settings, engine, snap, report = pictured
    featured = snap["images"][FEATURED_ID]
    expected = sum(len(variant_widths(i["width"])) * len(variant_formats(i["format"])) for i in snap["images"].values())
    assert report.variants == expected
    files = stored_files(settings.site_dir / "media")
    assert len(files) == expected
    for path in files:
        data = path.read_bytes()
        image = Image.open(io.BytesIO(data))
        assert not image.getexif(), path  # no EXIF at all, so no GPS
        assert b"GPS" not in data and b"TestCam" not in data
    widths = {int(p.stem) for p in (settings.site_dir / "media" / featured["sha256"]).iterdir()}
    assert widths == set(variant_widths(1600)) == {320, 640, 960, 1200, 1600}
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(image_variants)).scalar_one() == expected


def test_republishing_an_unchanged_image_generates_no_variant(pictured):
    settings, engine, snap, _ = pictured
    with engine.begin() as conn:
        report = site.publish(conn, dict(snap, revision=2, title=snap["title"] + " (revised)"), settings)
    assert report.variants == 0
    assert any(p.endswith("index.html") for p in report.written)


def test_article_page_shows_responsive_images(pictured):
    settings, _, snap, _ = pictured
    html = _page(settings, snap)
    sha = snap["images"][FEATURED_ID]["sha256"]
    featured = re.search(r'<figure class="featured">.*?</figure>', html, re.S).group(0)
    assert f'srcset="/media/{sha}/320.webp 320w' in featured
    assert 'sizes="(max-width: 46rem) calc(100vw - 2rem), 46rem"' in featured
    assert 'width="1600" height="900"' in featured and 'alt="A harbour crane at dusk"' in featured
    assert 'loading="lazy"' not in featured  # above the fold
    assert "The old port." in featured and "Photo: the authors" in featured
    inline_sha = snap["images"][INLINE_ID]["sha256"]
    body = html.split('<div class="body">', 1)[1]
    assert body.count(f'/media/{inline_sha}/800.jpg"') == 2
    assert 'loading="lazy"' in body and 'alt="Containers stacked on a quay"' in body
    assert "/_image/" not in html
    # the figure left its paragraph (a figure inside <p> is invalid); the inline one stays in its text
    assert "<p><figure" not in body and "A small one <picture>" in body


def test_sharing_tags_json_ld_and_feed(pictured):
    settings, _, snap, _ = pictured
    html = _page(settings, snap)
    sha = snap["images"][FEATURED_ID]["sha256"]
    url = f"https://think.example/media/{sha}/1200.jpg"
    assert f'<meta property="og:image" content="{url}">' in html
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta property="og:image:height" content="675">' in html
    assert '<meta property="og:image:alt" content="A harbour crane at dusk">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert ld["image"]["url"] == url and ld["image"]["width"] == 1200
    shared = settings.site_dir / "media" / sha / "1200.jpg"
    assert Image.open(shared).size == (1200, 675)
    feed = feedparser.parse((settings.site_dir / "en" / "feed.xml").read_bytes())
    entry = next(e for e in feed.entries if e.link.endswith(f"/{snap['slug']}/"))
    assert entry.media_content[0]["url"] == url and entry.media_content[0]["width"] == "1200"
    assert entry.media_thumbnail[0]["url"] == url
    assert [link.href for link in entry.links] == [entry.link]  # one alternate link, as before
    assert 'src="https://think.example/media/' in entry.content[0].value


def test_a_rebuild_gives_the_same_tree_and_makes_no_variant(pictured, tmp_path):
    settings, engine, snap, _ = pictured
    with engine.begin() as conn:
        report = site.rebuild(conn, settings)
    assert report.variants == 0


def test_pages_with_images_pass_the_nu_html_checker(pictured, vnu):
    settings, _, snap, _ = pictured
    errors = vnu([settings.site_dir / "en" / snap["slug"] / "index.html"])
    assert errors == "", errors


def test_the_feed_made_from_kept_entries_equals_feedgens_whole_document(tmp_path):
    """Feed entries are serialised one by one and kept between flushes; spliced together they must be
    byte for byte what feedgen writes for the whole feed (entries with and without Media RSS)."""
    from services.rendering.render import Renderer

    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    featured = library_image(settings, photo_jpeg(900, 600, seed=5), alt="A ferry leaving the pier")
    pictured = fx.snapshot("00000000-0000-4000-8000-0000000000b1", "en", slug="ferries", title="Ferries & fares")
    pictured.update(featured_image=FEATURED_ID, images={FEATURED_ID: featured})
    plain = fx.snapshot("00000000-0000-4000-8000-0000000000b2", "en", slug="tolls", title="Bridge <tolls>",
                        group_id="00000000-0000-4000-8000-0000000000c2", published_at=fx.BASE_TIME.replace(hour=1),
                        categories=["Transport"], authors=[{"name": "Ayla Demir", "bio": "", "bio_lang": None},
                                                           {"name": "Oleg Markov", "bio": "", "bio_lang": None}])
    with engine.begin() as conn:
        site.publish(conn, pictured, settings)
        site.publish(conn, plain, settings)
        model = site.live_model(conn, settings)
        model.loader = lambda ids: site.fetch_fragments(conn, ids)
        renderer = Renderer(model)
        items = model.articles("en")
        whole = renderer._feed_generator("en", items)
        for page in reversed(items):
            renderer.add_feed_entry(whole, page)
        model.loader = None
    engine.dispose()
    written = (settings.site_dir / "en" / "feed.xml").read_text(encoding="utf-8")
    assert written == whole.atom_str(pretty=True).decode("utf-8")
    assert written.count("<entry>") == 2 and "http://search.yahoo.com/mrss/" in written and "Bridge &lt;tolls&gt;" in written
