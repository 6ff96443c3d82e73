"""Browser fixtures: Playwright driving Debian's Chromium (headless) against the real stack.

Playwright's own browser download does not work here, so the tests launch ``/usr/bin/chromium``
(``CHROMIUM`` overrides it). Without a Chromium the browser suite fails when ``REQUIRE_BROWSER=1``
(CI) and skips otherwise. Screenshots go to ``SCREENSHOT_DIR`` (``make screenshots`` sets it to
``docs/screenshots``; otherwise a temporary folder).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium under Playwright."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message + "; set REQUIRE_BROWSER=1 to fail instead")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots are written."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(chromium):
    """A fresh desktop-sized page (its own cookies)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def phone(chromium):
    """A fresh phone-sized page."""
    context = chromium.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
