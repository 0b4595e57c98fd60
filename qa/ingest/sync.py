"""Bringing an index in step with a folder, or upserting/deleting articles directly.

Every change goes through one Transaction: it works out what changed, splits new articles into sentences and
chunks, and hands additions and removals to the store's GenerationWriter (qa/store/writer.py), which embeds them in
length-sorted batches, writes them as a new segment and publishes atomically.
"""

from __future__ import annotations

import errno
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from qa.ingest.articles import SkipFile, content_hash, parse_source, read_source, scan_sources, source_id
from qa.ingest.chunking import chunk_article
from qa.errors import ArticlesNotFound, IndexWriteFailed
from qa.store.generations import writer_lock
from qa.store.index import embedder_identity
from qa.store.writer import GenerationWriter, write_failure_message
from qa.settings import Settings
from qa.ingest.text import content_regions, sentences
from qa.types import Article, Chunk, Skipped, SyncReport

TITLE_RESERVE_TOKENS = 40  # room kept for the title prefix when titles are embedded with each chunk


class Transaction:
    def __init__(self, index_dir: Path, embedder, settings: Settings, *, rebuild: bool = False, progress=None):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.settings = settings
        self.rebuild = rebuild
        self.progress = progress
        self.report = SyncReport()
        self._prepared: dict[str, tuple] = {}  # article id -> (sentence spans, chunks, vectors), from prepare()
        self._added: set[str] = set()
        self._started = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> "Transaction":
        self._lock = writer_lock(self.index_dir)
        self._lock.__enter__()
        self.writer = GenerationWriter(self.index_dir, embedder_identity(self.embedder), self.settings,
                                       self.chunking, self.report, self._embed, rebuild=self.rebuild)
        try:
            self.writer.open()
        except BaseException as exc:
            self.writer.discard()
            self._lock.__exit__(None, None, None)
            _raise_write_failure(exc, self.index_dir)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc is not None:
                self.writer.discard()
        finally:
            self._lock.__exit__(exc_type, exc, tb)
        if exc is not None:
            _raise_write_failure(exc, self.index_dir)

    @property
    def chunking(self) -> dict:
        return {
            "chunk_tokens": self.settings.chunk_tokens,
            "overlap_sentences": self.settings.chunk_overlap_sentences,
            "embed_titles": self.settings.embed_titles,
        }

    @property
    def reembed_all(self) -> bool:
        return self.writer.reembed_all

    @property
    def dirty(self) -> bool:
        return self.writer.dirty

    # -- reads -----------------------------------------------------------------------------------------------
    def indexed(self, article_ids: Iterable[str] | None = None) -> dict[str, tuple[str, str | None]]:
        """article id -> (content hash, source file): of every article, or only of these ids (a cost that
        follows the change, not the index)."""
        return self.writer.listing() if article_ids is None else self.writer.lookup(article_ids)

    def source_hashes(self) -> dict[str, str]:
        return self.writer.source_hashes()

    # -- writes ----------------------------------------------------------------------------------------------
    def remove(self, article_id: str) -> None:
        self.writer.remove(article_id)

    def carry(self, old_id: str, article: Article, source: str | None) -> None:
        """The same content under a new id or from another file (a renamed file): its sentences, chunks and
        vectors are kept, only the id and source change."""
        found = self.writer.stored(old_id, with_vectors=True)
        if found is None or found[1] is None:
            self.add(article, source)
            self.remove(old_id)
            return
        stored, vectors = found
        chunks = [(c[1], c[2], c[3]) for c in stored.chunks]
        self.remove(old_id)
        texts = embedded_texts(article, [Chunk(article.id, o, a, b, article.text[a:b]) for o, a, b in chunks],
                               self.settings)
        self.writer.add(article, source, content_hash(article), stored.sentences, chunks, texts, vectors)
        self._added.add(article.id)

    def prepare(self, articles: list[Article]) -> None:
        """Split and embed many new articles at once where the embedder can do it elsewhere (a Ray cluster:
        ``segment_many`` gives each article's sentences, chunks and their vectors); ``add`` takes them as they are."""
        segment_many = getattr(self.embedder, "segment_many", None)
        if segment_many is not None and articles:
            self._prepared.update(segment_many(articles, self.settings))

    def add(self, article: Article, source: str | None) -> None:
        prepared = self._prepared.pop(article.id, None)
        spans, chunks, vectors = prepared if prepared is not None else (*segment(article, self.embedder, self.settings), None)
        texts = embedded_texts(article, chunks, self.settings)
        self.writer.add(article, source, content_hash(article), spans, [(c.ordinal, c.start, c.end) for c in chunks],
                        texts, None if vectors is None else np.asarray(vectors, np.float32))
        self._added.add(article.id)
        self.report.chunks_embedded += len(chunks)

    def set_source(self, source: str, file_hash: str) -> None:
        self.writer.set_source(source, file_hash)

    def drop_source(self, source: str) -> None:
        self.writer.drop_source(source)

    def commit(self) -> SyncReport:
        self._redo_damaged()
        if not self.writer.dirty:
            self.writer.discard()
            self.report.generation = self.writer.base_number
            self.report.seconds = round(time.monotonic() - self._started, 3)
            return self.report
        self.writer.commit()
        self.report.generation = self.writer.number
        self.report.seconds = round(time.monotonic() - self._started, 3)
        return self.report

    def merge(self) -> SyncReport:
        """Rewrite small and tombstone-heavy segments into full ones (``qa index --merge``)."""
        self.writer.dirty = True
        self.writer.flush()
        self.writer.merge_policy(force=True)
        return self.commit()

    def _redo_damaged(self) -> None:
        """Articles whose segment failed its checks, or that were chunked with other settings, are chunked and
        embedded again (also those this transaction did not touch: added through the API, or the folder's during
        an upsert)."""
        for article_id in self.writer.redo:
            if article_id in self._added:
                continue
            found = self.writer.stored(article_id)
            if found is None:
                continue
            stored = found[0]
            self.remove(article_id)
            self.add(stored.article, stored.source)
        self.writer.redo = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc="embedding", unit="chunk", leave=False)
        try:
            return self.embedder.embed(
                texts, batch_size=self.settings.embed_batch_size, progress=bar.update if bar else None
            )
        finally:
            if bar is not None:
                bar.close()


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _is_write_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _WRITE_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(word in message for word in ("disk", "full", "i/o", "readonly", "read-only"))
    return False


