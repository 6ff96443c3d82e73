"""Lower-casing, stemming, query building and highlighting of ``shared/search.py``."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, strategies as st
from markupsafe import Markup

from shared import search


@pytest.mark.parametrize("lang, inflected, plain", [
    ("en", "securities", "security"),
    ("en", "negotiations", "negotiating"),
    ("tr", "güvenliği", "güvenlik"),
    ("tr", "ülkelerin", "ülke"),
    ("tr", "barajları", "baraj"),
    ("ru", "безопасности", "безопасность"),
    ("ru", "переговорах", "переговоры"),
])
def test_inflected_forms_share_a_stem(lang, inflected, plain):
    assert search.stems(inflected, lang) == search.stems(plain, lang)


def test_turkish_capitals_follow_the_dotted_and_dotless_i():
    assert search.lower("İSTANBUL IRAK", "tr") == "istanbul ırak"
    assert search.lower("İSTANBUL IRAK", "en") != "istanbul ırak"  # other languages keep Unicode's rules
    assert search.stems("İstanbul'da", "tr") == search.stems("istanbul'da", "tr")
    assert search.stems("IRAK", "tr") == search.stems("ırak", "tr") != search.stems("irak", "tr")


def test_stop_words_are_left_out_and_punctuation_splits_words():
    assert search.stems("The state of the ports", "en") == ["state", "port"]
    assert search.words("güvenlik-politikası, 2026!", "tr") == ["güvenlik", "politikası", "2026"]


def test_a_language_without_a_stemmer_keeps_its_words():
    assert search.stems("Kazakhstan", "kk") == ["kazakhstan"]
    assert search.pg_config("kk") == "simple" and search.pg_config("tr") == "turkish"


def test_fts5_query_quotes_every_stem_and_requires_every_word():
    assert search.fts5_query("Securities and ports", ["en"]) == '"secur" AND "port"'
    assert search.fts5_query("the of", ["en"]) is None
    assert search.fts5_query("ports", ["en", "tr"]) == '("port" OR "ports")'
    # FTS5 operators and quotes in the query are only ever words.
    assert search.fts5_query('NEAR("a" b) OR col:x*', ["en"]) == '"near" AND "b" AND "col" AND "x"'


@given(st.text(max_size=80))
def test_any_query_is_a_valid_fts5_expression(query):
    match = search.fts5_query(query, ["en", "tr", "ru"])
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 0')")
    conn.execute("INSERT INTO t VALUES ('secur port')")
    if match is not None:
        conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()


def test_highlight_marks_matching_words_and_escapes_the_rest():
    out = search.highlight("Ports & <b>securities</b> markets; security first.", "security", "en")
    assert isinstance(out, Markup)
    assert out == "Ports &amp; &lt;b&gt;<mark>securities</mark>&lt;/b&gt; markets; <mark>security</mark> first."


def test_highlight_cuts_a_window_around_the_first_match():
    text = " ".join(f"w{i}" for i in range(100)) + " security " + " ".join(f"v{i}" for i in range(100))
    out = str(search.highlight(text, "securities", "en", window=12))
    assert out.startswith("… ") and out.endswith(" …") and "<mark>security</mark>" in out
    assert len(out.split()) <= 12 + 3


@given(st.text(max_size=200), st.text(max_size=20))
def test_highlight_never_lets_markup_through(text, query):
    out = str(search.highlight(text, query, "en"))
    assert "<" not in out.replace("<mark>", "").replace("</mark>", "")


@given(st.lists(st.sampled_from(["security", "securities", "port", "Ports", "&", "<b>", "a", "x1", "—", "ёж"]),
                max_size=80).map(" ".join), st.sampled_from(["security", "ports", "ёж", "x1 port", ""]))
def test_highlight_is_a_slice_of_the_text_with_matching_words_marked(text, query):
    import html

    out = str(search.highlight(text, query, "en", window=12))
    body = out.removeprefix("… ").removesuffix(" …")
    assert html.unescape(body.replace("<mark>", "").replace("</mark>", "")) in text
    wanted = set(search.stems(query, "en"))
    marked = [html.unescape(w) for w in body.split("<mark>")[1:] for w in [w.split("</mark>")[0]]]
    assert all(search.stem(search.lower(w, "en"), "en") in wanted for w in marked)
    assert len(marked) == sum(search.stem(search.lower(w, "en"), "en") in wanted
                              for w in search._WORD.findall(html.unescape(body.replace("<mark>", "").replace("</mark>", ""))))
