"""Public search on both engines (``services/rendering/search.py`` and the ``/<lang>/search`` view).

Pages are published and unpublished through ``site.flush`` (what the rendering worker runs), then
searched through the real app; SQLite (FTS5) and PostgreSQL (text search configurations) alike.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.rendering import search, site
from services.rendering.app import create_app
from services.rendering.db import search_docs
from shared import search as fts
from shared.config import load_settings
from shared.db import make_engine
from tests.helpers import migrated

from . import fixtures as fx

pytestmark = pytest.mark.integration

EN, TR, RU = ("00000000-0000-4000-8000-00000000e001", "00000000-0000-4000-8000-00000000e002",
              "00000000-0000-4000-8000-00000000e003")
GONE = "00000000-0000-4000-8000-00000000e004"
SECURITY = {
    EN: ("en", "Energy security on the Caspian shore", "security-caspian",
         "<p>Energy security depends on pipelines that cross three borders &amp; two seas.</p>"),
    TR: ("tr", "Hazar kıyısında enerji güvenlik sorunu", "hazar-guvenlik",
         "<p>İstanbul ve Irak arasındaki hatlar için güvenlik bir öncelik olmaya devam ediyor.</p>"),
    RU: ("ru", "Энергетическая безопасность на Каспии", "bezopasnost-kaspiia",
         "<p>Безопасность трубопроводов зависит от соседей &lt;и&gt; от погоды.</p>"),
    GONE: ("en", "A withdrawn note on security", "withdrawn-security", "<p>Security again, soon withdrawn.</p>"),
}


def _snap(article_id: str, n: int) -> dict:
    lang, title, slug, body = SECURITY[article_id]
    return fx.snapshot(article_id, lang, group_id=article_id, slug=slug, title=title, body_html=body,
                       tags=["Energy"], source_lang=lang, published_at=fx.BASE_TIME + timedelta(hours=n))


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    env = {"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==",
           "SITE_URL": "https://think.example", "REDIS_URL": "redis://127.0.0.1:1/0"}
    if request.param == "postgresql":
        urls = request.getfixturevalue("pg_urls")
        env.update({f"{svc.upper()}_DATABASE_URL": url for svc, url in urls.items()})
    return migrated(load_settings(env))


@pytest.fixture
def published(settings):
    """The four articles published in one flush, then the withdrawn one unpublished in another."""
    engine = make_engine(settings.database_url("rendering"))
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": _snap(a, i)} for i, a in enumerate(SECURITY)])
    with engine.begin() as conn:
        site.unpublish(conn, GONE, settings)
    yield engine
    engine.dispose()


def _ids(engine, lang: str, query: str) -> list[str]:
    with engine.connect() as conn:
        return [h.article_id for h in search.search(conn, lang, query).hits]


def test_inflected_forms_find_the_article_in_its_language_only(published):
    assert _ids(published, "en", "securities") == [EN]
    assert _ids(published, "tr", "güvenliği") == [TR]
    assert _ids(published, "ru", "безопасности") == [RU]
    assert _ids(published, "en", "güvenliği") == [] and _ids(published, "tr", "securities") == []
    assert _ids(published, "ru", "securities") == []


def test_turkish_dotted_and_dotless_i_meet(published):
    assert _ids(published, "tr", "istanbul") == [TR]
    assert _ids(published, "tr", "ISTANBUL") == []  # I is ı in Turkish: "ıstanbul" is another word
    assert _ids(published, "tr", "İSTANBUL") == [TR]
    assert _ids(published, "tr", "ırak") == [TR] and _ids(published, "tr", "IRAK") == [TR]


def test_unpublished_pages_are_never_found(published):
    assert GONE not in _ids(published, "en", "security")
    assert _ids(published, "en", "withdrawn") == []
    with published.connect() as conn:
        assert conn.execute(select(search_docs.c.article_id).where(search_docs.c.article_id == GONE)).first() is None


def test_a_new_revision_replaces_the_old_text(settings, published):
    snap = dict(_snap(EN, 0), revision=2, title="Energy routes on the Caspian shore",
                body_html="<p>Pipelines and ports.</p>")
    with published.begin() as conn:
        site.publish(conn, snap, settings)
    assert _ids(published, "en", "security") == []
    assert _ids(published, "en", "pipeline") == [EN]


def test_title_ranks_above_body(settings, published):
    in_body = fx.snapshot("00000000-0000-4000-8000-00000000e005", "en", group_id="00000000-0000-4000-8000-00000000e005",
                          slug="ports", title="Ports of the north", tags=[], source_lang="en",
                          body_html="<p>Energy ports grow; the word energy appears here twice.</p>",
                          published_at=fx.BASE_TIME + timedelta(days=3))
    with published.begin() as conn:
        site.publish(conn, in_body, settings)
    assert _ids(published, "en", "energy")[0] == EN


def test_search_page_without_javascript(settings, published):
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    resp = client.get("/en/search?q=securities")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex, follow">' in html
    assert '<link rel="canonical" href="https://think.example/en/search?q=securities">' in html
    assert 'href="/en/security-caspian/"' in html and "withdrawn" not in html
    assert "<mark>security</mark>" in html  # title and snippet highlighted
    assert "&amp; two seas" in html  # the body's text escaped again
    assert '<form class="search" role="search" method="get" action="/en/search">' in html
    ru = client.get("/ru/search?q=безопасности").get_data(as_text=True)
    assert "&lt;и&gt;" in ru and "<и>" not in ru
    assert client.get("/de/search?q=x").status_code == 404
    assert client.get("/en/search?q=securities&page=2").status_code == 404
    assert client.get("/en/search?q=securities&page=x").status_code == 404
    empty = client.get("/en/search?q=").get_data(as_text=True)
    assert "Type one or more words" in empty


def test_markup_in_the_query_is_escaped(settings, published):
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    html = client.get('/en/search?q=<script>alert(1)</script> security').get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; security" in html


def test_results_are_paged_with_rel_next_and_prev(settings, tmp_path):
    engine = make_engine(settings.database_url("rendering"))
    snaps = [fx.snapshot(f"00000000-0000-4000-8000-0000000f{i:04d}", "en", group_id=f"00000000-0000-4000-8000-0000000f{i:04d}",
                         slug=f"grain-{i}", title=f"Grain report {i}", tags=[], source_lang="en",
                         body_html=f"<p>Harvest figures, part {i}.</p>", published_at=fx.BASE_TIME + timedelta(hours=i))
             for i in range(23)]
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": s} for s in snaps])
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/en/search?q=harvests&page={page}").get_data(as_text=True)
        seen += [s["slug"] for s in snaps if f'href="/en/{s["slug"]}/"' in html]
        assert ('rel="next"' in html) == (page < 3) and ('rel="prev"' in html) == (page > 1)
    assert sorted(seen) == sorted(s["slug"] for s in snaps)
    assert '<link rel="next" href="/en/search?q=harvests&amp;page=2">' in client.get("/en/search?q=harvests").get_data(as_text=True)
    engine.dispose()


def test_pages_published_before_search_existed_are_indexed_on_load(settings, published):
    with published.begin() as conn:
        conn.execute(search_docs.delete())
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DELETE FROM search_fts")
        site.forget_live_model(conn, settings)
        site.live_model(conn, settings)
    assert _ids(published, "en", "securities") == [EN]


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)  # the markup does not depend on the engine
def test_search_pages_are_valid_html(settings, published, vnu, tmp_path):
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    files = []
    for name, path in (("found", "/en/search?q=securities"), ("none", "/tr/search?q=yok"), ("empty", "/ru/search")):
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(client.get(path).data)
    assert vnu(files) == ""


def test_a_word_spelled_like_a_language_code_does_not_match_every_page(settings, tmp_path):
    # The SQLite index keeps each page's language in a column of the FTS table; a query word such
    # as "en" or "ru" must only match the text.
    engine = make_engine(settings.database_url("rendering"))
    snaps = [fx.snapshot(f"00000000-0000-4000-8000-0000000d{i:04d}", "en", group_id=f"00000000-0000-4000-8000-0000000d{i:04d}",
                         slug=f"note-{i}", title=f"Grain note {i}", tags=[], source_lang="en",
                         body_html=body, published_at=fx.BASE_TIME + timedelta(hours=i))
             for i, body in enumerate(["<p>Freight rates rose.</p>", "<p>The RU quota and the EN quota differ.</p>"])]
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": s} for s in snaps])
    with engine.connect() as conn:
        assert [h.slug for h in search.search(conn, "en", "ru").hits] == ["note-1"]
        assert search.search(conn, "en", "freight").total == 1
        assert search.search(conn, "ru", "quota").total == 0
    engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_the_index_of_the_previous_schema_is_carried_over_by_migration_0006(engine_name, request, tmp_path):
    from deploy import migrate

    url = (f"sqlite:///{tmp_path / 'rendering.db'}" if engine_name == "sqlite"
           else request.getfixturevalue("pg_urls")["rendering"])
    migrate.upgrade("rendering", url, "0005")
    engine = make_engine(url)
    docs = [("en", "english", "Security first", "Pipelines cross borders."),
            ("tr", "turkish", "Güvenlik önce", "Hatlar sınırları geçiyor.")]
    with engine.begin() as conn:
        for i, (lang, cfg, title, body) in enumerate(docs, 1):
            conn.execute(search_docs.insert().values(id=i, article_id=f"a{i}", lang=lang, title=title, tags="",
                                                     body=body, published_at=fx.BASE_TIME))
            if engine_name == "sqlite":  # as release 0005 indexed a page
                conn.exec_driver_sql("INSERT INTO search_fts (rowid, title, tags, body) VALUES (?, ?, '', ?)",
                                     (i, " ".join(fts.stems(title, lang)), " ".join(fts.stems(body, lang))))
            else:
                conn.exec_driver_sql(
                    "UPDATE search_docs SET document = setweight(to_tsvector(CAST(%(cfg)s AS regconfig), %(t)s), 'A') "
                    "|| setweight(to_tsvector(CAST(%(cfg)s AS regconfig), %(b)s), 'D') WHERE id = %(id)s",
                    {"cfg": cfg, "t": fts.lower(title, lang), "b": fts.lower(body, lang), "id": i})
    engine.dispose()
    migrate.upgrade("rendering", url)
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine_name == "sqlite":
            assert conn.exec_driver_sql("SELECT rowid, lang FROM search_fts ORDER BY rowid").all() == [(1, "en"), (2, "tr")]
        else:
            heads = conn.exec_driver_sql("SELECT head::text FROM search_docs ORDER BY id").scalars().all()
            assert "'secur':1A" in heads[0] and "'güvenlik':1A" in heads[1]
            assert not any("border" in h or "sınır" in h for h in heads)  # the body is not in the head
        for lang, query, expected in (("tr", "güvenliği", 1), ("en", "borders", 1), ("tr", "security", 0)):
            assert search._matches_sqlite(conn, lang, query, 10, 0)[0] == expected if engine_name == "sqlite" \
                else search._matches_postgres(conn, lang, query, 10, 0)[0] == expected
    engine.dispose()


def test_postgresql_ranks_title_then_tags_then_newest_among_body_matches(tmp_path, request):
    env = {"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==",
           "SITE_URL": "https://think.example", "REDIS_URL": "redis://127.0.0.1:1/0",
           **{f"{svc.upper()}_DATABASE_URL": url for svc, url in request.getfixturevalue("pg_urls").items()}}
    settings = migrated(load_settings(env))
    engine = make_engine(settings.database_url("rendering"))
    pages = [  # (slug, title, tags, body, hours after BASE_TIME)
        ("old-body", "Harbour notes", [], "<p>Tariffs, tariffs and tariffs again.</p>", 1),
        ("new-body", "Port notes", [], "<p>One word on tariffs.</p>", 5),
        ("tagged", "Customs notes", ["Tariffs"], "<p>Nothing else here.</p>", 2),
        ("titled", "Tariffs explained", [], "<p>A short text.</p>", 0),
    ]
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": fx.snapshot(
            f"00000000-0000-4000-8000-0000000c{i:04d}", "en", group_id=f"00000000-0000-4000-8000-0000000c{i:04d}",
            slug=slug, title=title, tags=tags, source_lang="en", body_html=body,
            published_at=fx.BASE_TIME + timedelta(hours=h))} for i, (slug, title, tags, body, h) in enumerate(pages)])
    with engine.connect() as conn:
        assert [h.slug for h in search.search(conn, "en", "tariff").hits] == ["titled", "tagged", "new-body", "old-body"]
    engine.dispose()
