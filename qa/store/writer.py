"""Writing a generation: what the index's one writer does between taking the lock and publishing.

The new generation starts as the live one's list of segments. Removing an article adds a tombstone; adding one
queues it for a new segment (written every ``segment_chunks`` chunks, so a big build never holds the whole index in
memory). At commit the kept segments are hard-linked into the staging folder (no bytes copied), small segments and
ones that are mostly tombstones are merged (qa/store/merging.py), and the folder is published atomically. So a sync
writes what changed plus, now and then, a merge of small segments, never the whole index.

A base generation that fails its checks is repaired rather than trusted: a segment whose vectors or lexical index
are damaged has its articles re-embedded from its metadata; damaged metadata (or tombstones) makes the newest
intact older generation the base, or, without one, the index starts empty and the folder is read again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from qa.errors import IndexCorrupt, IndexWriteFailed
from qa.settings import Settings
from qa.store.generations import (
    FORMAT_VERSION,
    clean_leftovers,
    damage_detail,
    generation_name,
    generation_number,
    is_complete,
    locate,
    next_generation_number,
    publish,
    published_generations,
    read_manifest,
    write_pointer,
)
from qa.store.index import check_embedder
from qa.store.integrity import check_files, file_records
from qa.store.lexical import BM25Index
from qa.store.merging import SegmentMerges
from qa.store.metadata import (
    META,
    SOURCES,
    Metadata,
    SegmentMeta,
    SegmentWriter,
    Sources,
    StoredArticle,
    read_source_hashes,
)
from qa.store.segments import (
    DELETES,
    ROOT_SEGMENT,
    SegmentInfo,
    segment_dir,
    segment_name,
    segments_of,
    write_deletes,
)
from qa.store.vectors import load_store, new_store, segment_stores, store_filename
from qa.types import Article, SyncReport

FULL_CHECK_BYTES = 256 << 20  # up to this size a writer checksums its base in full; above, sizes (and what it merges)

Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Pending:
    stored: StoredArticle
    texts: list[str]  # what is embedded for each chunk
    vectors: np.ndarray | None  # known already (a Ray cluster, or carried over from another segment)


class GenerationWriter(SegmentMerges):
    def __init__(self, index_dir: Path, identity: dict, settings: Settings, chunking: dict, report: SyncReport,
                 embed: Embed, *, rebuild: bool = False):
        self.index_dir = Path(index_dir)
        self.identity = identity
        self.settings = settings
        self.chunking = chunking
        self.report = report
        self.embed = embed
        self.rebuild = rebuild
        self.metas: list[SegmentMeta] = []
        self._sources: Sources | None = None

    # -- opening ---------------------------------------------------------------------------------------------
    def open(self) -> None:
        clean_leftovers(self.index_dir)
        live = locate(self.index_dir)
        if live.note:
            self.report.notes.append(live.note)
        if live.note and live.name is not None:
            write_pointer(self.index_dir, live.name)  # so readers stop looking for it
            self.report.notes.append(f"CURRENT points at {live.name} again")
        self.number = next_generation_number(self.index_dir)
        self.staging = self.index_dir / (generation_name(self.number) + ".tmp")
        self.staging.mkdir(parents=True)
        self.serial = 0
        self.pending: dict[str, Pending] = {}
        self.pending_chunks = 0
        self.reembed_all = False
        self.redo: list[str] = []  # articles of damaged segments, to add again
        self._sources: Sources | None = None
        self._hashes: dict[str, str] | None = None
        self._stores: dict[Path, object] = {}  # segment folder -> its vector store, read once per transaction
        # A sync that changes nothing publishes nothing; an index started afresh or repaired always publishes.
        self.dirty = True
        self.base_number = 0
        if live.name is not None and not self.rebuild and self._load_base(self.index_dir / live.name):
            return
        self._start_empty(self.settings.store)

    def _start_empty(self, store: str, *, new_external: bool = True) -> None:
        self.base, self.base_manifest, self.segments, self.metas = None, {}, [], []
        self.records: dict[str, dict] = {}
        self.linked: dict[str, dict] = {}  # files hard-linked from the base: name -> its recorded size and checksum
        self.store_name = "faiss-ann" if store == "auto" else store
        self.external = None
        if new_external and not segment_stores(self.store_name):
            self.external = new_store(store, self.identity["dimension"], self.settings)
        self.next_chunk_id = 0
        self.sources_origin: Path | None = None

    def _load_base(self, base: Path) -> bool:
        try:
            manifest = read_manifest(base)
        except IndexCorrupt as exc:
            return self._older_base(base, damage_detail(exc))
        check_embedder(manifest, self.identity, base)
        full = sum(r.get("size", 0) for r in manifest.get("files", {}).values()) <= FULL_CHECK_BYTES
        bad = {c.name: c.detail for c in check_files(base, manifest, full=full) if not c.ok}
        try:
            segments = segments_of(base, manifest)
        except IndexCorrupt as exc:
            return self._older_base(base, damage_detail(exc))
        meta_bad = [f"{name}: {bad[name]}" for name in bad if name == DELETES or name.endswith(META)]
        if meta_bad:
            return self._older_base(base, "; ".join(meta_bad))
        self._start_empty(manifest["store"], new_external=False)
        self.base, self.base_manifest, self.base_number = base, manifest, generation_number(base.name)
        self.records = manifest.get("files") or file_records(base)
        self.next_chunk_id = int(manifest["next_chunk_id"])
        try:
            for info in segments:
                self.metas.append(SegmentMeta(segment_dir(base, info.name) / META, base))
        except IndexCorrupt as exc:
            self._close_metas()
            return self._older_base(base, damage_detail(exc))
        self.segments = segments
        sources = base / (SOURCES if manifest.get("format") != 1 else META)
        self.sources_origin = None if SOURCES in bad else sources
        self.dirty = bool(bad) or manifest.get("format") != FORMAT_VERSION
        if not segment_stores(self.store_name):
            store_file = store_filename(self.store_name)
            if store_file in bad:
                self.report.notes.append(f"{base.name} failed its checks ({store_file}: {bad[store_file]}); "
                                         "re-embedding every article from its metadata")
                self.reembed_all = True
                self.external = new_store(self.store_name, self.identity["dimension"], self.settings)
            else:
                try:
                    self.external = load_store(manifest["store"], base, self.identity["dimension"], self.settings)
                except IndexCorrupt as exc:
                    self.report.notes.append(f"{base.name} failed its checks ({damage_detail(exc)}); re-embedding "
                                             "every article from its metadata")
                    self.reembed_all = True
                    self.external = new_store(self.store_name, self.identity["dimension"], self.settings)
        for info in segments:
            damaged = sorted(n for n in bad if file_segment(n) == info.name)
            if damaged:
                self.report.notes.append(
                    f"{base.name} failed its checks ({'; '.join(f'{n}: {bad[n]}' for n in damaged)}); re-embedding "
                    f"the articles of {info.name if info.name != ROOT_SEGMENT else 'that generation'}")
                self.redo += self._live_ids(self.segments.index(info))
        # Chunks made with other settings would mix two chunkings in one index: redo them all.
        if manifest.get("chunking") != self.chunking:
            self.reembed_all = True
        if self.reembed_all:
            self.redo = sorted(self.metadata().listing())
        if SOURCES in bad:
            self.report.notes.append(f"{base.name} failed its checks ({SOURCES}: {bad[SOURCES]}); every file is read again")
        self.dirty = self.dirty or bool(self.redo)
        return True

    def _older_base(self, damaged: Path, problem: str) -> bool:
        for older in reversed(published_generations(self.index_dir)):
            if generation_number(older.name) < generation_number(damaged.name) and not is_complete(older):
                self.report.notes.append(
                    f"{damaged.name} is damaged ({problem}); continuing from {older.name}, the newest intact "
                    "generation (articles added through the API since then must be added again)"
                )
                loaded = self._load_base(older)
                self.dirty = True  # publish even when the folder matches the older one: CURRENT must move on
                return loaded
        self.report.notes.append(
            f"{damaged.name} is damaged ({problem}) and no older generation is intact; rebuilding from the articles "
            "folder (articles added through the API must be added again)"
        )
        return False

    def _live_ids(self, position: int) -> list[str]:
        deleted = self.segments[position].deleted_articles
        return [r[0] for r in self.metas[position].rows("SELECT id FROM articles") if r[0] not in deleted]

    def metadata(self) -> Metadata:
        """The kept segments' articles as this transaction leaves them (pending additions not included)."""
        return Metadata(self.metas, {i: s.deleted_articles for i, s in enumerate(self.segments)})

    def _close_metas(self) -> None:
        for meta in self.metas:
            meta.close()
        self.metas = []

    def close(self) -> None:
        self._close_metas()
        if self._sources is not None:
            self._sources.close()
            self._sources = None

    # -- reads -----------------------------------------------------------------------------------------------
    def listing(self) -> dict[str, tuple[str, str | None]]:
        """Every article: id -> (content hash, source)."""
        out = self.metadata().listing()
        out.update((i, (p.stored.content_hash, p.stored.source)) for i, p in self.pending.items())
        return out

    def lookup(self, article_ids) -> dict[str, tuple[str, str | None]]:
        ids = list(article_ids)
        out = {i: (h, s) for i, (h, s, _) in self.metadata().lookup([i for i in ids if i not in self.pending]).items()}
        out.update((i, (self.pending[i].stored.content_hash, self.pending[i].stored.source)) for i in ids if i in self.pending)
        return out

    def stored(self, article_id: str, *, with_vectors: bool = False) -> tuple[StoredArticle, np.ndarray | None] | None:
        """An article as the index holds it, and (``with_vectors``) its chunks' vectors, to carry it over."""
        if article_id in self.pending:
            pending = self.pending[article_id]
            return pending.stored, pending.vectors
        found = self.metadata().lookup([article_id]).get(article_id)
        if found is None:
            return None
        stored = self.metas[found[2]].stored(article_id)
        vectors = None
        if with_vectors and stored.chunks and article_id not in self.redo:
            vectors = self._vectors(found[2], np.asarray([c[0] for c in stored.chunks], np.int64))
        return stored, vectors

    def _vectors(self, position: int, ids: np.ndarray) -> np.ndarray:
        if self.external is not None:
            return self.external.vectors(ids)
        folder = self.metas[position].path.parent
        if folder not in self._stores:
            self._stores[folder] = load_store(self.store_name, folder, self.identity["dimension"], self.settings)
        return self._stores[folder].vectors(ids)

    def source_hashes(self) -> dict[str, str]:
        if self._hashes is None:
            self._hashes = read_source_hashes(self.sources_origin)
        return self._hashes

    def set_source(self, source: str, file_hash: str) -> None:
        if self.source_hashes().get(source) != file_hash:
            self._changed_sources().set(source, file_hash)
            self._hashes[source] = file_hash

    def drop_source(self, source: str) -> None:
        if source in self.source_hashes():
            self._changed_sources().drop(source)
            del self._hashes[source]

    def _changed_sources(self) -> Sources:
        """The staged sources table, copied from the base on the first change (a sync that changes no file
        hard-links the base's instead)."""
        self.dirty = True
        if self._sources is None:
            self._sources = Sources.copy(self.sources_origin, self.staging / SOURCES)
        return self._sources

    # -- writes ----------------------------------------------------------------------------------------------
    def remove(self, article_id: str) -> None:
        self.dirty = True
        pending = self.pending.pop(article_id, None)
        if pending is not None:
            self.pending_chunks -= len(pending.stored.chunks)
            return
        found = self.metadata().lookup([article_id]).get(article_id)
        if found is None:
            return
        info = self.segments[found[2]]
        ids = np.asarray([r[0] for r in self.metas[found[2]].rows(
            "SELECT id FROM chunks WHERE article_id = ?", (article_id,))], dtype=np.int64)
        info.deleted_articles = info.deleted_articles | {article_id}
        info.deleted_chunks = np.union1d(info.deleted_chunks, ids)
        if self.external is not None:
            self.external.remove(ids)

    def add(self, article: Article, source: str | None, content_hash: str, sentences, chunks, texts: list[str],
            vectors: np.ndarray | None = None) -> None:
        """``chunks``: (ordinal, start, end) per chunk; they get fresh chunk ids."""
        self.dirty = True
        rows = []
        for ordinal, start, end in chunks:
            rows.append((self.next_chunk_id, ordinal, start, end))
            self.next_chunk_id += 1
        stored = StoredArticle(article, source, content_hash, list(sentences), rows)
        self.pending[article.id] = Pending(stored, list(texts), vectors)
        self.pending_chunks += len(rows)
        if self.pending_chunks >= self.settings.segment_chunks:
            self.flush()

    def flush(self) -> None:
        """Write the pending articles as a new segment of the staging folder."""
        if not self.pending:
            return
        todo = [p for p in self.pending.values() if p.vectors is None]
        fresh = iter(self.embed([t for p in todo for t in p.texts]) if todo else ())
        name = self._next_name()
        folder = self.staging / name
        folder.mkdir()
        meta = SegmentWriter(folder / META)
        ids, vectors = [], []
        for pending in self.pending.values():
            s = pending.stored
            meta.add(s.article, s.source, s.content_hash, s.sentences, s.chunks)
            ids += [c[0] for c in s.chunks]
            vectors += list(pending.vectors) if pending.vectors is not None else [next(fresh) for _ in s.chunks]
        self._finish_segment(folder, meta, np.asarray(ids, np.int64), np.asarray(vectors, np.float32))
        self.segments.append(SegmentInfo(name, meta.articles, meta.chunks))
        self.metas.append(SegmentMeta(folder / META, self.staging))
        self.pending, self.pending_chunks = {}, 0

    def _next_name(self) -> str:
        self.serial += 1
        return segment_name(self.number, self.serial)

    def _finish_segment(self, folder: Path, meta: SegmentWriter, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Lexical index and vectors beside a segment's metadata."""
        rows = meta.chunk_rows()
        meta.close()
        # The title counts as words of every chunk: questions often name the story, not the sentence.
        BM25Index.build([r[0] for r in rows], [f"{r[1] or ''}\n{r[2]}" for r in rows]).save(folder)
        order = np.argsort(ids)
        ids, vectors = ids[order], vectors.reshape(len(ids), -1)[order] if len(ids) else vectors
        if self.external is not None:
            if len(ids):
                self.external.add(ids, vectors)
            return
        store = new_store(self.store_name, self.identity["dimension"], self.settings)
        if len(ids):
            store.add(ids, vectors)
        try:
            store.save(folder)
        except RuntimeError as exc:  # faiss reports a failed write (a full disk) as RuntimeError
            raise IndexWriteFailed(write_failure_message(self.index_dir, f"writing vectors failed: {exc}")) from exc

    # -- publishing ------------------------------------------------------------------------------------------
    def commit(self) -> None:
        """Publish the new generation (nothing at all when nothing changed)."""
        self.flush()
        self._drop_emptied()
        self.merge_policy()
        self._link_kept_segments()
        write_deletes(self.staging, self.segments)
        self._write_sources()
        if self.external is not None:
            try:
                self.external.save(self.staging)
            except RuntimeError as exc:
                raise IndexWriteFailed(write_failure_message(self.index_dir, f"writing vectors failed: {exc}")) from exc
        articles = sum(s.articles - len(s.deleted_articles) for s in self.segments)
        chunks = sum(s.live_chunks for s in self.segments)
        kept = self.linked
        new = file_records(self.staging, skip=set(kept))
        manifest = {
            "format": FORMAT_VERSION,
            "generation": self.number,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "embedder": self.identity,
            "store": self.store_name,
            "chunking": self.chunking,
            "next_chunk_id": self.next_chunk_id,
            "articles": int(articles),
            "chunks": int(chunks),
            "segments": [s.entry() for s in self.segments],
            "files": dict(sorted({**kept, **new}.items())),  # checked on open and by `qa status --verify`
        }
        (self.staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
        self.close()
        publish(self.index_dir, self.staging, self.number)
        clean_leftovers(self.index_dir)

    def _drop_emptied(self) -> None:
        """A segment whose every article is tombstoned is left out (its files may be the damaged ones)."""
        for position in range(len(self.segments) - 1, -1, -1):
            info = self.segments[position]
            if info.articles and len(info.deleted_articles) >= info.articles:
                self.segments.pop(position)
                self.metas.pop(position).close()

    def _link_kept_segments(self) -> None:
        """Segments kept from the base appear in the new folder as hard links: the same bytes, never copied.
        A format-1 base's top-level files become a segment of their own."""
        for info in self.segments:
            if info.name != ROOT_SEGMENT and (self.staging / info.name).is_dir():
                continue  # written by this transaction
            source = segment_dir(self.base, info.name)
            name = info.name if info.name != ROOT_SEGMENT else segment_name(self.base_number, 0)
            target = self.staging / name
            # a format-1 generation's segment files lie among the generation's own: only those are kept
            files = [p for p in source.rglob("*") if p.is_file()
                     and (info.name != ROOT_SEGMENT or file_segment(p.relative_to(source).as_posix()))]
            for path in files:
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                link_or_copy(path, destination)
                old = path.relative_to(self.base).as_posix()
                if old in self.records:
                    self.linked[destination.relative_to(self.staging).as_posix()] = self.records[old]
            info.name = name

    def _write_sources(self) -> None:
        if self._sources is not None:  # changed: the staged copy is the new table
            self._sources.close()
            self._sources = None
        elif self.sources_origin is not None and self.sources_origin.name == SOURCES and self.sources_origin.is_file():
            link_or_copy(self.sources_origin, self.staging / SOURCES)
            if SOURCES in self.records:
                self.linked[SOURCES] = self.records[SOURCES]
        else:  # a new index, or a format-1 base whose sources lived in its meta.sqlite
            Sources.copy(self.sources_origin, self.staging / SOURCES).close()

    def discard(self) -> None:
        """A failed write leaves nothing behind: the staging folder goes, the live generation is untouched."""
        self.close()
        if hasattr(self, "staging"):
            shutil.rmtree(self.staging, ignore_errors=True)


def file_segment(name: str) -> str | None:
    """The segment a generation's file belongs to (ROOT_SEGMENT for format 1's top-level files), None for the
    generation's own files."""
    head = name.split("/")[0]
    if head.startswith("seg-"):
        return head
    if name in (SOURCES, DELETES, "manifest.json") or not segment_stores_file(name):
        return None
    return ROOT_SEGMENT


def segment_stores_file(name: str) -> bool:
    return name == META or name.startswith("bm25/") or name.endswith(".faiss")


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system has them (segments are never modified, so sharing bytes is safe)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_failure_message(index_dir: Path, reason: str) -> str:
    return (
        f"could not write a new generation of the index at {index_dir} ({reason}); nothing was changed and the "
        "previous generation still answers. Free some disk space and run `qa index` again"
    )
