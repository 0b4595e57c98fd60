"""Crash-safe index storage: immutable generations, an atomically swapped CURRENT pointer, and a writer lock.

Layout of an index folder:
    CURRENT            name of the live generation (replaced atomically with os.replace)
    gen-000007/        manifest.json, meta.sqlite, vectors.faiss — never modified once published
    .lock              held (flock) by the one process writing a new generation

A writer builds the next generation in a temporary folder, fsyncs it, renames it into place and only then swaps
CURRENT. A kill at any moment leaves CURRENT pointing at a complete generation; leftovers are removed by the next
writer. Readers load whatever CURRENT names and keep using it while a writer works.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexBusy, IndexCorrupt

FORMAT_VERSION = 1
KEEP_GENERATIONS = 3  # readers may still hold the previous ones

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    source TEXT,               -- file the article came from (relative to the articles folder); NULL via the API
    content_hash TEXT NOT NULL,
    title TEXT, url TEXT, date TEXT, author TEXT,
    text TEXT NOT NULL,
    boilerplate TEXT NOT NULL, -- JSON [[start, end], ...]
    sentences TEXT NOT NULL,   -- JSON [[start, end], ...]
    indexed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_source ON articles(source);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,    -- also the vector id in the vector store
    article_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,   -- lets a sync skip parsing files whose bytes did not change
    file_hash TEXT NOT NULL
);
"""


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def current_name(index_dir: Path) -> str | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


def generation_number(name: str) -> int:
    return int(name.split("-", 1)[1])


def read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} has no readable manifest ({exc}); rebuild with `qa index --rebuild`") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"{path} was written in index format {manifest.get('format')}, this version reads {FORMAT_VERSION}; "
            "rebuild with `qa index --rebuild`"
        )
    return manifest


def connect_readonly(path: Path) -> sqlite3.Connection:
    # immutable=1: a published generation never changes, so SQLite may skip locking entirely.
    conn = sqlite3.connect(f"file:{path / 'meta.sqlite'}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def writer_lock(index_dir: Path):
    """Exclusive, non-blocking: a second writer fails at once instead of waiting or corrupting anything.
    The kernel drops a flock when its process dies, so a killed writer never leaves a stale lock."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise IndexBusy(
                f"the index at {index_dir} is being updated by {holder}; wait for that sync to finish and try again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def clean_leftovers(index_dir: Path) -> None:
    """Remove half-written folders from killed writers and generations too old for any reader."""
    live = current_name(index_dir)
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp"))
    for path in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)
    live_number = generation_number(live) if live else -1
    for path in generations:
        number = generation_number(path.name)
        if number > live_number:  # renamed into place but never made live: the writer died before the swap
            shutil.rmtree(path, ignore_errors=True)
    kept = [p for p in generations if generation_number(p.name) <= live_number]
    for path in kept[:-KEEP_GENERATIONS]:
        shutil.rmtree(path, ignore_errors=True)


def next_generation_number(index_dir: Path) -> int:
    numbers = [generation_number(p.name.removesuffix(".tmp")) for p in index_dir.glob("gen-*")]
    return max(numbers, default=0) + 1


def _fsync_tree(path: Path) -> None:
    for entry in path.iterdir():
        if entry.is_dir():
            _fsync_tree(entry)
            continue
        with open(entry, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, staging: Path, number: int) -> Path:
    """Make a fully written staging folder the live generation: fsync, rename, then swap CURRENT."""
    _fsync_tree(staging)
    final = index_dir / generation_name(number)
    staging.rename(final)
    pointer = index_dir / "CURRENT.tmp"
    with open(pointer, "w") as handle:
        handle.write(final.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    return final
