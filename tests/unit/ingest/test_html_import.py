"""HTML page import (trafilatura + htmldate + the text page rules) on pages of our own making in the shapes
of WordPress, Drupal and Ghost themes, and the batch CLI over a folder and a zip."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from services.ingest import batch_import
from services.ingest.html_import import looks_like_html, parse_html
from services.ingest.importer import NotAnArticle, parse_any
from tests.helpers import migrated_db

HTML = Path(__file__).resolve().parents[2] / "fixtures" / "ingest" / "html"
PAGES = HTML.parent / "pages"


def html(name: str) -> str:
    return (HTML / name).read_text(encoding="utf-8")


def test_wordpress_post_with_wpml_line_footnote_list_and_author_box():
    page = parse_html(html("wordpress-caspian-ports.en.html"))
    assert page.title == "Ports Before Pipelines: Fixing the Caspian Bottleneck"
    assert page.lang == "en" and page.original_languages == ["tr", "ru"]
    assert page.language_line == "This post is also available in: Türkçe Русский"
    assert page.source_url == "https://policy.example.org/en/ports-before-pipelines/"
    assert page.published == "2023-04-18"
    assert page.author["name"] == "Timur Bekov" and page.author["bio"].startswith("Timur Bekov is a researcher")
    assert page.author["bio_lang"] == "en"
    assert [r["accessed"] for r in page.references] == ["2023-04-02", "2023-04-05", "2023-04-05"]
    assert page.references[2]["note"] == "Ibid." and page.references[2]["url"] == page.references[1]["url"]
    assert [page.body.count(f"[{n}]") for n in (1, 2, 3)] == [1, 1, 1]  # <sup>1</sup> became [1]
    assert "> A ship that waits three days" in page.body  # the blockquote stays a quotation
    for chrome in ("Eurasia Policy Centre", "Home", "Share this", "Similar Posts", "Previous post", "©", "Posted in"):
        assert chrome not in page.body, chrome
    assert page.warnings == []


def test_drupal_node_with_byline_field_and_language_switcher():
    page = parse_html(html("drupal-goc-politikasi.tr.html"))
    assert page.title == "Göçmen Emeği ve Bölgesel İşbirliği" and page.lang == "tr"
    assert page.original_languages == ["en"]  # from the switcher's hreflang links
    assert page.author["name"] == "Ayşe Demircan"
    assert page.references[2]["note"] == "a.g.e." and [r["number"] for r in page.references] == [1, 2, 3]
    assert page.published == "2023-05-09"
    for chrome in ("Ana Sayfa", "Kaynakça", "Etiketler", "Tüm hakları saklıdır", "Yazar:"):
        assert chrome not in page.body, chrome


def test_ghost_post_with_two_authors_and_superscript_markers():
    page = parse_html(html("ghost-vybory-doverie.ru.html"))
    assert page.title == "Наблюдение за выборами: что видно и что скрыто" and page.lang == "ru"
    assert [a["name"] for a in page.authors] == ["Иван Смирнов", "Nadia Okonjo"]
    assert page.author["name"] == "Иван Смирнов, Nadia Okonjo"
    assert "¹" not in page.body and [page.body.count(f"[{n}]") for n in (1, 2, 3)] == [1, 1, 1]
    assert page.references[2]["note"] == "Там же." and page.references[0]["accessed"] == "2023-05-20"
    for chrome in ("Подпишитесь", "Читайте также", "4 мин чтения", "Ghost", "Главная"):
        assert chrome not in page.body, chrome


def test_category_page_is_refused_as_a_listing():
    with pytest.raises(NotAnArticle) as info:
        parse_html(html("wordpress-category-listing.en.html"))
    assert info.value.field == "body" and "listing" in info.value.message


@pytest.mark.parametrize("text", ["", "<html><body><nav>Home</nav></body></html>"])
def test_html_without_an_article_is_refused(text):
    with pytest.raises(NotAnArticle) as info:
        parse_html(text)
    assert info.value.field == "body"


def test_html_is_told_from_text():
    assert looks_like_html(html("ghost-vybory-doverie.ru.html")) and looks_like_html("  <html lang=en>")
    assert not looks_like_html((PAGES / "caspian-gas.txt").read_text(encoding="utf-8"))
    assert parse_any(html("wordpress-caspian-ports.en.html"), lang=None, languages=("en", "tr", "ru")).source_url


def test_batch_cli_imports_a_folder_and_a_zip_with_a_per_page_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    migrated_db("ingest", f"sqlite:///{tmp_path / 'data' / 'ingest.db'}")  # make up migrates before anything runs
    archive = tmp_path / "pages.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(PAGES / "caspian-gas.txt", "caspian-gas.txt")
        z.write(PAGES / "foreign-uk.txt", "foreign-uk.txt")
        z.writestr("notes/readme.md", "not a page")
    report = tmp_path / "report.json"
    code = batch_import.main([str(HTML), str(archive), str(PAGES / "caspian-gas.txt"), "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 1  # some pages were refused
    assert "[7/7]" in err
    rows = {row["page"].rsplit("/", 1)[-1].split(":")[-1]: row for row in json.loads(report.read_text(encoding="utf-8"))}
    assert rows["wordpress-caspian-ports.en.html"]["outcome"] == "created"
    assert rows["wordpress-category-listing.en.html"]["outcome"] == "refused"
    assert rows["foreign-uk.txt"]["field"] == "lang" and "Ukrainian" in rows["foreign-uk.txt"]["error"]
    outcomes = sorted(row["outcome"] for row in json.loads(report.read_text(encoding="utf-8")))
    assert outcomes == ["created"] * 4 + ["duplicate"] + ["refused"] * 2  # the second caspian-gas is a duplicate
    assert "4 created, 1 duplicate, 0 revised, 0 unchanged, 2 refused of 7 page(s)" in out


def test_batch_cli_reads_a_saved_page_in_its_own_charset(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    migrated_db("ingest", f"sqlite:///{tmp_path / 'data' / 'ingest.db'}")  # make up migrates before anything runs
    saved = tmp_path / "vybory.html"
    page = html("ghost-vybory-doverie.ru.html").replace('charset="utf-8"', 'charset="windows-1251"')
    saved.write_bytes(page.replace("¹", "[1]").replace("²", "[2]").replace("³", "[3]").encode("cp1251"))
    assert batch_import.main([str(saved)]) == 0
    assert "created   " in capsys.readouterr().out
