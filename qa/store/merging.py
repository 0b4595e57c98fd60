"""Merging segments: the policy that keeps their number bounded, and the merge itself (a mixin of the writer).

A merge copies the segments' live rows inside SQLite, reuses their stored vectors under the same chunk ids (so an
external store such as Milvus needs no change) and builds the merged segment's BM25 afresh; tombstoned rows are
dropped for good. Its cost is the size of what it merges, and a merged segment holds at most ``segment_chunks``.
"""

from __future__ import annotations

import numpy as np

from qa.store.metadata import META, SegmentMeta, SegmentWriter
from qa.store.segments import SegmentInfo, segment_chunk_ids
from qa.store.vectors import load_store

MERGE_FACTOR = 8  # small segments allowed before the smallest are merged


class SegmentMerges:
    """Needs the writer's ``segments``, ``metas``, ``settings``, ``staging``, ``external``, ``store_name``,
    ``identity``, ``report``, ``dirty`` and its ``_next_name`` and ``_finish_segment``."""

    def merge_policy(self, *, force: bool = False) -> None:
        """Keep the segment count bounded: at most MERGE_FACTOR small segments (under half of ``segment_chunks``
        live chunks); past that, the smallest are merged into one of at most ``segment_chunks``. A segment more
        than half tombstones is rewritten without them. ``force`` (``qa index --merge``): every segment that is
        small or holds tombstones is merged, in groups of at most ``segment_chunks`` live chunks."""
        target = self.settings.segment_chunks
        if force:
            candidates = sorted((s for s in self.segments if s.live_chunks < target // 2 or len(s.deleted_chunks)),
                                key=lambda s: s.live_chunks)
            for group in _groups(candidates, target):
                if len(group) > 1 or len(group[0].deleted_chunks):
                    self._merge(group)
            return
        while True:
            small = sorted((s for s in self.segments if s.live_chunks < target // 2), key=lambda s: s.live_chunks)
            if len(small) <= MERGE_FACTOR:
                break
            self._merge(_groups(small, target)[0])
        for info in [s for s in self.segments if len(s.deleted_chunks) * 2 > s.chunks]:
            self._merge([info])

    def _merge(self, group: list[SegmentInfo]) -> None:
        self.dirty = True
        name = self._next_name()
        folder = self.staging / name
        folder.mkdir()
        meta = SegmentWriter(folder / META)
        ids, vectors = [], []
        for info in group:
            position = self.segments.index(info)
            source = self.metas[position].path
            meta.copy_from(source, info.deleted_articles)
            if self.external is None:
                held = segment_chunk_ids(source.parent)
                if held is None:  # a format-1 segment without a lexical index
                    held = np.asarray([r[0] for r in self.metas[position].rows("SELECT id FROM chunks")], np.int64)
                live = held[~np.isin(held, info.deleted_chunks)]
                store = load_store(self.store_name, source.parent, self.identity["dimension"], self.settings)
                ids.append(live)
                vectors.append(store.vectors(live))
        ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        vectors = np.vstack(vectors) if vectors else np.zeros((0, self.identity["dimension"]), np.float32)
        self._finish_segment(folder, meta, ids, vectors)
        for info in group:
            position = self.segments.index(info)
            self.metas.pop(position).close()
            self.segments.pop(position)
        self.segments.append(SegmentInfo(name, meta.articles, meta.chunks))
        self.metas.append(SegmentMeta(folder / META, self.staging))
        self.report.notes.append(f"merged {len(group)} segments into {name} ({meta.chunks} chunks)")


def _groups(segments: list[SegmentInfo], target: int) -> list[list[SegmentInfo]]:
    """Consecutive groups (smallest first) of at most ``target`` live chunks, each of two segments at least where
    there are two."""
    groups: list[list[SegmentInfo]] = []
    total = 0
    for info in segments:
        if groups and (len(groups[-1]) < 2 or total + info.live_chunks <= target):
            groups[-1].append(info)
            total += info.live_chunks
        else:
            groups.append([info])
            total = info.live_chunks
    return groups
