"""Incremental rendering equals a full rebuild, byte for byte, after many random changes.

This drives the same ``site`` functions the worker calls, in-process, on a real SQLite database.
"""
from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html

from services.rendering import site

from . import fixtures as fx

LANGS = ("en", "tr", "ru")
WORDS = ("water canal river glacier grain port rail border customs energy gas grid budget farm delta "
         "summit treaty security corridor trade railway steppe caspian drought harvest").split()
# Two spellings of one name share one author page (and of one category, one category page).
AUTHORS = ("Deniz Aralbay", "Aylin Kaya", "Timur Sadykov", "Olga Petrova", "OLGA PETROVA")
TAGS = ("Water", "Trade", "Energy", "Security", "Transport", "Climate")
CATEGORIES = ("Water Policy", "Regional Security", "Economy", "water policy")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def dirs(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def apply_now(conn, settings, change: dict) -> None:
    """Render one change the way a single publish or unpublish does."""
    if change["action"] == "publish":
        site.publish_snapshot(conn, change["snapshot"], settings)
    else:
        site.remove_article(conn, change["article_id"], settings)


class World:
    """Random publish / republish / unpublish steps over a small pool of articles and groups."""

    def __init__(self, rng: random.Random, apply=None):
        self.rng = rng
        # (conn, settings, change) -> None; by default each change is rendered at once.
        self.apply = apply or apply_now
        self.articles: dict[str, dict] = {}  # id -> last snapshot sent
        self.live: set[str] = set()
        self.clock = fx.BASE_TIME
        self.n = 0

    def tick(self) -> None:
        self.clock += timedelta(minutes=self.rng.randint(1, 600))

    def text(self, k: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(k))

    def new_article(self) -> dict:
        self.n += 1
        rng = self.rng
        groups = {}
        for s in self.articles.values():
            groups.setdefault(s["group_id"], set()).add(s["lang"])
        open_groups = [g for g, langs in sorted(groups.items()) if len(langs) < len(LANGS)]
        if open_groups and rng.random() < 0.5:
            group = rng.choice(open_groups)
            lang = rng.choice([x for x in LANGS if x not in groups[group]])
            source_lang = next(s["source_lang"] for s in self.articles.values() if s["group_id"] == group)
        else:
            group = f"00000000-0000-4000-8000-{self.n:012d}"
            lang = rng.choice(LANGS)
            source_lang = lang
        return self.make(f"10000000-0000-4000-8000-{self.n:012d}", lang, group, source_lang, revision=1,
                         published_at=self.clock)

    def make(self, article_id, lang, group, source_lang, revision, published_at) -> dict:
        rng = self.rng
        title = f"{self.text(3).title()} {self.n}"
        refs = [{"number": i + 1, "title": self.text(3), "source": "Source", "url": f"https://example.org/{i}",
                 "accessed": "2022-10-14", "note": None} for i in range(rng.randint(0, 2))]
        body = "".join(f"<p>{self.text(12)}[{i + 1}]</p>" for i in range(len(refs))) + f"<p>{self.text(20)}</p>"
        authors = [{"name": name, "bio": self.text(5) if rng.random() < 0.7 else "",
                    "bio_lang": rng.choice((None, "tr", "ru"))} for name in rng.sample(AUTHORS, rng.choice((1, 1, 2, 3)))]
        # One snapshot in five has the older shape: ``author`` alone, no ``authors`` or ``categories``.
        old_shape = rng.random() < 0.2
        return fx.snapshot(article_id, lang, group_id=group, slug=f"{lang}-article-{self.n}-{rng.randint(0, 2)}",
                           title=title, body_html=body, tags=rng.sample(TAGS, rng.randint(0, 2)), references=refs,
                           author=authors[0], authors=None if old_shape else authors,
                           categories=None if old_shape else rng.sample(CATEGORIES, rng.randint(0, 2)),
                           revision=revision, published_at=published_at, updated_at=self.clock,
                           source_lang=source_lang)

    def step(self, conn, settings) -> str:
        self.tick()
        rng = self.rng
        roll = rng.random()
        if roll < 0.4 or not self.articles:
            snap = self.new_article()
            self.articles[snap["article_id"]] = snap
            self.live.add(snap["article_id"])
            self.apply(conn, settings, {"action": "publish", "snapshot": snap})
            return "publish"
        article_id = rng.choice(sorted(self.articles))
        old = self.articles[article_id]
        if roll < 0.75:
            self.n += 1
            snap = self.make(article_id, old["lang"], old["group_id"], old["source_lang"], old["revision"] + 1,
                             published_at=fx.datetime.fromisoformat(old["published_at"]))
            if rng.random() < 0.5:
                snap["slug"] = old["slug"]  # same address, new text
            if rng.random() < 0.2:
                snap["title"] = old["title"]
            self.articles[article_id] = snap
            self.live.add(article_id)
            self.apply(conn, settings, {"action": "publish", "snapshot": snap})
            return "republish"
        if article_id in self.live:
            self.live.discard(article_id)
            self.apply(conn, settings, {"action": "remove", "article_id": article_id})
            return "unpublish"
        return "noop"


def test_200_random_steps_match_a_full_rebuild(tmp_path, monkeypatch):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)  # several index pages per language
    monkeypatch.setattr("services.rendering.content.SITEMAP_SIZE", 3)  # and several sitemaps
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    world = World(random.Random(20221013))
    kinds = []
    for i in range(200):
        with engine.begin() as conn:
            kinds.append(world.step(conn, settings))
        if i % 50 == 49:
            _assert_equal_to_rebuild(engine, settings, tmp_path / f"rebuild-{i}")
    assert {"publish", "republish", "unpublish"} <= set(kinds)
    _assert_equal_to_rebuild(engine, settings, tmp_path / "rebuild-final")
    # Pagination, redirects, groups of three, co-authors and categories were exercised.
    files = tree(settings.site_dir)
    assert any("/page/2/" in p for p in files)
    assert any(p.endswith("/sitemap-3.xml") for p in files)
    assert any(p.startswith(("en/categories/", "tr/categories/", "ru/categories/")) and "/page/1/" in p for p in files)
    assert any(b' and <a class="author"' in body for body in files.values())
    assert any(b'http-equiv="refresh"' in body for body in files.values())
    engine.dispose()