def _raise_write_failure(exc: BaseException, index_dir: Path) -> None:
    """A full disk surfaces as OSError, sqlite3.OperationalError or a faiss RuntimeError: say it once, plainly."""
    if _is_write_error(exc):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IndexWriteFailed(write_failure_message(index_dir, reason)) from exc


def sync_folder(folder: Path, txn: Transaction) -> SyncReport:
    """Make the index hold exactly the articles in folder (articles added through the API are left alone)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ArticlesNotFound(f"articles folder {folder} does not exist; create it or pass another folder")
    report = txn.report
    indexed = txn.indexed()
    known_sources = txn.source_hashes()
    wanted: dict[str, tuple[Article, str]] = {}  # article id -> (article, source)
    untouched_sources: set[str] = set()
    seen_sources: set[str] = set()
    scan = scan_sources(folder)
    report.skipped.extend(Skipped(where, reason) for where, reason in scan.skipped)
    for path in scan.files:
        source = source_id(folder, path)
        seen_sources.add(source)
        try:
            data = read_source(folder, path)
        except SkipFile as exc:
            report.skipped.append(Skipped(source, str(exc)))
            txn.drop_source(source)
            continue
        except OSError as exc:
            report.skipped.append(Skipped(source, f"unreadable: {exc.strerror or exc}"))
            continue
        file_hash = hashlib.sha256(data).hexdigest()
        if known_sources.get(source) == file_hash and not txn.reembed_all:
            untouched_sources.add(source)  # same bytes as last time: no need to parse again
            continue
        try:
            parsed = parse_source(source, data)
        except SkipFile as exc:
            report.skipped.append(Skipped(source, str(exc)))
            txn.drop_source(source)
            continue
        report.notes.extend(parsed.notes)
        report.skipped.extend(Skipped(where, reason) for where, reason in parsed.skipped)
        for article in parsed.articles:
            wanted[article.id] = (article, source)
        txn.set_source(source, file_hash)
    for source in set(known_sources) - seen_sources:
        txn.drop_source(source)

    keep = {aid for aid, (_, src) in indexed.items() if src in untouched_sources}
    report.unchanged += len(keep)
    vanished = [
        aid for aid, (_, src) in indexed.items() if src is not None and aid not in wanted and aid not in keep
    ]
    _apply(txn, wanted, indexed, vanished)
    return txn.commit()


def upsert(articles: Iterable[Article], txn: Transaction) -> SyncReport:
    return change(txn, articles, ())


def delete(article_ids: Iterable[str], txn: Transaction) -> SyncReport:
    return change(txn, (), article_ids)


def change(txn: Transaction, articles: Iterable[Article], deleted_ids: Iterable[str]) -> SyncReport:
    """Add or replace ``articles`` and delete ``deleted_ids``, in one generation. Only the articles named are looked
    up, so the cost follows the change, not the size of the index."""
    wanted = {article.id: (article, None) for article in articles}
    deleted_ids = [aid for aid in dict.fromkeys(deleted_ids) if aid not in wanted]
    indexed = txn.indexed([*wanted, *deleted_ids])
    txn.report.skipped.extend(Skipped(aid, "not in the index") for aid in deleted_ids if aid not in indexed)
    present = [aid for aid in deleted_ids if aid in indexed]
    # Forget the file's hash too, or the next folder sync would see the same bytes, skip the file and never bring
    # the deleted article back while its file is still there.
    for source in {indexed[aid][1] for aid in present} - {None}:
        txn.drop_source(source)
    _apply(txn, wanted, indexed, present)
    return txn.commit()


def segment(article: Article, embedder, settings: Settings) -> tuple[list[tuple[int, int]], list]:
    """An article's sentence spans and its chunks, as every index build makes them."""
    spans = sentences(article.text, content_regions(article.text, article.boilerplate))
    max_tokens = embedder.max_tokens - (TITLE_RESERVE_TOKENS if settings.embed_titles else 0)
    chunks = chunk_article(
        article,
        count_tokens=embedder.count_tokens,
        token_spans=embedder.token_spans,
        target_tokens=settings.chunk_tokens,
        max_tokens=max(8, max_tokens),
        overlap=settings.chunk_overlap_sentences,
        sentence_spans=spans,
    )
    return spans, chunks


