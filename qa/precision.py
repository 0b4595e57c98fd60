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


def resolve_precision(requested: str) -> str:
    """Map a setting of 'auto', 'bf16' or 'fp32' to the precision actually used."""
    if requested not in {"auto", "bf16", "fp32"}:
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', not {requested!r}")
    if requested == "auto":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return requested


def autocast(precision: str):
    """A context that runs torch CPU ops in bf16 where asked, and does nothing for fp32."""
    if precision == "bf16":
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
