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

import numpy as np
from scipy import sparse

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


_MEMO: OrderedDict[tuple, dict[str, list[str]]] = OrderedDict()
_MEMO_SIZE = 16


def similar_ids(docs: dict[str, tuple[tuple[str, int], ...]], rank: dict[str, tuple], k: int = 3) -> dict[str, list[str]]:
    """For every doc id, the ids of its ``k`` most similar other docs (cosine over TF-IDF).

    ``rank`` breaks ties: a lower key wins (the caller passes newest-first keys). Docs sharing no
    term with an article never appear in its list. Results are remembered for the last few doc
    sets: a publish compares the lists before and after, and the next publish's "before" is this
    one's "after".
    """
    ids = sorted(docs)
    key = (k, tuple((i, docs[i], rank[i]) for i in ids))
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    result = _compute(ids, docs, rank, k)
    _MEMO[key] = result
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return result


def _compute(ids: list[str], docs: dict, rank: dict, k: int) -> dict[str, list[str]]:
    n = len(ids)
    if n == 0:
        return {}
    df: Counter[str] = Counter()
    for doc_id in ids:
        df.update(term for term, _ in docs[doc_id])
    # Words found in most documents say nothing about likeness (like scikit-learn's max_df).
    max_df = max(MIN_MAX_DF, n // 2)
    vocab = {term: i for i, term in enumerate(sorted(t for t, c in df.items() if c <= max_df))}
    rows, cols, vals = [], [], []
    for r, doc_id in enumerate(ids):
        for term, count in docs[doc_id]:
            col = vocab.get(term)
            if col is not None:
                rows.append(r)
                cols.append(col)
                vals.append((1.0 + math.log(count)) * (math.log((1 + n) / (1 + df[term])) + 1.0))
    matrix = sparse.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(n, len(vocab)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = sparse.diags(1.0 / norms) @ matrix
    scores = (matrix @ matrix.T).tocsr()
    # Scores are rounded so that float noise never decides an order; ties go to ``rank``.
    ranks = np.array([rank[i] for i in ids])
    result: dict[str, list[str]] = {}
    for r, doc_id in enumerate(ids):
        start, end = scores.indptr[r], scores.indptr[r + 1]
        cols, vals = scores.indices[start:end], np.round(scores.data[start:end], 12)
        keep = (cols != r) & (vals > 0)
        cols, vals = cols[keep], vals[keep]
        order = np.lexsort((ranks[cols], -vals))[:k]
        result[doc_id] = [ids[c] for c in cols[order]]
    return result
