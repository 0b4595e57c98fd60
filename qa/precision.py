"""Which precision runs a model fastest here: a setting can force fp32 or bf16; 'auto' measures both once per CPU,
torch version and model, and remembers the answer.

A CPU flag is not enough: on an Intel Xeon with AVX512-BF16 and no AMX, bf16 autocast made the embedder 1.43x
slower than fp32, while on an AMD EPYC with the same flag it is 1.7-1.9x faster.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping

log = logging.getLogger("qa.precision")

_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
PRECISIONS = ("fp32", "bf16")
# bf16 must win by this much: it also moves the answers a little, and a closer call is noise. On an Intel Xeon without
# AMX, measured while tests ran beside it, bf16 came out 3.5% ahead (266 vs 275 ms) and was kept, though it was 20% and
# 51% slower in two quiet measurements (155 vs 128 ms, 156 vs 103 ms); where bf16 pays it wins by 2x and more (AMD
# EPYC 2.4x, AMX 2.7x).
_MARGIN = 0.90


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo ({} where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16). Only a hint: see above."""
    return bool(_BF16_FLAGS & set(_cpuinfo().get("flags", "").split()))


def cpu_name() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine() or "unknown CPU"


def resolve_device(requested: str) -> str:
    """Map a setting of 'auto', 'cpu' or 'cuda' to the torch device actually used ('auto': a GPU when present)."""
    if requested not in {"auto", "cpu", "cuda"}:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', not {requested!r}")
    if requested == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def resolve_precision(requested: str, device: str = "cpu") -> str:
    """Map 'auto', 'bf16' or 'fp32' to a precision without measuring: on a GPU whether it supports bf16, on a CPU
    its flags. Models loaded for serving measure instead (``choose_precision``); training uses this."""
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


# -- measuring ----------------------------------------------------------------------------------------------------
def cache_path() -> Path:
    """$QA_CACHE_DIR or $XDG_CACHE_HOME/articles-qa or ~/.cache/articles-qa, then precision.json."""
    base = os.environ.get("QA_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "articles-qa"
    return Path(base) / "precision.json"


def cpu_id() -> str:
    """The CPU's model name and a hash of its flags: virtual machines often report only "AMD EPYC", which covers
    generations with and without bf16 instructions."""
    flags = " ".join(sorted(_cpuinfo().get("flags", "").split()))
    return f"{cpu_name()} [{hashlib.sha256(flags.encode()).hexdigest()[:8]}]"


def cache_key(kind: str, fingerprint: str) -> str:
    """What a measurement depends on: the CPU, the torch build, which model and what it was timed on."""
    import torch

    return f"{kind}|{cpu_id()}|torch {torch.__version__}|{fingerprint}"


def read_cache(path: Path) -> dict[str, dict]:
    """The cached choices; an unreadable or malformed file counts as empty (it is rewritten on the next choice)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(path: Path, key: str, entry: dict) -> None:
    """Add one entry, atomically (a temporary file renamed over the old one): a reader never sees half a file."""
    data = read_cache(path)
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".precision-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def time_candidates(runs: Mapping[str, Callable[[], object]], repeats: int = 3,
                    clock: Callable[[], float] | None = None) -> dict[str, float]:
    """Median seconds of each run: one untimed warm-up each, then ``repeats`` rounds, interleaved so that a burst
    of load from elsewhere falls on both."""
    clock = clock or time.perf_counter
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = clock()
            run()
            times[name].append(clock() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def pick_fastest(medians: Mapping[str, float]) -> str:
    """fp32 unless another precision is faster by the margin; the fastest of those otherwise."""
    baseline = medians.get("fp32", float("inf"))
    best = min(medians, key=lambda name: (medians[name], name != "fp32"))
    return best if best == "fp32" or medians[best] < _MARGIN * baseline else "fp32"


def choose_precision(kind: str, fingerprint: str, runs: Mapping[str, Callable[[], object]], *,
                     path: Path | None = None, repeats: int = 3) -> str:
    """The fastest of ``runs`` (precision name -> one realistic call of the model in it), measured once and then
    read from the cache. A cache that cannot be written only costs a measurement next time."""
    path = path or cache_path()
    key = cache_key(kind, fingerprint)
    entry = read_cache(path).get(key)
    if isinstance(entry, dict) and entry.get("precision") in runs:
        return entry["precision"]
    medians = time_candidates(runs, repeats)
    chosen = pick_fastest(medians)
    log.info("%s: %s (median ms: %s)", kind, chosen, {k: round(v * 1000, 1) for k, v in medians.items()})
    entry = {"precision": chosen, "median_ms": {k: round(v * 1000, 2) for k, v in medians.items()},
             "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        write_cache(path, key, entry)
    except OSError as exc:
        log.warning("could not save the precision choice in %s: %s", path, exc)
    return chosen


# A realistic input for the timed checks: news prose of about 120 MiniLM tokens, the size of a chunk.
SAMPLE_TEXT = (
    "The chancellor said on Tuesday that the economy grew by 0.4% in the third quarter, slightly faster than "
    "analysts had expected, as consumer spending recovered after a weak summer. Retail sales rose for a second "
    "month, helped by strong demand for clothing and electronics, while manufacturing output was flat. The Bank "
    "of England is expected to keep interest rates at 4.75% when its committee meets next week, although two "
    "members voted for a cut last month. Unions warned that wages were still lagging behind prices in many "
    "public sector jobs, and called for talks with ministers before the budget in March."
)
SAMPLE_QUESTION = "How much did the economy grow in the third quarter?"
