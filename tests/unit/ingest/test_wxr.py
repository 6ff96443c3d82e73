"""WordPress (WXR) import: parsing, translation groups from WPML and Polylang, state mapping through
the workflow, re-import idempotence, and refusal of malformed XML and entity bombs with nothing stored."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.ingest import authors
from services.ingest import wxr
from services.ingest.db import articles, audit_log, outbox
from shared.db import make_engine
from tests.helpers import migrated_db
from shared.errors import InvalidInput

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
LANGS = ("en", "tr", "ru")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(migrated_db("ingest", f"sqlite:///{tmp_path / 'ingest.db'}"))
    yield eng
    eng.dispose()


def count(engine, table=articles) -> int:
    with engine.begin() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_php_unserialize_reads_polylang_arrays():
    assert wxr.php_unserialize('a:2:{s:2:"tr";i:312;s:2:"en";i:311;}') == {"tr": 312, "en": 311}
    assert wxr.php_unserialize('a:1:{s:5:"Türk";b:1;}') == {"Türk": True}, "string lengths count bytes"
    with pytest.raises(ValueError):
        wxr.php_unserialize('a:2:{s:2:"tr";i:312;')
    with pytest.raises(ValueError):
        wxr.php_unserialize('O:8:"stdClass":0:{}')


def test_parse_keeps_posts_and_reports_pages_attachments_and_trash():
    export = wxr.parse_wxr(fixture("wxr-wpml.xml"))
    assert [p.post_id for p in export.posts] == ["101", "102", "203", "201"]
    assert {s["reason"] for s in export.skipped} == {"a WordPress page, not a post", "a WordPress attachment, not a post",
                                                     "status 'trash'"}
    first = export.posts[0]
    assert (first.lang, first.status, first.creator, first.tags) == ("en", "publish", "aylin", ["Energy", "Caspian"])
    assert first.excerpt == "Why the Middle Corridor matters." and first.date_gmt == "2022-10-14 07:00:00"
    assert export.authors["aylin"] == "Aylin Demir"
    assert export.posts[3].tags == [], "WordPress's default 'Uncategorized' is not a tag"


def test_wpml_and_polylang_translations_are_grouped_source_first():
    wpml = wxr.plan_groups(wxr.parse_wxr(fixture("wxr-wpml.xml")).posts, LANGS)
    assert sorted([p.post_id for p in g] for g in wpml) == [["101", "102"], ["201", "203"]]
    pll = wxr.plan_groups(wxr.parse_wxr(fixture("wxr-polylang.xml")).posts, LANGS)
    assert [[p.post_id for p in g] for g in pll] == [["311", "312"], ["320"]], "English (first language) is the source"


def test_import_creates_grouped_articles_through_the_workflow(engine):
    progress = []
    summary = wxr.import_wxr(engine, fixture("wxr-wpml.xml"), languages=LANGS,
                             progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (4, 4)
    created = {row["guid"].rsplit("=", 1)[1]: row for row in summary["created"]}
    assert {k: (v["lang"], v["state"]) for k, v in created.items()} == {
        "101": ("en", "approved"), "102": ("tr", "in_review"), "201": ("en", "approved"), "203": ("ru", "draft")}
    assert created["101"]["group_id"] == created["102"]["group_id"] != created["201"]["group_id"] == created["203"]["group_id"]
    with engine.begin() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(articles)).mappings()}
        source = rows[created["101"]["article_id"]]
        assert source["is_source"] and not rows[created["102"]["article_id"]]["is_source"]
        assert source["author"] == {"name": "Aylin Demir", "bio": "", "bio_lang": None}
        assert source["tags"] == ["Energy", "Caspian"]
        assert "<script" not in source["body_html"] and "onclick" not in source["body_html"]
        assert "<blockquote>" in source["body_html"]
        trail = [(a["action"], a["to_state"]) for a in conn.execute(
            select(audit_log).where(audit_log.c.article_id == source["id"]).order_by(audit_log.c.id)).mappings()]
        assert trail == [("create", "draft"), ("submit", "in_review"), ("approve", "approved")]
        notes = conn.execute(select(audit_log.c.note).where(audit_log.c.article_id == source["id"])).scalars().all()
        assert all("WordPress post 101" in n and "2022-10-14 07:00:00" in n for n in notes)
        assert {a["name"] for a in authors.list_authors(conn)} == {"Aylin Demir", "Ivan Petrov"}
    assert count(engine, outbox) > 0, "events wait in the outbox like any other change"


def test_reimport_creates_nothing(engine):
    wxr.import_wxr(engine, fixture("wxr-polylang.xml"), languages=LANGS)
    before = (count(engine), count(engine, audit_log), count(engine, outbox))
    again = wxr.import_wxr(engine, fixture("wxr-polylang.xml"), languages=LANGS)
    assert again["created"] == [] and len(again["already_imported"]) == 2
    assert (count(engine), count(engine, audit_log), count(engine, outbox)) == before
    assert [s["reason"] for s in again["skipped"]] == ["language 'de' is not a site language (en, tr, ru)"]


def test_a_new_translation_joins_the_group_imported_before(engine):
    full = fixture("wxr-polylang.xml").decode()
    start = full.index("<item>")
    end = full.index("</item>", start) + len("</item>")
    without_tr = (full[:start] + full[end:]).encode()
    first = wxr.import_wxr(engine, without_tr, languages=LANGS)
    second = wxr.import_wxr(engine, fixture("wxr-polylang.xml"), languages=LANGS)
    assert [r["lang"] for r in second["created"]] == ["tr"]
    assert second["created"][0]["group_id"] == first["created"][0]["group_id"]


@pytest.mark.parametrize("name, words", [
    ("wxr-truncated.xml", "not well-formed XML"),
    ("wxr-bomb.xml", "entities"),
])
def test_bad_xml_is_refused_with_nothing_stored(engine, name, words):
    with pytest.raises(InvalidInput, match=words):
        wxr.import_wxr(engine, fixture(name), languages=LANGS)
    assert count(engine) == 0 and count(engine, wxr.wxr_imports) == 0


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"<feed><entry/></feed>", "not a WordPress export"),
    (b'<rss version="2.0"><channel><item><title>x</title></item></channel></rss>', "public feed"),
])
def test_xml_that_is_not_an_export_is_refused(engine, data, words):
    with pytest.raises(InvalidInput, match=words):
        wxr.import_wxr(engine, data, languages=LANGS)


def test_one_bad_post_refuses_the_whole_file(engine):
    broken = fixture("wxr-wpml.xml").replace(b"<![CDATA[Water and Diplomacy in Central Asia]]>", b"")
    with pytest.raises(InvalidInput, match=r"post 201 .*title must not be empty"):
        wxr.import_wxr(engine, broken, languages=LANGS)
    assert count(engine) == 0 and count(engine, authors.authors) == 0


def test_two_posts_in_one_language_of_a_group_are_refused(engine):
    clash = fixture("wxr-polylang.xml").replace(b'nicename="tr"><![CDATA[T\xc3\xbcrk\xc3\xa7e]]></category>\n\t\t<category domain="post_translations"',
                                                b'nicename="en"><![CDATA[English]]></category>\n\t\t<category domain="post_translations"')
    with pytest.raises(InvalidInput, match="one post per language"):
        wxr.import_wxr(engine, clash, languages=LANGS)
    assert count(engine) == 0


def test_cli_prints_progress_and_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    migrated_db("ingest", f"sqlite:///{tmp_path / 'ingest.db'}")  # the CLI works on a migrated database
    assert wxr.main([str(FIXTURES / "wxr-polylang.xml")]) == 0
    out, err = capsys.readouterr()
    assert "2/2 posts" in err and "created 2 article(s)" in out and "approved" in out
    assert wxr.main([str(FIXTURES / "wxr-bomb.xml")]) == 1
    assert "entities" in capsys.readouterr().err
