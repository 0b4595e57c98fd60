"""Read articles from a folder: .txt/.md, .html/.htm (via trafilatura) and .json/.jsonl, robust to bad files."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest.text import find_boilerplate
from qa.types import Article

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024  # per file: checked with stat before a byte is read (README: Articles)
_BYLINE = re.compile(r"^by\s+([A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,4})$", re.IGNORECASE)


class SkipFile(Exception):
    """This file (or object) cannot become an article; the message is the reason shown in the report."""


@dataclass
class Parsed:
    articles: list[Article] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason) inside a multi-article file


@dataclass
class Scan:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path relative to the folder, reason)


# What a folder says about itself: "README.TXT" beside the BBC articles ("Consists of 2225 documents from the BBC news
# website ...") answered questions as if it were news.
_FOLDER_NOTE = re.compile(r"^(readme|licen[cs]e|copying|changelog|notice|authors)([._-].*)?$", re.IGNORECASE)


def scan_sources(folder: Path) -> Scan:
    """Article files below folder, recursively, in a stable order, and what was passed over and why. Hidden files
    and folders are ignored; links are followed only to files inside the folder, and linked folders not at all
    (a link out of the folder would let a sync publish any file the user can read, such as /etc/passwd)."""
    root = folder.resolve()
    scan = Scan()

    def relative(path: Path) -> str:
        return path.relative_to(folder).as_posix()

    def walk(directory: Path) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            reason = f"unreadable folder ({exc.strerror or exc}); its files were not read"
            scan.skipped.append((relative(directory) + "/", reason))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_link, is_dir = entry.is_symlink(), entry.is_dir()
            except OSError:
                continue
            if is_link and (is_dir or path.suffix.lower() in SUFFIXES):
                if not Path(os.path.realpath(path)).is_relative_to(root):
                    what = "folder" if is_dir else "file"
                    scan.skipped.append((relative(path), f"a link to a {what} outside the articles folder; not indexed"))
                    continue
                if is_dir:
                    continue  # its target is inside the folder and is read there
            if is_dir:
                walk(path)
            elif path.suffix.lower() in SUFFIXES and entry.is_file():
                if _FOLDER_NOTE.match(path.stem):
                    scan.skipped.append((relative(path), "a folder's README or licence, not an article; rename it to "
                                                         "index it"))
                else:
                    scan.files.append(path)

    walk(folder)
    scan.files.sort(key=relative)
    return scan


def list_sources(folder: Path) -> list[Path]:
    """Article files below folder (see scan_sources)."""
    return scan_sources(folder).files


def read_source(folder: Path, path: Path) -> bytes:
    """A file's bytes, checked before they are read: SkipFile when it is over MAX_FILE_BYTES or (swapped for a
    link since the scan) lies outside the folder; OSError when it cannot be read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a pipe swapped in must not hang the sync
    with os.fdopen(fd, "rb") as handle:
        # The path of what was actually opened, so a file replaced by a link after the scan is still caught.
        proc = Path(f"/proc/self/fd/{fd}")
        real = Path(os.readlink(proc)) if proc.is_symlink() else path.resolve()
        if not real.is_relative_to(folder.resolve()):
            raise SkipFile("a link to a file outside the articles folder; not indexed")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SkipFile("not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise SkipFile(f"{info.st_size / 2**20:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit per file")
        data = handle.read(MAX_FILE_BYTES + 1)  # the file may grow between the check and the read
    if len(data) > MAX_FILE_BYTES:
        raise SkipFile(f"over the {MAX_FILE_BYTES // 2**20} MB limit per file")
    return data


def source_id(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def content_hash(article: Article) -> str:
    """Changes whenever anything that is indexed or shown changes."""
    payload = json.dumps([article.text, article.title, article.url, article.date, article.author])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (a BOM is dropped), UTF-16/32 with a BOM, else the encoding
    charset-normalizer detects."""
    # UTF-16 and UTF-32 text is full of NUL bytes, so its byte order mark must be honoured before the binary test.
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            try:
                return data.decode(codec), codec.upper()
            except UnicodeDecodeError:
                name = codec.upper()
                raise SkipFile(f"starts with a {name} byte order mark but is not valid {name}") from None
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # A few stray high bytes in otherwise ASCII text (a "£" or "é" in English news) are almost always Windows
    # Latin-1; statistical detectors guess wildly on so little evidence (cp932 for one "£").
    high = sum(1 for byte in data if byte > 127)
    if high <= max(8, len(data) // 100):
        try:
            return data.decode("cp1252"), "cp1252 (Latin-1)"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SkipFile("not text in any known encoding")
    return str(best), best.encoding


def parse_source(source: str, data: bytes) -> Parsed:
    """Articles from one file's bytes. Raises SkipFile when nothing usable is in it."""
    if len(data) > MAX_FILE_BYTES:
        raise SkipFile(f"over the {MAX_FILE_BYTES // 2**20} MB limit per file")
    text, encoding = decode(data)
    parsed = Parsed()
    if encoding != "utf-8":
        parsed.notes.append(f"{source}: not UTF-8, decoded as {encoding}")
    suffix = Path(source).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        parsed.articles.append(_plain_article(source, text, markdown=suffix == ".md"))
    elif suffix in HTML_SUFFIXES:
        parsed.articles.append(_html_article(source, text))
    else:
        _json_articles(source, text, suffix, parsed)
    if not parsed.articles and not parsed.skipped:
        raise SkipFile("no articles in file")
    return parsed


def make_article(article_id: str, text: str, *, title: str = "", **meta) -> Article:
    """Build an Article with boilerplate found and a title taken from the text when none is given."""
    if not text.strip():
        raise SkipFile("empty text")
    if not title:
        title, author = guess_title_and_author(text)
        meta.setdefault("author", author)
    return Article(id=article_id, text=text, title=title.strip(), boilerplate=find_boilerplate(text), **meta)


def guess_title_and_author(text: str, markdown: bool = False) -> tuple[str, str | None]:
    """The first non-empty line is the title, unless it is a short section label ("Crime & Justice") directly
    followed by a headline-like line; a "By Name" line near the top gives the author."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:6]
    if markdown:
        lines = [line.lstrip("#").strip() for line in lines]
    if not lines:
        return "", None
    title = lines[0]
    if len(lines) > 1 and len(title.split()) <= 3 and not title.endswith((".", "?", "!", ":")):
        candidate = lines[1]
        if 3 <= len(candidate.split()) <= 20 and not candidate.endswith(".") and not _BYLINE.match(candidate):
            title = candidate
    author = next((m.group(1) for line in lines[1:] if (m := _BYLINE.match(line))), None)
    return title, author


def _plain_article(source: str, text: str, markdown: bool) -> Article:
    title, author = guess_title_and_author(text, markdown)
    return make_article(source, text, title=title or Path(source).stem, author=author)


def _html_article(source: str, html: str) -> Article:
    import trafilatura

    document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    if document is None or not (document.text or "").strip():
        raise SkipFile("no article text found in the HTML")
    return make_article(
        source,
        document.text,
        title=document.title or Path(source).stem,
        author=document.author,
        date=document.date,
        url=document.url,
    )


def _json_articles(source: str, text: str, suffix: str, parsed: Parsed) -> None:
    if suffix == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                parsed.skipped.append((f"{source}:{number}", f"invalid JSON: {exc.msg}"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SkipFile(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
        data = data if isinstance(data, list) else [data]
        records = list(enumerate(data, start=1))
    seen: set[str] = set()
    for number, record in records:
        where = f"{source}:{number}"
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            parsed.skipped.append((where, "no 'text' string in this object"))
            continue
        key = str(record.get("id", number))
        if key in seen:
            parsed.skipped.append((where, f"duplicate id {key!r} in this file"))
            continue
        seen.add(key)
        meta = {name: str(record[name]) for name in ("url", "date", "author") if record.get(name) is not None}
        try:
            parsed.articles.append(
                make_article(f"{source}#{key}", record["text"], title=str(record.get("title") or ""), **meta)
            )
        except SkipFile as exc:
            parsed.skipped.append((where, str(exc)))
