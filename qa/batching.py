"""Micro-batching: questions asked from several threads at once share one model call.

One worker thread owns each model, so a Hugging Face fast tokenizer is never used from two threads at once (it
raises "Already borrowed"). A call waits up to a few milliseconds for others of its kind, then the worker runs them
as one batch (``embed`` of all their texts, ``read_many`` of all their questions) and hands each caller its part.
While the worker is busy, new calls queue up and form the next batch, so the wait only costs anything when idle.

Turned on by ``QA_MICRO_BATCH_MS`` (milliseconds to wait for company; 0 or unset: off, the web app's default is
``WEB_MICRO_BATCH_MS``); the Engine's ``embedder`` and ``reader`` properties return these wrappers then.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from qa.errors import ConfigError

log = logging.getLogger("qa.batching")

WEB_MICRO_BATCH_MS = 5.0
ASK_CONCURRENCY = 20  # questions the web app takes at once when micro-batching (one at a time without)
MAX_BATCH_CALLS = 32  # calls merged into one batch at most
# Questions read together: 4 questions of 5 passages fill the reader's batches (16 windows) about once, and every
# caller waits for its whole batch, so larger ones only delay the first answers (20 asks on 2 cores: p50 1.43 s in
# batches of up to 32, all finishing together).
READ_BATCH_CALLS = 4
SMALL_EMBED = 32  # texts; larger embed calls (a sync) run alone with their own progress


def micro_batch_ms(environ=None) -> float:
    """QA_MICRO_BATCH_MS as milliseconds (0 when unset)."""
    raw = (environ if environ is not None else os.environ).get("QA_MICRO_BATCH_MS", "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:
        raise ConfigError(f"QA_MICRO_BATCH_MS must be milliseconds from 0 to 1000 (got {raw!r})")
    return value


@dataclass
class _Call:
    key: Hashable | None  # calls with equal keys may share a batch; None runs alone
    payload: Any
    run: Callable[[list], list]  # payloads -> one result per payload
    future: Future = field(default_factory=Future)


class MicroBatcher:
    """A worker thread that runs calls in arrival order, merging those of one key that arrive close together."""

    def __init__(self, name: str, window_ms: float, max_calls: int = MAX_BATCH_CALLS):
        self.window_s = window_ms / 1000
        self.max_calls = max_calls
        self.batches: list[int] = []  # calls per batch run, newest last (bounded); tests and logs read it
        self._queue: queue.Queue[_Call] = queue.Queue()
        self._held: list[_Call] = []  # calls of another key met while gathering a batch: they go next
        self._thread = threading.Thread(target=self._work, name=f"qa-batch-{name}", daemon=True)
        self._thread.start()

    def call(self, key: Hashable | None, payload: Any, run: Callable[[list], list]) -> Any:
        """Run ``run([payload, ...])`` on the worker, possibly with other callers' payloads; this caller's result."""
        if threading.current_thread() is self._thread:  # a model calling back into itself must not deadlock
            return run([payload])[0]
        item = _Call(key, payload, run)
        self._queue.put(item)
        return item.future.result()

    def solo(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """``fn(*args, **kwargs)`` on the worker, alone."""
        return self.call(None, None, lambda _: [fn(*args, **kwargs)])

    def _next(self, timeout: float | None) -> _Call | None:
        if self._held:
            return self._held.pop(0)
        try:
            return self._queue.get(timeout=timeout) if timeout is None or timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _work(self) -> None:
        while True:
            first = self._next(None)
            batch = [first]
            if first.key is not None:
                deadline = time.monotonic() + self.window_s
                held: list[_Call] = []
                while len(batch) < self.max_calls:
                    item = self._next(deadline - time.monotonic())
                    if item is None:
                        break
                    (batch if item.key == first.key else held).append(item)
                self._held.extend(held)
            self._run(batch)

    def _run(self, batch: list[_Call]) -> None:
        self.batches = (self.batches + [len(batch)])[-1000:]
        try:
            results = batch[0].run([c.payload for c in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} calls gave {len(results)} results")
        except BaseException as exc:  # noqa: BLE001 - every caller must hear back
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            for call in batch:  # one bad call must not fail the others: each runs again alone
                self._run([call])
            return
        for call, result in zip(batch, results):
            call.future.set_result(result)


class BatchingEmbedder:
    """An embedder whose small ``embed`` calls (questions) from many threads share batches; everything that touches
    the tokenizer runs on the worker."""

    def __init__(self, embedder, window_ms: float = WEB_MICRO_BATCH_MS):
        self.inner = embedder
        self._batcher = MicroBatcher(f"embed-{getattr(embedder, 'name', 'model')}", window_ms)

    @property
    def batches(self) -> list[int]:
        return self._batcher.batches

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        texts = list(texts)
        if progress is not None or len(texts) > SMALL_EMBED:
            return self._batcher.solo(self.inner.embed, texts, batch_size=batch_size, progress=progress)
        return self._batcher.call(("embed", batch_size), texts, lambda lists: self._embed_many(lists, batch_size))

    def _embed_many(self, lists: list[list[str]], batch_size: int) -> list[np.ndarray]:
        vectors = self.inner.embed([t for texts in lists for t in texts], batch_size=batch_size)
        bounds = np.cumsum([0] + [len(texts) for texts in lists])
        return [vectors[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._batcher.solo(self.inner.count_tokens, list(texts))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return self._batcher.solo(self.inner.token_spans, text)

    def load(self):
        load = getattr(self.inner, "load", None)
        return self._batcher.solo(load) if load is not None else None

    def __getattr__(self, name):  # name, dimension, max_tokens, fingerprint, precision, ...
        return getattr(self.inner, name)


class BatchingReader:
    """A reader whose ``read`` calls from many threads are answered by one ``read_many``: questions that read with
    the same ``allow_no_answer`` share a batch, read with the largest ``top_k`` asked and each cut to its own (a
    window's best k spans include its best j < k, so the cut gives what a lone call would)."""

    def __init__(self, reader, window_ms: float = WEB_MICRO_BATCH_MS):
        self.inner = reader
        self._batcher = MicroBatcher(f"read-{getattr(reader, 'name', 'model')}", window_ms, READ_BATCH_CALLS)

    @property
    def batches(self) -> list[int]:
        return self._batcher.batches

    def read(self, question: str, passages, *, top_k: int = 3, allow_no_answer: bool = True):
        payload = (question, list(passages), top_k)
        return self._batcher.call(("read", allow_no_answer), payload,
                                  lambda calls: self._read_many(calls, allow_no_answer))

    def _read_many(self, calls: list[tuple], allow_no_answer: bool) -> list[list]:
        top_k = max(k for _, _, k in calls)
        items = [(question, passages) for question, passages, _ in calls]
        if hasattr(self.inner, "read_many"):
            spans = self.inner.read_many(items, top_k=top_k, allow_no_answer=allow_no_answer)
        else:
            spans = [self.inner.read(q, p, top_k=top_k, allow_no_answer=allow_no_answer) for q, p in items]
        return [found[:k] for found, (_, _, k) in zip(spans, calls)]

    def read_many(self, items, *, top_k: int = 3, allow_no_answer: bool = True):
        return self._batcher.solo(self.inner.read_many, items, top_k=top_k, allow_no_answer=allow_no_answer)

    def load(self) -> None:
        return self._batcher.solo(self.inner.load)

    def __getattr__(self, name):  # name, precision, ...
        return getattr(self.inner, name)
