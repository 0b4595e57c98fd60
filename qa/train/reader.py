"""Fine-tune an extractive QA head on SQuAD 1.1, on CPU, within a time budget, resumable across sessions.

Why this shape: no trained QA weights can be downloaded here, a run needs hours of CPU, and a session can end at any
moment. So the run takes a time budget, writes a full checkpoint (weights, optimizer, RNG, data position) every few
minutes, resumes from it, and exports fp16 weights plus a training_state.json that lets a fresh machine continue
from the shipped weights alone. The data order depends only on the seed and the epoch, so a resumed run sees the
same batches it would have seen uninterrupted.

A fine-tune (``fine_tune=True`` with ``init_from``) starts a new schedule of ``steps`` steps from exported weights,
with a fresh optimizer; the training that made those weights is kept in ``TrainState.parent``: e.g. a short run from
the shipped weights with near-miss "no answer" windows added (``near_miss_share``, qa/train/near_miss.py).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.precision import autocast
from qa.train.features import FeatureSet, build_features
from qa.train.runs import (
    TrainState, adamw, bundled_minilm_path, file_digest, hardware, load_checkpoint, optimizer_step, replace_folder,
    save_checkpoint, start_run, vocab_digest, warmup_then_linear,
)
from qa.eval.squad import load_squad


@dataclass(frozen=True)
class TrainConfig:
    squad_train: Path
    out_dir: Path  # the exported fp16 reader (tokenizer, config, weights, training_state.json)
    work_dir: Path  # features cache and full checkpoints (never committed)
    base_model: str | None = None  # None: the bundled all-MiniLM-L6-v2
    init_from: Path | None = None  # continue from exported weights when no checkpoint exists
    max_length: int = 256
    stride: int = 96
    batch_size: int = 32
    lr: float = 1e-4
    warmup_share: float = 0.05
    epochs: float = 1.6
    steps: int | None = None  # the schedule's length in steps; None: ``epochs`` over the windows
    schedule: str = "linear"  # after warm-up: 'linear' decay to 0 at the last step, or 'constant'
    fine_tune: bool = False  # from ``init_from``: a new schedule from step 0 (fresh optimizer), not the parent's
    negative_share: float = 0.25
    near_miss_share: float = 0.0  # near-miss "no answer" questions per training question (qa/train/near_miss.py)
    follow_up_share: float = 0.0  # chat follow-ups per training question (qa/train/follow_ups.py)
    follow_up_ellipsis: float = 0.0  # of those whose shared words follow a preposition: left out, not a pronoun
    low_overlap_share: float = 0.0  # questions worded least like their answer's sentence, read again (low_overlap.py)
    low_overlap_copies: int = 1  # how many more times each of those is read
    headline_share: float = 0.0  # questions read again over their paragraph under a headline (headlines.py)
    weight_decay: float = 0.01
    seed: int = 13
    time_budget_s: float = 3600.0
    checkpoint_every_s: float = 600.0
    log_every: int = 50
    precision: str = "auto"
    device: str = "auto"  # 'auto': a CUDA GPU when present, else the CPU
    threads: int | None = None
    pad_multiple: int = 32
    # Attention dropout forces the unfused attention path on CPU and cost 45% of each step here; hidden dropout
    # alone keeps the regularisation for a fraction of the price.
    attention_dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.schedule not in {"linear", "constant"}:
            raise ValueError(f"schedule must be 'linear' or 'constant' (got {self.schedule!r})")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be at least 1 (got {self.steps})")
        if self.low_overlap_copies < 1:
            raise ValueError(f"low_overlap_copies must be at least 1 (got {self.low_overlap_copies})")
        for share in ("near_miss_share", "follow_up_share", "follow_up_ellipsis", "low_overlap_share", "headline_share"):
            if not 0.0 <= getattr(self, share) <= 1.0:
                raise ValueError(f"{share} must be between 0 and 1 (got {getattr(self, share)})")
        if self.fine_tune and self.init_from is None:
            raise ValueError("fine_tune needs init_from: the exported weights to start from")


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Length-bucketed batches: shuffle, sort within mega-batches by length, then shuffle the batch order."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    mega = batch_size * 64
    batches: list[np.ndarray] = []
    for lo in range(0, len(order), mega):
        block = order[lo : lo + mega]
        block = block[np.argsort(-lengths[block], kind="stable")]
        batches.extend(block[i : i + batch_size] for i in range(0, len(block), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(features: FeatureSet, index: np.ndarray, pad_multiple: int):
    import torch

    lengths = features.lengths()[index]
    width = int(math.ceil(lengths.max() / pad_multiple) * pad_multiple)
    ids = np.zeros((len(index), width), dtype=np.int64)
    types = np.zeros((len(index), width), dtype=np.int64)
    mask = np.zeros((len(index), width), dtype=np.int64)
    for row, i in enumerate(index):
        lo, hi = features.offsets[i], features.offsets[i + 1]
        ids[row, : hi - lo] = features.ids[lo:hi]
        types[row, : hi - lo] = features.type_ids[lo:hi]
        mask[row, : hi - lo] = 1
    return (
        torch.from_numpy(ids),
        torch.from_numpy(types),
        torch.from_numpy(mask),
        torch.from_numpy(features.starts[index].astype(np.int64)),
        torch.from_numpy(features.ends[index].astype(np.int64)),
    )


def lr_at(step: int, cfg: TrainConfig, total_steps: int) -> float:
    return warmup_then_linear(step, cfg.lr, cfg.warmup_share, total_steps, constant=cfg.schedule == "constant")


def planned_steps(cfg: TrainConfig, windows: int) -> int:
    """The schedule's length: ``steps`` when given, else ``epochs`` over ``windows`` in batches."""
    if cfg.steps is not None:
        return cfg.steps
    return int(math.ceil(windows / cfg.batch_size) * cfg.epochs)


