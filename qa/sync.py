"""Writing index generations: bring the index in step with a folder, or upsert/delete articles directly.

Every change goes through one Transaction: lock, copy the live generation's metadata into a staging folder, apply
removals and additions, embed all new chunks in one length-sorted pass, then publish atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from qa.articles import SkipFile, content_hash, parse_source, read_source, scan_sources, source_id
from qa.chunking import chunk_article
from qa.errors import ArticlesNotFound, EmbedderMismatch
from qa.generations import (
    FORMAT_VERSION,
    SCHEMA,
    clean_leftovers,
    current_name,
    generation_name,
    next_generation_number,
    publish,
    read_manifest,
    writer_lock,
)
from qa.index import check_embedder, embedder_identity
from qa.lexical import BM25Index
from qa.settings import Settings
from qa.store import load_store, new_store
from qa.text import content_regions, sentences
from qa.types import Article, Skipped, SyncReport

TITLE_RESERVE_TOKENS = 40  # room kept for the title prefix when titles are embedded with each chunk


@dataclass(frozen=True)
class _Pending:
    chunk_id: int
    text: str  # what is embedded: optional title prefix + the chunk text


class Transaction:
    def __init__(self, index_dir: Path, embedder, settings: Settings, *, rebuild: bool = False, progress=None):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.settings = settings
        self.rebuild = rebuild
        self.progress = progress
        self.report = SyncReport()
        self._pending: list[_Pending] = []
        self._started = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> "Transaction":
        self._lock = writer_lock(self.index_dir)
        self._lock.__enter__()
        try:
            self._open()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if hasattr(self, "db"):
                self.db.close()
        finally:
            self._lock.__exit__(exc_type, exc, tb)

    @property
    def chunking(self) -> dict:
        return {
            "chunk_tokens": self.settings.chunk_tokens,
            "overlap_sentences": self.settings.chunk_overlap_sentences,
            "embed_titles": self.settings.embed_titles,
        }

    def _open(self) -> None:
        clean_leftovers(self.index_dir)
        self.number = next_generation_number(self.index_dir)
        self.staging = self.index_dir / (generation_name(self.number) + ".tmp")
        self.staging.mkdir(parents=True)
        self.identity = embedder_identity(self.embedder)
        live = current_name(self.index_dir)
        base = self.index_dir / live if live and not self.rebuild else None
        self.db = sqlite3.connect(self.staging / "meta.sqlite")
        self.db.row_factory = sqlite3.Row
        self.reembed_all = False
        # A sync that changes nothing publishes nothing: no churn of generations or "last sync" times.
        self.dirty = base is None
        self.base_number = int(live.split("-")[1]) if live and base is not None else 0
        if base is not None:
            manifest = read_manifest(base)
            check_embedder(manifest, self.identity, base)
            source = sqlite3.connect(f"file:{base / 'meta.sqlite'}?mode=ro", uri=True)
            source.backup(self.db)
            source.close()
            self.store = load_store(manifest["store"], base, self.identity["dimension"])
            self.next_chunk_id = int(manifest["next_chunk_id"])
            # Chunks made with other settings would mix two chunkings in one index: redo them all.
            self.reembed_all = manifest.get("chunking") != self.chunking
            self.dirty = self.reembed_all
        else:
            self.db.executescript(SCHEMA)
            self.store = new_store(self.settings.store, self.identity["dimension"])
            self.next_chunk_id = 0

    # -- reads -----------------------------------------------------------------------------------------------
    def indexed(self) -> dict[str, tuple[str, str | None]]:
        """article id -> (content hash, source file)"""
        return {row[0]: (row[1], row[2]) for row in self.db.execute("SELECT id, content_hash, source FROM articles")}

    def source_hashes(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self.db.execute("SELECT source, file_hash FROM sources")}

    def articles_of(self, source: str) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM articles WHERE source = ?", (source,))]

    # -- writes ----------------------------------------------------------------------------------------------
    def remove(self, article_id: str) -> None:
        self.dirty = True
        ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self.store.remove(np.asarray(ids, dtype=np.int64))
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))

    def rename(self, old_id: str, article: Article, source: str | None) -> None:
        """Same content under a new id (a renamed file): keep its vectors, change only the id."""
        self.dirty = True
        self.db.execute("UPDATE articles SET id = ?, source = ? WHERE id = ?", (article.id, source, old_id))
        self.db.execute("UPDATE chunks SET article_id = ? WHERE article_id = ?", (article.id, old_id))

    def add(self, article: Article, source: str | None) -> None:
        self.dirty = True
        regions = content_regions(article.text, article.boilerplate)
        spans = sentences(article.text, regions)
        max_tokens = self.embedder.max_tokens - (TITLE_RESERVE_TOKENS if self.settings.embed_titles else 0)
        chunks = chunk_article(
            article,
            count_tokens=self.embedder.count_tokens,
            token_spans=self.embedder.token_spans,
            target_tokens=self.settings.chunk_tokens,
            max_tokens=max(8, max_tokens),
            overlap=self.settings.chunk_overlap_sentences,
            sentence_spans=spans,
        )
        self.db.execute(
            "INSERT INTO articles (id, source, content_hash, title, url, date, author, text, boilerplate, sentences, "
            "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                source,
                content_hash(article),
                article.title,
                article.url,
                article.date,
                article.author,
                article.text,
                json.dumps([list(span) for span in article.boilerplate]),
                json.dumps([list(span) for span in spans]),
                dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            ),
        )
        title = " ".join(article.title.split()[:24])
        for chunk in chunks:
            chunk_id = self.next_chunk_id
            self.next_chunk_id += 1
            self.db.execute(
                "INSERT INTO chunks (id, article_id, ordinal, start, end) VALUES (?, ?, ?, ?, ?)",
                (chunk_id, article.id, chunk.ordinal, chunk.start, chunk.end),
            )
            # The title tells the embedder what a chunk is about; skip it where the chunk already opens with it.
            prefix = self.settings.embed_titles and title and not chunk.text.lstrip().startswith(title[:40])
            self._pending.append(_Pending(chunk_id, f"{title}\n{chunk.text}" if prefix else chunk.text))

    def set_source(self, source: str, file_hash: str) -> None:
        self.dirty = True
        self.db.execute("INSERT OR REPLACE INTO sources (source, file_hash) VALUES (?, ?)", (source, file_hash))

    def drop_source(self, source: str) -> None:
        if self.db.execute("DELETE FROM sources WHERE source = ?", (source,)).rowcount:
            self.dirty = True

    def commit(self) -> SyncReport:
        if not self.dirty:
            self.db.close()
            del self.db
            shutil.rmtree(self.staging, ignore_errors=True)
            self.report.generation = self.base_number
            self.report.seconds = round(time.monotonic() - self._started, 3)
            return self.report
        if self._pending:
            texts = [p.text for p in self._pending]
            vectors = self._embed(texts)
            self.store.add(np.asarray([p.chunk_id for p in self._pending], dtype=np.int64), vectors)
        self.report.chunks_embedded = len(self._pending)
        self.db.commit()
        self._build_lexical()
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        self.db.close()
        del self.db
        self.store.save(self.staging)
        manifest = {
            "format": FORMAT_VERSION,
            "generation": self.number,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "embedder": self.identity,
            "store": self.store.name,
            "chunking": self.chunking,
            "next_chunk_id": self.next_chunk_id,
            "articles": int(articles),
            "chunks": int(chunks),
        }
        (self.staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        publish(self.index_dir, self.staging, self.number)
        clean_leftovers(self.index_dir)
        self.report.generation = self.number
        self.report.seconds = round(time.monotonic() - self._started, 3)
        return self.report

    def _build_lexical(self) -> None:
        rows = self.db.execute(
            "SELECT c.id, a.title, substr(a.text, c.start + 1, c.end - c.start) FROM chunks c "
            "JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
        # The title counts as words of every chunk: questions often name the story, not the sentence.
        BM25Index.build([r[0] for r in rows], [f"{r[1] or ''}\n{r[2]}" for r in rows]).save(self.staging)

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
    indexed = txn.indexed()
    wanted = {article.id: (article, None) for article in articles}
    return _apply_and_commit(txn, wanted, indexed, [])


def delete(article_ids: Iterable[str], txn: Transaction) -> SyncReport:
    article_ids = list(article_ids)
    indexed = txn.indexed()
    missing = [aid for aid in article_ids if aid not in indexed]
    txn.report.skipped.extend(Skipped(aid, "not in the index") for aid in missing)
    present = [aid for aid in article_ids if aid in indexed]
    # Forget the file's hash too, or the next folder sync would see the same bytes, skip the file and never bring
    # the deleted article back while its file is still there.
    for source in {indexed[aid][1] for aid in present} - {None}:
        txn.drop_source(source)
    return _apply_and_commit(txn, {}, indexed, present)


def _apply_and_commit(txn, wanted, indexed, vanished) -> SyncReport:
    _apply(txn, wanted, indexed, vanished)
    return txn.commit()


def _apply(txn: Transaction, wanted: dict, indexed: dict, vanished: list[str]) -> None:
    report = txn.report
    vanished_by_hash = {indexed[aid][0]: aid for aid in vanished}
    for aid in vanished:
        report.removed.append(aid)
    for aid, (article, source) in sorted(wanted.items()):
        new_hash = content_hash(article)
        old = indexed.get(aid)
        if old is not None and old[0] == new_hash and not txn.reembed_all:
            if old[1] != source:
                txn.dirty = True
                txn.db.execute("UPDATE articles SET source = ? WHERE id = ?", (source, aid))
            report.unchanged += 1
            continue
        if old is None and new_hash in vanished_by_hash and not txn.reembed_all:
            old_id = vanished_by_hash.pop(new_hash)
            vanished.remove(old_id)
            txn.rename(old_id, article, source)
            report.added.append(aid)
            continue
        if old is not None:
            txn.remove(aid)
            report.updated.append(aid)
        else:
            report.added.append(aid)
        txn.add(article, source)
    for aid in vanished:
        txn.remove(aid)
