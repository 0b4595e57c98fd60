"""Approximate search above a size threshold. Every store keeps its exact vectors in an IndexIDMap2(Flat)
(``vectors.faiss``: what ``vectors()`` returns and what results are re-scored with); once it holds ``threshold``
vectors it also keeps an IVF over 8-bit scalar-quantised codes (``ann.faiss``) that a search scans. The switch
happens in save(), so a generation either has the IVF file or does not.

Why this shape: an IVF builds in seconds where HNSW takes minutes (scripts/bench_stores.py), and HNSW's recall on
vectors without cluster structure was no better at equal time; scanning 8-bit codes instead of floats reads 4x fewer
bytes, and re-scoring k + 30 (at least 2k) candidates with the exact vectors gives back what quantisation costs
(scripts/bench_scale.py reports recall@10 against exact search at 100k and 1M chunks). Both files open memory-mapped
(IO_FLAG_MMAP_IFC, zero-copy), so an index larger than RAM still opens; a reader pages in the codes of the lists it
probes, and reads the few exact vectors it re-scores with pread (qa/store/flat_file.py), not through the map. A
mapped index is read-only: a writer reads the files into memory before its first change.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.store.flat_file import FlatFileRows
from qa.store.vectors import FaissFlatStore, check_new, idmap_ids, read_faiss

if TYPE_CHECKING:
    from qa.settings import Settings

TRAIN_POINTS_PER_LIST = 40  # k-means sample per inverted list (FAISS wants at least 39): stable, fast to train
ANN_FILE = "ann.faiss"
def candidates_for(k: int) -> int:
    """How many the IVF returns for the exact re-scoring: 4k for a small k (40 for 10), fewer extra for a large one
    (hybrid search asks for 50, and each candidate is a vector read from the mapped file)."""
    return max(k + 30, 2 * k)
CALIBRATION_QUERIES = 200


def lists_for(n: int) -> int:
    """Inverted lists for n vectors: about 4 * sqrt(n) (FAISS's guideline), and no more than there are training
    points for."""
    return max(1, min(n // TRAIN_POINTS_PER_LIST, int(4 * math.sqrt(n))))


class FaissAnnStore(FaissFlatStore):
    """``vectors()`` and ``len`` are the flat store's; search goes through the IVF when there is one."""

    name = "faiss-ann"
    filename = FaissFlatStore.filename

    def __init__(self, dimension: int, index=None, *, threshold: int = 0, nprobe: int = 0, recall: float = 0.99,
                 path: Path | None = None):
        import faiss

        self.dimension = dimension
        self.threshold = threshold
        self.nprobe = nprobe  # 0: measured when the IVF is built, and saved with it
        self.recall = recall
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._ann = None  # the IVF over quantised codes, when the store is at or above the threshold
        self._path = path  # set while the files are memory-mapped (read-only) from this folder
        self._rows: FlatFileRows | None = None  # while mapped: exact vectors read with pread (qa/store/flat_file.py)
        self._ids: np.ndarray | None = None  # stored ids, worked out on the first write

    @classmethod
    def create(cls, dimension: int, settings: "Settings") -> "FaissAnnStore":
        # QA_STORE=faiss-ann asks for approximate search at any size; 'auto' switches at ann_threshold.
        threshold = 0 if settings.store == "faiss-ann" else settings.ann_threshold
        return cls(dimension, threshold=threshold, nprobe=settings.ann_nprobe, recall=settings.ann_recall)

    @classmethod
    def load(cls, path: Path, dimension: int, settings: "Settings | None" = None) -> "FaissAnnStore":
        import faiss

        from qa.settings import Settings

        settings = settings or Settings()  # readers: the threshold only matters to writers
        store = cls.create(dimension, settings)
        mapped = settings.ann_mmap
        flags = faiss.IO_FLAG_MMAP_IFC if mapped else 0  # zero-copy: pages are read as they are touched
        store._index = read_faiss(path, cls.filename, dimension, flags)
        if (path / ANN_FILE).exists():
            store._ann = read_faiss(path, ANN_FILE, dimension, flags)
        elif not hasattr(store._index, "id_map"):  # written before ann.faiss: vectors.faiss is an IVF-Flat
            store._ann = read_faiss(path, cls.filename, dimension)  # in memory: it will not be written back as is
            store._index = _flat_copy(store._ann, dimension)
            mapped = False
        store._path = path if mapped else None
        if mapped:
            store._rows = FlatFileRows.open(path / cls.filename, store._index)
        store._configure()
        return store

    @property
    def approximate(self) -> bool:
        return self._ann is not None

    def _configure(self) -> None:
        if self.approximate and self.nprobe:
            self._ann.nprobe = min(self.nprobe, self._ann.nlist)

    def _writable(self) -> None:
        """Mapped files are read-only: a writer reads them into memory before its first change."""
        if self._path is not None:
            if self._rows is not None:
                self._rows.close()
                self._rows = None
            self._index = read_faiss(self._path, self.filename, self.dimension)
            if self._ann is not None:
                self._ann = read_faiss(self._path, ANN_FILE, self.dimension)
            self._path = None
            self._configure()

    def stored_ids(self) -> np.ndarray:
        if self._ids is None:
            self._ids = idmap_ids(self._index)
        return self._ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if self._rows is not None:
            return self._rows.read(ids)
        return super().vectors(ids)

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not self.approximate:
            return super().search(queries, k, exclude)
        return self.approximate_search(queries, k, exclude)

    def approximate_search(self, queries, k, exclude=None, nprobe: int | None = None):
        """The IVF's best candidates by quantised score, re-scored with the exact vectors: (scores, ids)."""
        import faiss

        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self)))
        params = faiss.SearchParametersIVF(nprobe=nprobe or self._ann.nprobe)
        if exclude is not None and len(exclude):
            batch = faiss.IDSelectorBatch(np.asarray(exclude, dtype=np.int64))
            selector = faiss.IDSelectorNot(batch)  # both kept referenced until the search returns
            params.sel = selector
        _, candidates = self._ann.search(queries, candidates_for(k), params=params)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        found = np.full((len(queries), k), -1, np.int64)
        for row, ids in enumerate(candidates):
            ids = ids[ids >= 0]
            if not len(ids):
                continue
            exact = self.vectors(ids) @ queries[row]
            best = np.argsort(-exact, kind="stable")[:k]
            scores[row, : len(best)], found[row, : len(best)] = exact[best], ids[best]
        return scores, found

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_new(ids, vectors, self.dimension, lambda i: np.isin(i, self.stored_ids()))
        if not len(ids):
            return
        self._writable()
        self._index.add_with_ids(vectors, ids)
        if self._ann is not None:
            self._ann.add_with_ids(vectors, ids)
        self._ids = np.concatenate([self.stored_ids(), ids])

    def remove(self, ids: np.ndarray) -> int:
        import faiss

        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids) or not np.isin(ids, self.stored_ids()).any():
            return 0
        self._writable()
        removed = int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))
        if self._ann is not None:  # the hashtable direct map removes only through an IDSelectorArray
            self._ann.remove_ids(faiss.IDSelectorArray(ids))
        self._ids = self.stored_ids()[~np.isin(self.stored_ids(), ids)]
        return removed

    def save(self, path: Path) -> None:
        import faiss

        self._rebalance()
        faiss.write_index(self._index, str(path / self.filename))
        if self._ann is not None:
            faiss.write_index(self._ann, str(path / ANN_FILE))

    def _rebalance(self) -> None:
        """An IVF at or above the threshold, none below half of it (no flip-flop around the threshold); the IVF is
        retrained when the store has grown to need twice as many lists (its centroids describe the data it was
        trained on)."""
        n = len(self)
        if self.approximate:
            if n < self.threshold // 2 or n == 0:
                self._writable()
                self._ann = None
            elif lists_for(n) >= 2 * self._ann.nlist:
                self._build_ann()
        elif n >= max(1, self.threshold):
            self._build_ann()

    def _build_ann(self) -> None:
        import faiss

        self._writable()
        ids = self.stored_ids().copy()
        vectors = self.vectors(ids)
        nlist = lists_for(len(ids))
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(self.dimension), self.dimension, nlist,
                                              faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids() by chunk id
        sample = np.random.default_rng(0).permutation(len(ids))[: nlist * TRAIN_POINTS_PER_LIST]
        index.train(vectors[np.sort(sample)])
        index.add_with_ids(vectors, ids)
        self._ann = index
        if self.nprobe:
            self._configure()
        else:
            index.nprobe = measured_nprobe(self, ids, vectors, self.recall)


