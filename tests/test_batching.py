"""Micro-batching: concurrent calls share one model call on one worker thread, each caller gets exactly its own
result, and one failing call fails only its caller. Threads are synchronised with events, never with sleeps."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from qa import batching
from qa.batching import BatchingEmbedder, BatchingReader, MicroBatcher
from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.errors import ConfigError
from qa.types import Passage, Span
from tests.conftest import story, write
from tests.fakes import PhraseReader


class GatedEmbedder(HashingEmbedder):
    """Blocks its first call until released, so that later calls pile up behind it; records sizes and threads."""

    def __init__(self):
        super().__init__(dimension=32)
        self.entered, self.release = threading.Event(), threading.Event()
        self.sizes: list[int] = []
        self.threads: set[int] = set()

    def embed(self, texts, *, batch_size=64, progress=None):
        self.threads.add(threading.get_ident())
        self.sizes.append(len(texts))
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.release.wait(30)
        if any(t == "boom" for t in texts):
            raise ValueError("cannot embed boom")
        return super().embed(texts, batch_size=batch_size, progress=progress)


def pile_up(batched, first, others, call):
    """Run ``call(first)`` until it is inside the model, queue ``others`` behind it, then release the model."""
    model = batched.inner
    with ThreadPoolExecutor(len(others) + 1) as pool:
        head = pool.submit(call, first)
        assert model.entered.wait(30)
        rest = [pool.submit(call, item) for item in others]
        while batched._batcher._queue.qsize() < len(others):
            threading.Event().wait(0.001)
        model.release.set()
        return head, rest


def test_concurrent_embeds_share_one_batch_and_each_gets_its_own_vectors():
    batched = BatchingEmbedder(GatedEmbedder(), window_ms=1)
    questions = [[f"question {i}"] if i % 2 else [f"question {i}", f"and {i}"] for i in range(6)]
    head, rest = pile_up(batched, ["first"], questions, batched.embed)
    reference = HashingEmbedder(dimension=32)
    assert np.allclose(head.result(), reference.embed(["first"]))
    for texts, future in zip(questions, rest):
        assert np.allclose(future.result(), reference.embed(texts))
    assert batched.inner.sizes == [1, sum(len(q) for q in questions)]  # the six calls were one model call
    assert batched.batches == [1, 6]
    assert len(batched.inner.threads) == 1  # one thread owns the model


def test_a_failing_call_fails_only_its_caller():
    batched = BatchingEmbedder(GatedEmbedder(), window_ms=1)
    head, rest = pile_up(batched, ["first"], [["ok 1"], ["boom"], ["ok 2"]], batched.embed)
    head.result()
    assert rest[0].result().shape == (1, 32) and rest[2].result().shape == (1, 32)
    with pytest.raises(ValueError, match="boom"):
        rest[1].result()


def test_large_embeds_and_tokenizer_calls_run_alone_on_the_worker():
    inner = GatedEmbedder()
    inner.release.set()
    batched = BatchingEmbedder(inner, window_ms=1)
    steps: list[int] = []
    texts = [f"chunk {i}" for i in range(batching.SMALL_EMBED + 1)]
    assert batched.embed(texts, progress=steps.append).shape == (len(texts), 32)
    assert steps == [len(texts)]
    assert batched.count_tokens(["a b c"]) == [3]
    assert batched.token_spans("a b") == [(0, 1), (2, 3)]
    assert batched.dimension == 32 and batched.fingerprint == inner.fingerprint  # the rest passes through
    assert len(inner.threads) == 1


class RecordingReader:
    """read_many returns, per question, spans scored 1.0, 0.9, ... (as many as top_k asks) and records its calls."""

    name = "recording"

    def __init__(self):
        self.calls: list[tuple[int, int, bool]] = []  # (questions, top_k, allow_no_answer)
        self.entered, self.release = threading.Event(), threading.Event()

    def load(self):
        pass

    def read_many(self, items, *, top_k=3, allow_no_answer=True):
        self.calls.append((len(items), top_k, allow_no_answer))
        if len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(30)
        out = []
        for question, passages in items:
            passage = passages[0]
            out.append([Span(text=question, start=0, end=1, score=1 - i / 10, passage=passage) for i in range(top_k)])
        return out


def passage() -> Passage:
    return Passage(article_id="a", title="", text="text", start=0, end=4, score=1.0)


def test_concurrent_reads_share_read_many_each_cut_to_its_own_top_k():
    batched = BatchingReader(RecordingReader(), window_ms=1)
    asks = [("q1", 2, False), ("q2", 5, False), ("q3", 3, True), ("q4", 1, False)]

    def read(ask):
        question, top_k, allow = ask
        return batched.read(question, [passage()], top_k=top_k, allow_no_answer=allow)

    head, rest = pile_up(batched, ("q0", 3, False), asks, read)
    assert [s.text for s in head.result()] == ["q0"] * 3
    for (question, top_k, _), future in zip(asks, rest):
        spans = future.result()
        assert [s.text for s in spans] == [question] * top_k
        assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    # q1, q2 and q4 (no-answer not allowed) were one read at the largest top_k; q3 allows no answer: its own.
    assert sorted(batched.inner.calls[1:]) == [(1, 3, True), (3, 5, False)]


def test_a_reader_without_read_many_is_read_one_question_at_a_time():
    reader = PhraseReader({"Astana": 0.9})
    batched = BatchingReader(reader, window_ms=1)
    spans = batched.read("where?", [Passage(article_id="a", title="", text="It was in Astana.", start=0, end=17,
                                            score=1.0)])
    assert spans and spans[0].text == "Astana"


def test_a_model_calling_back_into_its_wrapper_does_not_deadlock():
    batcher = MicroBatcher("reentrant", window_ms=1)
    assert batcher.solo(lambda: batcher.solo(lambda: 42)) == 42


@pytest.mark.parametrize("raw, expected", [("", 0.0), ("0", 0.0), ("5", 5.0), ("2.5", 2.5)])
def test_the_setting_is_milliseconds(raw, expected):
    assert batching.micro_batch_ms({"QA_MICRO_BATCH_MS": raw}) == expected


@pytest.mark.parametrize("raw", ["fast", "-1", "5000"])
def test_a_bad_setting_is_a_clear_error(raw):
    with pytest.raises(ConfigError, match="QA_MICRO_BATCH_MS"):
        batching.micro_batch_ms({"QA_MICRO_BATCH_MS": raw})


def test_the_engine_wraps_its_models_only_when_asked(settings, articles, monkeypatch):
    write(articles, "a.txt", story("Arrests in Astana", "Police arrested twelve suspects in Astana on Monday."))
    reader = PhraseReader({"twelve suspects": 0.9})
    monkeypatch.delenv("QA_MICRO_BATCH_MS", raising=False)
    with Engine(settings=settings, embedder=HashingEmbedder(64), reader=reader) as plain:
        plain.sync(articles, progress=False)
        assert plain.reader is reader and isinstance(plain.embedder, HashingEmbedder)

    monkeypatch.setenv("QA_MICRO_BATCH_MS", "2")
    with Engine(settings=settings, embedder=HashingEmbedder(64), reader=reader) as engine:
        assert isinstance(engine.embedder, BatchingEmbedder) and engine.embedder is engine.embedder
        assert isinstance(engine.reader, BatchingReader) and engine.reader.inner is reader
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: engine.ask("who was arrested in Astana?"), range(16)))
        assert {a.text for a in answers} == {"twelve suspects"}
        assert sum(engine.reader.batches) == 16  # every read went through the worker
    off = Engine(settings=settings, embedder=HashingEmbedder(64), reader=reader)
    off.micro_batch_ms = 0  # the engine's own value wins over the environment
    assert off.reader is reader
