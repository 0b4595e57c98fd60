"""The public entry point: sync articles into an index, search it, and ask questions of it."""

from __future__ import annotations

import numbers
import sys
import threading
from pathlib import Path
from typing import Iterable

from qa.embedders import Embedder, make_embedder
from qa.errors import QAError
from qa.store.folder import IndexFolder
from qa.store.generations import Live
from qa.store.index import LoadedGeneration, embedder_identity
from qa.store.integrity import FileCheck
from qa.settings import Settings
from qa.ingest.sync import Transaction, change, delete, sync_folder, upsert
from qa.types import Answer, Article, IndexStatus, Passage, SyncReport



def valid_question(question: str) -> str:
    """An empty question would retrieve arbitrary passages; a lone surrogate (invalid UTF-8 from a command line, a
    broken escape from a JSON client) cannot be encoded for the embedder."""
    if not isinstance(question, str) or not question.strip():
        raise QAError("the question is empty; type a question")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        raise QAError("the question is not valid text (it holds a broken character such as a lone surrogate or an "
                      "invalid UTF-8 byte); retype it") from None
    return question


class Engine:
    """Cheap to construct: nothing is loaded until the first search, sync or ask."""

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        reader=None,
    ):
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.replace(index_dir=Path(index_dir))
        self.settings = settings
        self._embedder = embedder
        self._reader = reader
        self._generation: LoadedGeneration | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._calibrations: dict = {}
        self._dictionary: frozenset[str] | None = None  # loaded on the first question (qa.answer.spelling)

    @property
    def _folder(self) -> IndexFolder:
        return IndexFolder(self.index_dir, self.settings)

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._load_lock:
                if self._embedder is None:
                    self._embedder = make_embedder(self.settings)
        return self._batching("embedder", self._embedder)

    def _batching(self, kind: str, model):
        """``model`` itself, or with micro-batching on (QA_MICRO_BATCH_MS, or ``micro_batch_ms`` set on the engine,
        as the web app does) one wrapper per model whose worker thread owns it (see qa.batching)."""
        from qa import batching

        window = getattr(self, "micro_batch_ms", None)
        window = batching.micro_batch_ms() if window is None else window
        if not window:
            return model
        with self._load_lock:
            wrappers = self.__dict__.setdefault("_wrappers", {})
            wrapper = wrappers.get(kind)
            if wrapper is None or wrapper.inner is not model:
                make = batching.BatchingEmbedder if kind == "embedder" else batching.BatchingReader
                wrapper = wrappers[kind] = make(model, window)
        return wrapper

    # -- writing ---------------------------------------------------------------------------------------------
    def sync(self, folder: str | Path | None = None, *, rebuild: bool = False, progress: bool | None = None) -> SyncReport:
        """Bring the index in step with a folder of articles: embed new and changed ones, drop vanished ones."""
        folder = Path(folder) if folder is not None else self.settings.articles_dir
        with self._transaction(rebuild, progress) as txn:
            return sync_folder(folder, txn)

    def upsert(self, articles: Iterable[Article], *, progress: bool | None = None) -> SyncReport:
        """Add or replace articles that do not live in files."""
        with self._transaction(False, progress) as txn:
            return upsert(list(articles), txn)

    def delete(self, article_ids: Iterable[str]) -> SyncReport:
        with self._transaction(False, False) as txn:
            return delete(list(article_ids), txn)

    def apply(self, upsert: Iterable[Article] = (), delete: Iterable[str] = (), *, progress: bool | None = None) -> SyncReport:
        """Add or replace some articles and delete others as one change: readers see all of it or none."""
        with self._transaction(False, progress) as txn:
            return change(txn, list(upsert), list(delete))

    def merge(self) -> SyncReport:
        """Rewrite small segments, and those holding deleted rows, into full ones (syncs merge small segments on
        their own; this also drops every tombstone, as Lucene's force-merge does)."""
        with self._transaction(False, False) as txn:
            return txn.merge()

    def _transaction(self, rebuild: bool, progress: bool | None) -> Transaction:
        if progress is None:
            progress = sys.stderr.isatty()
        return Transaction(self.index_dir, self.embedder, self.settings, rebuild=rebuild, progress=progress)

    # -- reading ---------------------------------------------------------------------------------------------
    def generation(self) -> LoadedGeneration:
        """The live generation, reloaded when a writer has published a newer one since the last call."""
        with self._lock:
            # The old generation is not closed here: another thread may still be reading it. It is closed when
            # the last reference goes.
            self._generation = self._folder.open_live(embedder_identity(self.embedder), self._generation)
            return self._generation

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The k passages closest to the question, best first, with offsets into their articles."""
        question = valid_question(question)
        if k is None:
            k = self.settings.search_k
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise QAError(f"k must be a whole number of passages, 1 or more (got {k!r})")
        generation = self.generation()
        vector = self.embedder.embed([question])
        s = self.settings
        return generation.hybrid_search(
            question,
            vector,
            k,
            mode=s.retrieval,
            weights=(s.fusion_dense_weight, s.fusion_lexical_weight),
            depth=s.fusion_depth,
            rank_constant=s.fusion_rank_constant,
        )

    @property
    def reader_loaded(self) -> bool:
        """Whether the reader is loaded (asking no longer waits for it)."""
        return self._reader is not None

    @property
    def reader(self):
        if self._reader is None:
            from qa.answer.reader.factory import make_reader

            with self._load_lock:
                if self._reader is None:
                    self._reader = make_reader(
                        self.settings.reader,
                        precision=self.settings.precision,
                        device=self.settings.reader_device,
                        max_answer_tokens=self.settings.reader_max_answer_tokens,
                    )
        return self._batching("reader", self._reader)

    def ask(self, question: str, history=None, *, focus=None) -> Answer:
        """Answer a question from the articles, with citations; ``history`` (earlier Answers, or
        {"question", "answer", "article_ids"} dicts) lets a follow-up such as "where did it happen?" refer back.
        ``focus``: article ids the chat is about (a story card the user chose); None takes the focus from the
        history, an empty sequence clears it."""
        from qa.answer.answering import Answerer
        from qa.answer.retriever import Retriever

        question = valid_question(question)
        # One generation for the whole question: passages and citations can never come from two.
        generation = self.generation()
        reader = self.reader
        answerer = Answerer(
            Retriever(generation, self.embedder, self.settings),
            reader,
            generation.cited_sentence,
            calibration=self._calibration(reader, None),
            follow_up_calibration=self._calibration(reader, "follow_up"),
            top_k_passages=self.settings.reader_top_k_passages,
            threshold=self.settings.answer_threshold,
            dictionary=self._words(),
        )
        return answerer.ask(question, history, focus=focus)

    def _words(self) -> frozenset[str]:
        if self._dictionary is None:
            from qa.answer.spelling import dictionary

            self._dictionary = dictionary()
        return self._dictionary

    def _calibration(self, reader, entry: str | None):
        """The reader's calibration (``entry``: a named one in the same file), read from disk once, not per question."""
        from qa.answer.calibration import Calibration

        key = (getattr(reader, "name", None), entry)
        if key not in self._calibrations:
            self._calibrations[key] = Calibration.load(key[0], entry)
        return self._calibrations[key]

    def article(self, article_id: str) -> Article | None:
        return self.generation().article(article_id)

    def article_ids(self) -> list[str]:
        return self.generation().article_ids()

    def article_source(self, article_id: str) -> str | None:
        """The file an article came from, relative to the articles folder; None for articles added by upsert()."""
        return self.generation().source_of(article_id)

    def articles_from(self, source: str) -> list[str]:
        """Ids of the articles that came from one file."""
        return self.generation().articles_from(source)

    def articles_containing(self, snippet: str) -> list[str]:
        return self.generation().articles_containing(snippet)

    def status(self) -> IndexStatus:
        return self._folder.status()

    def verify(self, *, full: bool = False) -> tuple[Live, list[FileCheck]]:
        """The live generation (its ``note`` says when it had to be recovered because CURRENT was unusable) and
        one check per file (see IndexFolder.verify). Raises IndexNotFound without an index, IndexCorrupt when not
        even the manifest can be read."""
        return self._folder.verify(full=full)

    def close(self) -> None:
        if self._generation is not None:
            self._generation.close()
            self._generation = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
