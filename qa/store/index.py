"""A loaded, read-only index generation: vectors plus chunk and article metadata."""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import EmbedderMismatch
from qa.errors import generation_damaged as damaged
from qa.store.generations import connect_readonly, generation_number, read_manifest
from qa.store.integrity import check_files, failures
from qa.store.lexical import BM25Index, reciprocal_rank_fusion
from qa.store.vectors import VectorStore, load_store
from qa.types import Article, Passage

SENTENCE_CACHE_ARTICLES = 32  # parsed sentence lists kept per generation (only for generations without the table)


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


def article_from_row(row) -> Article:
    """An ``articles`` table row as the Article it stores."""
    return Article(
        id=row["id"],
        text=row["text"],
        title=row["title"] or "",
        url=row["url"],
        date=row["date"],
        author=row["author"],
        boilerplate=tuple(tuple(span) for span in json.loads(row["boilerplate"])),
    )


@dataclass
class LoadedGeneration:
    path: Path
    manifest: dict
    store: VectorStore
    db: sqlite3.Connection
    _lexical: object = None
    _sentence_cache: OrderedDict = field(default_factory=OrderedDict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)
    _has_sentence_table: bool = False

    @classmethod
    def open(cls, path: Path) -> "LoadedGeneration":
        """Open a published generation after the cheap checks (every recorded file present, of its recorded size);
        `qa status --verify` also compares checksums."""
        manifest = read_manifest(path)
        problem = failures(check_files(path, manifest))
        if problem:
            raise damaged(path, problem)
        store = load_store(manifest["store"], path, manifest["embedder"]["dimension"])
        try:
            db = connect_readonly(path)
            db.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise damaged(path, f"meta.sqlite: {exc}") from exc
        generation = cls(path, manifest, store, db, _UNLOADED)
        generation._has_sentence_table = bool(
            generation._rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sentences'")
        )
        return generation

    def _rows(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        """Every query goes through here: a damaged database file is a clean IndexCorrupt, not a traceback."""
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, f"meta.sqlite: {exc}") from exc

    @property
    def number(self) -> int:
        return generation_number(self.path.name)

    def close(self) -> None:
        self.db.close()

    def __del__(self) -> None:
        try:
            self.db.close()
        except Exception:
            pass

    @property
    def lexical(self) -> BM25Index | None:
        if self._lexical is _UNLOADED:
            try:
                self._lexical = BM25Index.load(self.path)
            except (OSError, ValueError, KeyError, TypeError) as exc:  # truncated or overwritten bm25 files
                raise damaged(self.path, f"bm25: {exc}") from exc
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
    ) -> list[Passage]:
        """Dense, lexical (BM25) or both fused by reciprocal rank. Passage.score stays the cosine similarity to the
        question in every mode, so scores mean the same thing whichever ranking produced the list."""
        dense_ids: list[int] = []
        if mode in {"dense", "hybrid"}:
            _, ids = self.store.search(query_vector, max(k, depth) if mode == "hybrid" else k)
            dense_ids = [int(i) for i in ids[0] if i >= 0]
        lexical_ids: list[int] = []
        if mode in {"lexical", "hybrid"} and self.lexical is not None:
            lexical_ids = [i for i, _ in self.lexical.search(question, max(k, depth) if mode == "hybrid" else k)]
        if mode == "dense":
            ranked = dense_ids
        elif mode == "lexical":
            ranked = lexical_ids
        else:
            ranked = [i for i, _ in reciprocal_rank_fusion([dense_ids, lexical_ids], weights, k=rank_constant)]
        ranked = ranked[:k]
        if not ranked:
            return []
        try:
            vectors = self.store.vectors(np.asarray(ranked, dtype=np.int64))
        except (RuntimeError, KeyError) as exc:  # a chunk id the vector store does not hold
            raise damaged(self.path, f"vectors: {exc}") from exc
        cosines = vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return self.passages_for(ranked, cosines.tolist())

    def passages_for(self, chunk_ids: list[int], scores: list[float]) -> list[Passage]:
        wanted = [(int(i), float(s)) for i, s in zip(chunk_ids, scores) if i >= 0]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._rows(
            f"SELECT c.id, c.article_id, c.start, c.end, a.title, a.url, a.date, a.author, "
            f"substr(a.text, c.start + 1, c.end - c.start) AS text "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            [i for i, _ in wanted],
        )
        by_id = {row["id"]: row for row in rows}
        passages = []
        for chunk_id, score in wanted:
            row = by_id.get(chunk_id)
            if row is None:
                continue
            passages.append(
                Passage(
                    article_id=row["article_id"],
                    title=row["title"] or "",
                    text=row["text"],
                    start=row["start"],
                    end=row["end"],
                    score=score,
                    chunk_id=chunk_id,
                    url=row["url"],
                    date=row["date"],
                    author=row["author"],
                )
            )
        return passages

    def articles_containing(self, snippet: str) -> list[str]:
        """Ids of the articles whose text contains ``snippet`` exactly."""
        if not snippet:
            return []
        return [row[0] for row in self._rows("SELECT id FROM articles WHERE instr(text, ?) > 0 ORDER BY id", (snippet,))]

    def article(self, article_id: str) -> Article | None:
        rows = self._rows("SELECT * FROM articles WHERE id = ?", (article_id,))
        if not rows:
            return None
        return article_from_row(rows[0])

    def text_slice(self, article_id: str, start: int, end: int) -> str:
        """``article(article_id).text[start:end]`` without loading the whole text ('' for an unknown id)."""
        start, end = max(0, int(start)), max(0, int(end))
        if end <= start:
            return ""
        rows = self._rows("SELECT substr(text, ?, ?) FROM articles WHERE id = ?", (start + 1, end - start, article_id))
        return rows[0][0] if rows else ""

    def sentence_bounds(self, article_id: str, start: int, end: int) -> tuple[int, int]:
        """(first, last) character of the sentences holding the span's first through its last character: the
        sentence to quote for a citation of ``[start, end)``. Where no sentence holds an end, the span's own end."""
        first, last = start, end
        for s_start, s_end in self.sentences_near(article_id, start, end):
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

    def sentences_near(self, article_id: str, start: int, end: int) -> list[tuple[int, int]]:
        """The sentence spans that overlap ``[start, end]`` (a span's end may touch a sentence's end), in order."""
        if self._has_sentence_table:
            rows = self._rows(
                "SELECT start, end FROM sentences WHERE article_id = ? AND start <= ? AND start >= "
                "coalesce((SELECT max(start) FROM sentences WHERE article_id = ? AND start <= ?), 0) ORDER BY start",
                (article_id, end, article_id, start),
            )
            return [(row[0], row[1]) for row in rows]
        spans = self._cached_sentences(article_id)
        first = max(0, bisect.bisect_right(spans, (start, float("inf"))) - 1)
        last = bisect.bisect_right(spans, (end, float("inf")))
        return spans[first:last]

    def sentences(self, article_id: str) -> list[tuple[int, int]]:
        """All sentence spans of an article, in order (a whole list: for one citation use cited_sentence)."""
        if self._has_sentence_table:
            rows = self._rows("SELECT start, end FROM sentences WHERE article_id = ? ORDER BY start", (article_id,))
            return [(row[0], row[1]) for row in rows]
        return list(self._cached_sentences(article_id))

    def _cached_sentences(self, article_id: str) -> list[tuple[int, int]]:
        # Older generations keep sentences only as JSON: parse an article's once, keep the last few.
        with self._cache_lock:
            if article_id in self._sentence_cache:
                self._sentence_cache.move_to_end(article_id)
                return self._sentence_cache[article_id]
        rows = self._rows("SELECT sentences FROM articles WHERE id = ?", (article_id,))
        spans = [tuple(span) for span in json.loads(rows[0][0])] if rows else []
        with self._cache_lock:
            self._sentence_cache[article_id] = spans
            while len(self._sentence_cache) > SENTENCE_CACHE_ARTICLES:
                self._sentence_cache.popitem(last=False)
        return spans

    def source_of(self, article_id: str) -> str | None:
        """The file (relative to the articles folder) an article came from; None for API articles and unknown ids."""
        rows = self._rows("SELECT source FROM articles WHERE id = ?", (article_id,))
        return rows[0][0] if rows else None

    def articles_from(self, source: str) -> list[str]:
        """Ids of all articles that came from one file (several for a JSONL file)."""
        return [row[0] for row in self._rows("SELECT id FROM articles WHERE source = ? ORDER BY id", (source,))]

    def article_ids(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT id FROM articles ORDER BY id")]

    def counts(self) -> tuple[int, int]:
        articles = self._rows("SELECT count(*) FROM articles")[0][0]
        chunks = self._rows("SELECT count(*) FROM chunks")[0][0]
        return int(articles), int(chunks)