def feature_meta(cfg: TrainConfig, squad_digest: str, vocab_digest: str) -> dict:
    """What the cached windows depend on; a cache with other values is rebuilt."""
    return {
        "squad": squad_digest,
        # The vocabulary itself, not the folder name: the same tokenizer lives in the base and the exported model.
        "vocab": vocab_digest,
        "max_length": cfg.max_length,
        "stride": cfg.stride,
        "negative_share": cfg.negative_share,
        "near_miss_share": cfg.near_miss_share,
        "follow_up_share": cfg.follow_up_share,
        "follow_up_ellipsis": cfg.follow_up_ellipsis,
        "low_overlap_share": cfg.low_overlap_share,
        "low_overlap_copies": cfg.low_overlap_copies,
        "headline_share": cfg.headline_share,
        "seed": cfg.seed,
    }


def export_reader(model, tokenizer, out_dir: Path, state: TrainState, cfg: TrainConfig) -> None:
    """Save fp16 weights, tokenizer and training state where the project ships its reader (atomic swap)."""
    import copy

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    half = copy.deepcopy(model).half().cpu()
    half.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    (tmp / "training_state.json").write_text(json.dumps({"state": asdict(state), "config": config}, indent=2))
    card = out_dir / "README.md"
    if card.exists():  # the model card is written by hand/eval; keep it across exports
        shutil.copy(card, tmp / "README.md")
    replace_folder(tmp, out_dir)