def folder_chunks(folder: Path, embedder, settings: Settings):
    """(article, its chunks, what is embedded for each) for every article of a folder, in file order, split as a
    sync splits them (files that cannot be read are left out): for benchmarks that must see the index's chunks."""
    from qa.ingest.articles import list_sources

    for path in list_sources(folder):
        try:
            parsed = parse_source(source_id(folder, path), path.read_bytes())
        except SkipFile:
            continue
        for article in parsed.articles:
            _, chunks = segment(article, embedder, settings)
            yield article, chunks, embedded_texts(article, chunks, settings)


def embedded_texts(article: Article, chunks: list, settings: Settings) -> list[str]:
    """What is embedded for each chunk: the title tells the embedder what a chunk is about, except where the chunk
    already opens with it (the passage text itself is unchanged)."""
    title = " ".join(article.title.split()[:24])
    out = []
    for chunk in chunks:
        prefix = settings.embed_titles and title and not chunk.text.lstrip().startswith(title[:40])
        out.append(f"{title}\n{chunk.text}" if prefix else chunk.text)
    return out


def _apply(txn: Transaction, wanted: dict, indexed: dict, vanished: list[str]) -> None:
    report = txn.report
    vanished_by_hash = {indexed[aid][0]: aid for aid in vanished}
    to_add: list[tuple[Article, str | None]] = []  # added after the loop, so that they can be split all at once
    for aid in vanished:
        report.removed.append(aid)
    for aid, (article, source) in sorted(wanted.items()):
        new_hash = content_hash(article)
        old = indexed.get(aid)
        if old is not None and old[0] == new_hash and not txn.reembed_all:
            if old[1] != source:
                txn.carry(aid, article, source)
            report.unchanged += 1
            continue
        if old is None and new_hash in vanished_by_hash and not txn.reembed_all:
            old_id = vanished_by_hash.pop(new_hash)
            vanished.remove(old_id)
            txn.carry(old_id, article, source)
            report.added.append(aid)
            continue
        if old is not None:
            txn.remove(aid)
            report.updated.append(aid)
        else:
            report.added.append(aid)
        to_add.append((article, source))
    txn.prepare([article for article, _ in to_add])
    for article, source in to_add:
        txn.add(article, source)
    for aid in vanished:
        txn.remove(aid)
