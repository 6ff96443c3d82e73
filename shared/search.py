"""Full-text search helpers both search indexes use (rendering's public search, ingest's editor search).

Two engines, one approach: on PostgreSQL a ``tsvector`` column built by ``to_tsvector`` with the
language's text search configuration (``english``, ``turkish``, ``russian``), queried with
``websearch_to_tsquery``; on SQLite an FTS5 table holding the words already stemmed here by
snowballstemmer (the same Snowball algorithms PostgreSQL uses), queried with the query's stems.
Text is lower-cased here for both engines: Turkish and Azerbaijani need ``İ`` -> ``i`` and ``I`` ->
``ı`` (Python's and PostgreSQL's default lower-casing give ``i̇`` and ``i``), so "İstanbul" and
"istanbul", "IRAK" and "ırak" meet.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

# PostgreSQL text search configurations by language; a language without one is searched unstemmed.
PG_CONFIGS = {"en": "english", "tr": "turkish", "ru": "russian", "de": "german", "fr": "french",
              "es": "spanish", "it": "italian", "pt": "portuguese", "nl": "dutch", "sv": "swedish",
              "da": "danish", "fi": "finnish", "hu": "hungarian", "ro": "romanian", "no": "norwegian"}
# snowballstemmer's algorithm names by language (the same algorithms as PG_CONFIGS).
STEMMERS = {**PG_CONFIGS, "ar": "arabic", "el": "greek", "hy": "armenian", "sr": "serbian", "uk": "russian"}
# Stop words (the commonest function words, a short form of PostgreSQL's lists) left out of the
# SQLite index and queries; PostgreSQL's configurations drop their own.
STOP_WORDS = {
    "en": frozenset("a an and are as at be but by for from has have in is it its of on or that the this to "
                    "was were will with not no".split()),
    "tr": frozenset("ve ile bir bu şu o da de mi mı mu mü ki için gibi ama fakat veya ya daha çok en her "
                    "ne değil olan olarak".split()),
    "ru": frozenset("и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по "
                    "только ее мне было вот от меня о из ему теперь когда даже ну ли если или ни быть "
                    "был него до вас это".split()),
}
_WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 16


def lower(text: str, lang: str) -> str:
    """Lower-case ``text`` by the rules of ``lang`` (Turkish dotted and dotless i), NFC-normalised."""
    text = unicodedata.normalize("NFC", text)
    if lang in ("tr", "az"):
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


def words(text: str, lang: str) -> list[str]:
    """The lower-cased words of ``text`` (letters and digits; punctuation splits words)."""
    return _WORD.findall(lower(text, lang).replace("_", " "))


@lru_cache(maxsize=None)
def _stemmer(lang: str):
    algorithm = STEMMERS.get(lang)
    return snowballstemmer.stemmer(algorithm) if algorithm else None


@lru_cache(maxsize=200_000)  # words follow Zipf's law: a cache saves most of the stemming
def stem(word: str, lang: str) -> str:
    """One lower-cased word's stem in ``lang`` (the word itself in a language without a stemmer)."""
    stemmer = _stemmer(lang)
    return stemmer.stemWord(word) if stemmer else word


@lru_cache(maxsize=200_000)
def stem_of(word: str, lang: str) -> str:
    """The stem of a word as written in a text (lower-cased here by ``lang``'s rules)."""
    return stem(lower(word, lang), lang)


def stems(text: str, lang: str) -> list[str]:
    """The stems of the words of ``text`` in ``lang``, stop words left out, in order."""
    stop = STOP_WORDS.get(lang, frozenset())
    return [stem(w, lang) for w in words(text, lang) if w not in stop]


def pg_config(lang: str) -> str:
    """The PostgreSQL text search configuration of ``lang`` (``simple`` when it has none)."""
    return PG_CONFIGS.get(lang, "simple")


def fts5_query(query: str, langs: list[str] | tuple[str, ...]) -> str | None:
    """An FTS5 MATCH expression: every word of ``query`` must match, as its stem in any of ``langs``.

    Each stem is quoted (FTS5 syntax in the query is never interpreted); None when the query has no
    searchable word.
    """
    groups = []
    raw_words = _WORD.findall(unicodedata.normalize("NFC", query).replace("_", " "))[:MAX_QUERY_WORDS]
    for raw in raw_words:
        # A stop word in any of the languages is not in that language's index: leave it out.
        if any(lower(raw, lang) in STOP_WORDS.get(lang, ()) for lang in langs):
            continue
        forms = list(dict.fromkeys(stem(lower(raw, lang), lang) for lang in langs))
        groups.append("(" + " OR ".join(f'"{f}"' for f in forms) + ")" if len(forms) > 1 else f'"{forms[0]}"')
    return " AND ".join(groups) if groups else None


def pg_query_text(query: str, lang: str) -> str:
    """The query as ``websearch_to_tsquery`` should see it: lower-cased by ``lang``'s rules, at most
    ``MAX_QUERY_WORDS`` words, no operators (every word must match)."""
    return " ".join(words(query, lang)[:MAX_QUERY_WORDS])


def highlight(text: str, query: str, lang: str, *, window: int = 30) -> Markup:
    """An escaped excerpt of ``text`` around the first word whose stem the query has, every such word in ``<mark>``.

    At most ``window`` words; the whole text when it is shorter. Safe to put in a page as it is.
    Each distinct word of the text is stemmed once; the first match is then found by a regular
    expression of the matching spellings, so a long text costs little more than a short one.
    """
    wanted = set(stems(query, lang))
    forms = {w for w in set(_WORD.findall(text)) if stem_of(w, lang) in wanted} if wanted else set()
    first = None
    if forms:
        spellings = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        first = re.compile(rf"(?<!\w)(?:{spellings})(?!\w)").search(text)
    if first is None:
        # No match (or nothing to look for): the excerpt is the start of the text.
        spans, start, skipped = [], 0, False
    else:
        lead = list(_WORD.finditer(text, 0, first.start()))[-(window // 3):] if window // 3 else []
        skipped = _WORD.search(text, 0, lead[0].start() if lead else first.start()) is not None
        spans, start = lead + [first], first.end()
    more = False
    for m in _WORD.finditer(text, start):
        if len(spans) >= window:
            more = True
            break
        spans.append(m)
    if not spans:
        return Markup("")
    out = [Markup("… ") if skipped else Markup("")]
    cursor = spans[0].start()
    for m in spans:
        if m.group() in forms:
            out.append(escape(text[cursor:m.start()]))
            out.append(Markup("<mark>{}</mark>").format(m.group()))
            cursor = m.end()
    out.append(escape(text[cursor:spans[-1].end() if more else len(text)]))
    out.append(Markup(" …") if more else Markup(""))
    return Markup("").join(out)
