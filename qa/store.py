"""Vector stores: chunk id -> vector, inner-product search. FAISS IndexIDMap2 over a flat index by default."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import ConfigError, IndexCorrupt, generation_damaged


@runtime_checkable
class VectorStore(Protocol):
    name: str
    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (len(queries), k); missing results have id -1."""

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these ids, shape (len(ids), dimension)."""

    def save(self, path: Path) -> None: ...


class FaissFlatStore:
    """Exact inner-product search. IndexIDMap2 keeps our chunk ids and supports removal by id."""

    name = "faiss-flat"
    filename = "vectors.faiss"

    def __init__(self, dimension: int, index=None):
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dimension}), got {vectors.shape}")
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        import faiss

        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self._index.search(queries, k)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, chunk_id in enumerate(ids):
            out[row] = self._index.reconstruct(int(chunk_id))
        return out

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path / self.filename))

    @classmethod
    def load(cls, path: Path, dimension: int) -> "FaissFlatStore":
        import faiss

        try:
            index = faiss.read_index(str(path / cls.filename))
        except RuntimeError as exc:
            raise generation_damaged(path, f"{cls.filename}: cannot be read, {exc}".replace("\n", " ")) from exc
        if index.d != dimension:
            raise IndexCorrupt(f"{path} holds {index.d}-d vectors, expected {dimension}; rebuild with `qa index --rebuild`")
        return cls(dimension, index)


_STORES = {FaissFlatStore.name: FaissFlatStore}


def new_store(name: str, dimension: int) -> VectorStore:
    try:
        return _STORES[name](dimension)
    except KeyError:
        raise ConfigError(f"unknown vector store {name!r}; choose one of {sorted(_STORES)} (QA_STORE)") from None


def load_store(name: str, path: Path, dimension: int) -> VectorStore:
    try:
        cls = _STORES[name]
    except KeyError:
        raise ConfigError(f"this index uses store {name!r}, which this version does not know") from None
    return cls.load(path, dimension)


def store_filename(name: str) -> str:
    """The file a store of this name keeps its vectors in, inside a generation folder ('' if unknown)."""
    return getattr(_STORES.get(name), "filename", "")
