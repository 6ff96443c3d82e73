"""Images from upload to a shareable page on the whole stack: an editor uploads a photo with alt text in
the media library form, chooses it as the featured image in the article form and publishes; the public
page shows it with srcset, its og:image answers 200 with an image of the declared size, the feed entry
carries it and the article.published webhook names it. A bad file through the form gets a 4xx saying why."""
from __future__ import annotations

import io
import json

import pytest
import requests
from lxml import html
from PIL import Image

from tests.helpers import wait_for
from tests.images import gps_jpeg, polyglot_jpeg
from tests.integration.ingest.test_forms import _csrf, _doc, _flashes, _form_data, admin  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def _upload_page(session, base: str, data: bytes, name: str, **texts) -> requests.Response:
    page = session.get(base + "/media", timeout=10)
    assert page.status_code == 200
    fields = {"csrf_token": _csrf(page), "credit": texts.pop("credit", "")}
    fields.update(texts)
    return session.post(base + "/media", data=fields, files={"file": (name, data, "application/octet-stream")},
                        timeout=30)


def test_upload_feature_publish_share(stack, admin, receiver):
    base = stack.url("ingest")
    sub = stack.api("notification", "POST", "/api/subscriptions",
                    json={"url": receiver.url + "/images", "events": ["article.published"]})
    assert sub.status_code == 201, sub.text

    refused = _upload_page(admin, base, polyglot_jpeg(), "holiday.jpg", alt_en="Not really a photo")
    assert refused.status_code == 422
    assert "also another kind of file" in _doc(refused).xpath("string(//p[@id='file-error'])")

    uploaded = _upload_page(admin, base, gps_jpeg(), "crane.jpg", alt_en="A harbour crane at dusk",
                            caption_en="The old port.", credit="Photo: the authors")
    assert uploaded.status_code == 200 and uploaded.url.split("/media/")[1], uploaded.url
    image_id = uploaded.url.rsplit("/", 1)[1]
    assert any("GPS position) was removed" in f for f in _flashes(uploaded))

    form = admin.get(base + "/articles/new", timeout=10)
    options = _doc(form).xpath("//select[@name='featured_image']/option/@value")
    assert image_id in options
    data = _form_data(form, title="Harbours and the Price of Grain", body="Ports set the price of grain.\n\nMore text.",
                      author_id="", author_name="Ada Harbour", featured_image=image_id, lang="en", save="Save")
    data.pop("preview", None)
    data.pop("add_reference", None)
    saved = admin.post(base + "/articles/new", data=data, timeout=10)
    assert saved.status_code == 200, saved.text[-2000:]
    article_id = saved.url.rstrip("/").rsplit("/", 1)[1]
    article = stack.api("ingest", "GET", f"/api/articles/{article_id}").json()
    assert article["featured_image"] == image_id

    page = admin.get(f"{base}/articles/{article_id}", timeout=10)
    published = admin.post(f"{base}/articles/{article_id}/transitions",
                           data={"csrf_token": _csrf(page), "action": "publish", "revision": article["revision"]},
                           timeout=10)
    assert published.status_code == 200
    live = wait_for(lambda: (a := stack.api("ingest", "GET", f"/api/articles/{article_id}").json())["state"]
                    == "published" and a, timeout=60, message="published")

    public = requests.get(live["public_url"], timeout=10)
    doc = html.fromstring(public.content)
    img = doc.xpath("//figure[@class='featured']//img")[0]
    assert "320w" in img.get("srcset") and img.get("sizes") and img.get("alt") == "A harbour crane at dusk"
    assert (img.get("width"), img.get("height")) == ("1600", "900")
    og = doc.xpath("string(//meta[@property='og:image']/@content)")
    width = int(doc.xpath("string(//meta[@property='og:image:width']/@content)"))
    height = int(doc.xpath("string(//meta[@property='og:image:height']/@content)"))
    assert doc.xpath("string(//meta[@name='twitter:card']/@content)") == "summary_large_image"
    ld = json.loads(doc.xpath("string(//script[@type='application/ld+json'])"))
    assert ld["image"]["url"] == og
    shared = requests.get(og, timeout=10)
    assert shared.status_code == 200 and shared.headers["Content-Type"] == "image/jpeg"
    assert "max-age=31536000" in shared.headers["Cache-Control"]  # a variant's name never changes its bytes
    picture = Image.open(io.BytesIO(shared.content))
    assert picture.size == (width, height) == (1200, 675)
    assert not picture.getexif()

    feed = requests.get(f"{stack.settings.site_url}/en/feed.xml", timeout=10).text
    entry = next(e for e in feed.split("<entry>")[1:] if live["public_url"] in e)
    assert f'url="{og}"' in entry

    hits = wait_for(lambda: [h for h in receiver.for_path("/images")
                             if json.loads(h.body)["data"]["article_id"] == article_id], timeout=30, message="webhook")
    image = json.loads(hits[0].body)["data"]["image"]
    assert image["url"] == og and (image["width"], image["height"]) == (1200, 675)
    assert image["alt"] == "A harbour crane at dusk"
