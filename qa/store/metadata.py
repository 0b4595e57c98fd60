"""Articles, chunks and sentences: the one place their SQLite schema is written and read.

Each segment of an index keeps its articles in its own ``meta.sqlite`` (written once, never changed); a generation
is a list of segments plus tombstones (article ids deleted from a segment since it was written). ``Metadata``
answers the reads of one generation across its segments and skips tombstoned rows; ``SegmentWriter`` writes a new
segment. Which file a folder sync last saw is kept apart, in the generation's ``sources.sqlite``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from qa.errors import generation_damaged
from qa.types import Article, Passage

META = "meta.sqlite"
SOURCES = "sources.sqlite"
PARAMS = 900  # SQLite's limit on bound parameters is 999 in older builds

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
    id INTEGER PRIMARY KEY,    -- also the vector id in the vector store; unique across segments, never reused
    article_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentences (  -- one row per sentence, so a citation finds its sentence without parsing all
    article_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_article ON sentences(article_id, start);
"""

SOURCES_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,   -- lets a sync skip parsing files whose bytes did not change
    file_hash TEXT NOT NULL
);
"""


def article_from_row(row) -> Article:
    """An ``articles`` table row as the Article it stores."""
    return Article(
        id=row["id"],
        text=row["text"],
        title=row["title"] or "",
        url=row["url"],
        date=row["date"],
        author=row["author"],
        boilerplate=tuple(tuple(span) for span in json.loads(row["boilerplate"])),
    )


def connect_readonly(path: Path) -> sqlite3.Connection:
    # immutable=1: a published segment never changes, so SQLite may skip locking entirely.
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _parts(items: Sequence, size: int = PARAMS):
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class StoredArticle:
    """An article as a segment holds it, with what a writer needs to carry it into another segment unchanged."""

    article: Article
    source: str | None
    content_hash: str
    sentences: list[tuple[int, int]]
    chunks: list[tuple[int, int, int, int]]  # (chunk id, ordinal, start, end)


class SegmentMeta:
    """One segment's meta.sqlite, read-only. Every query goes through ``rows``: a damaged file is a clean
    IndexCorrupt naming the generation, not a traceback."""

    def __init__(self, path: Path, generation: Path):
        self.path = path
        self.generation = generation
        try:
            self.db = connect_readonly(path)
            self.db.execute("SELECT count(*) FROM articles").fetchone()
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise generation_damaged(generation, f"{self._name()}: {exc}") from exc
        self.has_sentence_table = "sentences" in tables  # older generations keep sentences only as JSON

    def _name(self) -> str:
        try:
            return self.path.relative_to(self.generation).as_posix()
        except ValueError:
            return self.path.name

    def rows(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        try:
            return self.db.execute(sql, list(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise generation_damaged(self.generation, f"{self._name()}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def sentences(self, article_id: str, start: int | None = None, end: int | None = None) -> list[tuple[int, int]]:
        """Sentence spans of an article, in order; with ``start``/``end`` only those overlapping [start, end]."""
        if not self.has_sentence_table:
            rows = self.rows("SELECT sentences FROM articles WHERE id = ?", (article_id,))
            spans = [tuple(span) for span in json.loads(rows[0][0])] if rows else []
        elif start is None:
            rows = self.rows("SELECT start, end FROM sentences WHERE article_id = ? ORDER BY start", (article_id,))
            spans = [(r[0], r[1]) for r in rows]
        else:
            rows = self.rows(
                "SELECT start, end FROM sentences WHERE article_id = ? AND start <= ? AND start >= "
                "coalesce((SELECT max(start) FROM sentences WHERE article_id = ? AND start <= ?), 0) ORDER BY start",
                (article_id, end, article_id, start),
            )
            return [(r[0], r[1]) for r in rows]
        if start is None:
            return spans
        return [(a, b) for a, b in spans if b >= start and a <= end]

    def stored(self, article_id: str) -> StoredArticle | None:
        rows = self.rows("SELECT * FROM articles WHERE id = ?", (article_id,))
        if not rows:
            return None
        row = rows[0]
        chunks = self.rows(
            "SELECT id, ordinal, start, end FROM chunks WHERE article_id = ? ORDER BY ordinal", (article_id,)
        )
        return StoredArticle(
            article_from_row(row), row["source"], row["content_hash"], self.sentences(article_id),
            [tuple(c) for c in chunks],
        )


class Metadata:
    """A generation's articles: its segments, newest last, minus the articles tombstoned in each."""

    def __init__(self, segments: Sequence[SegmentMeta], deleted: dict[int, set[str]] | None = None):
        self.segments = list(segments)
        self.deleted = deleted or {}  # segment position -> article ids deleted from it

    def close(self) -> None:
        for segment in self.segments:
            segment.close()

    def _live(self) -> Iterable[tuple[SegmentMeta, set[str]]]:
        """Newest first: an article edited since is tombstoned in its older segment, so either order finds it
        once, but the newest segment is the likeliest to hold what was asked for."""
        for position in range(len(self.segments) - 1, -1, -1):
            yield self.segments[position], self.deleted.get(position, set())

    def _find(self, article_id: str) -> SegmentMeta | None:
        for segment, deleted in self._live():
            if article_id not in deleted and segment.rows("SELECT 1 FROM articles WHERE id = ?", (article_id,)):
                return segment
        return None

    def passages_for(self, chunk_ids: Sequence[int], scores: Sequence[float]) -> list[Passage]:
        wanted = [(int(i), float(s)) for i, s in zip(chunk_ids, scores) if i >= 0]
        if not wanted:
            return []
        by_id = {}
        ids = [i for i, _ in wanted]
        for segment, deleted in self._live():
            for part in _parts(ids):
                rows = segment.rows(
                    f"SELECT c.id, c.article_id, c.start, c.end, a.title, a.url, a.date, a.author, "
                    f"substr(a.text, c.start + 1, c.end - c.start) AS text "
                    f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({','.join('?' * len(part))})",
                    part,
                )
                by_id.update((row["id"], row) for row in rows if row["article_id"] not in deleted)
        passages = []
        for chunk_id, score in wanted:
            row = by_id.get(chunk_id)
            if row is not None:
                passages.append(Passage(
                    article_id=row["article_id"], title=row["title"] or "", text=row["text"], start=row["start"],
                    end=row["end"], score=score, chunk_id=chunk_id, url=row["url"], date=row["date"],
                    author=row["author"],
                ))
        return passages

    def chunk_articles(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """chunk id -> article id, for the live chunks among these."""
        out: dict[int, str] = {}
        ids = [int(i) for i in chunk_ids]
        for segment, deleted in self._live():
            for part in _parts(ids):
                for row in segment.rows(f"SELECT id, article_id FROM chunks WHERE id IN ({','.join('?' * len(part))})", part):
                    if row[1] not in deleted:
                        out[int(row[0])] = row[1]
        return out

    def chunks_of(self, article_ids: Sequence[str]) -> list[int]:
        """The chunk ids of these articles, article by article in the order given, each in reading order."""
        out = []
        for article_id in article_ids:
            segment = self._find(article_id)
            if segment is not None:
                out += [r[0] for r in segment.rows(
                    "SELECT id FROM chunks WHERE article_id = ? ORDER BY ordinal", (article_id,))]
        return out

    def article(self, article_id: str) -> Article | None:
        segment = self._find(article_id)
        rows = segment.rows("SELECT * FROM articles WHERE id = ?", (article_id,)) if segment else []
        return article_from_row(rows[0]) if rows else None

    def stored(self, article_id: str) -> StoredArticle | None:
        segment = self._find(article_id)
        return segment.stored(article_id) if segment else None

    def text_slice(self, article_id: str, start: int, end: int) -> str:
        """``article(article_id).text[start:end]`` without loading the whole text ('' for an unknown id)."""
        start, end = max(0, int(start)), max(0, int(end))
        segment = self._find(article_id) if end > start else None
        if segment is None:
            return ""
        rows = segment.rows("SELECT substr(text, ?, ?) FROM articles WHERE id = ?", (start + 1, end - start, article_id))
        return rows[0][0] if rows else ""

    def sentences(self, article_id: str, start: int | None = None, end: int | None = None) -> list[tuple[int, int]]:
        segment = self._find(article_id)
        return segment.sentences(article_id, start, end) if segment else []

    def source_of(self, article_id: str) -> str | None:
        segment = self._find(article_id)
        rows = segment.rows("SELECT source FROM articles WHERE id = ?", (article_id,)) if segment else []
        return rows[0][0] if rows else None

    def articles_from(self, source: str) -> list[str]:
        """Ids of all articles that came from one file (several for a JSONL file)."""
        return sorted(
            row[0] for segment, deleted in self._live()
            for row in segment.rows("SELECT id FROM articles WHERE source = ?", (source,)) if row[0] not in deleted
        )

    def articles_containing(self, snippet: str) -> list[str]:
        """Ids of the articles whose text contains ``snippet`` exactly."""
        if not snippet:
            return []
        return sorted(
            row[0] for segment, deleted in self._live()
            for row in segment.rows("SELECT id FROM articles WHERE instr(text, ?) > 0", (snippet,))
            if row[0] not in deleted
        )

    def listing(self) -> dict[str, tuple[str, str | None]]:
        """Every live article: id -> (content hash, source file)."""
        out = {}
        for segment, deleted in self._live():
            for row in segment.rows("SELECT id, content_hash, source FROM articles"):
                if row[0] not in deleted:
                    out[row[0]] = (row[1], row[2])
        return out

    def lookup(self, article_ids: Iterable[str]) -> dict[str, tuple[str, str | None, int]]:
        """For those of these ids the generation holds: id -> (content hash, source, segment position)."""
        ids = list(dict.fromkeys(article_ids))
        out: dict[str, tuple[str, str | None, int]] = {}
        for position in range(len(self.segments) - 1, -1, -1):
            deleted = self.deleted.get(position, set())
            for part in _parts([i for i in ids if i not in out]):
                rows = self.segments[position].rows(
                    f"SELECT id, content_hash, source FROM articles WHERE id IN ({','.join('?' * len(part))})", part)
                out.update((r[0], (r[1], r[2], position)) for r in rows if r[0] not in deleted)
        return out

    def article_ids(self) -> list[str]:
        return sorted(self.listing())

    def chunk_rows(self) -> list[tuple[int, str, int, int]]:
        """Every live chunk as (chunk id, article id, start, end), by article id and start."""
        rows = [tuple(r) for segment, deleted in self._live()
                for r in segment.rows("SELECT id, article_id, start, end FROM chunks") if r[1] not in deleted]
        return sorted(rows, key=lambda r: (r[1], r[2], r[0]))

    def counts(self) -> tuple[int, int]:
        """(articles, chunks) that are live."""
        articles = chunks = 0
        for position, segment in enumerate(self.segments):
            deleted = sorted(self.deleted.get(position, ()))
            articles += segment.rows("SELECT count(*) FROM articles")[0][0] - len(deleted)
            chunks += segment.rows("SELECT count(*) FROM chunks")[0][0]
            for part in _parts(deleted):
                chunks -= segment.rows(
                    f"SELECT count(*) FROM chunks WHERE article_id IN ({','.join('?' * len(part))})", part)[0][0]
        return articles, chunks


class SegmentWriter:
    """Writes one new segment's meta.sqlite: articles added by this sync, or carried over by a merge."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.articles = 0
        self.chunks = 0

    def add(self, article: Article, source: str | None, content_hash: str, sentences: Sequence[tuple[int, int]],
            chunks: Sequence[tuple[int, int, int, int]], indexed_at: str | None = None) -> None:
        """``chunks``: (chunk id, ordinal, start, end)."""
        self.db.execute(
            "INSERT INTO articles (id, source, content_hash, title, url, date, author, text, boilerplate, sentences, "
            "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id, source, content_hash, article.title, article.url, article.date, article.author,
                article.text, json.dumps([list(s) for s in article.boilerplate]),
                json.dumps([list(s) for s in sentences]),
                indexed_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            ),
        )
        self.db.executemany("INSERT INTO sentences (article_id, start, end) VALUES (?, ?, ?)",
                            ((article.id, a, b) for a, b in sentences))
        self.db.executemany("INSERT INTO chunks (id, article_id, ordinal, start, end) VALUES (?, ?, ?, ?, ?)",
                            ((c[0], article.id, c[1], c[2], c[3]) for c in chunks))
        self.articles += 1
        self.chunks += len(chunks)

    def copy_from(self, segment_path: Path, deleted: set[str]) -> None:
        """Carry a segment's live articles over unchanged (a merge): rows are copied inside SQLite."""
        self.db.execute("ATTACH DATABASE ? AS old", (f"file:{segment_path}?mode=ro&immutable=1",))
        try:
            self.db.execute("CREATE TEMP TABLE gone (id TEXT PRIMARY KEY)")
            self.db.executemany("INSERT INTO gone VALUES (?)", ((i,) for i in deleted))
            live = "NOT IN (SELECT id FROM gone)"
            self.db.execute(f"INSERT INTO articles SELECT * FROM old.articles WHERE id {live}")
            self.db.execute(f"INSERT INTO chunks SELECT * FROM old.chunks WHERE article_id {live}")
            has_sentences = self.db.execute(
                "SELECT 1 FROM old.sqlite_master WHERE type = 'table' AND name = 'sentences'").fetchone()
            if has_sentences:
                self.db.execute(f"INSERT INTO sentences SELECT * FROM old.sentences WHERE article_id {live}")
            else:  # a segment from before the sentences table
                for article_id, spans in self.db.execute(f"SELECT id, sentences FROM old.articles WHERE id {live}").fetchall():
                    self.db.executemany("INSERT INTO sentences VALUES (?, ?, ?)",
                                        ((article_id, a, b) for a, b in json.loads(spans)))
            self.db.commit()
            self.db.execute("DROP TABLE gone")
        finally:
            self.db.execute("DETACH DATABASE old")
        self.articles, self.chunks = (self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "chunks"))

    def chunk_rows(self) -> list[tuple[int, str, str]]:
        """(chunk id, article title, chunk text) of every chunk, by id: what the segment's lexical index holds."""
        self.db.commit()
        return [tuple(r) for r in self.db.execute(
            "SELECT c.id, a.title, substr(a.text, c.start + 1, c.end - c.start) FROM chunks c "
            "JOIN articles a ON a.id = c.article_id ORDER BY c.id")]

    def close(self) -> None:
        self.db.commit()
        self.db.close()


def read_source_hashes(origin: Path | None) -> dict[str, str]:
    """source -> file hash from a generation's sources table ({} without one)."""
    if origin is None or not origin.is_file():
        return {}
    db = sqlite3.connect(f"file:{origin}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT source, file_hash FROM sources").fetchall())
    except sqlite3.DatabaseError:
        return {}
    finally:
        db.close()


class Sources:
    """source file -> hash of its bytes, as the last folder sync saw them (one small table per generation)."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(SOURCES_SCHEMA)

    @classmethod
    def copy(cls, origin: Path | None, path: Path) -> "Sources":
        """A writable copy of ``origin``'s sources table (a sources.sqlite, or a format-1 meta.sqlite holding it)."""
        sources = cls(path)
        sources.db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?)", read_source_hashes(origin).items())
        return sources

    def hashes(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT source, file_hash FROM sources")}

    def set(self, source: str, file_hash: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (source, file_hash))

    def drop(self, source: str) -> None:
        self.db.execute("DELETE FROM sources WHERE source = ?", (source,))

    def close(self) -> None:
        self.db.commit()
        self.db.close()
