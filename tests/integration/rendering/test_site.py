"""The live site model: kept between changes, reloaded only when another process changed the read
model; listing pages that stay put; files written only when their bytes change."""
from __future__ import annotations

import re
from datetime import timedelta

from lxml import etree, html

from services.rendering import site

from . import fixtures as fx


def _article(n: int, lang: str = "en", tags=("Water",), author: str = "Deniz Aralbay") -> dict:
    return fx.snapshot(f"20000000-0000-4000-8000-{n:012d}", lang, group_id=f"30000000-0000-4000-8000-{n:012d}",
                       slug=f"{lang}-article-{n}", title=f"Article number {n}", body_html=f"<p>Text {n} about canals.</p>",
                       tags=list(tags), references=[], author={"name": author, "bio": "", "bio_lang": None},
                       published_at=fx.BASE_TIME + timedelta(hours=n), source_lang=lang)


def _listing_pages(written: list[str]) -> list[str]:
    return sorted(p for p in written if re.fullmatch(r"en/(index\.html|page/\d+/index\.html|(tags|authors)/[^/]+/(index\.html|page/\d+/index\.html))", p))


def test_a_new_article_rewrites_a_bounded_number_of_listing_pages(tmp_path, monkeypatch):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _article(n)} for n in range(41)])
    # 41 articles: the newest 4 on the landing page, archive pages 1..10 (page 10 holds one).
    assert (settings.site_dir / "en/page/10/index.html").is_file() and not (settings.site_dir / "en/page/11").exists()
    page3 = (settings.site_dir / "en/page/3/index.html").read_bytes()
    for n in range(41, 45):
        with engine.begin() as conn:
            report = site.publish(conn, _article(n), settings)
        listing = _listing_pages(report.written)
        # Language, tag and author listings: each at most its landing page, its last archive page and a new one.
        assert len(listing) <= 9, listing
        assert "en/index.html" in listing and "en/page/3/index.html" not in listing
    assert (settings.site_dir / "en/page/3/index.html").read_bytes() == page3, "a full archive page never changes"
    engine.dispose()


def test_sitemaps_are_numbered_from_the_oldest_and_a_new_article_rewrites_only_the_last(tmp_path, monkeypatch):
    monkeypatch.setattr("services.rendering.content.SITEMAP_SIZE", 4)
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    legacy = settings.site_dir / "en" / "sitemap.xml"  # the one-file sitemap of 0.2.0
    legacy.parent.mkdir(parents=True)
    legacy.write_text("<urlset/>")
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _article(n)} for n in range(9)])
    assert not legacy.exists(), "the old single sitemap is removed"
    sm = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

    def locs(rel):
        return [u.findtext(f"{sm}loc") for u in etree.fromstring((settings.site_dir / rel).read_bytes()).iter(f"{sm}url")]

    assert [len(locs(f"en/sitemap-{k}.xml")) for k in (1, 2, 3)] == [4, 4, 1]
    assert locs("en/sitemap-1.xml")[0].endswith("/en/en-article-0/"), "sitemap 1 holds the oldest"
    first = (settings.site_dir / "en/sitemap-1.xml").read_bytes()
    for n in range(9, 13):
        with engine.begin() as conn:
            report = site.publish(conn, _article(n), settings)
        sitemaps = sorted(p for p in report.written if "sitemap" in p)
        assert sitemaps == ["en/sitemap-3.xml", "sitemap.xml"] or sitemaps == ["en/sitemap-4.xml", "sitemap.xml"], sitemaps
    assert (settings.site_dir / "en/sitemap-1.xml").read_bytes() == first, "a full sitemap never changes"
    index = etree.fromstring((settings.site_dir / "sitemap.xml").read_bytes())
    assert [loc.text.rsplit("/", 2)[-2:] for loc in index.iter(f"{sm}loc")] == [
        ["en", f"sitemap-{k}.xml"] for k in (1, 2, 3, 4)]
    assert sum(len(locs(f"en/sitemap-{k}.xml")) for k in (1, 2, 3, 4)) == 13
    with engine.begin() as conn:
        report = site.unpublish(conn, _article(12)["article_id"], settings)
    assert "en/sitemap-4.xml" in report.removed, "the emptied last sitemap is deleted"
    engine.dispose()