def train(cfg: TrainConfig, log=print) -> TrainState:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    started = time.monotonic()
    device, precision = start_run(cfg.seed, cfg.threads, cfg.device, cfg.precision)
    checkpoint = cfg.work_dir / "checkpoint"
    # The architecture and tokenizer come from init_from even when a checkpoint then supplies the weights (a fine-tune
    # of a reader that is not shaped like the base model resumes too).
    from_init = cfg.init_from is not None and (not checkpoint.exists() or (cfg.init_from / "config.json").is_file())
    source = str(cfg.init_from) if from_init else cfg.base_model or bundled_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForQuestionAnswering.from_pretrained(
        source, dtype=torch.float32, attention_probs_dropout_prob=cfg.attention_dropout, attn_implementation="sdpa"
    )
    model.to(device)
    model.train()

    meta = feature_meta(
        cfg,
        file_digest(cfg.squad_train),
        vocab_digest(tokenizer),
    )
    features = FeatureSet.load(cfg.work_dir / "features", meta)
    if features is None:
        log("building training windows ...")
        features = build_features(
            load_squad(cfg.squad_train),
            tokenizer,
            max_length=cfg.max_length,
            stride=cfg.stride,
            negative_share=cfg.negative_share,
            near_miss_share=cfg.near_miss_share,
            follow_up_share=cfg.follow_up_share,
            follow_up_ellipsis=cfg.follow_up_ellipsis,
            low_overlap_share=cfg.low_overlap_share,
            low_overlap_copies=cfg.low_overlap_copies,
            headline_share=cfg.headline_share,
            seed=cfg.seed,
        )
        features.save(cfg.work_dir / "features", meta)
    no_answer = float((features.starts == 0).mean())
    log(f"{len(features)} windows ({no_answer:.1%} without the answer), {device}, precision {precision}")

    optimizer = adamw(model, cfg.lr, cfg.weight_decay, device)
    lengths = features.lengths()
    total_steps = planned_steps(cfg, len(features))

    if checkpoint.exists():
        state = load_checkpoint(checkpoint, model, optimizer, device)
        log(f"resumed from checkpoint at step {state.global_step}")
    elif cfg.fine_tune:
        parent_file = cfg.init_from / "training_state.json"
        parent = json.loads(parent_file.read_text()) if parent_file.exists() else None
        state = TrainState(parent=parent)
        log(f"fine-tuning {cfg.init_from} for {total_steps} steps (fresh optimizer and schedule)")
    elif cfg.init_from and (cfg.init_from / "training_state.json").exists():
        state = TrainState(**json.loads((cfg.init_from / "training_state.json").read_text())["state"])
        log(f"continuing from exported weights at step {state.global_step} (fresh optimizer)")
    else:
        state = TrainState()
    state.total_steps = total_steps
    segment = {"start_step": state.global_step, "precision": precision, "device": device, "hardware": hardware(device),
               "threads": torch.get_num_threads()}

    batches = epoch_batches(lengths, cfg.batch_size, cfg.seed, state.epoch)
    last_checkpoint = time.monotonic()
    window_loss, window_examples, window_started = 0.0, 0, time.monotonic()
    segment_wall_start = state.wall_seconds
    while state.global_step < total_steps and time.monotonic() - started < cfg.time_budget_s:
        if state.batch_in_epoch >= len(batches):
            state.epoch += 1
            state.batch_in_epoch = 0
            batches = epoch_batches(lengths, cfg.batch_size, cfg.seed, state.epoch)
        index = batches[state.batch_in_epoch]
        ids, types, mask, starts, ends = (
            t.to(device, non_blocking=True) for t in collate(features, index, cfg.pad_multiple)
        )
        for group in optimizer.param_groups:
            group["lr"] = lr_at(state.global_step, cfg, total_steps)
        step_started = time.monotonic()
        with autocast(precision, device):
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
        # Padding can never be an answer: mask it out of the softmax.
        pad = mask == 0
        start_logits = out.start_logits.float().masked_fill(pad, -1e4)
        end_logits = out.end_logits.float().masked_fill(pad, -1e4)
        loss = (
            torch.nn.functional.cross_entropy(start_logits, starts)
            + torch.nn.functional.cross_entropy(end_logits, ends)
        ) / 2
        optimizer_step(loss, model, optimizer, state, len(index), step_started)
        window_loss += loss.item() * len(index)
        window_examples += len(index)
        if state.global_step % cfg.log_every == 0:
            rate = window_examples / (time.monotonic() - window_started)
            log(
                f"step {state.global_step}/{total_steps} epoch {state.epoch} loss {window_loss / window_examples:.3f} "
                f"lr {optimizer.param_groups[0]['lr']:.2e} {rate:.1f} windows/s"
            )
            window_loss, window_examples, window_started = 0.0, 0, time.monotonic()
        if time.monotonic() - last_checkpoint > cfg.checkpoint_every_s:
            save_checkpoint(checkpoint, model, optimizer, state)
            export_reader(model, tokenizer, cfg.out_dir, state, cfg)
            last_checkpoint = time.monotonic()
            log(f"checkpoint at step {state.global_step}")

    segment.update(end_step=state.global_step, seconds=round(state.wall_seconds - segment_wall_start, 1))
    state.history.append(segment)
    save_checkpoint(checkpoint, model, optimizer, state)
    export_reader(model, tokenizer, cfg.out_dir, state, cfg)
    log(f"stopped at step {state.global_step}/{total_steps}; exported to {cfg.out_dir}")
    return state
