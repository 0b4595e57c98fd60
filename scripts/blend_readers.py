"""Blend two readers fine-tuned from the same model by averaging their weights (Wortsman et al. 2022, "WiSE-FT").

A stage-2 fine-tune (follow-ups, near misses) learns its new inputs but drifts on the old ones; the weights halfway
between it and the model it started from often keep most of both. Both folders must hold the same architecture
(same tensor names and shapes). The tokenizer and config come from the first, training_state.json from the second
(a fine-tune's names the weights it started from as its parent); blend.json records the share and both sources'
sha256. The calibration does not carry over (the blend's scores differ from both), so refit it afterwards:

    .venv/bin/python scripts/blend_readers.py qa/models/minilm-squad runs/reader-fu/model --weight 0.5 --out runs/blend
    .venv/bin/python scripts/calibrate_reader.py --reader runs/blend
    .venv/bin/python scripts/calibrate_follow_ups.py --reader runs/blend

``--weight`` is the second reader's share: 0 gives the first reader back, 1 the second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

COPIED = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def blend(first: Path, second: Path, weight: float, out: Path) -> dict:
    from safetensors.torch import load_file, save_file

    if not 0.0 <= weight <= 1.0:
        raise SystemExit(f"--weight must be between 0 and 1 (got {weight})")
    a, b = load_file(str(first / "model.safetensors")), load_file(str(second / "model.safetensors"))
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise SystemExit(f"{first} and {second} are not the same architecture; only fine-tunes of one model blend")
    mixed = {}
    for name, tensor in a.items():
        if tensor.is_floating_point():
            mixed[name] = ((1 - weight) * tensor.float() + weight * b[name].float()).half().contiguous()
        else:
            mixed[name] = tensor.contiguous()  # position ids and other integer buffers are the same in both
    out.mkdir(parents=True, exist_ok=True)
    save_file(mixed, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in COPIED:
        if (first / name).exists():
            shutil.copy2(first / name, out / name)
    if (second / "training_state.json").exists():
        shutil.copy2(second / "training_state.json", out / "training_state.json")
    record = {
        "blend_of": [{"path": str(folder), "sha256": _sha256(folder / "model.safetensors")} for folder in (first, second)],
        "second_weight": weight,
        "tensors": len(mixed),
    }
    (out / "blend.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--weight", type=float, default=0.5, help="the second reader's share (default 0.5)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(blend(args.first, args.second, args.weight, args.out)))


if __name__ == "__main__":
    sys.exit(main())
