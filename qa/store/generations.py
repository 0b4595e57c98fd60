"""Crash-safe index storage: immutable generations, an atomically swapped CURRENT pointer, and a writer lock.

Layout of an index folder:
    CURRENT            name of the live generation (replaced atomically with os.replace)
    gen-000007/        manifest.json, deletes.json, sources.sqlite and its segments (seg-000005-1/: meta.sqlite,
                       bm25/, vectors.faiss; see qa/store/segments.py), never modified once published; segments
                       kept from one generation to the next are hard links to the same files
    .lock              held (flock) by the one process writing a new generation

A writer builds the next generation in a temporary folder, fsyncs it, renames it into place and only then swaps
CURRENT. A kill at any moment leaves CURRENT pointing at a complete generation; leftovers are removed by the next
writer. Readers load whatever CURRENT names and keep using it while a writer works.

CURRENT is only a pointer: when it is lost, emptied or overwritten, the newest complete generation (see
qa.store.integrity) is used instead and the next writer points CURRENT at it again. Nothing is ever deleted on the say-so
of an unusable CURRENT.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IndexBusy, IndexCorrupt, generation_damaged
from qa.store.integrity import check_files, failures

FORMAT_VERSION = 2  # segments; format 1 (one meta.sqlite, vectors.faiss, bm25/ per generation) is still read
READABLE_FORMATS = (1, 2)
KEEP_GENERATIONS = 3  # readers may still hold the previous ones

_NAME = re.compile(r"gen-(\d{6})")


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def generation_number(name: str) -> int:
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not a generation name")
    return int(match.group(1))


def read_pointer(index_dir: Path) -> tuple[str | None, str | None]:
    """(generation CURRENT names, None) or (None, what is wrong with CURRENT). Only a plain gen-NNNNNN is accepted:
    never a path, so CURRENT cannot lead a reader (or a writer's clean-up) out of the index folder."""
    try:
        raw = (index_dir / "CURRENT").read_bytes()
    except FileNotFoundError:
        return None, "is missing"
    except OSError as exc:
        return None, f"is unreadable ({exc.strerror or exc})"
    name = raw.decode("utf-8", "replace").strip()
    if not name:
        return None, "is empty"
    if not _NAME.fullmatch(name):
        return None, f"holds {name[:40]!r}, which is not a generation name"
    if not (index_dir / name).is_dir():
        return None, f"names {name}, which does not exist"
    return name, None


def current_name(index_dir: Path) -> str | None:
    """The generation CURRENT names, when it names one that exists."""
    return read_pointer(index_dir)[0]


def published_generations(index_dir: Path) -> list[Path]:
    """Renamed-into-place generation folders, oldest first (staging folders and stray names are not included)."""
    return sorted(p for p in index_dir.glob("gen-*") if _NAME.fullmatch(p.name) and p.is_dir())


def is_complete(path: Path) -> str:
    """'' when the generation's manifest is readable and every file has its recorded size and checksum, else what
    is wrong."""
    try:
        manifest = read_manifest(path)
    except IndexCorrupt as exc:
        return damage_detail(exc)
    return failures(check_files(path, manifest, full=True))


def damage_detail(exc: IndexCorrupt) -> str:
    """The bracketed detail of a 'generation ... is damaged (detail); repair ...' message."""
    text = str(exc)
    if " is damaged (" not in text:
        return text.split(";")[0]
    return text.split(" is damaged (", 1)[1].rsplit("); repair", 1)[0]


@dataclass(frozen=True)
class Live:
    """The generation to use. ``note`` says why it is not simply the one CURRENT names; ``name`` is None when there
    is no usable generation (with no note: there never was an index)."""

    name: str | None
    note: str | None = None


_complete_cache: dict[tuple, str] = {}


def _is_complete_cached(path: Path) -> str:
    # Recovery checksums whole generations: remember the verdict while the folder's files stay as they are.
    try:
        key = (str(path), tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*"))))
    except OSError:
        return is_complete(path)
    verdict = _complete_cache.get(key)
    if verdict is None:
        if len(_complete_cache) > 64:
            _complete_cache.clear()
        verdict = _complete_cache[key] = is_complete(path)
    return verdict


def locate(index_dir: Path) -> Live:
    """The generation CURRENT names; when CURRENT is missing, empty, garbage or names a generation that is gone,
    the newest complete generation."""
    name, problem = read_pointer(index_dir)
    if name is not None:
        return Live(name)
    generations = published_generations(index_dir)
    if not generations:
        return Live(None)  # nothing to lose: no index yet
    for path in reversed(generations):
        if not _is_complete_cached(path):
            return Live(path.name, f"CURRENT {problem}; using {path.name}, the newest complete generation")
    return Live(None, f"CURRENT {problem} and no generation in {index_dir} is complete")


def write_pointer(index_dir: Path, name: str) -> None:
    """Point CURRENT at a generation atomically (writers only, under the lock)."""
    pointer = index_dir / "CURRENT.tmp"
    with open(pointer, "w") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)


def read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise generation_damaged(path, f"manifest.json: unreadable, {exc}") from exc
    if manifest.get("format") not in READABLE_FORMATS:
        raise IndexCorrupt(
            f"{path} was written in index format {manifest.get('format')}, this version reads {FORMAT_VERSION}; "
            "rebuild with `qa index --rebuild`"
        )
    return manifest


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
    """Remove half-written folders from killed writers and generations too old for any reader. Generations are
    only removed relative to a CURRENT that names an existing one: when CURRENT is unusable all are kept."""
    for path in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)
    (index_dir / "CURRENT.tmp").unlink(missing_ok=True)
    live = current_name(index_dir)
    if live is None:
        return
    live_number = generation_number(live)
    generations = published_generations(index_dir)
    for path in generations:
        if generation_number(path.name) > live_number:  # renamed into place but never made live: the writer died
            shutil.rmtree(path, ignore_errors=True)  # before the swap
    kept = [p for p in generations if generation_number(p.name) <= live_number]
    for path in kept[:-KEEP_GENERATIONS]:
        shutil.rmtree(path, ignore_errors=True)


def next_generation_number(index_dir: Path) -> int:
    numbers = [int(m.group(1)) for p in index_dir.glob("gen-*") if (m := _NAME.fullmatch(p.name.removesuffix(".tmp")))]
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
    write_pointer(index_dir, final.name)
    return final
