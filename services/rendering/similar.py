"""Similar posts: cosine similarity over title, tag and body terms of one language, kept up to date per change.

A document is its weighted term counts (title words count ``TITLE_WEIGHT`` times, each tag is one
feature of weight ``TAG_WEIGHT``, body words once), turned into a vector of ``1 + log(count)``
normalised to unit length and quantised to integers (``SCALE``). The score of two documents is the
dot product of their vectors over the terms that *count*: tags always; a word only while at most
``MAX_DF`` documents of the language contain it (a word most articles use says nothing about which
are alike). Ties go to the newer article, then to the smaller id.

Every quantity is chosen so that one change touches only the documents that share something with
it. There is no corpus-wide IDF and no threshold relative to the number of documents, so adding a
document changes no score between two others, except through words crossing ``MAX_DF`` (the
documents holding such a word are re-scored). Scores are sums of integers (exact in float64, below
2**53), so the incremental index (``SimilarIndex``) and the full computation (``similar_ids``, a
sparse matrix product) give the same numbers in any order and therefore the same lists.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, OrderedDict
from typing import Hashable, Iterable

import numpy as np
from scipy import sparse

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Title and tag words say more about the subject than any one body word.
TITLE_WEIGHT = 3
TAG_WEIGHT = 3
# A word found in more documents of a language than this is ignored (like scikit-learn's max_df, but
# absolute: a relative threshold would move with every publish and touch every document).
MAX_DF = 50
# Unit vectors are quantised to integers of at most 2**20: a dot product stays below 2**41.
SCALE = 1 << 20
TAG_PREFIX = "#"


def text_of(body_html: str) -> str:
    """The visible text of sanitised body HTML (tags dropped, entities left as they are)."""
    return _TAG.sub(" ", body_html)


def tokens(text: str) -> list[str]:
    """Lower-cased words of two letters or more (digits and punctuation dropped)."""
    return _WORD.findall(text.lower())


def _counts(title: str, tags: tuple[str, ...], body_html: str) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for word in tokens(title):
        counts[word] += TITLE_WEIGHT
    for tag in dict.fromkeys(" ".join(tokens(t)) for t in tags):
        if tag:
            counts[TAG_PREFIX + tag] += TAG_WEIGHT
    counts.update(tokens(text_of(body_html)))
    return tuple(sorted(counts.items()))


_CACHE: OrderedDict[bytes, tuple[tuple[str, int], ...]] = OrderedDict()
_CACHE_SIZE = 256


def term_counts(title: str, tags: Iterable[str], body_html: str) -> tuple[tuple[str, int], ...]:
    """Weighted term counts of one article (tags as ``#tag`` features), cached by a digest of its text."""
    tags = tuple(tags)
    key = hashlib.blake2b("\x00".join((title, *tags, body_html)).encode("utf-8"), digest_size=16).digest()
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    counts = _CACHE[key] = _counts(title, tags, body_html)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return counts


def vector(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The quantised unit vector of term counts: term -> integer weight."""
    weights = {term: 1.0 + math.log(count) for term, count in counts if count > 0}
    norm = math.sqrt(math.fsum(w * w for w in weights.values())) or 1.0
    return {term: round(w / norm * SCALE) for term, w in weights.items()}


def _always_counts(term: str) -> bool:
    return term.startswith(TAG_PREFIX)


def similar_ids(docs: dict[str, Iterable[tuple[str, int]]], rank: dict[str, Hashable], k: int = 3) -> dict[str, list[str]]:
    """The full computation: for every doc id, its ``k`` most similar other docs (lower ``rank`` wins ties)."""
    ids = sorted(docs)
    if not ids:
        return {}
    vectors = [vector(docs[i]) for i in ids]
    df: Counter[str] = Counter()
    for v in vectors:
        df.update(v.keys())
    vocab = {t: n for n, t in enumerate(sorted(t for t, c in df.items() if _always_counts(t) or c <= MAX_DF))}
    rows, cols, vals = [], [], []
    for r, v in enumerate(vectors):
        for term, weight in v.items():
            col = vocab.get(term)
            if col is not None:
                rows.append(r)
                cols.append(col)
                vals.append(weight)
    matrix = sparse.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(len(ids), len(vocab)))
    scores = (matrix @ matrix.T).tocsr()
    result = {}
    for r, doc_id in enumerate(ids):
        start, end = scores.indptr[r], scores.indptr[r + 1]
        pairs = [(-s, rank[ids[c]], ids[c]) for c, s in zip(scores.indices[start:end], scores.data[start:end])
                 if c != r and s > 0]
        result[doc_id] = [i for _, _, i in sorted(pairs)[:k]]
    return result


class SimilarIndex:
    """The similar lists of one language, updated document by document.

    ``put`` adds or replaces a document, ``drop`` removes one; both return the ids whose list
    changed. A new document is scored against the documents sharing a counting term with it (an
    inverted index) and enters their lists if it beats their last entry; only documents holding a
    word that crossed ``MAX_DF``, or whose list held a removed document, are re-scored in full.
    Documents are kept as numpy arrays of term ids and weights (a few KB each).
    """

    def __init__(self, k: int = 3):
        self.k = k
        self.vocab: dict[str, int] = {}
        self.is_tag: list[bool] = []
        self.df: list[int] = []
        self.slot: dict[str, int] = {}  # doc id -> row number, reused after a drop
        self.ids_by_slot: list[str | None] = []
        self.free: list[int] = []
        self.vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.rank: dict[str, Hashable] = {}
        # counting term id -> (slots, weights) of the documents holding it
        self.postings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # doc id -> its list as sorted (-score, rank, id); and who lists whom
        self.top: dict[str, list[tuple]] = {}
        self.listed_by: dict[str, set[str]] = {}
        # Between begin_bulk and end_bulk: the lists before, and nothing is scored.
        self.bulk: dict[str, list[str]] | None = None

    def begin_bulk(self) -> None:
        """Take many changes without scoring; ``end_bulk`` scores everything once (cheaper for a big batch)."""
        if self.bulk is None:
            self.bulk = {d: self.ids(d) for d in self.top}

    def end_bulk(self, touched: Iterable[str] = ()) -> set[str]:
        """Score every document in one sparse product; return the ids whose list changed, and those
        whose list holds (or held) a ``touched`` document."""
        if self.bulk is None:
            return set()
        before, self.bulk = self.bulk, None
        per_term: dict[int, tuple[list, list]] = {}
        for doc_id, (terms, weights) in self.vectors.items():
            slot = self.slot[doc_id]
            for t, w in zip(terms.tolist(), weights.tolist()):
                if self.counts(t):
                    entry = per_term.setdefault(t, ([], []))
                    entry[0].append(slot)
                    entry[1].append(w)
        self.postings = {t: (np.array(s, dtype=np.int64), np.array(w, dtype=np.float64)) for t, (s, w) in per_term.items()}
        self._rescore_all()
        touched = set(touched)
        changed = {d for d in self.vectors if self.ids(d) != before.get(d)}
        changed |= {d for d, ids in before.items() if d in self.vectors and not touched.isdisjoint(ids)}
        for d in touched:
            changed |= self.listing(d)
        return changed

    @classmethod
    def build(cls, docs: dict[str, tuple[Iterable[tuple[str, int]], Hashable]], k: int = 3) -> "SimilarIndex":
        """An index of ``{id: (term counts, rank)}``, its lists computed in one sparse product."""
        index = cls(k)
        for doc_id in sorted(docs):
            counts, rank = docs[doc_id]
            index._store(doc_id, counts, rank)
            for t in index.vectors[doc_id][0].tolist():
                index.df[t] += 1
        per_term: dict[int, tuple[list, list]] = {}
        for doc_id, (terms, weights) in index.vectors.items():
            slot = index.slot[doc_id]
            for t, w in zip(terms.tolist(), weights.tolist()):
                if index.counts(t):
                    entry = per_term.setdefault(t, ([], []))
                    entry[0].append(slot)
                    entry[1].append(w)
        index.postings = {t: (np.array(s, dtype=np.int64), np.array(w, dtype=np.float64)) for t, (s, w) in per_term.items()}
        index._rescore_all()
        return index

    def counts(self, term: int) -> bool:
        """Whether a term id takes part in scores now."""
        return self.is_tag[term] or self.df[term] <= MAX_DF

    def ids(self, doc_id: str) -> list[str]:
        """The similar list of a document."""
        return [i for _, _, i in self.top.get(doc_id, [])]

    def listing(self, doc_id: str) -> set[str]:
        """The documents whose list holds ``doc_id``."""
        return set(self.listed_by.get(doc_id, ()))

    # --- storage ---

    def _term(self, term: str) -> int:
        tid = self.vocab.get(term)
        if tid is None:
            tid = self.vocab[term] = len(self.df)
            self.df.append(0)
            self.is_tag.append(_always_counts(term))
        return tid

    def _store(self, doc_id: str, counts: Iterable[tuple[str, int]], rank: Hashable) -> None:
        vec = vector(counts)
        pairs = sorted((self._term(t), w) for t, w in vec.items())
        self.vectors[doc_id] = (np.array([p[0] for p in pairs], dtype=np.int64),
                                np.array([p[1] for p in pairs], dtype=np.float64))
        self.rank[doc_id] = rank
        if doc_id not in self.slot:
            slot = self.free.pop() if self.free else len(self.ids_by_slot)
            if slot == len(self.ids_by_slot):
                self.ids_by_slot.append(None)
            self.slot[doc_id] = slot
            self.ids_by_slot[slot] = doc_id

    def _posting_add(self, t: int, slot: int, weight: float) -> None:
        slots, weights = self.postings.get(t, (np.empty(0, np.int64), np.empty(0, np.float64)))
        self.postings[t] = (np.append(slots, slot), np.append(weights, weight))

    def _posting_remove(self, t: int, slot: int) -> None:
        slots, weights = self.postings[t]
        keep = slots != slot
        if keep.all():
            return
        if not keep.any():
            del self.postings[t]
        else:
            self.postings[t] = (slots[keep], weights[keep])

    def _holders(self, terms: set[int], skip: str | None = None) -> dict[str, dict[int, float]]:
        """The documents holding any of ``terms``, with their weights for them."""
        wanted = np.array(sorted(terms), dtype=np.int64)
        out = {}
        for doc_id, (ids, weights) in self.vectors.items():
            if doc_id == skip:
                continue
            hit = np.isin(ids, wanted, assume_unique=True)
            if hit.any():
                out[doc_id] = dict(zip(ids[hit].tolist(), weights[hit].tolist()))
        return out

    # --- scoring ---

    def _row(self, doc_id: str) -> dict[str, float]:
        """Scores of a document against every other document sharing a counting term with it."""
        terms, weights = self.vectors[doc_id]
        slots_parts, val_parts = [], []
        for t, w in zip(terms.tolist(), weights.tolist()):
            posting = self.postings.get(t)
            if posting is not None and self.counts(t):
                slots_parts.append(posting[0])
                val_parts.append(posting[1] * w)
        if not slots_parts:
            return {}
        slots = np.concatenate(slots_parts)
        # Integer products summed in float64 stay exact below 2**53, whatever the order.
        sums = np.bincount(slots, weights=np.concatenate(val_parts))
        own = self.slot[doc_id]
        hits = np.nonzero(sums > 0)[0].tolist()
        return {self.ids_by_slot[s]: sums[s] for s in hits if s != own}

    def _set_top(self, doc_id: str, entries: list[tuple]) -> bool:
        old = self.top.get(doc_id) or []
        self.top[doc_id] = entries
        if old == entries:
            return False
        for _, _, other in old:
            self.listed_by.get(other, set()).discard(doc_id)
        for _, _, other in entries:
            self.listed_by.setdefault(other, set()).add(doc_id)
        return [e[2] for e in old] != [e[2] for e in entries]

    def _best(self, row: dict[str, float]) -> list[tuple]:
        return sorted((-float(s), self.rank[d], d) for d, s in row.items())[: self.k]

    def _rescore(self, doc_id: str) -> bool:
        return self._set_top(doc_id, self._best(self._row(doc_id)))

    def _rescore_all(self) -> None:
        n = len(self.ids_by_slot)
        terms = sorted(self.postings)
        if not terms:
            for doc_id in self.vectors:
                self._set_top(doc_id, [])
            return
        rows = np.concatenate([self.postings[t][0] for t in terms])
        cols = np.concatenate([np.full(len(self.postings[t][0]), c, dtype=np.int64) for c, t in enumerate(terms)])
        vals = np.concatenate([self.postings[t][1] for t in terms])
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(terms)))
        scores = (matrix @ matrix.T).tocsr()
        for doc_id, r in self.slot.items():
            start, end = scores.indptr[r], scores.indptr[r + 1]
            row = {self.ids_by_slot[c]: s for c, s in zip(scores.indices[start:end].tolist(),
                                                         scores.data[start:end].tolist()) if c != r and s > 0}
            self._set_top(doc_id, self._best(row))

    # --- changes ---

    def drop(self, doc_id: str) -> set[str]:
        """Remove a document; return the ids whose list changed."""
        if doc_id not in self.vectors:
            return set()
        terms, _ = self.vectors[doc_id]
        slot = self.slot[doc_id]
        flipped = set()
        for t in terms.tolist():
            before = self.counts(t)
            self.df[t] -= 1
            if self.bulk is not None:
                continue
            if before:
                self._posting_remove(t, slot)
            elif self.counts(t):
                flipped.add(t)
        del self.vectors[doc_id], self.rank[doc_id], self.slot[doc_id]
        self.ids_by_slot[slot] = None
        self.free.append(slot)
        self._set_top(doc_id, [])
        del self.top[doc_id]
        if self.bulk is not None:
            return set()
        holders = self._holders(flipped)
        for t in flipped:
            docs = [(self.slot[d], w[t]) for d, w in holders.items() if t in w]
            self.postings[t] = (np.array([d for d, _ in docs], dtype=np.int64), np.array([w for _, w in docs]))
        dirty = self.listed_by.pop(doc_id, set()) | set(holders)
        return {d for d in dirty if self._rescore(d)}

    def put(self, doc_id: str, counts: Iterable[tuple[str, int]], rank: Hashable) -> set[str]:
        """Add or replace a document; return the ids whose list changed (itself included when it did)."""
        counts = tuple(counts)
        if doc_id in self.vectors:
            terms, weights = self.vectors[doc_id]
            vec = vector(counts)
            same = self.rank[doc_id] == rank and len(vec) == len(terms) and all(
                self.vocab.get(t) is not None for t in vec)
            if same:
                mine = dict(zip(terms.tolist(), weights.tolist()))
                same = all(mine.get(self.vocab[t]) == w for t, w in vec.items())
            if same:
                return set()
        old_list = self.ids(doc_id)
        changed = self.drop(doc_id)
        self._store(doc_id, counts, rank)
        terms, weights = self.vectors[doc_id]
        slot = self.slot[doc_id]
        dirty: set[str] = set()
        for t, w in zip(terms.tolist(), weights.tolist()):
            before = self.counts(t)
            self.df[t] += 1
            if self.bulk is not None:
                continue
            if self.counts(t):
                self._posting_add(t, slot, w)
            elif before:
                # The word stops counting: every document holding it scores differently now.
                dirty.update(self.ids_by_slot[s] for s in self.postings.pop(t)[0].tolist())
        dirty.discard(doc_id)
        if self.bulk is not None:
            return set()
        row = self._row(doc_id)
        self._set_top(doc_id, self._best(row))
        if self.ids(doc_id) != old_list:
            changed.add(doc_id)
        for other, score in row.items():
            if other in dirty:
                continue
            entry = (-float(score), rank, doc_id)
            top = self.top[other]
            if len(top) < self.k or entry < top[-1]:
                if self._set_top(other, sorted(top + [entry])[: self.k]):
                    changed.add(other)
        changed |= {d for d in dirty if self._rescore(d)}
        return changed
