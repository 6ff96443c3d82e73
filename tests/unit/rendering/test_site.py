"""Rendering helpers: footnote links, localised labels, dates and language names, atomic writes."""
from datetime import date

from lxml import html

from services.rendering import i18n, site


def test_footnote_markers_link_both_ways_and_skip_tags():
    body = '<p>One.[1] Two.[2] Again.[1] Not a ref [9]. <a href="/x[1]">link</a></p>'
    out = site.link_footnotes(body, {1, 2})
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


def test_write_atomic_leaves_no_temp_files(tmp_path):
    target = tmp_path / "en" / "a" / "index.html"
    site.write_atomic(target, "one")
    site.write_atomic(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]
