"""A loaded, read-only index generation: vectors plus chunk and article metadata."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import EmbedderMismatch
from qa.lexical import BM25Index, reciprocal_rank_fusion
from qa.generations import connect_readonly, generation_number, read_manifest
from qa.store import VectorStore, load_store
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
    store: VectorStore
    db: sqlite3.Connection
    _lexical: object = None

    @classmethod
    def open(cls, path: Path) -> "LoadedGeneration":
        manifest = read_manifest(path)
        store = load_store(manifest["store"], path, manifest["embedder"]["dimension"])
        return cls(path, manifest, store, connect_readonly(path), _UNLOADED)

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
            self._lexical = BM25Index.load(self.path)
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
        cosines = self.store.vectors(np.asarray(ranked, dtype=np.int64)) @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        return self.passages_for(ranked, cosines.tolist())

    def passages_for(self, chunk_ids: list[int], scores: list[float]) -> list[Passage]:
        wanted = [(int(i), float(s)) for i, s in zip(chunk_ids, scores) if i >= 0]
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT c.id, c.article_id, c.start, c.end, a.title, a.url, a.date, a.author, "
            f"substr(a.text, c.start + 1, c.end - c.start) AS text "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            [i for i, _ in wanted],
        ).fetchall()
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
        return [row[0] for row in self.db.execute("SELECT id FROM articles WHERE instr(text, ?) > 0 ORDER BY id", (snippet,))]

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None
        return Article(
            id=row["id"],
            text=row["text"],
            title=row["title"] or "",
            url=row["url"],
            date=row["date"],
            author=row["author"],
            boilerplate=tuple(tuple(span) for span in json.loads(row["boilerplate"])),
        )

    def sentences(self, article_id: str) -> list[tuple[int, int]]:
        row = self.db.execute("SELECT sentences FROM articles WHERE id = ?", (article_id,)).fetchone()
        return [tuple(span) for span in json.loads(row["sentences"])] if row else []

    def source_of(self, article_id: str) -> str | None:
        """The file (relative to the articles folder) an article came from; None for API articles and unknown ids."""
        row = self.db.execute("SELECT source FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def articles_from(self, source: str) -> list[str]:
        """Ids of all articles that came from one file (several for a JSONL file)."""
        return [row[0] for row in self.db.execute("SELECT id FROM articles WHERE source = ? ORDER BY id", (source,))]

    def article_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def counts(self) -> tuple[int, int]:
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(articles), int(chunks)
