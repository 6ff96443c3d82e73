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
    assert (first.lang, first.status, first.creator, first.tags) == ("en", "publish", "aylin", ["Caspian"])
    assert first.categories == ["Energy"], "WordPress categories become categories, post tags stay tags"
    assert first.excerpt == "Why the Middle Corridor matters." and first.date_gmt == "2022-10-14 07:00:00"
    assert export.authors["aylin"] == "Aylin Demir"
    assert export.posts[3].categories == [], "WordPress's default 'Uncategorized' is not a category"


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
        assert source["tags"] == ["Caspian"] and source["categories"] == ["Energy"]
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


def test_one_bad_post_fails_alone_and_names_the_field_and_fix(engine):
    broken = fixture("wxr-wpml.xml").replace(b"<![CDATA[Water and Diplomacy in Central Asia]]>",
                                             b"<![CDATA[" + b"Water " * 60 + b"]]>")
    summary = wxr.import_wxr(engine, broken, languages=LANGS)
    [failed] = summary["failed"]
    assert failed["post_id"] == "201" and failed["field"] == "title" and "the limit is 300" in failed["reason"]
    assert "title in WordPress" in failed["fix"]
    assert sorted(r["post_id"] for r in summary["created"]) == ["101", "102", "203"], "the rest of the file is in"
    assert summary["counts"] == {"created": 3, "already_imported": 0, "skipped": 3, "failed": 1}
    assert count(engine) == 3


def test_two_posts_in_one_language_of_a_group_are_split_with_a_warning(engine):
    clash = fixture("wxr-polylang.xml").replace(b'nicename="tr"><![CDATA[T\xc3\xbcrk\xc3\xa7e]]></category>\n\t\t<category domain="post_translations"',
                                                b'nicename="en"><![CDATA[English]]></category>\n\t\t<category domain="post_translations"')
    summary = wxr.import_wxr(engine, clash, languages=LANGS)
    rows = {r["post_id"]: r for r in summary["created"]}
    assert set(rows) == {"311", "312"} and rows["311"]["group_id"] != rows["312"]["group_id"]
    warned = [r for r in rows.values() if r["warnings"]]
    assert len(warned) == 1 and "already has a 'en' version" in warned[0]["warnings"][0]
    assert {r["group_method"] for r in rows.values()} == {"single"}


def test_cli_prints_progress_and_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("INGEST_DATABASE_URL", raising=False)
    migrated_db("ingest", f"sqlite:///{tmp_path / 'ingest.db'}")  # the CLI works on a migrated database
    assert wxr.main([str(FIXTURES / "wxr-polylang.xml")]) == 0
    out, err = capsys.readouterr()
    assert "2/2 posts" in err and "created 2 article(s)" in out and "approved" in out
    assert "skipped" in out and "language 'de' is not a site language" in out, "the per-post report is printed"
    assert wxr.main([str(FIXTURES / "wxr-bomb.xml")]) == 1
    assert "entities" in capsys.readouterr().err


@pytest.mark.parametrize("data", [
    'a:2:{s:2:"en";i:511;s:2:"tr";i:5', 's:5:"abc";', 's:-1:"";', 'a:x:{}', 'i:12', 'b:1', "", "a:1:{" * 5000,
    'a:1:{a:0:{}i:1;}', 's:2:"\xff\xfe";',
])
def test_php_unserialize_refuses_malformed_data_with_value_error_only(data):
    with pytest.raises(ValueError):
        wxr.php_unserialize(data)


