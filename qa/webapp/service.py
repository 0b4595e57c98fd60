"""What the page does, without the page: answer, search, sync, add and remove articles, thread-safely.

Two engines share one index folder. The answering engine serves questions; the writer engine runs syncs with its
own embedder, so a long sync never holds up a question (questions read the previous generation until the new
one is published) and the two never call one Hugging Face tokenizer from two threads at once, which fast
tokenizers do not allow. Questions (``ask``, ``search``) run concurrently: the web app turns on micro-batching
(qa.batching), so one worker thread owns each model and concurrent questions share its batches, and each question
holds its own generation, which stays open until the last question reading it is done. The other calls into the
answering engine are serialised by a lock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from qa.embedders import make_embedder
from qa.engine import Engine
from qa.errors import IndexBusy, IndexNotFound, QAError
from qa.settings import Settings
from qa.types import Answer, Article, IndexStatus, Passage, SyncReport, answer_from_dict
from qa.webapp.examples import examples_from
from qa.webapp.uploads import MAX_UPLOAD_BYTES, save_uploads

log = logging.getLogger("qa.webapp")

MAX_QUESTION_CHARS = 500
HISTORY_TURNS = 3  # earlier answers passed to the reader for follow-ups
INDEX_WAIT_S = 180.0  # a question asked during the first build waits this long for the index


class ProgressEmbedder:
    """The writer's embedder, counting the passages it embeds so the page can say how far a sync has got
    (Gradio's tqdm tracking would also show library bars such as "Split strings 815/1.6k steps")."""

    def __init__(self, embedder, report):
        self._embedder = embedder
        self._report = report  # called with (done, total)

    def embed(self, texts, *, batch_size: int = 64, progress=None):
        total, done = len(texts), 0
        self._report(0, total)

        def step(n: int) -> None:
            nonlocal done
            done += n
            self._report(min(done, total), total)
            if progress is not None:
                progress(n)

        return self._embedder.embed(texts, batch_size=batch_size, progress=step)

    def __getattr__(self, name):  # name, dimension, fingerprint, load, count_tokens, ...
        return getattr(self._embedder, name)


@dataclass
class Outcome:
    """The result of an index action, as lines for the page."""

    lines: list[str]
    ok: bool = True


class ChatService:
    def __init__(self, settings: Settings, *, engine: Engine | None = None, writer: Engine | None = None):
        self.settings = settings
        self.engine = engine or Engine(settings=settings)
        if writer is None:
            embedder = ProgressEmbedder(make_embedder(self.engine.settings), self._embedding)
            writer = Engine(settings=self.engine.settings, embedder=embedder)
        self.writer = writer
        self.articles_dir = Path(self.engine.settings.articles_dir)
        self._answering = threading.Lock()
        self._syncing = threading.Lock()
        self.activity = ""  # what the index is doing now, shown in the Index panel and above the chat
        self._label = ""
        self.preparing = threading.Event()
        self.prepared = threading.Event()  # set once the start-up sync and model loading are over
        self.prepared.set()
        self.last_check: str | None = None  # when the folder was last compared with the index (ISO, UTC)
        self.last_outcome = ""  # what that check found, e.g. "no changes"
        self._examples: tuple[int, bool, list[str]] | None = None  # (generation, checked, questions)

    # -- start-up ------------------------------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        """Sync the articles folder and load the models in the background, so the page opens at once."""
        self.preparing.set()
        self.prepared.clear()
        thread = threading.Thread(target=self._prepare, name="qa-webapp-prepare", daemon=True)
        thread.start()
        return thread

    def _prepare(self) -> None:
        try:
            if self.articles_dir.is_dir():
                first = not self.engine.status().exists
                self.sync(label="Building the index" if first else "Checking the articles folder")
            with self._answering:
                if self.engine.status().exists:
                    self.activity = "Loading the models…"
                    self.engine.ask("What happened?")  # loads the embedder, the reader and the index
                    self.activity = ""
            if self.engine.status().exists:
                # Worked out now (each is asked: seconds), not on the first page's refresh, where the page waited
                # for them and the first questions read beside them.
                self.examples()
        except Exception as exc:  # keep serving: the page shows the problem and the buttons still work
            log.warning("start-up sync failed: %s", exc)
            self.activity = f"Start-up sync failed: {exc}"
        finally:
            self.preparing.clear()
            self.prepared.set()

    def _embedding(self, done: int, total: int) -> None:
        self.activity = f"{self._label}: embedding {done:,} of {total:,} passages…"

    @property
    def syncing(self) -> bool:
        return self._syncing.locked()

    # -- reading ---------------------------------------------------------------------------------------------
    def ask(
        self, question: str, history: Iterable | None = None, *, focus: Sequence[str] | None = None,
        wait_s: float = INDEX_WAIT_S,
    ) -> Answer:
        """``focus``: None lets the engine take it from the history; article ids set it; () clears it. A question
        asked while the first index is being built waits for it (up to ``wait_s``) instead of failing."""
        question = " ".join((question or "").split())
        if not question:
            raise QAError("type a question first")
        if len(question) > MAX_QUESTION_CHARS:
            raise QAError(
                f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}: shorten it"
            )
        history = list(history or [])[-HISTORY_TURNS:]
        focus = None if focus is None else tuple(str(i) for i in focus)
        if self.preparing.is_set() and not self.engine.status().exists:
            self.prepared.wait(wait_s)
        try:  # no lock: concurrent questions share the models' batches (see the module docstring)
            return self.engine.ask(question, history=history, focus=focus)
        except IndexNotFound:
            raise self._no_index() from None

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        question = " ".join((question or "").split())[:MAX_QUESTION_CHARS]  # the API's search stays lenient
        if not question:
            raise QAError("type a question first")
        k = max(1, min(int(k or self.settings.search_k), 50))
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

    def article_choices(self) -> list[tuple[str, str]]:
        """(label, id) for each article: its title with the file name, so a person can tell them apart."""
        with self._answering:
            try:
                generation = self.engine.generation()
                articles = [(i, generation.article(i)) for i in generation.article_ids()]
            except QAError:
                return []
        return [(f"{a.title} ({i})" if a is not None and a.title else i, i) for i, a in articles]

    def title(self, article_ids: Sequence[str]) -> str:
        """The title of the first of ``article_ids`` still in the index ("" when none is)."""
        for article_id in article_ids:
            article = self.article(article_id)
            if article is not None:
                return article.title or article.id
        return ""

    def examples(self, n: int = 3) -> list[str]:
        """Example questions made from the newest articles, worked out once per index generation: once the models
        are loaded, only questions the articles answer (each is asked); before, the rules' first ones, not kept."""
        status = self.status()
        checked = self.engine.reader_loaded
        if self._examples is not None and self._examples[:2] == (status.generation, checked):
            return list(self._examples[2])  # the page asks every few seconds: worked out again only when this changes
        with self._answering:
            answered = (lambda question: self.engine.ask(question).found) if checked else None
            questions = examples_from(self.engine, n, answered)
        if status.exists:
            self._examples = (status.generation, checked, questions)
        return questions

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
            self._label = label.rstrip("…")
            self.activity = f"{self._label}…"
            self.articles_dir.mkdir(parents=True, exist_ok=True)
            report = self.writer.sync(self.articles_dir, progress=progress)
            self.last_check = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self.last_outcome = report.summary().split(";")[0] if report.changed else "no changes"
            return report
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


