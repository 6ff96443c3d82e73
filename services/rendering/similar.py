"""Similar posts: TF-IDF over title, tag and body terms of one language, kept up to date per change.

A document is its weighted term counts (title words count ``TITLE_WEIGHT`` times, each tag is one
``#tag`` feature of weight ``TAG_WEIGHT``, body words once). Its vector is ``1 + log(count)`` times
the term's IDF, over the terms that count, normalised and quantised to integers (``SCALE``); the
score of two documents is the dot product of their vectors. Ties go to the newer article, then to
the smaller id. Words found in more than half the documents (above ``MIN_MAX_DF``) do not count,
like scikit-learn's ``max_df``.

IDF and ``max_df`` come from a *document-frequency table* (``Table``) taken when the language's
size last doubled or halved, not from the documents of the moment: with a fixed table, adding a
document changes no score between two others, so a change re-scores nothing but itself (and, for
a removal, the documents that listed it); the others only compare the new score with their last
entry. When the size doubles or halves the table is taken again and every list recomputed, which
costs one sparse product per doubling (constant per document over time). The table is kept in the
read model so a full rebuild uses the same one.

Scores are sums of integers (exact in float64, below 2**53), so the incremental index
(``SimilarIndex``) and the full computation (``similar_ids``, a sparse matrix product) give the
same numbers in any order, and therefore the same lists.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Hashable, Iterable

import numpy as np
from scipy import sparse

_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Title and tag words say more about the subject than any one body word.
TITLE_WEIGHT = 3
TAG_WEIGHT = 3
MIN_MAX_DF = 20
# Unit vectors are quantised to integers of at most 2**20: a dot product stays below 2**41.
SCALE = 1 << 20
TAG_PREFIX = "#"
_BLOCK = 256


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


@dataclass
class Table:
    """Document frequencies of a language's terms taken at one moment: what IDF and max_df use."""

    n: int = 0
    df: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, docs: Iterable[Iterable[tuple[str, int]]]) -> "Table":
        """The table of a set of documents (term counts)."""
        df: Counter[str] = Counter()
        n = 0
        for counts in docs:
            n += 1
            df.update(term for term, _ in counts)
        return cls(n, dict(df))

    def idf(self, term: str) -> float | None:
        """The term's IDF, None when it does not count (found in too many documents)."""
        df = self.df.get(term, 0)
        if not term.startswith(TAG_PREFIX) and df > max(MIN_MAX_DF, self.n // 2):
            return None
        return math.log((1 + self.n) / (1 + df)) + 1.0

    def to_json(self) -> dict:
        """The table as stored in the read model."""
        return {"n": self.n, "df": self.df}

    @classmethod
    def from_json(cls, data: dict) -> "Table":
        """A table read back from the read model."""
        return cls(int(data["n"]), {k: int(v) for k, v in data["df"].items()})


def _quantise(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Integer unit weights of one document; ``idf`` is NaN for terms that do not count (weight 0)."""
    weights = (1.0 + np.log(counts.astype(np.float64))) * idf
    weights = np.where(np.isnan(weights), 0.0, weights)
    norm = math.sqrt(math.fsum((weights * weights).tolist())) or 1.0
    return np.rint(weights / norm * SCALE)


def vector(counts: Iterable[tuple[str, int]], table: Table) -> dict[str, int]:
    """The quantised unit TF-IDF vector of term counts over the terms that count: term -> integer weight."""
    pairs = [(t, c) for t, c in counts if c > 0]
    idf = np.array([np.nan if (x := table.idf(t)) is None else x for t, _ in pairs], dtype=np.float64)
    q = _quantise(np.array([c for _, c in pairs], dtype=np.int64), idf)
    return {t: int(w) for (t, _), w in zip(pairs, q.tolist()) if w}


def similar_ids(docs: dict[str, Iterable[tuple[str, int]]], rank: dict[str, Hashable], k: int = 3,
                table: Table | None = None) -> dict[str, list[str]]:
    """The full computation: for every doc id its ``k`` most similar other docs (lower ``rank`` wins
    ties), with the given frequency table (default: the table of ``docs`` themselves)."""
    ids = sorted(docs)
    if not ids:
        return {}
    table = table or Table.of(docs[i] for i in ids)
    vectors = [vector(docs[i], table) for i in ids]
    vocab = {t: n for n, t in enumerate(sorted({t for v in vectors for t in v}))}
    rows, cols, vals = [], [], []
    for r, v in enumerate(vectors):
        for term, weight in v.items():
            rows.append(r)
            cols.append(vocab[term])
            vals.append(weight)
    matrix = sparse.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(len(ids), len(vocab)))
    scores = (matrix @ matrix.T).tocsr()
    result = {}
    for r, doc_id in enumerate(ids):
        start, end = scores.indptr[r], scores.indptr[r + 1]
        pairs = [(-s, rank[ids[c]], ids[c]) for c, s in zip(scores.indices[start:end].tolist(),
                                                             scores.data[start:end].tolist()) if c != r and s > 0]
        result[doc_id] = [i for _, _, i in sorted(pairs)[:k]]
    return result


class SimilarIndex:
    """The similar lists of one language, updated document by document.

    ``put`` adds or replaces a document, ``drop`` removes one; both return the ids whose list
    changed. A new document is scored once against the documents sharing a counting term with it
    (an inverted index) and enters their lists where it beats the last entry; a removal re-scores
    the documents that listed it. Between ``begin_bulk`` and ``end_bulk`` nothing is scored, and
    everything is scored at the end in one sparse product (cheaper for a big batch). Documents are
    kept as numpy arrays of term ids and counts (a few KB each), the inverted index likewise.
    """

    def __init__(self, k: int = 3, table: Table | None = None):
        self.k = k
        # Taken again (and every list recomputed) when the number of documents doubles or halves.
        self.table = table or Table()
        self.table_changed = False
        self.terms: list[str] = []
        self.vocab: dict[str, int] = {}
        self._idf = np.empty(0, dtype=np.float64)  # by term id, for self.table; NaN: does not count
        self.df: Counter[int] = Counter()
        self.docs: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # id -> (term ids, counts)
        self.rank: dict[str, Hashable] = {}
        self.slot: dict[str, int] = {}
        self.ids_by_slot: list[str | None] = []
        self.free: list[int] = []
        # term id -> (slots, integer weights); int32 halves what float64 weights held (weights <= SCALE)
        self.postings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # doc id -> its list as sorted (-score, rank, id); and who lists whom
        self.top: dict[str, list[tuple]] = {}
        self.listed_by: dict[str, set[str]] = {}
        # Between begin_bulk and end_bulk: the lists before, and nothing is scored.
        self.bulk: dict[str, list[str]] | None = None

    @classmethod
    def build(cls, docs: dict[str, tuple[Iterable[tuple[str, int]], Hashable]], k: int = 3,
              table: Table | None = None) -> "SimilarIndex":
        """An index of ``{id: (term counts, rank)}`` with a stored table (default: their own), scored at once."""
        index = cls(k)
        for doc_id in sorted(docs):
            counts, rank = docs[doc_id]
            index.add_unscored(doc_id, counts, rank)
        index.finish(table)
        return index

    def add_unscored(self, doc_id: str, counts: Iterable[tuple[str, int]], rank: Hashable) -> None:
        """Add a document while loading (``finish`` scores them all)."""
        self._store(doc_id, counts, rank)

    def finish(self, table: Table | None = None) -> None:
        """Score every document loaded with ``add_unscored``, with a stored table (default: their own)."""
        if table is None:
            self.table = Table(len(self.docs), {self.terms[t]: c for t, c in self.df.items()})
            self.table_changed = True
        else:
            self.table = table
        self._idf = np.empty(0, dtype=np.float64)
        self._score_all()

    def ids(self, doc_id: str) -> list[str]:
        """The similar list of a document."""
        return [i for _, _, i in self.top.get(doc_id, [])]

    def listing(self, doc_id: str) -> set[str]:
        """The documents whose list holds ``doc_id``."""
        return set(self.listed_by.get(doc_id, ()))

    # --- storage ---

    def _store(self, doc_id: str, counts: Iterable[tuple[str, int]], rank: Hashable) -> None:
        ids = []
        for term, _ in counts:
            tid = self.vocab.get(term)
            if tid is None:
                tid = self.vocab[term] = len(self.terms)
                self.terms.append(term)
            ids.append(tid)
        values = [c for _, c in counts]
        # Counts fit 16 bits in any real article; the wider type only for one that does not.
        kind = np.uint16 if not values or max(values) < 1 << 16 and min(values) >= 0 else np.int32
        self.docs[doc_id] = (np.array(ids, dtype=np.int32), np.array(values, dtype=kind))
        self.df.update(ids)
        self.rank[doc_id] = rank
        slot = self.free.pop() if self.free else len(self.ids_by_slot)
        if slot == len(self.ids_by_slot):
            self.ids_by_slot.append(None)
        self.slot[doc_id] = slot
        self.ids_by_slot[slot] = doc_id

    def _counts_of(self, doc_id: str) -> list[tuple[str, int]]:
        ids, counts = self.docs[doc_id]
        return [(self.terms[t], c) for t, c in zip(ids.tolist(), counts.tolist())]

    def _idf_of(self, ids: np.ndarray) -> np.ndarray:
        if len(self._idf) < len(self.terms):
            extra = [self.table.idf(t) for t in self.terms[len(self._idf):]]
            self._idf = np.concatenate([self._idf, np.array([np.nan if x is None else x for x in extra])])
        return self._idf[ids]

    def _vector(self, doc_id: str) -> tuple[np.ndarray, np.ndarray]:
        ids, counts = self.docs[doc_id]
        q = _quantise(counts, self._idf_of(ids))
        keep = q != 0
        return ids[keep], q[keep]

    def _forget(self, doc_id: str) -> None:
        ids, _ = self.docs.pop(doc_id)
        slot = self.slot.pop(doc_id)
        for t in ids.tolist():
            self.df[t] -= 1
            if self.df[t] <= 0:
                del self.df[t]
            posting = self.postings.get(t)
            if posting is not None:
                keep = posting[0] != slot
                if not keep.all():
                    if keep.any():
                        self.postings[t] = (posting[0][keep], posting[1][keep])
                    else:
                        del self.postings[t]
        del self.rank[doc_id]
        self.ids_by_slot[slot] = None
        self.free.append(slot)

    # --- scoring ---

    def _row(self, doc_id: str, vec: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
        """Scores of a document against every other document sharing a counting term with it."""
        slots, vals = [], []
        for t, w in zip(vec[0].tolist(), vec[1].tolist()):
            posting = self.postings.get(t)
            if posting is not None:
                slots.append(posting[0])
                vals.append(posting[1] * w)
        if not slots:
            return {}
        # Integer products summed in float64 stay exact below 2**53, whatever the order.
        sums = np.bincount(np.concatenate(slots), weights=np.concatenate(vals))
        own = self.slot.get(doc_id)  # None for a document not (yet) in the index: a preview's
        return {self.ids_by_slot[s]: sums[s] for s in np.nonzero(sums > 0)[0].tolist() if s != own}

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
        if len(row) > 4 * self.k:
            kth = sorted(row.values(), reverse=True)[self.k - 1]
            row = {d: s for d, s in row.items() if s >= kth}
        return sorted((-s, self.rank[d], d) for d, s in row.items())[: self.k]

    def _rescore(self, doc_id: str) -> bool:
        return self._set_top(doc_id, self._best(self._row(doc_id, self._vector(doc_id))))

    def _score_all(self) -> None:
        """The inverted index and every list from the counts and the table, in one sparse product."""
        for d in [d for d in self.top if d not in self.docs]:
            self._set_top(d, [])
            del self.top[d]
        rows, cols, vals = [], [], []
        for d in self.docs:
            tids, weights = self._vector(d)
            rows.append(np.full(len(tids), self.slot[d], dtype=np.int32))
            cols.append(tids)
            vals.append(weights)
        self.postings = {}
        rows, cols, vals = (np.concatenate(x) if x else np.empty(0, np.int32) for x in (rows, cols, vals))
        if not len(cols):
            for d in self.docs:
                self._set_top(d, [])
            return
        order = np.lexsort((rows, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        bounds = np.flatnonzero(np.diff(cols)) + 1
        weights = vals.astype(np.int32)
        for start, end in zip(np.r_[0, bounds].tolist(), np.r_[bounds, len(cols)].tolist()):
            self.postings[int(cols[start])] = (rows[start:end], weights[start:end])
        n = len(self.ids_by_slot)
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(self.terms)))
        transposed = matrix.T.tocsr()
        # A block of rows at a time: the score matrix of a large language is nearly dense.
        for first in range(0, n, _BLOCK):
            scores = (matrix[first:first + _BLOCK] @ transposed).tocsr()
            for i in range(scores.shape[0]):
                d = self.ids_by_slot[first + i]
                if d is not None:
                    self._top_from_scores(d, first + i, scores, i)

    def _top_from_scores(self, d: str, r: int, scores, i: int) -> None:
        """Set the list of document ``d`` (slot ``r``) from row ``i`` of a block of scores."""
        start, end = scores.indptr[i], scores.indptr[i + 1]
        cols, vals = scores.indices[start:end], scores.data[start:end]
        keep = (cols != r) & (vals > 0)
        cols, vals = cols[keep], vals[keep]
        if len(vals) > self.k:
            # Only scores at least the k-th best can make the list (ties included).
            kth = np.partition(vals, len(vals) - self.k)[len(vals) - self.k]
            keep = vals >= kth
            cols, vals = cols[keep], vals[keep]
        self._set_top(d, self._best({self.ids_by_slot[c]: v for c, v in zip(cols.tolist(), vals.tolist())}))

    def _size_moved(self) -> bool:
        """Take the table again when the number of documents doubled or halved since it was taken."""
        n = len(self.docs)
        if n > 2 * self.table.n or 2 * n < self.table.n:
            self.table = Table(n, {self.terms[t]: c for t, c in self.df.items()})
            self.table_changed = True
            self._idf = np.empty(0, dtype=np.float64)
            return True
        return False

    # --- changes ---

    def drop(self, doc_id: str) -> set[str]:
        """Remove a document; return the ids whose list changed."""
        if doc_id not in self.docs:
            return set()
        self._forget(doc_id)
        if self.bulk is not None:
            self._size_moved()
            return set()
        self._set_top(doc_id, [])
        del self.top[doc_id]
        if self._size_moved():
            before = {d: self.ids(d) for d in self.top}
            self._score_all()
            return {d for d in self.docs if self.ids(d) != before.get(d)}
        return {d for d in self.listed_by.pop(doc_id, set()) if self._rescore(d)}

    def peek(self, doc_id: str, counts: Iterable[tuple[str, int]]) -> list[str]:
        """The list a document with these counts would get from ``put`` now, changing nothing (for previews).

        Exact unless that ``put`` would double the language's size and so take the frequency table again.
        """
        pairs = [(self.vocab[t], c) for t, c in counts if t in self.vocab and c > 0]
        if not pairs:
            return []
        ids = np.array([t for t, _ in pairs], dtype=np.int32)
        q = _quantise(np.array([c for _, c in pairs], dtype=np.int32), self._idf_of(ids))
        keep = q != 0
        row = self._row(doc_id, (ids[keep], q[keep]))
        return [d for _, _, d in self._best(row)]

    def put(self, doc_id: str, counts: Iterable[tuple[str, int]], rank: Hashable) -> set[str]:
        """Add or replace a document; return the ids whose list changed (itself included when it did)."""
        counts = tuple(counts)
        if doc_id in self.docs and self.rank[doc_id] == rank and self._counts_of(doc_id) == list(counts):
            return set()
        old_list = self.ids(doc_id)
        changed = self.drop(doc_id)
        self._store(doc_id, counts, rank)
        if self.bulk is not None:
            self._size_moved()
            return set()
        if self._size_moved():
            before = {d: self.ids(d) for d in self.top}
            before[doc_id] = old_list
            self._score_all()
            return changed | {d for d in self.docs if self.ids(d) != before.get(d)}
        vec = self._vector(doc_id)
        slot = self.slot[doc_id]
        for t, w in zip(vec[0].tolist(), vec[1].tolist()):
            posting = self.postings.get(t)
            self.postings[t] = ((np.append(posting[0], np.int32(slot)), np.append(posting[1], np.int32(w)))
                                if posting is not None
                                else (np.array([slot], dtype=np.int32), np.array([w], dtype=np.int32)))
        row = self._row(doc_id, vec)
        self._set_top(doc_id, self._best(row))
        if self.ids(doc_id) != old_list:
            changed.add(doc_id)
        for other, score in row.items():
            entry = (-score, rank, doc_id)
            top = self.top[other]
            if len(top) < self.k or entry < top[-1]:
                if self._set_top(other, sorted(top + [entry])[: self.k]):
                    changed.add(other)
        return changed

    def begin_bulk(self) -> None:
        """Take many changes without scoring; ``end_bulk`` scores everything once."""
        if self.bulk is None:
            self.bulk = {d: self.ids(d) for d in self.top}

    def end_bulk(self, touched: Iterable[str] = ()) -> set[str]:
        """Score every document in one sparse product; return the ids whose list changed, and those
        whose list holds (or held) a ``touched`` document."""
        if self.bulk is None:
            return set()
        before, self.bulk = self.bulk, None
        self._score_all()
        touched = set(touched)
        changed = {d for d in self.docs if self.ids(d) != before.get(d)}
        changed |= {d for d, ids in before.items() if d in self.docs and not touched.isdisjoint(ids)}
        for d in touched:
            changed |= self.listing(d)
        return changed
