"""In a real browser: drop a photo on the media library's upload box (and, without JavaScript, choose it
with the plain file input), give it alt text, choose it as an article's featured image, publish, and see
the public page with the picture; the accessibility checks on every one of those pages."""
from __future__ import annotations

import base64

import pytest

from tests.browser.a11y import check_focus_visible, check_no_sideways_scroll, check_page
from tests.browser.test_webhooks_and_site import login
from tests.helpers import wait_for
from tests.images import photo_jpeg

pytestmark = pytest.mark.integration

DROP_JS = """
async ([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: 'image/jpeg'}));
  const zone = document.getElementById('dropzone');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}
"""


def test_upload_by_drop_choose_featured_image_and_publish(page, stack, shots, tmp_path):
    login(page, stack)
    page.goto(stack.url("ingest") + "/media")
    check_page(page)
    check_focus_visible(page)
    photo = photo_jpeg(1600, 900, seed=7)
    page.evaluate(DROP_JS, [base64.b64encode(photo).decode(), "grain-terminal.jpg"])
    assert "grain-terminal.jpg" in page.locator("#drop-status").inner_text()
    page.get_by_label("Alt text in English").fill("A grain terminal with two ships alongside")
    page.get_by_label("Alt text in Turkish").fill("Yanaşmış iki gemiyle bir tahıl terminali")
    page.get_by_label("Caption in English").fill("The terminal in autumn.")
    page.get_by_label("Credit (photographer, agency, licence)").fill("Photo: test suite")
    page.screenshot(path=str(shots / "11-media-upload.png"), full_page=True)
    page.get_by_role("button", name="Upload").click()
    assert "Added “grain-terminal.jpg”" in page.locator(".flash").inner_text()
    check_page(page)
    image_id = page.url.rsplit("/", 1)[1]
    page.screenshot(path=str(shots / "12-media-image.png"), full_page=True)

    page.goto(stack.url("ingest") + "/media")
    check_page(page)
    page.screenshot(path=str(shots / "13-media-library.png"), full_page=True)

    page.goto(stack.url("ingest") + "/articles/new")
    page.locator("#title").fill("Grain Terminals on the Black Sea")
    page.locator("#body").fill(
        f"Terminals decide how fast grain leaves.\n\n![](media:{image_id})\n\nQueues at sea cost money.")
    page.locator("#author_name").fill("C. Amera")
    page.get_by_label("Featured image").select_option(image_id)
    check_page(page)
    page.locator("#featured_image").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "14-featured-image-choice.png"))
    page.get_by_role("button", name="Save").click()
    assert "Created" in page.locator(".flash").inner_text()
    page.get_by_role("button", name="Publish").click()

    article_id = page.url.rsplit("/", 1)[1]
    live = wait_for(lambda: (a := stack.api("ingest", "GET", f"/api/articles/{article_id}").json())["state"]
                    == "published" and a, timeout=60, message="published")
    page.goto(live["public_url"])
    featured = page.locator("figure.featured img")
    wait_for(lambda: featured.evaluate("img => img.complete && img.naturalWidth > 0"), timeout=30,
             message="the featured image to load")
    assert featured.get_attribute("alt") == "A grain terminal with two ships alongside"
    assert featured.evaluate("img => img.currentSrc").endswith((".avif", ".webp", ".jpg"))
    check_page(page)
    check_no_sideways_scroll(page)
    page.screenshot(path=str(shots / "15-public-article-with-image.png"), full_page=True)


def test_upload_without_javascript(chromium, stack, tmp_path):
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, stack)
        page.goto(stack.url("ingest") + "/media")
        path = tmp_path / "quay.jpg"
        path.write_bytes(photo_jpeg(900, 600, seed=11))
        page.get_by_label("Image file (JPEG, PNG, WebP or GIF)").set_input_files(str(path))
        page.get_by_role("button", name="Upload").click()
        assert "Alt text" in page.locator("#alt_en-error").inner_text()  # alt text is required
        page.get_by_label("Image file (JPEG, PNG, WebP or GIF)").set_input_files(str(path))
        page.get_by_label("Alt text in English").fill("A quay with cranes")
        page.get_by_role("button", name="Upload").click()
        assert "Added “quay.jpg”" in page.locator(".flash").inner_text()
    finally:
        context.close()
