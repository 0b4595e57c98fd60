"""Writing index generations: bring the index in step with a folder, or upsert/delete articles directly.

Every change goes through one Transaction: lock, copy the live generation's metadata into a staging folder, apply
removals and additions, embed all new chunks in one length-sorted pass, then publish atomically.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from qa.ingest.articles import SkipFile, content_hash, parse_source, read_source, scan_sources, source_id
from qa.ingest.chunking import chunk_article
from qa.errors import ArticlesNotFound, IndexCorrupt, IndexWriteFailed
from qa.store.generations import (
    FORMAT_VERSION,
    SCHEMA,
    clean_leftovers,
    generation_name,
    damage_detail,
    generation_number,
    is_complete,
    locate,
    next_generation_number,
    published_generations,
    publish,
    read_manifest,
    write_pointer,
    writer_lock,
)
from qa.store.integrity import check_files, file_records
from qa.store.index import article_from_row, check_embedder, embedder_identity
from qa.store.lexical import BM25Index
from qa.settings import Settings
from qa.store.vectors import load_store, new_store, store_filename
from qa.ingest.text import content_regions, sentences
from qa.types import Article, Skipped, SyncReport

TITLE_RESERVE_TOKENS = 40  # room kept for the title prefix when titles are embedded with each chunk


@dataclass(frozen=True)
class _Pending:
    chunk_id: int
    text: str  # what is embedded: optional title prefix + the chunk text
    vector: np.ndarray | None = None  # already embedded elsewhere (a Ray cluster, by prepare())


class Transaction:
    def __init__(self, index_dir: Path, embedder, settings: Settings, *, rebuild: bool = False, progress=None):
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.settings = settings
        self.rebuild = rebuild
        self.progress = progress
        self.report = SyncReport()
        self._pending: list[_Pending] = []
        self._prepared: dict[str, tuple] = {}  # article id -> (sentence spans, chunks), from prepare()
        self._started = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> "Transaction":
        self._lock = writer_lock(self.index_dir)
        self._lock.__enter__()
        try:
            self._open()
        except BaseException as exc:
            self._discard()
            self._lock.__exit__(None, None, None)
            _raise_write_failure(exc, self.index_dir)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc is not None:
                self._discard()
            elif hasattr(self, "db"):
                self.db.close()
        finally:
            self._lock.__exit__(exc_type, exc, tb)
        if exc is not None:
            _raise_write_failure(exc, self.index_dir)

    def _discard(self) -> None:
        """A failed write leaves nothing behind: the staging folder goes, the live generation is untouched."""
        if hasattr(self, "db"):
            self.db.close()
            del self.db
        if hasattr(self, "staging"):
            shutil.rmtree(self.staging, ignore_errors=True)

    @property
    def chunking(self) -> dict:
        return {
            "chunk_tokens": self.settings.chunk_tokens,
            "overlap_sentences": self.settings.chunk_overlap_sentences,
            "embed_titles": self.settings.embed_titles,
        }

    def _open(self) -> None:
        clean_leftovers(self.index_dir)
        self.identity = embedder_identity(self.embedder)
        live = locate(self.index_dir)
        if live.note:
            self.report.notes.append(live.note)
        if live.note and live.name is not None:
            write_pointer(self.index_dir, live.name)  # so readers stop looking for it
            self.report.notes.append(f"CURRENT points at {live.name} again")
        self.number = next_generation_number(self.index_dir)
        self.staging = self.index_dir / (generation_name(self.number) + ".tmp")
        self.staging.mkdir(parents=True)
        self._fresh_db()
        self.reembed_all = False
        self._added: set[str] = set()
        # A sync that changes nothing publishes nothing (no churn of generations or "last sync" times); an index
        # started afresh or repaired always publishes. _load_base says which.
        self.dirty = True
        self.base_number = 0
        if live.name is not None and not self.rebuild and self._load_base(self.index_dir / live.name):
            return
        self.db.executescript(SCHEMA)
        self.store = new_store(self.settings.store, self.identity["dimension"], self.settings)
        self.next_chunk_id = 0

    def _fresh_db(self) -> None:
        if hasattr(self, "db"):
            self.db.close()
        (self.staging / "meta.sqlite").unlink(missing_ok=True)
        self.db = sqlite3.connect(self.staging / "meta.sqlite")
        self.db.row_factory = sqlite3.Row

    def _load_base(self, base: Path) -> bool:
        """Start from generation ``base``: copy its metadata and vectors. One that fails its checks is repaired
        rather than trusted: damaged vectors are re-embedded from its metadata; damaged metadata makes the newest
        intact older generation the base (False when there is none: start empty and re-read the folder)."""
        try:
            manifest = read_manifest(base)
        except IndexCorrupt as exc:
            return self._older_base(base, damage_detail(exc))
        check_embedder(manifest, self.identity, base)
        bad = {c.name: c.detail for c in check_files(base, manifest, full=True) if not c.ok}
        if "meta.sqlite" in bad:
            return self._older_base(base, f"meta.sqlite: {bad['meta.sqlite']}")
        try:
            source = sqlite3.connect(f"file:{base / 'meta.sqlite'}?mode=ro", uri=True)
            try:
                source.backup(self.db)
            finally:
                source.close()
            self.db.executescript(SCHEMA)  # tables added since the base was written
            self._fill_sentences()
        except sqlite3.DatabaseError as exc:
            if _is_write_error(exc):
                raise
            self._fresh_db()
            return self._older_base(base, f"meta.sqlite: {exc}")
        self.base_number = generation_number(base.name)
        self.next_chunk_id = int(manifest["next_chunk_id"])
        # Chunks made with other settings would mix two chunkings in one index: redo them all.
        self.reembed_all = manifest.get("chunking") != self.chunking
        self.dirty = self.reembed_all or bool(bad)
        try:
            store_file = store_filename(manifest["store"])
            store_problem = f"{store_file}: {bad[store_file]}" if store_file in bad else None
            if store_problem is None:
                self.store = load_store(manifest["store"], base, self.identity["dimension"], self.settings)
        except IndexCorrupt as exc:
            store_problem = damage_detail(exc)
        if store_problem is not None:
            self.store = new_store(manifest["store"], self.identity["dimension"], self.settings)
            self.reembed_all = self.dirty = True
            self.report.notes.append(
                f"{base.name} failed its checks ({store_problem}); re-embedding every article from its metadata"
            )
        elif bad:
            self.report.notes.append(f"{base.name} failed its checks ({failures_text(bad)}); rebuilt those files")
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

    def _fill_sentences(self) -> None:
        """Generations written before the sentences table kept sentence spans only as JSON: copy them over once."""
        if self.db.execute("SELECT 1 FROM sentences LIMIT 1").fetchone():
            return
        for article_id, spans in self.db.execute("SELECT id, sentences FROM articles").fetchall():
            self.db.executemany(
                "INSERT INTO sentences (article_id, start, end) VALUES (?, ?, ?)",
                ((article_id, start, end) for start, end in json.loads(spans)),
            )

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
        self.db.execute("DELETE FROM sentences WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))

    def rename(self, old_id: str, article: Article, source: str | None) -> None:
        """Same content under a new id (a renamed file): keep its vectors, change only the id."""
        self.dirty = True
        self.db.execute("UPDATE articles SET id = ?, source = ? WHERE id = ?", (article.id, source, old_id))
        self.db.execute("UPDATE chunks SET article_id = ? WHERE article_id = ?", (article.id, old_id))
        self.db.execute("UPDATE sentences SET article_id = ? WHERE article_id = ?", (article.id, old_id))

    def prepare(self, articles: list[Article]) -> None:
        """Split and embed many new articles at once where the embedder can do it elsewhere (a Ray cluster:
        ``segment_many`` gives each article's sentences, chunks and their vectors); ``add`` takes them as they are."""
        segment_many = getattr(self.embedder, "segment_many", None)
        if segment_many is not None and articles:
            self._prepared.update(segment_many(articles, self.settings))

    def add(self, article: Article, source: str | None) -> None:
        self.dirty = True
        prepared = self._prepared.pop(article.id, None)
        spans, chunks, vectors = prepared if prepared is not None else (*segment(article, self.embedder, self.settings), None)
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
        self.db.executemany(
            "INSERT INTO sentences (article_id, start, end) VALUES (?, ?, ?)", ((article.id, a, b) for a, b in spans)
        )
        self._added.add(article.id)
        for i, (chunk, text) in enumerate(zip(chunks, embedded_texts(article, chunks, self.settings))):
            chunk_id = self.next_chunk_id
            self.next_chunk_id += 1
            self.db.execute(
                "INSERT INTO chunks (id, article_id, ordinal, start, end) VALUES (?, ?, ?, ?, ?)",
                (chunk_id, article.id, chunk.ordinal, chunk.start, chunk.end),
            )
            self._pending.append(_Pending(chunk_id, text, None if vectors is None else vectors[i]))

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
        if self.reembed_all:
            self._reembed_the_rest()
        if self._pending:
            todo = [p for p in self._pending if p.vector is None]
            embedded = iter(self._embed([p.text for p in todo]) if todo else ())
            vectors = np.vstack([p.vector if p.vector is not None else next(embedded) for p in self._pending])
            self.store.add(np.asarray([p.chunk_id for p in self._pending], dtype=np.int64), vectors)
        self.report.chunks_embedded = len(self._pending)
        self.db.commit()
        self._build_lexical()
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        self.db.close()
        del self.db
        try:
            self.store.save(self.staging)
        except RuntimeError as exc:  # faiss reports a failed write (a full disk) as RuntimeError
            raise IndexWriteFailed(_write_failure_message(self.index_dir, f"writing vectors failed: {exc}")) from exc
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
            "files": file_records(self.staging),  # sizes and checksums, checked on open and by `qa status --verify`
        }
        (self.staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        publish(self.index_dir, self.staging, self.number)
        clean_leftovers(self.index_dir)
        self.report.generation = self.number
        self.report.seconds = round(time.monotonic() - self._started, 3)
        return self.report

    def _reembed_the_rest(self) -> None:
        """With new chunking or lost vectors every article is chunked and embedded again, also those this
        transaction did not touch (articles added through the API, or the folder's during an upsert)."""
        rows = self.db.execute("SELECT * FROM articles").fetchall()
        for row in rows:
            if row["id"] in self._added:
                continue
            article = article_from_row(row)
            self.remove(article.id)
            self.add(article, row["source"])

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


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _is_write_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _WRITE_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(word in message for word in ("disk", "full", "i/o", "readonly", "read-only"))
    return False


def _write_failure_message(index_dir: Path, reason: str) -> str:
    return (
        f"could not write a new generation of the index at {index_dir} ({reason}); nothing was changed and the "
        "previous generation still answers. Free some disk space and run `qa index` again"
    )


def _raise_write_failure(exc: BaseException, index_dir: Path) -> None:
    """A full disk surfaces as OSError, sqlite3.OperationalError or a faiss RuntimeError: say it once, plainly."""
    if _is_write_error(exc):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IndexWriteFailed(_write_failure_message(index_dir, reason)) from exc


def failures_text(bad: dict[str, str]) -> str:
    return "; ".join(f"{name}: {detail}" for name, detail in sorted(bad.items()))


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
        to_add.append((article, source))
    txn.prepare([article for article, _ in to_add])
    for article, source in to_add:
        txn.add(article, source)
    for aid in vanished:
        txn.remove(aid)
