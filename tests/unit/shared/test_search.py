"""Lower-casing, stemming, query building and highlighting of ``shared/search.py``."""
from __future__ import annotations

import re
import sqlite3
from collections import deque

import pytest
from hypothesis import given, strategies as st
from markupsafe import Markup, escape

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


def _reference_highlight(text: str, query: str, lang: str, *, window: int = 30) -> Markup:
    """The highlighting of release 0.3 (a word at a time), kept to check the faster one against."""
    wanted = set(search.stems(query, lang))

    def hit(match: re.Match) -> bool:
        return search.stem(search.lower(match.group(), lang), lang) in wanted

    before = window // 3
    recent: deque[re.Match] = deque(maxlen=before + 1)
    spans: list[re.Match] = []
    skipped = False  # words before the excerpt
    found = False
    words_iter = search._WORD.finditer(text)
    for m in words_iter:
        if len(recent) == recent.maxlen:
            skipped = True
        recent.append(m)
        if hit(m):
            found = True
            break
        if len(recent) == recent.maxlen and not wanted:
            break
    if not found:
        # No match (or nothing to look for): the excerpt is the start of the text.
        words_iter, recent, skipped = search._WORD.finditer(text), deque(), False
    spans = list(recent)
    more = False
    for m in words_iter:
        if len(spans) >= window:
            more = True
            break
        spans.append(m)
    if not spans:
        return Markup("")
    out = [Markup("… ") if skipped else Markup("")]
    cursor = spans[0].start()
    for m in spans:
        out.append(escape(text[cursor:m.start()]))
        word = escape(m.group())
        out.append(Markup("<mark>{}</mark>").format(word) if hit(m) else word)
        cursor = m.end()
    out.append(Markup(" …") if more else escape(text[cursor:]))
    return Markup("").join(out)


@given(st.lists(st.sampled_from(["security", "securities", "port", "Ports", "&", "<b>", "a", "x_1", "—", "ёж", "\n"]),
                max_size=120).map(" ".join), st.sampled_from(["security", "ports", "ёж", "x_1 port", "", "the"]),
       st.integers(min_value=0, max_value=40))
def test_highlight_gives_what_the_word_at_a_time_version_gave(text, query, window):
    assert search.highlight(text, query, "en", window=window) == _reference_highlight(text, query, "en", window=window)


@given(st.text(max_size=300), st.text(max_size=12), st.integers(min_value=0, max_value=40))
def test_highlight_matches_the_word_at_a_time_version_on_any_text(text, query, window):
    query = query or text[:8]
    assert search.highlight(text, query, "tr", window=window) == _reference_highlight(text, query, "tr", window=window)
