"""Rendering helpers: footnote links, localised labels, dates, language names and name lists, authors and categories of a snapshot, atomic writes."""
from datetime import date

from lxml import html

from services.rendering import content, i18n, site


def test_footnote_markers_link_both_ways_and_skip_tags():
    body = '<p>One.[1] Two.[2] Again.[1] Not a ref [9]. <a href="/x[1]">link</a></p>'
    out = content.link_footnotes(body, {1, 2})
    doc = html.fromstring(out)
    assert doc.xpath("//sup/@id") == ["fnref-1", "fnref-2", "fnref-1-2"]
    assert doc.xpath("//sup/a/@href") == ["#ref-1", "#ref-2", "#ref-1"]
    assert "[9]" in doc.text_content()
    assert doc.xpath("//a[text()='link']/@href") == ["/x[1]"]


def test_localised_dates_and_names():
    d = date(2022, 10, 13)
    assert i18n.long_date(d, "en") == "13 October 2022"
    assert i18n.long_date(d, "tr") == "13 Ekim 2022"
    assert i18n.long_date(d, "ru") == "13 октября 2022"
    assert [i18n.native_name(x) for x in ("en", "tr", "ru")] == ["English", "Türkçe", "Русский"]


def test_labels_per_language():
    assert i18n.labels("tr")["share"] == "Paylaş"
    assert i18n.labels("ru")["accessed"] == "Дата обращения"
    assert i18n.labels("de")["share"] == "Share"
    assert [i18n.labels(x)["related_topics"] for x in ("en", "tr", "ru")] == [
        "Related topics", "İlgili konular", "Связанные темы"]


def test_every_language_has_every_label():
    for lang, labels in i18n.LABELS.items():
        assert set(labels) == set(i18n.LABELS["en"]), lang


def test_staged_files_are_hidden_until_published_and_discarded_without_trace(tmp_path):
    target = tmp_path / "en" / "a" / "index.html"
    staged = [site._stage_one("en/a/index.html", "one", None, tmp_path)]
    assert not target.exists()
    assert [p.name.startswith(".") for p in target.parent.iterdir()] == [True]
    done = site._publish_staged(staged, tmp_path)
    assert target.read_text() == "one"
    assert done[0][:4] == ("en/a/index.html", "written", site._digest(b"one"), 3)
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]
    site._discard_staged([site._stage_one("en/a/index.html", "two", None, tmp_path)])
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]


def test_a_removal_waits_for_publishing(tmp_path):
    target = tmp_path / "en" / "a" / "index.html"
    site._publish_staged([site._stage_one("en/a/index.html", "one", None, tmp_path)], tmp_path)
    staged = [site._stage_one("en/a/index.html", None, None, tmp_path)]
    assert target.is_file()
    assert site._publish_staged(staged, tmp_path)[0][1] == "removed"
    assert not (tmp_path / "en").exists()


def test_roman_markers_link_to_their_number_and_code_is_left_alone():
    body = "<p>First.[i] Fourth.[iv] Not roman [ix] here.</p><pre>[i] stays</pre><p><code>[1]</code> and [1].</p>"
    out, found = content.link_footnotes_found(body, {1, 4})
    doc = html.fromstring(f"<div>{out}</div>")
    assert doc.xpath("//sup/a/text()") == ["[i]", "[iv]", "[1]"]
    assert doc.xpath("//sup/@id") == ["fnref-1", "fnref-4", "fnref-1-2"]
    assert doc.xpath("string(//pre)") == "[i] stays" and doc.xpath("string(//code)") == "[1]"
    assert "[ix]" in doc.text_content()
    assert found == {1, 4}


def test_roman_values():
    assert [content.roman_value(x) for x in ("i", "iv", "ix", "xiv", "xl", "iiii", "vx", "")] == [1, 4, 9, 14, 40, None, None, None]


def test_url_keys_are_transliterated_slugs():
    assert content.tag_key("Orta Asya") == "orta-asya"
    assert content.tag_key("Центральная Азия") == "tsentralnaia-aziia"
    assert content.listing_file("tr/", None) == "tr/index.html" and content.listing_file("tr/", 3) == "tr/page/3/index.html"
    assert content.listing_file("tr/tags/su/", 2) == "tr/tags/su/page/2/index.html"


