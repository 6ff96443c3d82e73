"""Test content for the rendering tests: an article in English, Turkish and Russian, and helpers.

All prose here is written for these tests.
"""
from __future__ import annotations

import dataclasses
import re
from html import escape
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.config import load_settings
from shared.db import make_engine
from tests.helpers import migrated_db
from shared.markup import make_slug
from tests import sample_page

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = sample_page.SAMPLE
BASE_TIME = datetime(2022, 10, 13, 9, 30, tzinfo=timezone.utc)
GROUP = "00000000-0000-4000-8000-00000000a001"

BIO_TR = "Orta Asya su politikaları üzerine çalışan bir araştırmacı; Taşkent ve Ankara'da ders vermiştir."

REFERENCES = [
    {"number": 1, "title": "Basin water allocation report", "source": "Regional Water Office",
     "url": "https://example.org/water/allocation", "accessed": "2022-10-14", "note": None},
    {"number": 2, "title": None, "source": None, "url": None, "accessed": None, "note": "Ibid."},
    {"number": 3, "title": "Canal maintenance budgets, 2021", "source": "Ministry Bulletin",
     "url": "https://example.org/bulletin/canals?year=2021&lang=en", "accessed": "2022-10-12", "note": None},
]

BODIES = {
    "en": ("<p>Upstream dams decide how much water reaches the delta each summer.[1] Farmers downstream "
           "measure the season by the canal level, not the calendar.[2]</p>"
           "<blockquote><p>Water that is not shared is water that is fought over.</p></blockquote>"
           "<p>Maintenance budgets for the old canals fell again last year.[iii] Without repairs, "
           "a third of the flow is lost before it reaches a field.</p>"),
    "tr": ("<p>Yukarı havzadaki barajlar her yaz deltaya ne kadar su ulaşacağını belirliyor.[1] "
           "Aşağı havzadaki çiftçiler mevsimi takvimle değil kanal seviyesiyle ölçüyor.[2]</p>"
           "<blockquote><p>Paylaşılmayan su, uğruna çatışılan sudur.</p></blockquote>"
           "<p>Eski kanalların bakım bütçeleri geçen yıl yine düştü.[iii]</p>"),
    "ru": ("<p>Плотины в верховьях решают, сколько воды дойдёт до дельты этим летом.[1] "
           "Фермеры в низовьях измеряют сезон уровнем канала, а не календарём.[2]</p>"
           "<blockquote><p>Вода, которой не делятся, становится предметом спора.</p></blockquote>"
           "<p>Бюджеты на ремонт старых каналов в прошлом году снова сократились.[iii]</p>"),
}
TITLES = {
    "en": "Water Diplomacy in the Aral Basin",
    "tr": "Aral Havzasında Su Diplomasisi",
    "ru": "Водная дипломатия в бассейне Арала",
}
SLUGS = {"en": "water-diplomacy-in-the-aral-basin", "tr": "aral-havzasinda-su-diplomasisi",
         "ru": "vodnaia-diplomatiia-v-basseine-arala"}
TAGS = {"en": ["Central Asia", "Water"], "tr": ["Orta Asya", "Su"], "ru": ["Центральная Азия", "Вода"]}


def settings_for(tmp: Path, site_dir: Path | None = None):
    """Settings with a private DATA_DIR and a fixed public URL."""
    settings = load_settings({"DATA_DIR": str(tmp), "API_TOKEN": "t", "SECRET_KEY": "s",
                              "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==", "SITE_URL": "https://think.example"})
    return dataclasses.replace(settings, site_dir=(site_dir or tmp / "site"))


def engine_for(settings):
    """A real SQLite engine with the rendering tables."""
    engine = make_engine(migrated_db("rendering", settings.database_url("rendering")))
    return engine


def snapshot(article_id: str, lang: str, *, group_id: str = GROUP, slug: str | None = None, title: str | None = None,
             body_html: str | None = None, tags: list[str] | None = None, references: list[dict] | None = None,
             author: dict | None = None, revision: int = 1, published_at: datetime = BASE_TIME,
             updated_at: datetime | None = None, is_source: bool | None = None, source_lang: str = "en",
             authors: list[dict] | None = None, categories: list[str] | None = None) -> dict:
    """A publish snapshot shaped like ingest's ``snapshot()``; without ``authors`` and ``categories`` it has
    the older shape (``author`` alone), with them ``author`` is the first of ``authors``."""
    snap = {
        "article_id": article_id, "group_id": group_id, "lang": lang,
        "is_source": (lang == source_lang) if is_source is None else is_source, "source_lang": source_lang,
        "slug": slug or SLUGS[lang], "title": title or TITLES[lang],
        "body_html": BODIES[lang] if body_html is None else body_html,
        "author": author or {"name": "Deniz Aralbay", "bio": BIO_TR, "bio_lang": "tr"},
        "references": REFERENCES if references is None else references,
        "tags": TAGS[lang] if tags is None else tags,
        "revision": revision,
        "published_at": published_at.isoformat(),
        "updated_at": (updated_at or published_at).isoformat(),
    }
    if authors is not None:
        snap["author"], snap["authors"] = authors[0], authors
    if categories is not None:
        snap["categories"] = categories
    return snap


