"""Exact vectors read by position from a ``vectors.faiss`` file with pread, not through its memory map.

An ANN search re-scores a few dozen candidates per segment with their exact vectors. Read through the map, each
candidate faults in a whole run of pages around it (the kernel's fault-around), so after a few hundred questions a
reader holds most of every vectors file in its resident set: 1.5 GB at 1M chunks, for 1.5 KB actually needed per
candidate. pread copies just the rows into the process; the file's pages stay in the page cache, shared and
evictable, where the kernel counts them, not the reader.

The layout read here is FAISS's for an IndexIDMap2 over an IndexFlat (faiss 1.7-1.15): the flat codes as one
float32 block (preceded by its length in floats), then the id map (its length, then int64 ids) at the end of the
file. ``open`` checks that layout against the mapped index and returns None when it does not hold, and the caller
keeps reading through the map.
"""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path

import numpy as np

_SIZE = struct.Struct("<Q")


class FlatFileRows:
    """Rows of one vectors.faiss by chunk id. The id -> row table is built on the first read."""

    def __init__(self, path: Path, codes_offset: int, ids_offset: int, count: int, dimension: int):
        self.path = path
        self.count, self.dimension = count, dimension
        self._codes_offset, self._ids_offset = codes_offset, ids_offset
        self._row_bytes = 4 * dimension
        self._file = None
        self._sorted_ids: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, index) -> "FlatFileRows | None":
        """A reader for ``path``, whose contents ``index`` (an IndexIDMap2 over an IndexFlat) was read from; None
        when the file's layout is not the one expected."""
        count, dimension = int(index.ntotal), int(index.d)
        try:
            size = os.path.getsize(path)
            ids_offset = size - _SIZE.size - 8 * count
            codes_offset = ids_offset - 4 * dimension * count
            if codes_offset < _SIZE.size or count == 0:
                return None
            with open(path, "rb") as handle:
                codes_length = _SIZE.unpack(os.pread(handle.fileno(), _SIZE.size, codes_offset - _SIZE.size))[0]
                ids_length = _SIZE.unpack(os.pread(handle.fileno(), _SIZE.size, ids_offset))[0]
                if codes_length != count * dimension or ids_length != count:
                    return None
                rows = cls(path, codes_offset, ids_offset, count, dimension)
                first_last = np.frombuffer(os.pread(handle.fileno(), 8, ids_offset + _SIZE.size), np.int64)
                last = np.frombuffer(os.pread(handle.fileno(), 8, size - 8), np.int64)
                for row, chunk_id in ((0, int(first_last[0])), (count - 1, int(last[0]))):
                    if not np.array_equal(rows._read_row(handle.fileno(), row), index.reconstruct(chunk_id)):
                        return None
        except (OSError, RuntimeError, struct.error):
            return None
        return rows

    def _read_row(self, fd: int, row: int) -> np.ndarray:
        data = os.pread(fd, self._row_bytes, self._codes_offset + row * self._row_bytes)
        return np.frombuffer(data, np.float32)

    def _table(self) -> tuple[int, np.ndarray, np.ndarray]:
        with self._lock:
            if self._file is None:
                self._file = open(self.path, "rb")  # noqa: SIM115 - held for the store's lifetime, like its map
                ids = np.frombuffer(os.pread(self._file.fileno(), 8 * self.count, self._ids_offset + _SIZE.size),
                                    np.int64)
                order = np.argsort(ids, kind="stable")
                self._sorted_ids, self._rows = ids[order], order
        return self._file.fileno(), self._sorted_ids, self._rows

    def read(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of these chunk ids, in their order; an id the file does not hold is a KeyError."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.empty((len(ids), self.dimension), np.float32)
        if not len(ids):
            return out
        fd, sorted_ids, rows = self._table()
        where = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        missing = sorted_ids[where] != ids
        if missing.any():
            raise KeyError(f"chunk id {int(ids[missing][0])} is not in the vector store")
        for position in np.argsort(rows[where], kind="stable"):  # in file order: the reads move forward
            out[position] = self._read_row(fd, int(rows[where[position]]))
        return out

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
