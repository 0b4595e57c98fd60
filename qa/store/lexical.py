"""BM25 over the same chunks as the vector store (bm25s), stored with each index generation.

Names, numbers and rare words are where dense retrieval is weakest; BM25 catches them. bm25s has no incremental
update, so each generation rebuilds it from all chunk texts: about a second for the BBC corpus.
"""

from __future__ import annotations

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


class BM25Index:
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

    def save(self, generation: Path) -> None:
        folder = generation / FOLDER
        folder.mkdir()
        if len(self._ids):
            self._retriever.save(str(folder), allow_pickle=False, show_progress=False)
        np.save(folder / "chunk_ids.npy", self._ids, allow_pickle=False)
        (folder / "meta.json").write_text(json.dumps({"stemmer": self._stemmer is not None}))

    @classmethod
    def load(cls, generation: Path) -> "BM25Index | None":
        import bm25s

        folder = generation / FOLDER
        if not (folder / "chunk_ids.npy").exists():
            return None
        ids = np.load(folder / "chunk_ids.npy", allow_pickle=False)
        meta = json.loads((folder / "meta.json").read_text())
        retriever = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False) if len(ids) else None
        return cls(retriever, ids, _stemmer() if meta.get("stemmer") else None)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) pairs, best first; empty when no query word is in the index."""
        import bm25s

        if self._retriever is None or not len(self._ids):
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False)
        vocab = self._retriever.vocab_dict
        words = [w for w in tokens[0] if w in vocab]
        if not words:
            return []
        scores = self._retriever.get_scores(words)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self._ids[i]), float(scores[i])) for i in top if scores[i] > 0]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float], *, k: int = 60
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum of weight / (k + rank). Ties keep the order of first appearance."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


class TermStats:
    """The lexical index's own view of words: its tokenizer and stemmer, and how many chunks hold each term.
    Used to tell which words of a question carry information (a rare name) and which do not ("said")."""

    def __init__(self, index: BM25Index | None):
        self._index = index

    def terms(self, text: str) -> list[str]:
        """Distinct terms as bm25s makes them (its token pattern and English stop words, then the stemmer), without
        its per-call overhead: this runs on every sentence a question reads."""
        from bm25s.stopwords import STOPWORDS_EN

        stemmer = self._index._stemmer if self._index is not None else _stemmer()
        words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS_EN]
        if stemmer is not None:
            words = stemmer.stemWords(words)
        return list(dict.fromkeys(words))

    def idf(self, term: str) -> float:
        """Inverse document frequency over chunks; a term the index has never seen counts as rare."""
        retriever = self._index._retriever if self._index is not None else None
        if retriever is None:
            return 1.0
        total = int(retriever.scores["num_docs"])
        term_id = retriever.vocab_dict.get(term)
        indptr = retriever.scores["indptr"]
        frequency = 0 if term_id is None else int(indptr[term_id + 1] - indptr[term_id])
        return float(np.log(1 + (total - frequency + 0.5) / (frequency + 0.5)))

    def postings(self, term: str) -> np.ndarray:
        """Chunk ids holding ``term``."""
        retriever = self._index._retriever if self._index is not None else None
        term_id = None if retriever is None else retriever.vocab_dict.get(term)
        if term_id is None:
            return np.zeros(0, dtype=np.int64)
        indptr, indices = retriever.scores["indptr"], retriever.scores["indices"]
        return self._index._ids[indices[indptr[term_id] : indptr[term_id + 1]]]
