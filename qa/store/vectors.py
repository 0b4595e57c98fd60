"""Vector stores: chunk id -> vector, inner-product search. The Protocol every backend keeps (checked by
tests/test_store_contract.py), the default exact FAISS store, and the factory keyed by ``Settings.store``.

Backends: ``faiss-flat`` (exact, this module), ``faiss-ann`` / ``auto`` (qa/store/faiss_ann.py: exact below
``ann_threshold`` vectors, FAISS IVF above), ``milvus`` (qa/store/milvus.py: a Milvus server or milvus-lite file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from qa.errors import ConfigError, IndexCorrupt, generation_damaged

if TYPE_CHECKING:
    from qa.settings import Settings


@runtime_checkable
class VectorStore(Protocol):
    """Ids are chunk ids (int64 >= 0, never reused). Adding an id the store holds is a ValueError; removing an
    unknown id is not an error (``remove`` returns how many it removed); ``vectors`` of an unknown id is a KeyError.
    A store's contents reach disk only through ``save(generation_folder)``."""

    name: str
    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (len(queries), min(k, len(self))), best first; id -1 pads a row that found
        fewer (callers skip negative ids). Ids in ``exclude`` are never returned."""

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these ids, shape (len(ids), dimension)."""

    def save(self, path: Path) -> None: ...


def check_new(ids: np.ndarray, vectors: np.ndarray, dimension: int, present) -> tuple[np.ndarray, np.ndarray]:
    """Validate an add(): shapes, non-negative distinct ids, none already stored (``present(ids)`` -> bool mask)."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape != (len(ids), dimension):
        raise ValueError(f"expected vectors of shape ({len(ids)}, {dimension}), got {vectors.shape}")
    if len(ids) and ids.min() < 0:
        raise ValueError("chunk ids must not be negative")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("the same chunk id appears twice in one add()")
    clash = ids[present(ids)] if len(ids) else ids
    if len(clash):
        raise ValueError(f"chunk ids already in the store: {clash[:5].tolist()} (ids are never reused)")
    return ids, vectors


def idmap_ids(index) -> np.ndarray:
    """The ids an IndexIDMap(2) holds."""
    import faiss

    return faiss.vector_to_array(index.id_map).astype(np.int64)


class FaissFlatStore:
    """Exact inner-product search. IndexIDMap2 keeps our chunk ids and supports removal by id."""

    name = "faiss-flat"
    filename = "vectors.faiss"
    per_segment = True  # one file in each segment's folder

    def __init__(self, dimension: int, index=None):
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _present(self, ids: np.ndarray) -> np.ndarray:
        return np.isin(ids, idmap_ids(self._index)) if len(self) else np.zeros(len(ids), bool)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_new(ids, vectors, self.dimension, self._present)
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        import faiss

        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``exclude``: ids to skip (a segment's tombstones), filtered inside FAISS so k results still come back."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        k = max(1, min(k, len(self)))
        if exclude is None or not len(exclude):
            return self._index.search(queries, k)
        batch = faiss.IDSelectorBatch(np.asarray(exclude, dtype=np.int64))
        selector = faiss.IDSelectorNot(batch)  # both kept referenced until the search returns
        return self._index.search(queries, k, params=self._search_parameters(selector))

    def _search_parameters(self, selector):
        import faiss

        return faiss.SearchParameters(sel=selector)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return reconstruct(self._index, ids, self.dimension)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path / self.filename))

    @classmethod
    def load(cls, path: Path, dimension: int, settings: "Settings | None" = None) -> "FaissFlatStore":
        return cls(dimension, read_faiss(path, cls.filename, dimension))


def reconstruct(index, ids: np.ndarray, dimension: int) -> np.ndarray:
    """Stored vectors by chunk id in one call; an id the index does not hold is a KeyError naming it."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if not len(ids):
        return np.zeros((0, dimension), np.float32)
    try:
        return index.reconstruct_batch(ids)
    except RuntimeError:
        for chunk_id in ids:
            try:
                index.reconstruct(int(chunk_id))
            except RuntimeError:
                raise KeyError(f"chunk id {int(chunk_id)} is not in the vector store") from None
        raise


def read_faiss(path: Path, filename: str, dimension: int, flags: int = 0):
    """Read a FAISS index file of a generation; an unreadable file or another dimension is a damaged generation."""
    import faiss

    try:
        index = faiss.read_index(str(path / filename), flags)
    except RuntimeError as exc:
        raise generation_damaged(path, f"{filename}: cannot be read, {exc}".replace("\n", " ")) from exc
    if index.d != dimension:
        raise IndexCorrupt(f"{path} holds {index.d}-d vectors, expected {dimension}; rebuild with `qa index --rebuild`")
    return index


def _backend(name: str):
    """The class of a store name as recorded in a manifest (imported on demand: milvus needs pymilvus)."""
    if name == FaissFlatStore.name:
        return FaissFlatStore
    if name == "faiss-ann":
        from qa.store.faiss_ann import FaissAnnStore

        return FaissAnnStore
    if name == "milvus":
        from qa.store.milvus import MilvusStore

        return MilvusStore
    return None


STORE_NAMES = ("faiss-flat", "faiss-ann", "auto", "milvus")  # what Settings.store accepts


def new_store(name: str, dimension: int, settings: "Settings | None" = None) -> VectorStore:
    """An empty store. ``auto`` is the ANN store with the exact/approximate switch at ``settings.ann_threshold``."""
    from qa.settings import Settings

    settings = settings or Settings.from_env()
    cls = _backend("faiss-ann" if name == "auto" else name)
    if cls is None:
        raise ConfigError(f"unknown vector store {name!r}; choose one of {', '.join(STORE_NAMES)} (QA_STORE)")
    return cls.create(dimension, settings) if hasattr(cls, "create") else cls(dimension)


def load_store(name: str, path: Path, dimension: int, settings: "Settings | None" = None) -> VectorStore:
    """The store of generation folder ``path``; ``name`` is the manifest's, whatever QA_STORE says now."""
    cls = _backend(name)
    if cls is None:
        raise ConfigError(f"this index uses store {name!r}, which this version does not know") from None
    return cls.load(path, dimension, settings)


def segment_stores(name: str) -> bool:
    """Whether a store of this name keeps its vectors in each segment's folder (FAISS) rather than in one store
    for the whole index (Milvus)."""
    return bool(getattr(_backend(name), "per_segment", False))


def store_filename(name: str) -> str:
    """The file a store of this name keeps its vectors in, inside a generation folder ('' if unknown)."""
    return getattr(_backend(name), "filename", "")