def test_messy_polylang_export_imports_every_post_with_warnings(engine):
    summary = wxr.import_wxr(engine, fixture("wxr-polylang-messy.xml"), languages=LANGS)
    created = {r["post_id"]: r for r in summary["created"]}
    assert set(created) == {"501", "502", "511", "512", "520", "535", "540"}
    assert summary["counts"] == {"created": 7, "already_imported": 0, "skipped": 0, "failed": 1}
    # An empty body is a draft with a warning, still in its translation group.
    assert created["502"]["state"] == "draft" and "no body" in created["502"]["warnings"][0]
    assert created["502"]["group_id"] == created["501"]["group_id"] and created["501"]["state"] == "approved"
    assert created["520"]["state"] == "draft" and "no body" in created["520"]["warnings"][0], "empty Gutenberg blocks"
    # Malformed serialized data: a warning, and the posts still pair by the term they both carry.
    assert created["511"]["group_id"] == created["512"]["group_id"]
    assert created["511"]["group_method"] == "polylang term" == created["501"]["group_method"]
    assert all("malformed serialized data" in created[p]["warnings"][0] for p in ("511", "512", "540"))
    assert created["540"]["group_method"] == "single"
    [failed] = summary["failed"]
    assert (failed["post_id"], failed["field"]) == ("530", "title") and failed["fix"]
    assert summary["group_methods"] == {"polylang term": 4, "single": 4}
    # No title: a draft with a name to replace, never a refusal.
    assert created["535"]["state"] == "draft" and created["535"]["title"] == "Untitled (WordPress post 535)"
    assert "no title" in created["535"]["warnings"][0]
    with engine.begin() as conn:
        empty = conn.execute(select(articles).where(articles.c.id == created["502"]["article_id"])).mappings().one()
    assert empty["body"] == "" and empty["lang"] == "ru" and not empty["is_source"]


def test_co_authors_plus_terms_become_the_article_authors(engine):
    export = wxr.parse_wxr(fixture("wxr-coauthors.xml"))
    first, second = export.posts
    assert first.coauthors == ["Dina Sarsenova", "Oleg Kim", "Saule Akhmet"]
    assert first.categories == ["Environment", "Analysis"] and first.tags == ["Aral Sea"]
    assert second.coauthors == [] and second.creator == "oleg.k"
    summary = wxr.import_wxr(engine, fixture("wxr-coauthors.xml"), languages=LANGS)
    assert [r["authors"] for r in summary["created"]] == [["Dina Sarsenova", "Oleg Kim", "Saule Akhmet"], ["Oleg Kim"]]
    with engine.begin() as conn:
        row = conn.execute(select(articles).where(articles.c.id == summary["created"][0]["article_id"])).mappings().one()
        assert row["author"]["name"] == "Dina Sarsenova" and [a["name"] for a in row["authors"]] == [
            "Dina Sarsenova", "Oleg Kim", "Saule Akhmet"]
        assert row["categories"] == ["Environment", "Analysis"] and row["tags"] == ["Aral Sea"]
        assert {a["name"] for a in authors.list_authors(conn)} == {"Dina Sarsenova", "Oleg Kim", "Saule Akhmet"}


def test_two_sites_reusing_post_ids_and_guids_are_two_sets_of_posts(engine):
    a = wxr.import_wxr(engine, fixture("wxr-site-a.xml"), languages=LANGS)
    b = wxr.import_wxr(engine, fixture("wxr-site-b.xml"), languages=LANGS)
    assert a["counts"]["created"] == 2 and b["counts"]["created"] == 2 and count(engine) == 4
    assert a["site"] == "https://north.example.org" and b["site"] == "https://south.example.org"
    assert {r["key"] for r in b["created"]} == {"https://south.example.org|post:1", "https://south.example.org|post:2"}
    again = wxr.import_wxr(engine, fixture("wxr-site-a.xml"), languages=LANGS)
    assert again["counts"] == {"created": 0, "already_imported": 2, "skipped": 0, "failed": 0} and count(engine) == 4
    assert {r["article_id"] for r in again["already_imported"]} == {r["article_id"] for r in a["created"]}


def test_dedupe_key_is_site_and_post_id_else_guid():
    assert wxr.dedupe_key(wxr.normalise_site("HTTPS://Example.ORG/blog/"), "7", "g") == "https://example.org/blog|post:7"
    assert wxr.dedupe_key("", "7", "https://example.org/?p=7") == "guid:https://example.org/?p=7"


def test_a_post_twice_in_one_file_is_imported_once(engine):
    data = fixture("wxr-site-a.xml")
    item = data[data.index(b"<item>"):data.index(b"</item>") + len(b"</item>")]
    doubled = data.replace(b"</channel>", item + b"</channel>")
    summary = wxr.import_wxr(engine, doubled, languages=LANGS)
    assert summary["counts"]["created"] == 2 and "appears twice in the file" in summary["skipped"][0]["reason"]


