"""Article files uploaded through the page: checked, given a safe name, written atomically into the folder."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.articles import SkipFile, parse_source
from qa.errors import QAError

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".jsonl")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_STEM_CHARS = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRejected(QAError):
    """One uploaded file cannot become an article; the message says which and why."""


@dataclass(frozen=True)
class Saved:
    name: str  # the sanitised file name inside the articles folder (its article id for non-JSONL files)
    original: str
    replaced: bool  # a file of that name was there before


def sanitize_name(original: str) -> str:
    """A plain, visible file name: no folders, no leading dot, only letters, digits, '.', '_' and '-'."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", original or ""))[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem = _UNSAFE.sub("-", unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode())
    stem = re.sub(r"-{2,}", "-", stem).strip("-._")[:MAX_STEM_CHARS].strip("-._") or "article"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def validate(original: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The safe name to store ``data`` under, or UploadRejected saying what is wrong with it."""
    name = sanitize_name(original)
    shown = original or name
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadRejected(f"{shown}: only {', '.join(ALLOWED_SUFFIXES)} files can be added")
    if not data:
        raise UploadRejected(f"{shown}: the file is empty")
    if len(data) > max_bytes:
        raise UploadRejected(f"{shown}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    # The same parser the sync uses, so a file accepted here is one the sync will index.
    try:
        parsed = parse_source(name, data)
    except SkipFile as exc:
        raise UploadRejected(f"{shown}: {exc}") from None
    if not parsed.articles:
        reasons = "; ".join(reason for _, reason in parsed.skipped[:3])
        raise UploadRejected(f"{shown}: no article text found" + (f" ({reasons})" if reasons else ""))
    return name


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write via a hidden temporary file and a rename, so a sync never reads half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.resolve().parent != folder.resolve():  # sanitize_name makes this impossible; keep it so
        raise UploadRejected(f"{name}: not a plain file name")
    temporary = folder / f".{name}.{uuid.uuid4().hex}.upload-tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _discard_upload(path: Path) -> None:
    """Delete a rejected upload's temporary copy (the page's uploads sit in the temp folder until deleted). Only
    files inside a temp folder are touched: a caller's own file is never deleted."""
    temp_roots = [Path(tempfile.gettempdir()).resolve()]
    if os.environ.get("GRADIO_TEMP_DIR"):
        temp_roots.append(Path(os.environ["GRADIO_TEMP_DIR"]).resolve())
    try:
        real = Path(path).resolve()
        if real.is_file() and any(real.is_relative_to(root) for root in temp_roots):
            real.unlink()
    except OSError:
        pass  # a copy left in the temp folder is not worth failing the upload report for


def save_uploads(
    folder: Path, files: list[tuple[str, Path]], *, max_bytes: int = MAX_UPLOAD_BYTES
) -> tuple[list[Saved], list[str]]:
    """Save each (original name, temporary path) that passes the checks; return what was saved and why others
    were not. One bad file never stops the others."""
    saved: list[Saved] = []
    rejected: list[str] = []
    for original, path in files:
        try:
            size = Path(path).stat().st_size
            if size > max_bytes:  # say so before reading a huge file into memory
                raise UploadRejected(f"{original}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
            data = Path(path).read_bytes()
            name = validate(original, data, max_bytes=max_bytes)
            replaced = (folder / name).exists()
            write_atomically(folder, name, data)
            saved.append(Saved(name, original, replaced))
        except UploadRejected as exc:
            rejected.append(str(exc))
            _discard_upload(path)
        except OSError as exc:
            rejected.append(f"{original}: could not be saved ({exc.strerror or exc})")
            _discard_upload(path)
    return saved, rejected