# -- the chat kept in the browser (gr.BrowserState holds JSON) ----------------------------------------------------
MAX_SAVED_TURNS = 30  # localStorage holds a few MB; passages make a turn a few KB


def mark_followed(turns: Sequence[dict], ids: Sequence[str], title: str) -> None:
    """Record on the latest turn whose story cards hold ``ids`` that the chat followed that story from it."""
    for turn in reversed(turns):
        answer = turn.get("answer")
        if answer is not None and any(set(s.article_ids) & set(ids) for s in answer.stories):
            turn["followed"] = {"ids": list(ids), "title": title}
            return


def save_turns(turns: Sequence[dict]) -> list[dict]:
    """The finished turns as JSON for the browser's localStorage (pending ones are not kept)."""
    saved = []
    for turn in turns[-MAX_SAVED_TURNS:]:
        answer = turn.get("answer")
        if answer is None and not turn.get("error"):
            continue
        saved.append({
            "question": turn["question"], "answer": answer.to_dict() if answer is not None else None,
            "error": turn.get("error"), "about": turn.get("about", ""),
            **({"followed": turn["followed"]} if turn.get("followed") else {}),
            **({"moved": True} if turn.get("moved") else {}),
        })
    return saved


def load_turns(saved) -> list[dict]:
    """Turns back from save_turns' JSON; anything unreadable (an older format, a hand-edited value) is dropped."""
    turns = []
    for item in saved if isinstance(saved, list) else []:
        try:
            answer = answer_from_dict(item["answer"]) if item.get("answer") else None
            turns.append({
                "question": str(item["question"]), "answer": answer,
                "error": str(item["error"]) if item.get("error") else None, "about": str(item.get("about") or ""),
                **({"followed": {"ids": [str(i) for i in item["followed"]["ids"]][:20],
                                 "title": str(item["followed"].get("title") or "")}} if item.get("followed") else {}),
                **({"moved": True} if item.get("moved") is True else {}),
            })
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return turns