def _big_export(path: Path, posts: int, body_bytes: int) -> None:
    para = ("Generated sentence about corridors and ports. " * (body_bytes // 48 + 1))[:body_bytes]
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/'
                  'modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">'
                  "<channel><wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://big.example.org</wp:base_site_url>\n")
        for i in range(1, posts + 1):
            out.write(f"<item><title>Post {i}</title><dc:creator>gen</dc:creator><guid>https://big.example.org/?p={i}</guid>"
                      f"<content:encoded><![CDATA[{para}]]></content:encoded><wp:post_id>{i}</wp:post_id>"
                      "<wp:status>draft</wp:status><wp:post_type>post</wp:post_type></item>\n")
        out.write("</channel></rss>\n")


def test_the_export_is_streamed_in_constant_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "big.xml"
    _big_export(path, 4000, 5000)  # about 20 MB
    seen = []
    tracemalloc.start()
    try:
        wxr._scan(path, lambda post: seen.append(len(post.content)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == 4000 and seen[0] > 4800
    assert peak < 3_000_000, f"peak {peak} bytes while reading a {path.stat().st_size} byte file"


def test_an_entity_bomb_is_refused_while_streaming_from_a_file(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_bytes(fixture("wxr-bomb.xml"))
    with pytest.raises(InvalidInput, match="entities"):
        wxr._scan(path, lambda post: None)


def test_control_characters_in_the_text_do_not_refuse_the_file(engine):
    data = fixture("wxr-site-a.xml").replace(b"Changing bogies", b"Changing\x0b bogies\x01")
    summary = wxr.import_wxr(engine, data, languages=LANGS)
    assert summary["counts"]["created"] == 2 and "2 control character(s)" in summary["warnings"][0]


def test_regional_language_codes_map_to_site_languages(engine):
    data = fixture("wxr-polylang.xml").replace(b'nicename="tr"><![CDATA[T', b'nicename="tr_TR"><![CDATA[T')
    summary = wxr.import_wxr(engine, data, languages=LANGS)
    assert sorted(r["lang"] for r in summary["created"]) == ["en", "tr"]
    assert wxr.site_lang("en-GB", LANGS) == "en" and wxr.site_lang("de", LANGS) == "de" and wxr.site_lang(None, LANGS) is None


def test_too_many_tags_are_trimmed_with_a_warning_not_a_failure(engine):
    tags = b"".join(f'<category domain="post_tag" nicename="t{i}"><![CDATA[Tag {i}]]></category>'.encode() for i in range(35))
    data = fixture("wxr-site-a.xml").replace(b"<wp:post_id>1</wp:post_id>", b"<wp:post_id>1</wp:post_id>" + tags)
    summary = wxr.import_wxr(engine, data, languages=LANGS)
    row = next(r for r in summary["created"] if r["post_id"] == "1")
    assert "5 of its 35 tags were left out" in row["warnings"][0]
    with engine.begin() as conn:
        assert len(conn.execute(select(articles.c.tags).where(articles.c.id == row["article_id"])).scalar_one()) == 30


def test_wordpress_com_https_namespaces_are_read(engine):
    data = fixture("wxr-wpml.xml").replace(b'"http://wordpress.org/export/', b'"https://wordpress.org/export/')
    summary = wxr.import_wxr(engine, data, languages=LANGS)
    assert summary["counts"]["created"] == 4 and summary["site"] == "https://steppe.example.org"
    assert {r["lang"] for r in summary["created"]} == {"en", "tr", "ru"}


def test_html_encoded_titles_and_term_names_become_plain_text():
    data = (fixture("wxr-coauthors.xml").replace(b"Shrinking Sea, Growing Dust", b"Sea &amp; Dust: Who&#8217;s Next")
            .replace(b"<![CDATA[Environment]]>", b"<![CDATA[Land &amp; Water]]>"))
    first = wxr.parse_wxr(data).posts[0]
    assert first.title == "Sea & Dust: Who\u2019s Next" and first.categories == ["Land & Water", "Analysis"]
