"""BM25 over the same chunks as the vector store: one bm25s index per segment, searched with global statistics.

Names, numbers and rare words are where dense retrieval is weakest; BM25 catches them. bm25s has no incremental
update, so each segment holds its own (built once, when the segment is written, from that segment's chunks only:
a sync costs the size of the change, not of the index). A generation's ``LexicalView`` searches every segment and
scores them as one index would: bm25s stores each (term, chunk) score with its segment's IDF baked in, so each
term's postings are rescaled by global IDF / segment IDF, where the global document frequency sums the segments'
(deleted chunks included, as Lucene counts them). Tombstoned chunks are dropped from the results.
"""

from __future__ import annotations

import heapq
import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

FOLDER = "bm25"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern


def _stemmer():
    try:
        import Stemmer  # PyStemmer: optional, makes "arrested" match "arrest"
    except ImportError:
        return None
    return Stemmer.Stemmer("english")


def lucene_idf(df: int | np.ndarray, n: int) -> float | np.ndarray:
    """bm25s's default ("lucene") IDF."""
    return np.log(1 + (n - df + 0.5) / (df + 0.5))


class BM25Index:
    """One segment's BM25 over (chunk id, text) pairs."""

    def __init__(self, retriever, ids: np.ndarray, stemmer=None):
        self._retriever = retriever
        self._ids = ids
        self._stemmer = stemmer

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> "BM25Index":
        import bm25s

        stemmer = _stemmer()
        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False)
            retriever.index(tokens, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64), stemmer)

    def save(self, segment: Path) -> None:
        folder = segment / FOLDER
        folder.mkdir()
        if len(self._ids):
            self._retriever.save(str(folder), allow_pickle=False, show_progress=False)
        np.save(folder / "chunk_ids.npy", self._ids, allow_pickle=False)
        (folder / "meta.json").write_text(json.dumps({"stemmer": self._stemmer is not None}))

    @classmethod
    def load(cls, segment: Path) -> "BM25Index | None":
        import bm25s

        folder = segment / FOLDER
        if not (folder / "chunk_ids.npy").exists():
            return None
        ids = np.load(folder / "chunk_ids.npy", allow_pickle=False)
        meta = json.loads((folder / "meta.json").read_text())
        # Mapped, not read: a question touches the postings of its few terms, and a reader of a million-chunk index
        # would otherwise hold every segment's postings in its own memory.
        retriever = None
        if len(ids):
            retriever = bm25s.BM25.load(str(folder), mmap=True, allow_pickle=False, show_progress=False)
        return cls(retriever, ids, _stemmer() if meta.get("stemmer") else None)

    @property
    def size(self) -> int:
        return 0 if self._retriever is None else int(self._retriever.scores["num_docs"])

    def frequency(self, term: str) -> int:
        """How many of this segment's chunks hold ``term``."""
        term_id = None if self._retriever is None else self._retriever.vocab_dict.get(term)
        if term_id is None:
            return 0
        indptr = self._retriever.scores["indptr"]
        return int(indptr[term_id + 1] - indptr[term_id])

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the chunks holding ``term``, their stored scores)."""
        term_id = None if self._retriever is None else self._retriever.vocab_dict.get(term)
        if term_id is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = self._retriever.scores
        lo, hi = scores["indptr"][term_id], scores["indptr"][term_id + 1]
        return scores["indices"][lo:hi], scores["data"][lo:hi]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) pairs of this segment alone, best first."""
        return LexicalView([self]).search(query, k)


class LexicalView:
    """A generation's lexical search: its segments' BM25 indexes as one, minus tombstoned chunks."""

    def __init__(self, segments: Sequence[BM25Index | None], deleted: np.ndarray | None = None):
        self.segments = [s for s in segments if s is not None and len(s._ids)]
        self.deleted = np.asarray(deleted if deleted is not None else [], dtype=np.int64)
        self.total = sum(s.size for s in self.segments)
        self._stemmer = self.segments[0]._stemmer if self.segments else _stemmer()
        self._frequency: dict[str, int] = {}
        self._dead: list[np.ndarray] | None = None  # per segment, the positions of its tombstoned chunks

    def _dead_positions(self) -> list[np.ndarray]:
        """Worked out once per view: filtering every search's hits by chunk id took half its time at 1M chunks."""
        if self._dead is None:
            self._dead = [np.flatnonzero(np.isin(s._ids, self.deleted)) if len(self.deleted) else np.zeros(0, np.int64)
                          for s in self.segments]
        return self._dead

    def words(self, text: str) -> list[str]:
        """Terms as bm25s makes them (its token pattern and English stop words, then the stemmer), repeats kept,
        without its per-call overhead: this runs on every sentence a question reads."""
        from bm25s.stopwords import STOPWORDS_EN

        words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS_EN]
        return self._stemmer.stemWords(words) if self._stemmer is not None else words

    def terms(self, text: str) -> list[str]:
        """Distinct terms, in order of first appearance."""
        return list(dict.fromkeys(self.words(text)))

    def frequency(self, term: str) -> int:
        if term not in self._frequency:
            if len(self._frequency) > 100_000:
                self._frequency.clear()
            self._frequency[term] = sum(s.frequency(term) for s in self.segments)
        return self._frequency[term]

    def idf(self, term: str) -> float:
        """Inverse document frequency over all chunks; a term the index has never seen counts as rare."""
        if not self.total:
            return 1.0
        return float(lucene_idf(self.frequency(term), self.total))

    def postings(self, term: str) -> np.ndarray:
        """Live chunk ids holding ``term``."""
        parts = [s._ids[s.postings(term)[0]] for s in self.segments]
        ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return ids[~np.isin(ids, self.deleted)] if len(self.deleted) and len(ids) else ids

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) pairs, best first; empty when no query word is in the index."""
        words = [w for w in self.words(query) if self.frequency(w)]  # a repeated word counts twice, as in bm25s
        if not words or k < 1:
            return []
        weights = {w: self.idf(w) for w in set(words)}
        best: list[tuple[float, int]] = []
        for segment, dead in zip(self.segments, self._dead_positions()):
            scores = np.zeros(segment.size, np.float32)
            for word in words:
                df = segment.frequency(word)
                if df:
                    positions, stored = segment.postings(word)
                    local = float(lucene_idf(df, segment.size))
                    scores[positions] += stored * np.float32(weights[word] / local)
            scores[dead] = 0  # tombstoned chunks never score
            hits = np.flatnonzero(scores > 0)
            if not len(hits):
                continue
            top = hits if len(hits) <= k else hits[np.argpartition(-scores[hits], k - 1)[:k]]
            best += [(float(scores[p]), int(segment._ids[p])) for p in top]
        best = heapq.nlargest(k, best, key=lambda pair: (pair[0], -pair[1]))
        return [(chunk_id, score) for score, chunk_id in best]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float], *, k: int = 60
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank). Ties keep the order of first appearance."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


def missing_leaders(fused: Sequence[int], *rankings: Sequence[int]) -> list[int]:
    """Each ranking's first id that the fused list left out, when every other ranking holds it too (within its
    depth): all retrievers see it and one ranks it first, so it is worth reading although fusion ranked it lower."""
    out: list[int] = []
    for number, ranking in enumerate(rankings):
        others = [r for n, r in enumerate(rankings) if n != number]
        if not ranking or not others or ranking[0] in fused or ranking[0] in out:
            continue
        if all(ranking[0] in other for other in others):
            out.append(ranking[0])
    return out