@pytest.mark.parametrize("bulk", [16, 3], ids=["change-by-change", "similar-lists-in-bulk"])
def test_batches_match_one_by_one_and_a_full_rebuild(tmp_path, monkeypatch, bulk):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)
    monkeypatch.setattr("services.rendering.content.SITEMAP_SIZE", 3)
    # Batches of this many changes in a language score its similar lists in one go.
    monkeypatch.setattr(site, "BULK_CHANGES", bulk)
    batched = fx.settings_for(tmp_path / "batched")
    single = fx.settings_for(tmp_path / "single")
    batched_engine, single_engine = fx.engine_for(batched), fx.engine_for(single)
    queued: list[dict] = []
    world = World(random.Random(20221014), apply=lambda conn, settings, change: queued.append(change))
    rng = random.Random(7)
    kinds, sizes, repeated = [], [], False
    for batch in range(25):
        queued.clear()
        for _ in range(rng.choice((1, 2, 5, 12))):
            kinds.append(world.step(None, None))
        sizes.append(len(queued))
        ids = [c["snapshot"]["article_id"] if c["action"] == "publish" else c["article_id"] for c in queued]
        repeated = repeated or len(ids) != len(set(ids))
        with batched_engine.begin() as conn:
            site.flush(conn, batched, queued)
        with single_engine.begin() as conn:
            for change in queued:
                apply_now(conn, single, change)
        assert tree(batched.site_dir) == tree(single.site_dir), f"batch {batch} differs from one by one"
        assert dirs(batched.site_dir) == dirs(single.site_dir)
    assert {"publish", "republish", "unpublish"} <= set(kinds) and max(sizes) > 5
    assert repeated, "some batch changes one article more than once"
    _assert_equal_to_rebuild(batched_engine, batched, tmp_path / "rebuild")
    batched_engine.dispose()
    single_engine.dispose()


def _assert_equal_to_rebuild(engine, settings, other: Path) -> None:
    fresh = dataclasses.replace(settings, site_dir=other)
    with engine.begin() as conn:
        site.rebuild(conn, fresh)
    incremental, rebuilt = tree(settings.site_dir), tree(other)
    assert sorted(incremental) == sorted(rebuilt)
    different = [p for p in rebuilt if incremental[p] != rebuilt[p]]
    assert not different, different[:5]
    assert dirs(settings.site_dir) == dirs(other), "no empty directories are left behind"


