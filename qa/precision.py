"""Which reduced precision this CPU runs fast, so models can use it unless a setting forces fp32."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def resolve_device(requested: str) -> str:
    """Map a setting of 'auto', 'cpu' or 'cuda' to the torch device actually used ('auto': a GPU when present)."""
    if requested not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', not {requested!r}")
    if requested == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def resolve_precision(requested: str, device: str = "cpu") -> str:
    """Map a setting of 'auto', 'bf16' or 'fp32' to the precision actually used on ``device``."""
    if requested not in {"auto", "bf16", "fp32"}:
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', not {requested!r}")
    if requested == "auto":
        if device == "cuda":
            import torch

            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return requested


def autocast(precision: str, device: str = "cpu"):
    """A context that runs torch ops on ``device`` in bf16 where asked, and does nothing for fp32."""
    if precision == "bf16":
        import torch

        return torch.autocast(device, dtype=torch.bfloat16)
    return contextlib.nullcontext()
