"""Inflict every storage, ingest and bad-input fault of issue 14 on a temporary index and check what `qa` does.

    .venv/bin/python scripts/fault_suite.py [--keep]

Each fault gets a fresh copy of a baseline index (three generations: a folder sync, an article added through the
API, another folder sync) and of its articles folder, and is driven through the real `qa` command as a subprocess
(a few API-only faults run in-process). Embedder: the deterministic hashing one, so nothing is downloaded. Prints
one row per fault: expected, observed, and whether nothing was lost (every file of the articles folder untouched,
and after the repair the index holds every article, the API one included, with all checksums verified). Exits 1
when any row fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.embedders import HashingEmbedder  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.types import Article  # noqa: E402

ENV = dict(os.environ, QA_EMBEDDER="hashing", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
ENV.pop("QA_INDEX_DIR", None)
API_ARTICLE = Article(id="wire/1", text="Wire report\n\nThe harbour authority closed the port after the storm.",
                      title="Wire report")


def _story(i: int) -> str:
    return (f"Report {i}\n\nThe river valley report number {i} says the bridge {i} reopened on Tuesday.\n\n"
            + " ".join(f"Sentence {j} of report {i} describes the council meeting about road {j}." for j in range(12)))


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def clean_error(self, *words: str) -> bool:
        """Exit 1 with one 'error:' line on stderr (no traceback) that mentions all ``words``."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        return (self.rc == 1 and len(errors) == 1 and "Traceback" not in self.err
                and all(w in errors[0] for w in words))

    def show(self) -> str:
        text = (self.err.strip().splitlines() or self.out.strip().splitlines() or [""])[-1]
        return f"exit {self.rc}: {text[:150]}"


@dataclass
class Row:
    fault: str
    expected: str
    observed: str
    passed: bool
    nothing_lost: bool


class Lab:
    def __init__(self, root: Path):
        self.root = root
        self.articles = root / "base-articles"
        self.index = root / "base-index"
        self.articles.mkdir()
        for i in range(6):
            (self.articles / f"a{i}.txt").write_text(_story(i))
        self.qa("index", self.articles, "--index", self.index)
        with self.engine(self.index) as engine:
            engine.upsert([API_ARTICLE], progress=False)
        (self.articles / "a6.txt").write_text(_story(6))
        self.qa("index", self.articles, "--index", self.index)
        assert sorted(p.name for p in self.index.glob("gen-*")) == ["gen-000001", "gen-000002", "gen-000003"]
        self.expected_ids = sorted([f"a{i}.txt" for i in range(7)] + [API_ARTICLE.id])
        self.file_hashes = self._hashes(self.articles)
        self.case_number = 0

    @staticmethod
    def _hashes(folder: Path) -> dict[str, str]:
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}

    @staticmethod
    def engine(index: Path) -> Engine:
        return Engine(settings=Settings(index_dir=index, embedder="hashing"), embedder=HashingEmbedder(64))

    def case(self) -> tuple[Path, Path]:
        """A fresh copy of the baseline index and articles folder."""
        self.case_number += 1
        folder = self.root / f"case-{self.case_number:02d}"
        shutil.copytree(self.index, folder / "index")
        shutil.copytree(self.articles, folder / "articles")
        return folder / "index", folder / "articles"

    def qa(self, *args, limit_bytes: int | None = None, env: dict | None = None, timeout: float = 60) -> Run:
        def limit() -> None:  # RLIMIT_FSIZE: writes past the limit fail with EFBIG, as on a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

        done = subprocess.run([sys.executable, "-m", "qa", *map(str, args)], env={**ENV, **(env or {})}, capture_output=True,
                              timeout=timeout, preexec_fn=limit if limit_bytes else None)
        decode = lambda b: b.decode("utf-8", "replace")  # noqa: E731
        return Run(done.returncode, decode(done.stdout), decode(done.stderr))

    def intact(self, index: Path, articles: Path, expected_ids: list[str] | None = None) -> tuple[bool, str]:
        """Nothing lost: the folder's files untouched and the index holding every article, all checksums verified."""
        if self._hashes(articles) != {k: v for k, v in self.file_hashes.items()} | self._extra(articles):
            return False, "a file in the articles folder changed"
        try:
            with self.engine(index) as engine:
                ids = engine.article_ids()
                _, checks = engine.verify(full=True)
        except QAError as exc:
            return False, str(exc)
        missing = sorted(set(expected_ids or self.expected_ids) - set(ids))
        if missing:
            return False, f"missing {missing}"
        if not all(c.ok for c in checks):
            return False, "checksums fail"
        return True, ""

    def _extra(self, articles: Path) -> dict[str, str]:
        # Files a case added on purpose are not part of the comparison.
        return {k: v for k, v in self._hashes(articles).items() if k not in self.file_hashes}