def test_names_are_joined_with_the_language_and():
    assert i18n.join_names(["A"], "en") == "A"
    assert i18n.join_names(["A", "B"], "en") == "A and B"
    assert i18n.join_names(["A", "B", "C"], "tr") == "A, B ve C"
    assert i18n.join_names(["A", "B", "C", "D"], "ru") == "A, B, C и D"
    assert i18n.list_separators(0, "en") == []
    assert i18n.labels("ru")["category"] == "Рубрика" and i18n.labels("tr")["category"] == "Kategori"


def test_older_snapshots_read_as_one_author_and_no_categories():
    old = {"snapshot": {"author": {"name": "Aylin Kaya"}, "tags": []}}
    assert content.page_authors(old) == [{"name": "Aylin Kaya"}]
    assert content.author_keys(old) == ["aylin-kaya"] and content.page_categories(old) == []
    new = {"snapshot": {"author": {"name": "A B"}, "authors": [{"name": "A B"}, {"name": "a b"}, {"name": "C"}],
                        "categories": ["Water Policy"]}}
    assert content.author_keys(new) == ["a-b", "c"], "two spellings of one name share one author page"
    assert content.page_categories(new) == ["Water Policy"]


def _walked_related_topics(model, kind, lang, key):
    """The related topics counted the slow way: every article of the listing, newest first."""
    listing = model.listing(kind, lang, key)
    if listing is None:
        return []
    found = {}
    for page in listing.items:
        for term, name in model.page_terms(page).items():
            found.setdefault(term, [0, name])[0] += 1
    found.pop((kind, key), None)
    ranked = sorted(found.items(), key=lambda item: (site.RELATED_KINDS.index(item[0][0]), -item[1][0], item[0][1]))
    return [(k, t, name) for (k, t), (_, name) in ranked[:site.RELATED_TOPICS]]


# Spellings that share a key, so the name a related link shows depends on which article is newest.
_TERMS = ["Water", "water", "WATER", "Trade", "Energy", "energy", "Canals", "Glaciers", "Ports", "Tariffs",
          "Drought", "Rivers"]


def _topic_page(n, hour, tags, categories):
    from datetime import datetime, timedelta, timezone

    return {"article_id": f"a{n:04d}", "lang": "en", "slug": f"topic-{n}", "group_id": f"g{n:04d}",
            "published_at": datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(hours=hour),
            "snapshot": {"tags": tags, "categories": categories, "author": {"name": "Deniz Aralbay"}}}


try:
    from hypothesis import given, settings as hsettings, strategies as st
except ImportError:  # hypothesis is in the test extras
    pass
else:
    _op = st.tuples(st.integers(0, 11), st.integers(0, 30), st.lists(st.sampled_from(_TERMS), max_size=4),
                    st.lists(st.sampled_from(_TERMS), max_size=2), st.booleans())

    @hsettings(max_examples=150, deadline=None)
    @given(st.lists(_op, min_size=1, max_size=40))
    def test_kept_related_topics_equal_a_walk_of_the_listing(tmp_path_factory, ops):
        from shared.config import load_settings

        model = site.SiteModel(load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("m")), "API_TOKEN": "t"}))
        for n, hour, tags, categories, drop in ops:
            if drop and f"a{n:04d}" in model.by_id:
                model.drop(f"a{n:04d}")
            else:
                model.put(_topic_page(n, hour, tags, categories), [])
            for kind in site.RELATED_KINDS:
                for key in {"tags": model.tag_listing, "categories": model.category_listing}[kind].get("en", {}):
                    assert model.related_topics(kind, "en", key) == _walked_related_topics(model, kind, "en", key)
        # Nothing is left counted for listings that are gone.
        live = {("tags", "en", k) for k in model.tag_listing.get("en", {})}
        live |= {("categories", "en", k) for k in model.category_listing.get("en", {})}
        assert set(model.cooccurrence) == live
