"""Similar posts: a small, deterministic TF-IDF over title, tags and body text of one language.

Scores depend only on the set of articles given (never on the order they come in): documents are
sorted by id and terms are summed in sorted order, so an incremental render and a full rebuild
compute bit-identical scores and therefore the same lists.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, OrderedDict
from typing import Iterable

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Title and tag words say more about the subject than any one body word.
TITLE_WEIGHT = 3
TAG_WEIGHT = 3
MIN_MAX_DF = 20


def text_of(body_html: str) -> str:
    """The visible text of sanitised body HTML (tags dropped, entities left as they are)."""
    return _TAG.sub(" ", body_html)


def tokens(text: str) -> list[str]:
    """Lower-cased words of two letters or more (digits and punctuation dropped)."""
    return _WORD.findall(text.lower())


_CACHE: OrderedDict[bytes, tuple[tuple[str, int], ...]] = OrderedDict()
_CACHE_SIZE = 4096


def _counts(title: str, tags: tuple[str, ...], body_html: str) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for word in tokens(title):
        counts[word] += TITLE_WEIGHT
    for tag in tags:
        for word in tokens(tag):
            counts[word] += TAG_WEIGHT
    counts.update(tokens(text_of(body_html)))
    return tuple(sorted(counts.items()))


def term_counts(title: str, tags: Iterable[str], body_html: str) -> tuple[tuple[str, int], ...]:
    """Weighted term counts of one article, cached by a digest of its text."""
    tags = tuple(tags)
    key = hashlib.blake2b("\x00".join((title, *tags, body_html)).encode("utf-8"), digest_size=16).digest()
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    counts = _CACHE[key] = _counts(title, tags, body_html)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return counts


def similar_ids(docs: dict[str, tuple[tuple[str, int], ...]], rank: dict[str, tuple], k: int = 3) -> dict[str, list[str]]:
    """For every doc id, the ids of its ``k`` most similar other docs (cosine over TF-IDF).

    ``rank`` breaks ties: a lower key wins (the caller passes newest-first keys). Docs sharing no
    term with an article never appear in its list.
    """
    ids = sorted(docs)
    n = len(ids)
    df: Counter[str] = Counter()
    for doc_id in ids:
        df.update(term for term, _ in docs[doc_id])
    # Words found in most documents say nothing about likeness and would make the pairwise
    # scoring quadratic; above a small corpus they are dropped (like scikit-learn's max_df).
    max_df = max(MIN_MAX_DF, n // 2)
    vectors: dict[str, dict[str, float]] = {}
    for doc_id in ids:
        weights = {term: (1.0 + math.log(count)) * (math.log((1 + n) / (1 + df[term])) + 1.0)
                   for term, count in docs[doc_id] if df[term] <= max_df}
        norm = math.sqrt(math.fsum(w * w for _, w in sorted(weights.items())))
        vectors[doc_id] = {t: w / norm for t, w in weights.items()} if norm else {}
    postings: dict[str, list[str]] = {}
    for doc_id in ids:
        for term in vectors[doc_id]:
            postings.setdefault(term, []).append(doc_id)
    result: dict[str, list[str]] = {}
    for doc_id in ids:
        vec = vectors[doc_id]
        partial: dict[str, list[float]] = {}
        for term in sorted(vec):
            for other in postings[term]:
                if other != doc_id:
                    partial.setdefault(other, []).append(vec[term] * vectors[other][term])
        scores = {other: math.fsum(parts) for other, parts in partial.items()}
        best = sorted((o for o, s in scores.items() if s > 0), key=lambda o: (-scores[o], rank[o]))
        result[doc_id] = best[:k]
    return result
