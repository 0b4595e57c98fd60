"""Approximate search above a size threshold: FAISS IVF-Flat (inner product) once a store holds ``threshold``
vectors, exact IndexIDMap2(Flat) below it. The switch happens in save(), so a generation's file is one or the other.

Why IVF-Flat rather than HNSW (scripts/bench_stores.py): it builds in seconds instead of minutes at 100k, removes
by id natively (HNSW in FAISS cannot: it would need a tombstone bitmap and periodic rebuilds), reconstructs stored
vectors through a hashtable direct map, and its file opens memory-mapped (IO_FLAG_MMAP_IFC, zero-copy), so an index
larger than RAM still opens and a reader only pages in the lists it probes. A mapped index is read-only: a writer
reads the file into memory before its first change.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.store.vectors import FaissFlatStore, check_new, idmap_ids, read_faiss

if TYPE_CHECKING:
    from qa.settings import Settings

TRAIN_POINTS_PER_LIST = 40  # k-means sample per inverted list (FAISS wants at least 39): stable, fast to train


def lists_for(n: int) -> int:
    """Inverted lists for n vectors: about 4 * sqrt(n) (FAISS's guideline), and no more than there are training
    points for."""
    return max(1, min(n // TRAIN_POINTS_PER_LIST, int(4 * math.sqrt(n))))


class FaissAnnStore(FaissFlatStore):
    """Search, ``vectors()`` and ``len`` are the flat store's: only building, removal and saving differ."""

    name = "faiss-ann"
    filename = FaissFlatStore.filename

    def __init__(self, dimension: int, index=None, *, threshold: int = 0, nprobe: int = 0, recall: float = 0.95,
                 path: Path | None = None):
        import faiss

        self.dimension = dimension
        self.threshold = threshold
        self.nprobe = nprobe  # 0: measured when the IVF is built, and saved with it
        self.recall = recall
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._path = path  # set while the index is memory-mapped (read-only) from this generation folder
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
        # IO_FLAG_MMAP_IFC maps the vectors of flat and IVF-Flat indexes zero-copy: pages are read on demand and
        # search is as fast as from memory (IO_FLAG_MMAP instead reads IVF lists through OnDiskInvertedLists,
        # ~1 ms more per search). Generation files never change, so the mapping stays valid.
        mapped = settings.ann_mmap
        store._index = read_faiss(path, cls.filename, dimension, faiss.IO_FLAG_MMAP_IFC if mapped else 0)
        store._path = path if mapped else None
        store._configure()
        return store

    @property
    def approximate(self) -> bool:
        return not hasattr(self._index, "id_map")

    def _configure(self) -> None:
        if self.approximate and self.nprobe:
            self._index.nprobe = min(self.nprobe, self._index.nlist)

    def _search_parameters(self, selector):
        import faiss

        if self.approximate:  # parameters replace the index's own: nprobe must be given again
            return faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nprobe)
        return faiss.SearchParameters(sel=selector)

    def _writable(self) -> None:
        """A memory-mapped index is read-only: a writer reads the file into memory before its first change."""
        if self._path is not None:
            self._index = read_faiss(self._path, self.filename, self.dimension)
            self._path = None
            self._configure()

    def stored_ids(self) -> np.ndarray:
        if self._ids is None:
            if not self.approximate:
                self._ids = idmap_ids(self._index)
            else:
                lists = self._index.invlists
                parts = [_list_ids(lists, i) for i in range(lists.nlist)]
                self._ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return self._ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_new(ids, vectors, self.dimension, lambda i: np.isin(i, self.stored_ids()))
        if not len(ids):
            return
        self._writable()
        self._index.add_with_ids(vectors, ids)
        self._ids = np.concatenate([self.stored_ids(), ids])

    def remove(self, ids: np.ndarray) -> int:
        import faiss

        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids) or not np.isin(ids, self.stored_ids()).any():
            return 0
        self._writable()
        # The hashtable direct map removes only through an IDSelectorArray (the ids listed, not a bloom filter).
        selector = faiss.IDSelectorArray(ids) if self.approximate else faiss.IDSelectorBatch(ids)
        removed = int(self._index.remove_ids(selector))
        self._ids = self.stored_ids()[~np.isin(self.stored_ids(), ids)]
        return removed

    def save(self, path: Path) -> None:
        import faiss

        self._rebalance()
        faiss.write_index(self._index, str(path / self.filename))

    def _rebalance(self) -> None:
        """Exact below the threshold, IVF at or above it; the IVF is retrained when the store has grown to need
        twice as many lists as it was trained with (its centroids describe the data it was trained on)."""
        n = len(self)
        if self.approximate:
            if n < self.threshold // 2 or n == 0:  # hysteresis: no flip-flop around the threshold
                self._rebuild(exact=True)
            elif lists_for(n) >= 2 * self._index.nlist:
                self._rebuild(exact=False)
        elif n >= max(1, self.threshold):
            self._rebuild(exact=False)

    def _rebuild(self, *, exact: bool) -> None:
        import faiss

        self._writable()
        ids = self.stored_ids().copy()
        vectors = self.vectors(ids)
        if exact:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        else:
            nlist = lists_for(len(ids))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dimension), self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct() and remove_ids() by chunk id
            sample = np.random.default_rng(0).permutation(len(ids))[: nlist * TRAIN_POINTS_PER_LIST]
            index.train(vectors[np.sort(sample)])
        index.add_with_ids(vectors, ids)
        if not exact and not self.nprobe:
            index.nprobe = measured_nprobe(index, ids, vectors, self.recall)
        self._index = index
        self._configure()


CALIBRATION_QUERIES = 200


def measured_nprobe(index, ids: np.ndarray, vectors: np.ndarray, recall: float, k: int = 10) -> int:
    """The fewest inverted lists to probe for ``recall``@k against exact search, measured on a sample of the
    index's own vectors as queries (each one's own id left out): clustered text embeddings need few, vectors
    without structure (the hashing embedder) many. A result counts when it scores at least the exact k-th best
    (ties are common among near-duplicate chunks). Doubling, then a bisection between the last two tries."""
    k = min(k, len(vectors) - 2)
    if k < 1:
        return index.nlist
    rng = np.random.default_rng(0)
    sample = np.sort(rng.permutation(len(vectors))[:CALIBRATION_QUERIES])
    queries = vectors[sample]
    scores = queries @ vectors.T
    scores[np.arange(len(sample)), sample] = -np.inf
    kth = np.partition(scores, -k, axis=1)[:, -k] - 1e-5
    own = ids[sample]

    def reached(nprobe: int) -> bool:
        index.nprobe = nprobe
        found_scores, found = index.search(queries, k + 1)
        hits = [(found_scores[i][found[i] != own[i]][:k] >= kth[i]).sum() / k for i in range(len(sample))]
        return float(np.mean(hits)) >= recall

    low, high = 0, 1
    while high < index.nlist and not reached(high):
        low, high = high, min(index.nlist, high * 2)
    while high - low > max(1, low // 8):  # within an eighth of the answer is precise enough
        middle = (low + high) // 2
        low, high = (low, middle) if reached(middle) else (middle, high)
    return high


def _list_ids(lists, number: int) -> np.ndarray:
    import faiss

    size = lists.list_size(number)
    if size == 0:
        return np.zeros(0, np.int64)
    return faiss.rev_swig_ptr(lists.get_ids(number), size).astype(np.int64).copy()