def group_snapshots() -> list[dict]:
    """The water-diplomacy article in English (source), Turkish and Russian."""
    return [snapshot(f"00000000-0000-4000-8000-0000000000{i}1", lang, published_at=BASE_TIME + timedelta(hours=i))
            for i, lang in enumerate(("en", "tr", "ru"))]


OTHER_TOPICS = [
    ("Grain Corridors across the Caspian", ["Caspian", "Trade"],
     "Grain moves by ship and rail across the Caspian. Port capacity and rail gauges set the pace of trade."),
    ("Rail Gauges and Border Waiting Times", ["Trade", "Transport"],
     "Changing rail gauges at the border adds days to every shipment. Waiting times shape trade routes."),
    ("Glaciers, Rivers and Summer Water", ["Water", "Climate"],
     "Glaciers feed the rivers that canals depend on. Summer water for farmers falls as glaciers shrink."),
    ("Canal Repairs and Rural Budgets", ["Water", "Economy"],
     "Canal repairs compete with schools and roads in rural budgets. Water lost from canals is income lost."),
    ("Digital Customs at Land Borders", ["Transport", "Economy"],
     "Digital customs declarations shorten waiting times at land borders for trucks and trains."),
    ("Energy Swaps between Neighbours", ["Energy"],
     "Neighbours swap summer electricity for winter gas. Energy swaps are cheaper than new plants."),
]


def other_snapshots(lang: str = "en", start: int = 0) -> list[dict]:
    """Stand-alone English articles on nearby subjects (for similar posts, tags and pagination)."""
    out = []
    for i, (title, tags, text) in enumerate(OTHER_TOPICS):
        n = start + i
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        out.append(snapshot(f"00000000-0000-4000-8000-1000000000{n:02d}", lang, group_id=f"00000000-0000-4000-8000-20000000{n:04d}",
                            slug=slug, title=title, body_html=f"<p>{text}</p>", tags=tags, references=[],
                            author={"name": "Aylin Kaya" if i % 2 else "Deniz Aralbay", "bio": "", "bio_lang": None},
                            published_at=BASE_TIME - timedelta(days=i + 1), source_lang=lang))
    return out


NEIGHBOURS = {
    "tr": ("Buzullar ve Yaz Suyu", "buzullar-ve-yaz-suyu", ["Su"],
           "Kanalların beslendiği nehirler buzullardan gelir; buzullar eridikçe yaz suyu azalıyor."),
    "ru": ("Ледники и летняя вода", "ledniki-i-letniaia-voda", ["Вода"],
           "Реки, питающие каналы, начинаются в ледниках; летней воды становится меньше."),
}


def neighbour_snapshots() -> list[dict]:
    """One more Turkish and one more Russian article (so those languages have similar posts too)."""
    return [snapshot(f"00000000-0000-4000-8000-30000000000{i}", lang, group_id=f"00000000-0000-4000-8000-40000000000{i}",
                     slug=slug, title=title, body_html=f"<p>{text}</p>", tags=tags, references=[],
                     author={"name": "Aylin Kaya", "bio": "", "bio_lang": None},
                     published_at=BASE_TIME - timedelta(days=3), source_lang=lang)
            for i, (lang, (title, slug, tags, text)) in enumerate(sorted(NEIGHBOURS.items()))]


def sample_snapshot() -> dict | None:
    """The real sample page as the page states it (title, paragraphs, references, author), or None when absent."""
    if not SAMPLE.exists():
        return None
    facts = sample_page.sample_facts(SAMPLE.read_text(encoding="utf-8"))
    body = "".join(f"<p>{escape(p)}</p>" for p in facts["paragraphs"])
    return snapshot("00000000-0000-4000-8000-5a0000000001", "en", group_id="00000000-0000-4000-8000-5a0000000001",
                    slug=make_slug(facts["title"]), title=facts["title"], body_html=body,
                    references=facts["references"], tags=["Security", "Central Asia"],
                    author={"name": facts["author"], "bio": facts["bio"], "bio_lang": "tr"},
                    published_at=datetime(2022, 10, 13, 8, 0, tzinfo=timezone.utc))
