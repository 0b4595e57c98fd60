"""Checks that a generation's files are the ones its writer published: each file's size and sha256 are recorded in
the manifest when the file is written (a segment's files keep their record in every generation that links them).
Opening a generation compares sizes (cheap: catches truncated and missing files); `qa status --verify` compares
checksums too (catches bytes overwritten in place), and so does every writer while the index is small enough for
that to be cheap (qa/store/writer.py, FULL_CHECK_BYTES)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
# Files every generation has, also those written before checksums were recorded (format 1 without "files").
REQUIRED = ("meta.sqlite", "vectors.faiss")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileCheck:
    name: str  # path inside the generation folder
    ok: bool
    detail: str  # what was checked, or what is wrong


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def file_records(folder: Path, skip: set[str] = frozenset()) -> dict[str, dict]:
    """{name: {"size", "sha256"}} for every file of a staged generation but its manifest and those in ``skip``
    (hard-linked from the previous generation: their records are carried over, not computed again)."""
    records = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name != MANIFEST and name not in skip:
            records[name] = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    return records


def check_files(folder: Path, manifest: dict, *, full: bool = False) -> list[FileCheck]:
    """One FileCheck per recorded file: present and of its recorded size, and with ``full`` its checksum too.
    Manifests from before checksums were recorded can only show that the required files are there."""
    records = manifest.get("files")
    if not isinstance(records, dict):
        return [
            FileCheck(name, True, "present; no checksum recorded (written by an older version)")
            if (folder / name).is_file()
            else FileCheck(name, False, "missing")
            for name in REQUIRED
        ]
    checks = []
    for name, record in sorted(records.items()):
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            checks.append(FileCheck(name, False, "missing"))
            continue
        if size != record.get("size"):
            checks.append(FileCheck(name, False, f"{size} bytes, expected {record.get('size')}"))
        elif not full:
            checks.append(FileCheck(name, True, f"{size} bytes"))
        else:
            try:
                same = sha256_of(path) == record.get("sha256")
            except OSError as exc:
                checks.append(FileCheck(name, False, f"unreadable ({exc.strerror or exc})"))
                continue
            verdict = "verified" if same else "does not match: the bytes changed"
            checks.append(FileCheck(name, same, f"{size} bytes, sha256 {verdict}"))
    return checks


def failures(checks: list[FileCheck]) -> str:
    """The failed checks in one phrase, or '' when all passed."""
    return "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
