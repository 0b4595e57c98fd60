"""A loaded, read-only index generation: its segments' vectors, lexical indexes and metadata, seen as one index
(tombstoned articles hidden)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import EmbedderMismatch
from qa.errors import generation_damaged as damaged
from qa.store.generations import generation_number, read_manifest
from qa.store.integrity import check_files, failures
from qa.store.lexical import BM25Index, LexicalView, missing_leaders, reciprocal_rank_fusion
from qa.store.metadata import Metadata, SegmentMeta, META
from qa.store.segments import SegmentedVectors, SegmentInfo, segment_chunk_ids, segment_dir, segments_of
from qa.store.vectors import load_store, segment_stores
from qa.types import Article, Passage

_UNLOADED = object()


def embedder_identity(embedder) -> dict:
    return {"name": embedder.name, "dimension": int(embedder.dimension), "fingerprint": embedder.fingerprint}


def check_embedder(manifest: dict, identity: dict, path: Path) -> None:
    built = manifest["embedder"]
    if built["fingerprint"] != identity["fingerprint"] or built["dimension"] != identity["dimension"]:
        raise EmbedderMismatch(
            f"the index at {path.parent} was built with embedder {built['name']!r} "
            f"({built['dimension']}-d, fingerprint {built['fingerprint']}), but the configured embedder is "
            f"{identity['name']!r} ({identity['dimension']}-d, fingerprint {identity['fingerprint']}); "
            "rebuild it with `qa index --rebuild` or set QA_EMBEDDER back"
        )


@dataclass
class LoadedGeneration:
    path: Path
    manifest: dict
    segments: list[SegmentInfo]
    store: SegmentedVectors
    meta: Metadata
    _lexical: object = _UNLOADED
    _lexical_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path, settings=None) -> "LoadedGeneration":
        """Open a published generation after the cheap checks (every recorded file present, of its recorded size);
        `qa status --verify` also compares checksums."""
        manifest = read_manifest(path)
        problem = failures(check_files(path, manifest))
        if problem:
            raise damaged(path, problem)
        segments = segments_of(path, manifest)
        dimension = manifest["embedder"]["dimension"]
        folders = [segment_dir(path, s.name) for s in segments]
        if segment_stores(manifest["store"]):
            parts = [load_store(manifest["store"], folder, dimension, settings) for folder in folders]
            ids = [segment_chunk_ids(folder) if len(folders) > 1 else None for folder in folders]
            store = SegmentedVectors(parts, ids, [s.deleted_chunks for s in segments])
        else:  # one store for the whole index, outside the segments (Milvus): it keeps deletions itself
            store = SegmentedVectors([load_store(manifest["store"], path, dimension, settings)], [None],
                                     [np.zeros(0, np.int64)])
        metas = []
        try:
            for folder in folders:
                metas.append(SegmentMeta(folder / META, path))
        except Exception:
            for meta in metas:
                meta.close()
            raise
        deleted = {i: s.deleted_articles for i, s in enumerate(segments) if s.deleted_articles}
        return cls(path, manifest, segments, store, Metadata(metas, deleted))

    @property
    def number(self) -> int:
        return generation_number(self.path.name)

    def close(self) -> None:
        self.meta.close()
        self.store.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def lexical(self) -> LexicalView:
        with self._lexical_lock:
            if self._lexical is _UNLOADED:
                indexes = []
                for info in self.segments:
                    try:
                        indexes.append(BM25Index.load(segment_dir(self.path, info.name)))
                    except (OSError, ValueError, KeyError, TypeError) as exc:  # truncated or overwritten bm25 files
                        raise damaged(self.path, f"bm25: {exc}") from exc
                deleted = [s.deleted_chunks for s in self.segments]
                self._lexical = LexicalView(indexes, np.concatenate(deleted) if deleted else None)
            return self._lexical

    def hybrid_search(
        self,
        question: str,
        query_vector: np.ndarray,
        k: int,
        *,
        mode: str,
        weights: tuple[float, float],
        depth: int,
        rank_constant: int = 60,
        leaders: bool = False,
        rarest: str | None = None,
    ) -> list[Passage]:
        """Dense, lexical (BM25) or both fused by reciprocal rank. Passage.score stays the cosine similarity to the
        question in every mode, so scores mean the same thing whichever ranking produced the list. ``leaders``
        (hybrid only): each ranking's first passage follows the k fused ones when fusion left it out although the
        other ranking holds it; and BM25's first passage follows when it holds ``rarest`` (the question's rarest word,
        as the lexical index stems it) and none of the others does: a name only one article has ("Korneyev" in "who
        is Ivan Korneyev?") that the meaning of the question alone never ranks high enough."""
        dense_ids: list[int] = []
        if mode in {"dense", "hybrid"}:
            _, ids = self.store.search(query_vector, max(k, depth) if mode == "hybrid" else k)
            dense_ids = [int(i) for i in ids[0] if i >= 0]
        lexical_ids: list[int] = []
        if mode in {"lexical", "hybrid"}:
            lexical_ids = [i for i, _ in self.lexical.search(question, max(k, depth) if mode == "hybrid" else k)]
        if mode == "dense":
            ranked = dense_ids
        elif mode == "lexical":
            ranked = lexical_ids
        else:
            ranked = [i for i, _ in reciprocal_rank_fusion([dense_ids, lexical_ids], weights, k=rank_constant)]
        ranked = ranked[:k]
        if leaders:
            ranked += missing_leaders(ranked, dense_ids, lexical_ids)
            ranked += self._holder_of(rarest, ranked, lexical_ids)
        if not ranked:
            return []
        cosines = self.vectors(ranked) @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return self.passages_for(ranked, cosines.tolist())

    def _holder_of(self, term: str | None, ranked: list[int], lexical_ids: list[int]) -> list[int]:
        if not term or not lexical_ids or lexical_ids[0] in ranked:
            return []
        holders = self.lexical.postings(term)  # none for a word the collection never uses ("Gillette")
        return [lexical_ids[0]] if lexical_ids[0] in holders and not np.isin(ranked, holders).any() else []

    def vectors(self, chunk_ids) -> np.ndarray:
        try:
            return self.store.vectors(np.asarray(chunk_ids, dtype=np.int64))
        except (RuntimeError, KeyError) as exc:  # a chunk id the vector store does not hold
            raise damaged(self.path, f"vectors: {exc}") from exc

    def passages_for(self, chunk_ids: list[int], scores: list[float]) -> list[Passage]:
        return self.meta.passages_for(chunk_ids, scores)

    def chunk_articles(self, chunk_ids) -> dict[int, str]:
        return self.meta.chunk_articles(chunk_ids)

    def chunks_of(self, article_ids) -> list[int]:
        return self.meta.chunks_of(article_ids)

    def articles_containing(self, snippet: str) -> list[str]:
        """Ids of the articles whose text contains ``snippet`` exactly."""
        return self.meta.articles_containing(snippet)

    def article(self, article_id: str) -> Article | None:
        return self.meta.article(article_id)

    def text_slice(self, article_id: str, start: int, end: int) -> str:
        """``article(article_id).text[start:end]`` without loading the whole text ('' for an unknown id)."""
        return self.meta.text_slice(article_id, start, end)

    def sentence_bounds(self, article_id: str, start: int, end: int) -> tuple[int, int]:
        """(first, last) character of the sentences holding the span's first through its last character: the
        sentence to quote for a citation of ``[start, end)``. Where no sentence holds an end, the span's own end."""
        first, last = start, end
        for s_start, s_end in self.meta.sentences(article_id, start, end):
            if s_start <= start < s_end:
                first = min(first, s_start)
            if s_start < end <= s_end:
                last = max(last, s_end)
        return first, last

    def cited_sentence(self, article_id: str, start: int, end: int) -> tuple[int, int, str]:
        """(sentence_start, sentence_end, sentence text) for a citation of ``[start, end)``: an indexed lookup of
        the sentences and a substr(), so only the sentence reaches Python (SQLite still reads the stored text once:
        about 50 ms for a 50 MB article, against seconds for the whole text and its sentence list)."""
        first, last = self.sentence_bounds(article_id, start, end)
        return first, last, self.text_slice(article_id, first, last)

    def sentences(self, article_id: str) -> list[tuple[int, int]]:
        """All sentence spans of an article, in order (a whole list: for one citation use cited_sentence)."""
        return self.meta.sentences(article_id)

    def source_of(self, article_id: str) -> str | None:
        """The file (relative to the articles folder) an article came from; None for API articles and unknown ids."""
        return self.meta.source_of(article_id)

    def articles_from(self, source: str) -> list[str]:
        """Ids of all articles that came from one file (several for a JSONL file)."""
        return self.meta.articles_from(source)

    def article_ids(self) -> list[str]:
        return self.meta.article_ids()

    def counts(self) -> tuple[int, int]:
        return self.meta.counts()

    def chunk_rows(self) -> list[tuple[int, str, int, int]]:
        """Every chunk as (chunk id, article id, start, end), by article and position."""
        return self.meta.chunk_rows()