# -- the faults -------------------------------------------------------------------------------------------------
Case = Callable[[Lab], tuple[str, bool, bool]]  # -> observed, passed, nothing lost
CASES: list[tuple[str, str, Case]] = []


def case(fault: str, expected: str):
    def register(fn: Case) -> Case:
        CASES.append((fault, expected, fn))
        return fn

    return register


def _lost_pointer(lab: Lab, damage: Callable[[Path], None]) -> tuple[str, bool, bool]:
    index, articles = lab.case()
    outside = index.parent / "other" / "gen-000001"
    outside.mkdir(parents=True)
    damage(index)
    status, search = lab.qa("status", "--index", index), lab.qa("search", "harbour storm", "--index", index, "--json")
    sync = lab.qa("index", articles, "--index", index)
    generations = sorted(p.name for p in index.glob("gen-*"))
    passed = (status.rc == 0 and "generation 3" in status.out and "warning:" in status.err
              and search.rc == 0 and json.loads(search.out)[0]["article_id"] == API_ARTICLE.id
              and sync.rc == 0 and "gen-000003, the newest complete generation" in sync.out
              and generations == ["gen-000001", "gen-000002", "gen-000003"] and outside.is_dir()
              and (index / "CURRENT").read_text().strip() == "gen-000003")
    lost = lab.intact(index, articles)
    return f"status: {status.err.strip()[:90]} | index: generation kept, {len(generations)} generations", passed, lost[0]


@case("CURRENT deleted", "recover gen 3 with a warning; sync keeps all generations")
def _(lab):
    return _lost_pointer(lab, lambda index: (index / "CURRENT").unlink())


@case("CURRENT emptied", "same")
def _(lab):
    return _lost_pointer(lab, lambda index: (index / "CURRENT").write_text(""))


@case("CURRENT garbage bytes", "same")
def _(lab):
    return _lost_pointer(lab, lambda index: (index / "CURRENT").write_bytes(b"\xff\x00garbage\n"))


@case("CURRENT = ../other/gen-000001", "refused as garbage; same")
def _(lab):
    return _lost_pointer(lab, lambda index: (index / "CURRENT").write_text("../other/gen-000001\n"))


@case("CURRENT names a deleted generation", "same")
def _(lab):
    return _lost_pointer(lab, lambda index: (index / "CURRENT").write_text("gen-000042\n"))


@case("CURRENT garbage, then index --rebuild", "rebuild works")
def _(lab):
    index, articles = lab.case()
    (index / "CURRENT").write_text("not a generation")
    run = lab.qa("index", articles, "--index", index, "--rebuild")
    ok, _ = lab.intact(index, articles, [f"a{i}.txt" for i in range(7)])
    return run.show(), run.rc == 0 and "generation 4" in run.out and ok, ok


def _damaged(lab: Lab, damage: Callable[[Path], None], *, caught_by: str = "search") -> tuple[str, bool, bool]:
    """Damage the live generation; reads fail with one clean line; a plain sync repairs; nothing is lost."""
    index, articles = lab.case()
    damage(index / "gen-000003")
    if caught_by == "verify":
        read = lab.qa("status", "--verify", "--index", index)
    else:
        read = lab.qa("search", "river valley bridge", "--index", index)
    status = lab.qa("status", "--index", index)
    sync = lab.qa("index", articles, "--index", index)
    after = lab.qa("search", "harbour storm", "--index", index, "--json")
    passed = (read.clean_error("qa index") and (caught_by == "verify" or status.clean_error("damaged"))
              and sync.rc == 0 and "note:" in sync.out and after.rc == 0
              and json.loads(after.out)[0]["article_id"] == API_ARTICLE.id)
    ok, why = lab.intact(index, articles)
    return f"{read.show()} | sync: {sync.out.splitlines()[-1].strip()[:70] if sync.out else sync.show()}", passed, ok


def _newest(generation: Path) -> Path:
    """The segment the live generation wrote itself (its others are hard links shared with older generations)."""
    return generation / json.loads((generation / "manifest.json").read_text())["segments"][-1]["name"]


