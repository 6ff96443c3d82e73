"""The site's identity is configuration (``SITE_NAME`` and friends): changing it and rebuilding changes the
public header, the footer, the Atom feed's title and the JSON-LD publisher of every page."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import feedparser
from lxml import html

from services.rendering import site

from . import fixtures as fx


def _rebuild(settings, tmp_path, **site_env) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITE_") and k != "RENDERING_DATABASE_URL"}
    env.update({"DATA_DIR": str(tmp_path), "SITE_DIR": str(settings.site_dir), "SITE_URL": settings.site_url,
                "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==", **site_env})
    done = subprocess.run([sys.executable, "-m", "services.rendering.rebuild", "--quiet"], cwd=fx.ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _page(settings, lang: str):
    return html.fromstring((settings.site_dir / lang / fx.SLUGS[lang] / "index.html").read_bytes())


def _publisher(doc) -> dict:
    return json.loads(doc.xpath("string(//script[@type='application/ld+json'])"))["publisher"]


def _feed_title(settings, lang: str) -> str:
    return feedparser.parse((settings.site_dir / lang / "feed.xml").read_bytes()).feed.title


def test_changing_the_site_name_changes_header_feed_and_publisher_after_a_rebuild(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.group_snapshots():
            site.publish_snapshot(conn, snap, settings)
    engine.dispose()
    before = _page(settings, "en")
    assert before.xpath("string(//header[@class='site']//a[@class='site-name'])") == "Analysis", "the theme's default"
    assert _publisher(before)["name"] == "Analysis"
    assert _feed_title(settings, "en").startswith("Analysis – ")

    _rebuild(settings, tmp_path, SITE_NAME="Steppe Policy Review", SITE_NAME_TR="Bozkır Politika İncelemesi",
             SITE_TAGLINE="Independent analysis of Central Asia", SITE_TAGLINE_TR="Orta Asya üzerine bağımsız analiz",
             SITE_FOOTER="Steppe Policy Review is an independent think tank.", SITE_LOGO_URL="/logo.svg",
             SITE_SOCIAL="Mastodon=https://mastodon.example/@spr,Telegram=https://t.me/spr")
    for lang, name, tagline in (("en", "Steppe Policy Review", "Independent analysis of Central Asia"),
                                ("tr", "Bozkır Politika İncelemesi", "Orta Asya üzerine bağımsız analiz"),
                                ("ru", "Steppe Policy Review", "Independent analysis of Central Asia")):
        doc = _page(settings, lang)
        header = doc.xpath("//header[@class='site']")[0]
        assert header.xpath("string(.//a[@class='site-name'])") == name
        assert header.xpath("string(.//p[@class='tagline'])") == tagline
        assert header.xpath(".//img[@class='logo']/@src") == ["https://think.example/logo.svg"]
        assert header.xpath(".//nav[@class='languages']//a[@aria-current]/@hreflang") == [lang]
        assert doc.xpath("string(//meta[@property='og:site_name']/@content)") == name
        publisher = _publisher(doc)
        assert publisher["@type"] == "Organization" and publisher["name"] == name
        assert publisher["logo"]["url"] == "https://think.example/logo.svg"
        assert publisher["sameAs"] == ["https://mastodon.example/@spr", "https://t.me/spr"]
        assert _feed_title(settings, lang).startswith(name + " – ")
        footer = doc.xpath("//footer[@class='site']")[0]
        assert footer.xpath(".//ul[@class='social']//a/@href") == ["https://mastodon.example/@spr", "https://t.me/spr"]
        assert footer.xpath("string(.//p[@class='footer-text'])") == "Steppe Policy Review is an independent think tank."
        assert not doc.xpath("//script[not(@type='application/ld+json')]"), "the theme stays script-free"
    index = html.fromstring((settings.site_dir / "tr" / "index.html").read_bytes())
    assert index.xpath("string(//a[@class='site-name'])") == "Bozkır Politika İncelemesi"
