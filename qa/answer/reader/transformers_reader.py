"""An extractive reader over any Hugging Face question-answering model (start/end logits), decoded here.

transformers 5 has no question-answering pipeline, so this does what it did: split each passage into overlapping
windows of question + context (never truncating the passage), run the windows in padded batches, decode each
window's logits into character spans and merge them per question. Batching works across questions too
(``read_many``), which is what makes evaluation fast.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.precision import SAMPLE_QUESTION, SAMPLE_TEXT, choose_precision, resolve_device, resolve_precision
from qa.answer.reader.decode import balance_quotes, best_spans, strip_dateline
from qa.types import Passage, Span

# Long questions are clipped so that every window keeps room for context; SQuAD questions are far shorter.
_MAX_QUESTION_TOKENS = 64
# Batches are padded to a multiple of this, so the model sees a handful of shapes rather than one per length.
_PAD_MULTIPLE = 32


@dataclass
class _Window:
    item: int  # which question in the request
    passage: int  # index of the passage among that question's passages
    order: int  # position among the question's windows, to break exact ties the same way however batched
    inputs: dict[str, list[int]]  # tokenizer outputs the model's forward accepts
    offsets: np.ndarray  # (tokens, 2) character offsets into passage.text, whitespace trimmed
    context_mask: np.ndarray  # True for the passage's tokens
    cls_index: int  # the "no answer" position

    @property
    def length(self) -> int:
        return len(self.inputs["input_ids"])


def _trimmed_offsets(text: str, offsets, context_mask: np.ndarray) -> np.ndarray:
    """Token offsets with surrounding whitespace removed, so spans never start or end with whitespace.

    Some tokenizers (SentencePiece) count the space before a word as part of its first token. A token that is only
    whitespace gets (end, start): a span starting there starts after it, one ending there ends before it.
    """
    out = np.zeros((len(offsets), 2), dtype=np.int64)
    for i in np.flatnonzero(context_mask):
        lo, hi = offsets[i]
        a, b = lo, hi
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out[i] = (a, b) if a < b else (hi, lo)
    return out


def _forward_inputs(model) -> frozenset[str]:
    """The inputs ``model.forward`` names: RoBERTa/DistilBERT take no token_type_ids, so only these are passed."""
    parameters = inspect.signature(model.forward).parameters.values()
    return frozenset(p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))


class TransformersReader:
    """Reader over ``AutoModelForQuestionAnswering``; the model is loaded on first use, not on construction."""

    def __init__(
        self,
        model: str,
        *,
        precision: str = "auto",
        batch_size: int = 16,
        max_length: int = 256,
        stride: int = 96,
        max_answer_tokens: int = 30,
        threads: int | None = None,
        device: str = "auto",
    ) -> None:
        if max_length < 16 or batch_size < 1 or stride < 0 or max_answer_tokens < 1:
            raise ValueError("need max_length >= 16, batch_size >= 1, stride >= 0 and max_answer_tokens >= 1")
        self.name = str(model)
        self.precision = precision
        self.batch_size = batch_size
        self.max_length = max_length
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.threads = threads
        self.device = device
        self._device = "cpu"
        self._tokenizer = None
        self._model = None
        self._load_lock = threading.Lock()
        self._resolved_precision = "fp32"

    def load(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:  # two threads asking at once must not load the model twice
            if self._model is None:
                self._load()

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        self._device = resolve_device(self.device)
        self._resolved_precision = resolve_precision(self.precision, self._device)
        local = Path(self.name).expanduser()
        source, options = (str(local), {"local_files_only": True}) if local.is_dir() else (self.name, {})
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        if not tokenizer.is_fast:
            raise ValueError(f"{self.name}: the reader needs a fast tokenizer (character offsets)")
        # Loaded as fp32 (fp16 matmuls are slow or missing on CPUs), then held in bf16 where that is fast: casting the
        # weights once saved 15% of reading time over autocast's per-call casts, at the same SQuAD F1 (84.38 vs 84.41
        # on 1,000 dev questions).
        model = AutoModelForQuestionAnswering.from_pretrained(source, dtype=torch.float32, **options)
        model.to(self._device)
        model.eval()
        self._tokenizer = tokenizer  # the model is published last: other threads wait in load() until then
        if self.precision == "auto" and self._device == "cpu":
            model, self._resolved_precision = self._choose_precision(model, local if local.is_dir() else None)
        elif self._resolved_precision == "bf16":
            model.to(torch.bfloat16)
        self._model = model

    def _choose_precision(self, model, folder: Path | None):
        """fp32 or bf16 weights, whichever reads a question over 5 chunk-sized passages faster here (measured once
        per CPU, torch version and weights; see qa.precision). Returns the model to keep and its precision."""
        import torch

        models = {"fp32": model, "bf16": copy.deepcopy(model).to(torch.bfloat16)}
        passages = [
            Passage(article_id=f"check/{i}", title="", text=f"{i}. {SAMPLE_TEXT}", start=0, end=len(SAMPLE_TEXT) + 3,
                    score=0.5)
            for i in range(5)
        ]
        runs = {p: (lambda m=m: self._read_many([(SAMPLE_QUESTION, passages)], 3, True, m)) for p, m in models.items()}
        chosen = choose_precision("reader", f"{_weights_fingerprint(self.name, folder)}|5 passages", runs)
        return models[chosen], chosen

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        top_k: int = 3,
        allow_no_answer: bool = True,
    ) -> list[Span]:
        return self.read_many([(question, passages)], top_k=top_k, allow_no_answer=allow_no_answer)[0]

    def read_many(
        self,
        items: Sequence[tuple[str, Sequence[Passage]]],
        *,
        top_k: int = 3,
        allow_no_answer: bool = True,
    ) -> list[list[Span]]:
        """``read`` for several questions at once, batching windows across them; one span list per item."""
        self.load()
        return self._read_many(items, top_k, allow_no_answer, self._model)

    def _read_many(self, items, top_k: int, allow_no_answer: bool, model) -> list[list[Span]]:
        accepted = _forward_inputs(model)
        windows = [
            w for i, (question, passages) in enumerate(items) for w in self._windows(i, question, passages, accepted)
        ]
        # Per question: (article_id, start, end) -> (rank key, span); the best occurrence of a span wins.
        found: list[dict[tuple, tuple[tuple, Span]]] = [{} for _ in items]
        for batch in self._batches(windows):
            for window, start_logits, end_logits in zip(batch, *self._logits(batch, accepted, model)):
                passage = items[window.item][1][window.passage]
                decoded = best_spans(
                    start_logits,
                    end_logits,
                    window.offsets,
                    window.context_mask,
                    top_k=top_k,
                    max_answer_tokens=self.max_answer_tokens,
                    cls_index=window.cls_index,
                    allow_no_answer=allow_no_answer,
                )
                for candidate in decoded.spans:
                    lo, hi = strip_dateline(passage.text, candidate.start_char, candidate.end_char)
                    lo, hi = balance_quotes(passage.text, lo, hi)
                    span = Span(
                        text=passage.text[lo:hi],
                        start=passage.start + lo,
                        end=passage.start + hi,
                        score=candidate.prob,
                        passage=passage,
                        logit=candidate.logit,
                        null_logit=decoded.null_logit,
                    )
                    rank = (-span.score, -span.logit, window.passage, span.start, span.end, window.order)
                    key = (passage.article_id, span.start, span.end)
                    if key not in found[window.item] or rank < found[window.item][key][0]:
                        found[window.item][key] = (rank, span)
        return [[span for _, span in sorted(spans.values(), key=lambda pair: pair[0])[:top_k]] for spans in found]

    def _clip_question(self, question: str) -> str:
        limit = min(_MAX_QUESTION_TOKENS, self.max_length // 4)
        encoded = self._tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
        if len(encoded["input_ids"]) <= limit:
            return question
        return question[: encoded["offset_mapping"][limit - 1][1]]

    def _windows(
        self, item: int, question: str, passages: Sequence[Passage], accepted: frozenset[str]
    ) -> list[_Window]:
        if not passages:
            return []
        tokenizer = self._tokenizer
        question = self._clip_question(question.lstrip())
        # As the old HF pipeline did: a tokenizer that pads on the left puts the context first.
        question_first = tokenizer.padding_side != "left"
        question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
        room = self.max_length - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
        texts = [p.text for p in passages]
        questions = [question] * len(texts)
        encoded = tokenizer(
            questions if question_first else texts,
            texts if question_first else questions,
            truncation="only_second" if question_first else "only_first",
            max_length=self.max_length,
            stride=min(self.stride, room // 2),  # the overlap must leave each window new context
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        context_id = 1 if question_first else 0
        windows = []
        for i, passage_index in enumerate(encoded["overflow_to_sample_mapping"]):
            sequence_ids = encoded.sequence_ids(i)
            ids = encoded["input_ids"][i]
            context_mask = np.array([s == context_id for s in sequence_ids], dtype=bool)
            cls_index = next(
                (j for j, (t, s) in enumerate(zip(ids, sequence_ids)) if s is None and t == tokenizer.cls_token_id),
                0,
            )
            windows.append(
                _Window(
                    item=item,
                    passage=passage_index,
                    order=i,
                    inputs={k: encoded[k][i] for k in encoded.keys() if k in accepted},
                    offsets=_trimmed_offsets(texts[passage_index], encoded["offset_mapping"][i], context_mask),
                    context_mask=context_mask,
                    cls_index=cls_index,
                )
            )
        return windows

    def _batches(self, windows: list[_Window]) -> list[list[_Window]]:
        """Batches of similar length, so little compute goes to padding."""
        ordered = sorted(windows, key=lambda w: -w.length)
        return [ordered[i : i + self.batch_size] for i in range(0, len(ordered), self.batch_size)]

    def _logits(self, batch: list[_Window], accepted: frozenset[str], model) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits of each window, padding removed."""
        import torch

        longest = max(w.length for w in batch)
        width = max(longest, min(math.ceil(longest / _PAD_MULTIPLE) * _PAD_MULTIPLE, self.max_length))
        left = self._tokenizer.padding_side == "left"
        pad_id = self._tokenizer.pad_token_id or 0
        names = set(batch[0].inputs) | ({"attention_mask"} & accepted)
        arrays = {name: np.full((len(batch), width), pad_id if name == "input_ids" else 0) for name in names}
        spans = []
        for row, window in enumerate(batch):
            lo = width - window.length if left else 0
            spans.append(slice(lo, lo + window.length))
            for name in names:
                arrays[name][row, spans[-1]] = window.inputs.get(name, 1)  # a missing attention_mask is all ones
        inputs = {name: torch.from_numpy(array.astype(np.int64)).to(self._device) for name, array in arrays.items()}
        with torch.inference_mode():
            output = model(**inputs)
        start = output.start_logits.float().cpu().numpy()
        end = output.end_logits.float().cpu().numpy()
        return [start[r, s] for r, s in enumerate(spans)], [end[r, s] for r, s in enumerate(spans)]


def _weights_fingerprint(name: str, folder: Path | None) -> str:
    """A hash of a local model's weights and config (so retrained weights are measured again); a hub id itself."""
    if folder is None:
        return name
    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        if file.suffix in {".safetensors", ".bin"} or file.name == "config.json":
            digest.update(file.name.encode())
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]