def test_unpublish_removes_the_page_and_every_link_to_it(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    snaps = fx.group_snapshots() + fx.other_snapshots()
    with engine.begin() as conn:
        for snap in snaps:
            site.publish_snapshot(conn, snap, settings)
    water_tr = snaps[1]
    gone_path = f"/tr/{water_tr['slug']}/"
    with engine.begin() as conn:
        site.remove_article(conn, water_tr["article_id"], settings)
    assert not (settings.site_dir / "tr" / water_tr["slug"]).exists()
    for path, body in tree(settings.site_dir).items():
        assert gone_path.encode() not in body, f"{path} still links to the unpublished page"
    en = html.fromstring((settings.site_dir / "en" / snaps[0]["slug"] / "index.html").read_bytes())
    assert en.xpath("//p[@class='lang-line']/a/@hreflang") == ["ru"]
    # Unpublishing the same article again changes nothing.
    with engine.begin() as conn:
        assert site.remove_article(conn, water_tr["article_id"], settings) == 0
    engine.dispose()


def test_a_changed_slug_leaves_a_redirect_and_the_app_answers_301(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    first = fx.snapshot("00000000-0000-4000-8000-0000000000e1", "en")
    moved = dict(first, slug="water-diplomacy-aral", revision=2)
    with engine.begin() as conn:
        site.publish_snapshot(conn, first, settings)
        url, _ = site.publish_snapshot(conn, moved, settings)
    assert url == "https://think.example/en/water-diplomacy-aral/"
    fallback = html.fromstring((settings.site_dir / "en" / first["slug"] / "index.html").read_bytes())
    assert fallback.xpath("//link[@rel='canonical']/@href") == [url]
    assert fallback.xpath("//meta[@http-equiv='refresh']/@content") == [f"0; url={url}"]

    from services.rendering.app import create_app
    from tests.helpers import migrated
    app = create_app({"SETTINGS": migrated(settings), "TESTING": True})
    client = app.test_client()
    resp = client.get(f"/en/{first['slug']}/")
    assert resp.status_code == 301 and resp.headers["Location"] == "/en/water-diplomacy-aral/"
    assert client.get("/en/water-diplomacy-aral/").status_code == 200
    missing = client.get("/tr/no-such-page/")
    assert missing.status_code == 404
    assert html.fromstring(missing.data).xpath("string(//h1)") == "Sayfa bulunamadı"
    assert client.get("/en/feed.xml").mimetype == "application/atom+xml"

    # Moving back reuses the old address: that redirect goes, the other way round one appears.
    with engine.begin() as conn:
        site.publish_snapshot(conn, dict(first, revision=3), settings)
    assert client.get(f"/en/{first['slug']}/").status_code == 200
    back = client.get("/en/water-diplomacy-aral/")
    assert back.status_code == 301 and back.headers["Location"] == f"/en/{first['slug']}/"
    # Unpublishing drops the redirect too.
    with engine.begin() as conn:
        site.publish_snapshot(conn, dict(moved, revision=4), settings)
        site.remove_article(conn, first["article_id"], settings)
    assert client.get(f"/en/{first['slug']}/").status_code == 404
    assert not (settings.site_dir / "en" / first["slug"]).exists()
    engine.dispose()


def test_publishing_touches_only_what_changes(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.group_snapshots() + fx.other_snapshots():
            site.publish_snapshot(conn, snap, settings)
    energy = fx.other_snapshots()[-1]
    with engine.begin() as conn:
        report = site.publish(conn, dict(energy, revision=2, body_html="<p>Energy swaps, now with a new paragraph.</p>"),
                              settings)
    assert f"en/{energy['slug']}/index.html" in report.written
    assert not any(p.startswith(("tr/", "ru/")) for p in report.written), report.written
    assert "en/water-diplomacy-in-the-aral-basin/index.html" not in report.written
    # Same snapshot again: nothing to write.
    with engine.begin() as conn:
        assert site.publish(conn, dict(energy, revision=2, body_html="<p>Energy swaps, now with a new paragraph.</p>"),
                            settings).written == []
    engine.dispose()