def test_archive_pages_are_numbered_from_the_oldest_with_canonical_and_prev_next(tmp_path, monkeypatch):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _article(n)} for n in range(11)])
    base = settings.site_url

    def doc(rel):
        return html.fromstring((settings.site_dir / rel).read_bytes())

    def titles(d):
        return d.xpath("//ul[contains(@class,'articles')]/li/a[1]/text()")

    landing, newer, oldest = doc("en/index.html"), doc("en/page/2/index.html"), doc("en/page/1/index.html")
    assert titles(landing) == [f"Article number {n}" for n in (10, 9, 8, 7)]
    assert titles(newer) == [f"Article number {n}" for n in (6, 5, 4)]
    assert titles(oldest) == [f"Article number {n}" for n in (3, 2, 1, 0)]
    assert landing.xpath("//link[@rel='canonical']/@href") == [f"{base}/en/"]
    assert newer.xpath("//link[@rel='canonical']/@href") == [f"{base}/en/page/2/"]
    assert landing.xpath("//link[@rel='prev']/@href") == [] and landing.xpath("//link[@rel='next']/@href") == ["/en/page/2/"]
    assert newer.xpath("//link[@rel='prev']/@href") == ["/en/"] and newer.xpath("//link[@rel='next']/@href") == ["/en/page/1/"]
    assert oldest.xpath("//link[@rel='prev']/@href") == ["/en/page/2/"] and oldest.xpath("//link[@rel='next']/@href") == []
    assert oldest.xpath("string(//title)") == "Latest articles – Page 1"
    # Tag and author listings are paged the same way.
    assert doc("en/tags/water/page/2/index.html").xpath("//link[@rel='prev']/@href") == ["/en/tags/water/"]
    assert (settings.site_dir / "en/authors/deniz-aralbay/page/1/index.html").is_file()
    engine.dispose()


def test_the_model_is_kept_between_changes_and_reloaded_only_after_another_process_changed_it(tmp_path, monkeypatch):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    loads = []
    real = site.load_model
    monkeypatch.setattr(site, "load_model", lambda conn, s: loads.append(1) or real(conn, s))
    for n in range(3):
        with engine.begin() as conn:
            site.publish(conn, _article(n), settings)
    assert len(loads) == 1, "loaded once, then kept up to date by each change"
    # Another process changes the read model: the version row tells, the next change reloads.
    with engine.begin() as conn:
        site.upsert_page(conn, _article(7))
    with engine.begin() as conn:
        site.publish(conn, _article(8), settings)
    assert len(loads) == 2
    assert (settings.site_dir / "en/en-article-7/index.html").is_file(), "the other process's article is rendered with it"
    # A change rolled back after the model took it: the model is not trusted again.
    try:
        with engine.begin() as conn:
            site.publish(conn, _article(9), settings)
            raise RuntimeError("the batch failed after rendering")
    except RuntimeError:
        pass
    with engine.begin() as conn:
        site.publish(conn, dict(_article(8), revision=2, title="Article eight, revised"), settings)
    assert len(loads) == 3
    with engine.begin() as conn:
        assert site.live_model(conn, settings).by_id.keys() == {_article(n)["article_id"] for n in (0, 1, 2, 7, 8)}
    engine.dispose()


def test_files_are_written_only_when_their_bytes_change_and_repaired_when_changed_behind_our_back(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    snaps = fx.group_snapshots() + fx.other_snapshots()
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": s} for s in snaps])
    page = settings.site_dir / "en" / fx.SLUGS["en"] / "index.html"
    good = page.read_bytes()
    page.write_text("damaged")
    with engine.begin() as conn:
        report = site.rebuild(conn, settings, jobs=1)
    assert report.written == [f"en/{fx.SLUGS['en']}/index.html"] and not report.removed
    assert page.read_bytes() == good
    with engine.begin() as conn:
        assert site.rebuild(conn, settings, jobs=1).written == []
    engine.dispose()


def test_the_parallel_rebuild_equals_the_incremental_site(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _article(n, tags=("Water", f"T{n % 3}"))}
                                    for n in range(30)])
    other = tmp_path / "parallel"
    import dataclasses

    with engine.begin() as conn:
        report = site.rebuild(conn, dataclasses.replace(settings, site_dir=other), jobs=2, record=False)
    assert len(report.written) > 40
    mine = {p.relative_to(settings.site_dir).as_posix(): p.read_bytes() for p in settings.site_dir.rglob("*") if p.is_file()}
    theirs = {p.relative_to(other).as_posix(): p.read_bytes() for p in other.rglob("*") if p.is_file()}
    assert mine == theirs
    engine.dispose()


def test_landing_and_archive_pages_pass_the_nu_html_checker(tmp_path, monkeypatch, vnu):
    monkeypatch.setattr("services.rendering.content.PAGE_SIZE", 4)
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _article(n)} for n in range(11)])
    engine.dispose()
    files = sorted(settings.site_dir.glob("en/**/page/*/index.html")) + [settings.site_dir / "en/index.html",
                                                                        settings.site_dir / "en/tags/water/index.html"]
    assert len(files) >= 6
    errors = vnu(files)
    assert errors == "", errors[:3000]
