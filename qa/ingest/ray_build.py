"""Chunking and embedding on a Ray cluster, for the first build of a large archive (`qa index --ray [ADDRESS]`).

The sync runs as usual on this machine for what must happen in one place (reading the folder, the writer, its atomic
publish); the work that grows with the archive is handed to Ray Data: the new articles become a dataset whose batches
go to one segmenting actor per CPU of the cluster (sentences and chunks, with the embedder's own tokenizer), then the
chunk texts, longest first, go to one embedding actor per CPU, each holding its own copy of the model on one thread.
Offsets and vectors come back tagged with their row and are handed to the writer in the order it asked, so the index
equals a normal build's.

Ray is an optional extra (`pip install -e .[ray]`); this module is imported only by `--ray`. Ray moves batches
between processes with its own serialisation; only plain strings, numbers and arrays cross it, never project
objects.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Sequence

import numpy as np

from qa.errors import ConfigError

LOCAL = "local"
# Fewer chunks than this are embedded here: starting actors and loading the model on each costs more.
MIN_REMOTE_TEXTS = 256
# Fewer new articles than this are split into chunks here, for the same reason.
MIN_REMOTE_ARTICLES = 64
# Articles an actor splits and embeds per call: enough chunks (~180 for news) for length-sorted embedding batches.
ARTICLES_PER_CALL = 32


def connect(address: str | None = LOCAL) -> int:
    """Join (or start) a Ray cluster; the number of CPUs it has. ``local`` starts one on this machine."""
    try:
        import ray
    except ImportError:
        raise ConfigError("`--ray` needs Ray: pip install -e '.[ray]'") from None
    if not ray.is_initialized():
        options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address in (None, "", LOCAL):
            ray.init(num_cpus=os.cpu_count() or 1, **options)
        else:
            try:
                ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"could not join the Ray cluster at {address}: {exc}") from None
    # Ray Data logs its progress every few seconds where there is no terminal; the sync has its own progress.
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class _EmbedActor:
    """One per CPU of the cluster: loads the embedder once and embeds the batches it is given on one thread."""

    def __init__(self, model: str, precision: str):
        from qa.embedders import make_embedder
        from qa.settings import Settings

        self.embedder = make_embedder(Settings(embedder=model, precision=precision, threads=1))

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        return {"row": batch["row"], "vector": self.embedder.embed(texts, batch_size=len(texts))}


class _SegmentActor:
    """One per CPU of the cluster: splits articles into sentences and chunks with the embedder's own tokenizer, the
    same way a local build does (qa.ingest.sync.segment)."""

    def __init__(self, settings: dict):
        from qa.embedders import make_embedder
        from qa.settings import Settings

        self.settings = Settings(**settings)
        self.embedder = make_embedder(self.settings)

    def __call__(self, batch: dict) -> dict:
        from qa.ingest.sync import embedded_texts, segment
        from qa.types import Article

        spans_out, chunks_out, texts, counts = [], [], [], []
        for article_id, text, title, boilerplate in zip(batch["id"], batch["text"], batch["title"], batch["boilerplate"]):
            article = Article(id=str(article_id), text=str(text), title=str(title),
                              boilerplate=tuple(tuple(pair) for pair in json.loads(str(boilerplate))))
            spans, chunks = segment(article, self.embedder, self.settings)
            spans_out.append(json.dumps([list(span) for span in spans]))
            chunks_out.append(json.dumps([[c.ordinal, c.start, c.end] for c in chunks]))
            texts.extend(embedded_texts(article, chunks, self.settings))
            counts.append(len(chunks))
        # All the batch's chunks in one embedding call; each article's vectors go back as float32 bytes.
        vectors = self.embedder.embed(texts, batch_size=self.settings.embed_batch_size) if texts else np.zeros((0, 0), np.float32)
        ends = np.cumsum(counts)
        blobs = [np.ascontiguousarray(vectors[end - n : end], dtype=np.float32).tobytes() for n, end in zip(counts, ends)]
        return {"row": batch["row"], "spans": np.asarray(spans_out, dtype=object),
                "chunks": np.asarray(chunks_out, dtype=object), "vectors": np.asarray(blobs, dtype=object)}


class RayEmbedder:
    """The local embedder (its name, fingerprint, tokenizer: the chunker and the index's identity check use them)
    whose ``embed`` of many texts runs on the Ray cluster."""

    def __init__(self, local, *, model: str, precision: str, address: str | None = LOCAL, batch_size: int = 64):
        self.inner = local
        self.model = model
        self.precision = precision
        self.address = address
        self.batch_size = batch_size
        self.remote_texts = 0  # texts embedded on the cluster so far (tests and reports read it)
        self.remote_articles = 0  # articles split into sentences and chunks on the cluster so far
        # the last segment_many: seconds until its first batch came back (actors starting, then their first call)
        self.first_result_seconds: float | None = None

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        if len(texts) < MIN_REMOTE_TEXTS:
            return self.inner.embed(texts, batch_size=batch_size, progress=progress)
        import ray

        workers = connect(self.address)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        rows = [{"row": int(i), "text": texts[i]} for i in order]
        dataset = ray.data.from_items(rows, override_num_blocks=max(workers * 4, len(rows) // (self.batch_size * 8)))
        vectors = dataset.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"model": self.model, "precision": self.precision},
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        out = np.zeros((len(texts), self.inner.dimension), dtype=np.float32)
        for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]
            if progress is not None:
                progress(len(batch["row"]))
        self.remote_texts += len(texts)
        return out

    def segment_many(self, articles: Sequence, settings) -> dict[str, tuple]:
        """Many articles split and embedded on the cluster: {article id: (sentence spans, chunks, vectors)}. Only
        plain text goes out and offsets and float32 bytes come back; the chunks are rebuilt here from the offsets.
        Few articles: {} (the writer splits and embeds them here)."""
        from qa.types import Chunk

        if len(articles) < MIN_REMOTE_ARTICLES:
            return {}  # split and embedded here, as usual
        import ray

        workers = connect(self.address)
        # Longest articles first, so the last calls are short and no actor waits long for another at the end; one
        # block per call, so no block leaves a call of one or two articles behind.
        order = sorted(range(len(articles)), key=lambda i: -len(articles[i].text))
        rows = [{"row": i, "id": articles[i].id, "text": articles[i].text, "title": articles[i].title,
                 "boilerplate": json.dumps([list(pair) for pair in articles[i].boilerplate])} for i in order]
        fields = {"embedder": settings.embedder, "precision": settings.precision, "threads": 1,
                  "embed_batch_size": settings.embed_batch_size,
                  "chunk_tokens": settings.chunk_tokens, "chunk_overlap_sentences": settings.chunk_overlap_sentences,
                  "embed_titles": settings.embed_titles}
        dataset = ray.data.from_items(rows, override_num_blocks=max(workers, -(-len(rows) // ARTICLES_PER_CALL)))
        split = dataset.map_batches(
            _SegmentActor,
            fn_constructor_kwargs={"settings": fields},
            batch_size=ARTICLES_PER_CALL,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        out: dict[str, tuple] = {}
        dimension = self.inner.dimension
        started, self.first_result_seconds = time.perf_counter(), None
        for batch in split.iter_batches(batch_size=None, batch_format="numpy"):
            if self.first_result_seconds is None:
                self.first_result_seconds = time.perf_counter() - started
            for row, spans, chunks, blob in zip(batch["row"], batch["spans"], batch["chunks"], batch["vectors"]):
                article = articles[int(row)]
                offsets = json.loads(chunks)
                out[article.id] = (
                    [tuple(span) for span in json.loads(spans)],
                    [Chunk(article.id, o, a, b, article.text[a:b]) for o, a, b in offsets],
                    np.frombuffer(bytes(blob), dtype=np.float32).reshape(len(offsets), dimension),
                )
                self.remote_texts += len(offsets)
        self.remote_articles += len(articles)
        return out

    def __getattr__(self, name):  # name, dimension, max_tokens, fingerprint, count_tokens, token_spans, ...
        return getattr(self.inner, name)


def ray_embedder(settings, address: str | None = LOCAL) -> RayEmbedder:
    """A RayEmbedder for ``settings.embedder``; fails now, with the fix, when Ray is missing."""
    from qa.embedders import make_embedder

    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConfigError("`--ray` needs Ray: pip install -e '.[ray]'") from None
    return RayEmbedder(make_embedder(settings), model=settings.embedder, precision=settings.precision,
                       address=address, batch_size=settings.embed_batch_size * 2)
