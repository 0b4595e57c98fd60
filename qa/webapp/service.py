"""What the page does, without the page: answer, search, sync, add and remove articles, thread-safely.

Two engines share one index folder. The answering engine serves questions; the writer engine runs syncs with its
own embedder, so a long sync never holds up a question (questions read the previous generation until the new
one is published) and the two never call one Hugging Face tokenizer from two threads at once, which fast
tokenizers do not allow. Calls into the answering engine are serialised by a lock: on two cores running them in
parallel gains nothing, and it keeps a generation from being swapped out under a question still reading it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from qa.engine import Engine
from qa.errors import IndexBusy, IndexNotFound, QAError
from qa.settings import Settings
from qa.types import Answer, Article, IndexStatus, Passage, SyncReport
from qa.webapp.uploads import MAX_UPLOAD_BYTES, save_uploads

log = logging.getLogger("qa.webapp")

MAX_QUESTION_CHARS = 500
HISTORY_TURNS = 3  # earlier answers passed to the reader for follow-ups


@dataclass
class Outcome:
    """The result of an index action, as lines for the page."""

    lines: list[str]
    ok: bool = True


class ChatService:
    def __init__(self, settings: Settings, *, engine: Engine | None = None, writer: Engine | None = None):
        self.settings = settings
        self.engine = engine or Engine(settings=settings)
        self.writer = writer or Engine(settings=self.engine.settings)
        self.articles_dir = Path(self.engine.settings.articles_dir)
        self._answering = threading.Lock()
        self._syncing = threading.Lock()
        self.activity = ""  # what the index is doing now, shown in the Index panel
        self.preparing = threading.Event()

    # -- start-up ------------------------------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        """Sync the articles folder and load the models in the background, so the page opens at once."""
        self.preparing.set()
        thread = threading.Thread(target=self._prepare, name="qa-webapp-prepare", daemon=True)
        thread.start()
        return thread

    def _prepare(self) -> None:
        try:
            if self.articles_dir.is_dir():
                self.sync(label=f"Syncing {self.articles_dir} into the index…")
            with self._answering:
                if self.engine.status().exists:
                    self.engine.ask("What happened?")  # loads the embedder, the reader and the index
        except Exception as exc:  # keep serving: the page shows the problem and the buttons still work
            log.warning("start-up sync failed: %s", exc)
            self.activity = f"Start-up sync failed: {exc}"
        finally:
            self.preparing.clear()

    # -- reading ---------------------------------------------------------------------------------------------
    def ask(self, question: str, history: Iterable | None = None) -> Answer:
        question = " ".join((question or "").split())[:MAX_QUESTION_CHARS]
        if not question:
            raise QAError("type a question first")
        history = list(history or [])[-HISTORY_TURNS:]
        with self._answering:
            try:
                return self.engine.ask(question, history=history)
            except IndexNotFound:
                raise self._no_index() from None

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        question = " ".join((question or "").split())[:MAX_QUESTION_CHARS]
        if not question:
            raise QAError("type a question first")
        k = max(1, min(int(k or self.settings.search_k), 50))
        with self._answering:
            try:
                return self.engine.search(question, k)
            except IndexNotFound:
                raise self._no_index() from None

    def article(self, article_id: str) -> Article | None:
        with self._answering:
            try:
                return self.engine.article(article_id)
            except IndexNotFound:
                return None

    def article_ids(self) -> list[str]:
        with self._answering:
            try:
                return self.engine.generation().article_ids()
            except QAError:
                return []

    def status(self) -> IndexStatus:
        return self.engine.status()

    @property
    def reader_name(self) -> str:
        return self.settings.reader or "minilm-squad (trained by this project)"

    def _no_index(self) -> QAError:
        if self.preparing.is_set():
            return QAError("the index is still being built; ask again in a few seconds")
        return QAError(f"there is no index yet: add articles or press Re-sync in the Index tab ({self.articles_dir})")

    # -- writing ---------------------------------------------------------------------------------------------
    def sync(self, *, progress: bool = False, label: str = "Syncing…") -> SyncReport:
        """Bring the index in step with the articles folder. A second sync while one runs is refused at once."""
        if not self._syncing.acquire(blocking=False):
            raise IndexBusy("a sync is already running; wait for it to finish and try again")
        try:
            self.activity = label
            self.articles_dir.mkdir(parents=True, exist_ok=True)
            return self.writer.sync(self.articles_dir, progress=progress)
        finally:
            self.activity = ""
            self._syncing.release()

    def resync(self, *, progress: bool = False) -> Outcome:
        try:
            report = self.sync(progress=progress)
        except QAError as exc:
            return Outcome([str(exc)], ok=False)
        return Outcome(report_lines(report))

    def add_files(self, files: list[tuple[str, Path]], *, progress: bool = False,
                  max_bytes: int = MAX_UPLOAD_BYTES) -> Outcome:
        """Save the files that pass the checks into the articles folder, then sync."""
        if self._syncing.locked():
            return Outcome(["a sync is running; add the files again when it has finished"], ok=False)
        saved, rejected = save_uploads(self.articles_dir, files, max_bytes=max_bytes)
        lines = [
            f"{'Replaced' if s.replaced else 'Added'} {s.name}"
            + (f" (uploaded as {s.original})" if s.original != s.name else "")
            for s in saved
        ]
        lines += [f"Rejected {reason}" for reason in rejected]
        if not saved:
            return Outcome(lines or ["no files were given"], ok=False)
        outcome = self.resync(progress=progress)
        return Outcome(lines + outcome.lines, ok=outcome.ok and not rejected)

    def remove(self, article_id: str | None) -> Outcome:
        """Delete an article's file from the articles folder (all its articles, for a JSONL file) and sync; an
        article that has no file (added through the API) is deleted from the index only."""
        if not article_id:
            return Outcome(["choose an article to remove"], ok=False)
        ids = self.article_ids()
        if article_id not in ids:
            return Outcome([f"{article_id} is not in the index"], ok=False)
        # The index records each article's file: an id such as "notes.txt#2.txt" may be a file of that very name.
        with self._answering:
            source = self.engine.article_source(article_id)
            together = self.engine.articles_from(source) if source else []
        path = self.articles_dir / source if source else None
        if path is not None and path.parent.resolve().is_relative_to(self.articles_dir.resolve()) and (
            path.is_file() or path.is_symlink()
        ):
            path.unlink()  # a link itself, never what it points to
            outcome = self.resync()
            note = f" and the {len(together)} articles in it" if len(together) > 1 else ""
            return Outcome([f"Removed {source}{note} from {self.articles_dir}"] + outcome.lines, outcome.ok)
        try:
            report = self.writer.delete([article_id])
        except QAError as exc:
            return Outcome([str(exc)], ok=False)
        return Outcome([f"Removed {article_id} from the index"] + report_lines(report))


def report_lines(report: SyncReport) -> list[str]:
    lines = [f"Synced: {report.summary()} (generation {report.generation})"]
    lines += [f"Skipped {s.path}: {s.reason}" for s in report.skipped]
    lines += [f"Note: {note}" for note in report.notes]
    return lines