def _truncate(path: Path, size: int | None = None) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(size if size is not None else path.stat().st_size // 2)


def _zero(path: Path) -> None:
    path.write_bytes(b"\0" * path.stat().st_size)


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


@case("meta.sqlite truncated", "one-line error; `qa index` repairs from gen 2 + folder")
def _(lab):
    return _damaged(lab, lambda g: _truncate(_newest(g) / "meta.sqlite"))


@case("meta.sqlite zeroed (same size)", "same")
def _(lab):
    return _damaged(lab, lambda g: _zero(_newest(g) / "meta.sqlite"))


@case("bm25 files truncated", "one-line error; `qa index` rebuilds BM25")
def _(lab):
    return _damaged(lab, lambda g: [_truncate(p) for p in (_newest(g) / "bm25").glob("*.npy")])


@case("vectors.faiss truncated", "one-line error; `qa index` re-embeds")
def _(lab):
    return _damaged(lab, lambda g: _truncate(_newest(g) / "vectors.faiss"))


@case("vectors.faiss bytes overwritten", "`status --verify` names it, exit 1; `qa index` re-embeds")
def _(lab):
    return _damaged(lab, lambda g: _overwrite(_newest(g) / "vectors.faiss", 200, os.urandom(256)), caught_by="verify")


@case("manifest.json garbage", "one-line error; `qa index` repairs from gen 2")
def _(lab):
    return _damaged(lab, lambda g: (g / "manifest.json").write_text("{not json"))


@case("disk full during `qa index` (SQLite, then FAISS write)", "one-line error each, no .tmp left, old generation live")
def _(lab):
    # 1024-d vectors make vectors.faiss larger than meta.sqlite, so one file-size limit fails the FAISS write.
    index, articles = lab.case()
    shutil.rmtree(index)
    wide = {"QA_EMBEDDER": "hashing:1024"}
    assert lab.qa("index", articles, "--index", index, env=wide).rc == 0
    (articles / "big.txt").write_text("\n\n".join(_story(100 + i) for i in range(60)))
    runs = [lab.qa("index", articles, "--index", index, env=wide, limit_bytes=limit) for limit in (30_000, 300_000)]
    leftovers = [p.name for p in index.iterdir() if p.name.endswith(".tmp")]
    clean = all(r.clean_error("disk space", "qa index") for r in runs) and "vectors" in runs[1].err
    still = lab.qa("status", "--index", index, "--verify", env=wide)
    later = lab.qa("index", articles, "--index", index, env=wide)
    ok = still.rc == 0 and "generation 1," in still.out and later.rc == 0 and "1 added" in later.out
    reasons = [r.err.split("(", 1)[-1].split(")")[0][:40] for r in runs]
    return f"exit {[r.rc for r in runs]}: {reasons}; .tmp left: {len(leftovers)}", clean and not leftovers and ok, ok


@case("kill -9 during `qa index`", "previous generation usable; next sync completes")
def _(lab):
    index, articles = lab.case()
    for i in range(40):
        (articles / f"b{i}.txt").write_text("\n\n".join(_story(200 + i + j) for j in range(8)))
    process = subprocess.Popen([sys.executable, "-m", "qa", "index", str(articles), "--index", str(index)], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(index.glob("gen-*.tmp")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # kill it once it is writing the next generation
    time.sleep(0.05)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    during = lab.qa("search", "harbour storm", "--index", index, "--json")
    sync = lab.qa("index", articles, "--index", index)
    ok, _ = lab.intact(index, articles, lab.expected_ids + [f"b{i}.txt" for i in range(40)])
    passed = killed and during.rc == 0 and sync.rc == 0 and not [p for p in index.iterdir() if p.name.endswith(".tmp")]
    return f"killed while writing: {killed}; search after: exit {during.rc}; next sync: exit {sync.rc}", passed, ok


@case("second writer while one holds the lock", "one-line 'being updated' error")
def _(lab):
    from qa.store.generations import writer_lock

    index, articles = lab.case()
    with writer_lock(index):
        run = lab.qa("index", articles, "--index", index)
    return run.show(), run.clean_error("being updated"), lab.intact(index, articles)[0]


@case("symlink to /etc/passwd and to an outside folder", "skipped with a reason, not indexed")
def _(lab):
    index, articles = lab.case()
    (articles / "passwd.txt").symlink_to("/etc/passwd")
    outside = index.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nThe password is swordfish.")
    (articles / "linked").symlink_to(outside, target_is_directory=True)
    run = lab.qa("index", articles, "--index", index)
    with lab.engine(index) as engine:
        leaked = engine.articles_containing("root:") + engine.articles_containing("swordfish")
    passed = (run.rc == 0 and "skipped passwd.txt: a link to a file outside" in run.out
              and "skipped linked: a link to a folder outside" in run.out and not leaked)
    skipped = run.out.count("outside the articles folder")
    return f"{skipped} links skipped; leaked: {leaked}", passed, lab.intact(index, articles)[0]


@case("2 GB (sparse) file in the folder", "skipped by size before reading, in seconds")
def _(lab):
    index, articles = lab.case()
    with open(articles / "huge.txt", "wb") as handle:
        handle.truncate(2 * 1024**3)
    started = time.monotonic()
    run = lab.qa("index", articles, "--index", index)
    seconds = time.monotonic() - started
    (articles / "huge.txt").unlink()
    passed = run.rc == 0 and "skipped huge.txt: 2048 MB is over the 50 MB limit per file" in run.out and seconds < 10
    return f"{run.out.splitlines()[-1].strip()[:80]} ({seconds:.1f}s)", passed, lab.intact(index, articles)[0]


@case("UTF-16 file with a BOM", "decoded and indexed, with a note")
def _(lab):
    index, articles = lab.case()
    (articles / "utf16.txt").write_bytes("Glacier news\n\nThe glacier retreated forty metres.".encode("utf-16"))
    run = lab.qa("index", articles, "--index", index)
    search = lab.qa("search", "glacier retreated", "--index", index, "--json")
    passed = run.rc == 0 and "1 added" in run.out and json.loads(search.out)[0]["article_id"] == "utf16.txt"
    return run.out.splitlines()[0].split(": ", 1)[-1][:60], passed, lab.intact(index, articles)[0]


@case("empty question (CLI search, ask)", "one-line error")
def _(lab):
    index, _ = lab.case()
    runs = [lab.qa(command, "  ", "--index", index) for command in ("search", "ask")]
    return runs[0].show(), all(r.clean_error("empty") for r in runs), True


@case("invalid UTF-8 bytes in argv", "one-line error")
def _(lab):
    index, _ = lab.case()
    done = subprocess.run([sys.executable, "-m", "qa", "search", b"caf\xe9 \xff", "--index", str(index)], env=ENV,
                          capture_output=True)
    run = Run(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    return run.show(), run.clean_error("not valid text"), True


@case("lone surrogate / k=0 / k=-1 / empty via Engine.search", "QAError each")
def _(lab):
    index, _ = lab.case()
    errors = []
    with lab.engine(index) as engine:
        for question, k in (("caf\ud800", 5), ("river", 0), ("river", -1), ("", 5)):
            try:
                engine.search(question, k)
                errors.append("no error")
            except QAError as exc:
                errors.append(str(exc)[:30])
    return "; ".join(errors), "no error" not in errors, True


@case("delete() of a file-backed article, then sync", "the article comes back")
def _(lab):
    index, articles = lab.case()
    with lab.engine(index) as engine:
        engine.delete(["a2.txt"])
    run = lab.qa("index", articles, "--index", index)
    ok, why = lab.intact(index, articles)
    return run.out.splitlines()[0].split(": ", 1)[-1][:60], run.rc == 0 and "1 added" in run.out and ok, ok


@case("web remove of notes.txt#2.txt", "deletes that file only")
def _(lab):
    from qa.webapp.service import ChatService

    index, articles = lab.case()
    (articles / "notes.txt").write_text("Notes\n\nThe first note.")
    (articles / "notes.txt#2.txt").write_text("Second\n\nThe second note.")
    settings = Settings(index_dir=index, articles_dir=articles, embedder="hashing")
    service = ChatService(settings, engine=Engine(settings=settings, embedder=HashingEmbedder(64)),
                          writer=Engine(settings=settings, embedder=HashingEmbedder(64)))
    service.sync()
    outcome = service.remove("notes.txt#2.txt")
    passed = outcome.ok and (articles / "notes.txt").exists() and not (articles / "notes.txt#2.txt").exists()
    return f"notes.txt kept: {(articles / 'notes.txt').exists()}", passed, lab.intact(index, articles)[0]


@case("rejected upload", "its temporary file is deleted")
def _(lab):
    from qa.webapp.uploads import save_uploads

    index, articles = lab.case()
    temporary = index.parent / "upload.exe"
    temporary.write_bytes(b"MZ binary")
    saved, rejected = save_uploads(articles, [("upload.exe", temporary)])
    return f"rejected {len(rejected)}; temp file left: {temporary.exists()}", bool(rejected) and not temporary.exists(), True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (its path is printed).")
    parser.add_argument("-k", "--only", default="", help="Run only the faults whose name contains this text.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="qa-faults-"))
    rows: list[Row] = []
    started = time.monotonic()
    try:
        lab = Lab(root)
        for fault, expected, run in CASES:
            if args.only.lower() not in fault.lower():
                continue
            try:
                observed, passed, lost_nothing = run(lab)
            except Exception as exc:  # a fault the suite did not foresee is a failed row, not a crashed suite
                observed, passed, lost_nothing = f"suite error: {type(exc).__name__}: {exc}"[:150], False, False
            rows.append(Row(fault, expected, observed, passed, lost_nothing))
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("| fault | expected | observed | nothing lost | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        cell = lambda text: text.replace("|", "/").replace("\n", " ")  # noqa: E731
        print(f"| {cell(row.fault)} | {cell(row.expected)} | {cell(row.observed)} | "
              f"{'yes' if row.nothing_lost else 'no'} | {'pass' if row.passed and row.nothing_lost else 'FAIL'} |")
    failed = [r for r in rows if not (r.passed and r.nothing_lost)]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} faults handled in {time.monotonic() - started:.0f}s")
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