def _flat_copy(ivf, dimension: int):
    """An IndexIDMap2(Flat) holding an IVF-Flat's vectors under the same ids (read once from an older file)."""
    import faiss

    lists = ivf.invlists
    parts = []
    for number in range(lists.nlist):
        size = lists.list_size(number)
        if size:
            parts.append(faiss.rev_swig_ptr(lists.get_ids(number), size).astype(np.int64).copy())
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if len(ids):
        flat.add_with_ids(ivf.reconstruct_batch(ids), ids)
    return flat


def measured_nprobe(store: FaissAnnStore, ids: np.ndarray, vectors: np.ndarray, recall: float, k: int = 10) -> int:
    """The fewest inverted lists to probe for ``recall``@k against exact search, measured on a sample of the
    store's own vectors as queries (each one's own id left out), searched as a reader searches (quantised scan, then
    exact re-scoring): clustered text embeddings need few lists, vectors without structure (the hashing embedder)
    many. A result counts when it scores at least the exact k-th best (ties are common among near-duplicate chunks).
    Doubling, then a bisection between the last two tries."""
    nlist = store._ann.nlist
    k = min(k, len(vectors) - 2)
    if k < 1:
        return nlist
    rng = np.random.default_rng(0)
    sample = np.sort(rng.permutation(len(vectors))[:CALIBRATION_QUERIES])
    queries = vectors[sample]
    scores = queries @ vectors.T
    scores[np.arange(len(sample)), sample] = -np.inf
    kth = np.partition(scores, -k, axis=1)[:, -k] - 1e-5
    own = ids[sample]

    def reached(nprobe: int) -> bool:
        found_scores, found = store.approximate_search(queries, k + 1, nprobe=nprobe)
        hits = [(found_scores[i][found[i] != own[i]][:k] >= kth[i]).sum() / k for i in range(len(sample))]
        return float(np.mean(hits)) >= recall

    low, high = 0, 1
    while high < nlist and not reached(high):
        low, high = high, min(nlist, high * 2)
    while high - low > max(1, low // 8):  # within an eighth of the answer is precise enough
        middle = (low + high) // 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return high
