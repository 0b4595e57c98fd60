"""Embedding on a Ray cluster, for the first build of a large archive (`qa index --ray [ADDRESS]`).

The sync runs as usual on this machine (reading, chunking, the writer and its atomic publish); only the embedding of
the new chunks is handed to Ray Data: the chunk texts, longest first, become a dataset whose batches go to one
embedding actor per CPU of the cluster, each holding its own copy of the model on one thread. The vectors come back
tagged with their row and are handed to the writer in the order it asked, so the index equals a normal build's.

Ray is an optional extra (`pip install -e .[ray]`); this module is imported only by `--ray`. Ray moves batches
between processes with its own serialisation; only plain strings, numbers and arrays cross it, never project
objects.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

import numpy as np

from qa.errors import ConfigError

LOCAL = "local"
# Fewer chunks than this are embedded here: starting actors and loading the model on each costs more.
MIN_REMOTE_TEXTS = 256


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
