"""Segments: how a generation's articles are split into immutable parts, and the tombstones that hide deleted ones.

A segment folder holds one batch of articles as it was written: ``meta.sqlite`` (articles, chunks, sentences),
``bm25/`` (their lexical index, whose ``chunk_ids.npy`` also lists the segment's chunk ids) and, for the FAISS
stores, ``vectors.faiss``. A segment is never changed once written; a generation lists its segments in its
manifest and keeps ``deletes.json``: per segment, the article and chunk ids deleted from it since. A new generation
hard-links the segments it keeps from the previous one (no bytes copied), so a sync writes only what changed: one
new segment and a new tombstone file. Merges (qa/store/writer.py) rewrite a few segments as one, dropping their
deleted rows.

Generations written in format 1 (one meta.sqlite, vectors.faiss and bm25/ at the top of the folder) read as a
single segment whose folder is the generation folder itself.
"""

from __future__ import annotations

import heapq
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import generation_damaged

DELETES = "deletes.json"
PARALLEL_FROM = 50_000  # vectors in all: below this, threads cost more than they save
ROOT_SEGMENT = "."  # format 1: the generation folder is its only segment


@dataclass
class SegmentInfo:
    name: str
    articles: int  # rows written, tombstoned ones included
    chunks: int
    deleted_articles: set[str] = field(default_factory=set)
    deleted_chunks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def live_chunks(self) -> int:
        return self.chunks - len(self.deleted_chunks)

    def entry(self) -> dict:
        return {"name": self.name, "articles": self.articles, "chunks": self.chunks}


def segment_name(generation: int, serial: int) -> str:
    return f"seg-{generation:06d}-{serial}"


def segments_of(path: Path, manifest: dict) -> list[SegmentInfo]:
    """The segments a generation lists, oldest first, with their tombstones."""
    if manifest.get("format") == 1:
        return [SegmentInfo(ROOT_SEGMENT, int(manifest.get("articles", 0)), int(manifest.get("chunks", 0)))]
    infos = [SegmentInfo(e["name"], int(e["articles"]), int(e["chunks"])) for e in manifest.get("segments", [])]
    try:
        deletes = json.loads((path / DELETES).read_text()) if (path / DELETES).exists() else {}
        for info in infos:
            entry = deletes.get(info.name, {})
            info.deleted_articles = set(entry.get("articles", []))
            info.deleted_chunks = np.asarray(sorted(entry.get("chunks", [])), dtype=np.int64)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise generation_damaged(path, f"{DELETES}: unreadable, {exc}") from exc
    return infos


def write_deletes(path: Path, infos: list[SegmentInfo]) -> None:
    deletes = {
        i.name: {"articles": sorted(i.deleted_articles), "chunks": i.deleted_chunks.tolist()}
        for i in infos if i.deleted_articles
    }
    (path / DELETES).write_text(json.dumps(deletes))


def segment_dir(generation: Path, name: str) -> Path:
    return generation if name == ROOT_SEGMENT else generation / name


def segment_chunk_ids(folder: Path) -> np.ndarray | None:
    """A segment's chunk ids, sorted (from its lexical index's id list; None when it has none)."""
    path = folder / "bm25" / "chunk_ids.npy"
    return np.sort(np.load(path, allow_pickle=False)) if path.exists() else None


class SegmentedVectors:
    """A generation's vectors across its segments' stores (or one external store, such as Milvus, that keeps
    deletions itself): search merges the parts' best, skipping tombstoned ids inside FAISS."""

    def __init__(self, parts: list, ids: list[np.ndarray | None], deleted: list[np.ndarray]):
        self.parts = parts
        self.ids = ids  # each part's chunk ids, sorted; None when the only part
        self.deleted = deleted
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _map(self, search, work: list) -> list:
        """Segments are searched side by side on the CPU's cores (FAISS releases the GIL)."""
        if len(work) < 2 or sum(len(p) for p, _ in work) < PARALLEL_FROM:
            return [search(item) for item in work]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(min(len(work), os.cpu_count() or 1), thread_name_prefix="segment")
        return list(self._pool.map(search, work))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    @property
    def name(self) -> str:
        return self.parts[0].name if self.parts else ""

    @property
    def dimension(self) -> int:
        return self.parts[0].dimension

    def __len__(self) -> int:
        return sum(len(p) - len(d) for p, d in zip(self.parts, self.deleted))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        work = [(part, d) for part, d in zip(self.parts, self.deleted) if len(part)]
        results = self._map(lambda item: item[0].search(queries, k, exclude=item[1]), work)
        if len(results) == 1:
            return results[0]
        width = min(k, len(self))
        scores = np.full((len(queries), width), -np.inf, np.float32)
        found = np.full((len(queries), width), -1, np.int64)
        for row in range(len(queries)):
            pairs = [(float(s), int(i)) for r_scores, r_ids in results for s, i in zip(r_scores[row], r_ids[row]) if i >= 0]
            best = heapq.nlargest(width, pairs, key=lambda pair: (pair[0], -pair[1]))
            scores[row, : len(best)] = [s for s, _ in best]
            found[row, : len(best)] = [i for _, i in best]
        return scores, found

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors by chunk id; an id no part holds is a KeyError."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(self.parts) == 1:
            return self.parts[0].vectors(ids)
        out = np.zeros((len(ids), self.dimension), np.float32)
        todo = np.ones(len(ids), bool)
        for part, part_ids in zip(self.parts, self.ids):
            if not todo.any():
                break
            if part_ids is None or not len(part_ids):
                continue
            where = np.searchsorted(part_ids, ids)
            held = todo & (part_ids[np.minimum(where, len(part_ids) - 1)] == ids)
            if held.any():
                out[held] = part.vectors(ids[held])
                todo &= ~held
        if todo.any():
            raise KeyError(f"chunk id {int(ids[todo][0])} is not in the vector store")
        return out
