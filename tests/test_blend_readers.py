"""scripts/blend_readers.py: two fine-tunes of one model averaged tensor by tensor, and the card that says so."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from blend_readers import blend  # noqa: E402

from tests.test_near_miss_training import stage2_card  # noqa: E402


def reader_folder(path: Path, weight: float, *, shape=(2, 3), state: dict | None = None) -> Path:
    path.mkdir(parents=True)
    save_file({"layer.weight": torch.full(shape, weight, dtype=torch.float16),
               "position_ids": torch.arange(4, dtype=torch.int64)}, str(path / "model.safetensors"))
    (path / "config.json").write_text('{"model_type": "bert"}')
    (path / "tokenizer.json").write_text("{}")
    if state is not None:
        (path / "training_state.json").write_text(json.dumps(state))
    return path


def test_a_blend_is_the_weighted_mean_of_two_readers_in_fp16(tmp_path):
    first = reader_folder(tmp_path / "stage1", 1.0)
    second = reader_folder(tmp_path / "stage2", 3.0, state={"state": {"parent": {}}, "config": {}})
    record = blend(first, second, 0.25, tmp_path / "blend")
    mixed = load_file(str(tmp_path / "blend" / "model.safetensors"))
    assert mixed["layer.weight"].dtype == torch.float16
    assert torch.equal(mixed["layer.weight"], torch.full((2, 3), 1.5, dtype=torch.float16))  # 0.75 * 1 + 0.25 * 3
    assert torch.equal(mixed["position_ids"], torch.arange(4))  # integer buffers are copied, not averaged
    # the stage-2 training record (which names stage 1 as its parent) and the first reader's tokenizer come along
    assert json.loads((tmp_path / "blend" / "training_state.json").read_text()) == {"state": {"parent": {}}, "config": {}}
    assert (tmp_path / "blend" / "tokenizer.json").exists()
    saved = json.loads((tmp_path / "blend" / "blend.json").read_text())
    assert saved == record and saved["second_weight"] == 0.25
    assert [len(source["sha256"]) for source in saved["blend_of"]] == [64, 64]
    assert saved["blend_of"][0]["sha256"] != saved["blend_of"][1]["sha256"]


def test_readers_of_different_shapes_or_a_share_out_of_range_are_refused(tmp_path):
    first = reader_folder(tmp_path / "a", 1.0)
    other = reader_folder(tmp_path / "b", 1.0, shape=(3, 3))
    with pytest.raises(SystemExit, match="not the same architecture"):
        blend(first, other, 0.5, tmp_path / "out")
    with pytest.raises(SystemExit, match="between 0 and 1"):
        blend(first, first, 1.5, tmp_path / "out")


def test_the_model_card_describes_a_blend_as_a_third_stage():
    text = stage2_card(900, 1080.0, follow_up_share=0.5, blend={"second_weight": 0.3})
    assert "| stage 3: weight average | 70% of the stage-1 weights plus 30% of the stage-2 weights" in text
    assert "scripts/blend_readers.py STAGE1_READER runs/stage2/reader --weight 0.3 --out runs/stage3/reader" in text
    assert "calibrate_follow_ups.py --reader runs/stage3/reader" in text
    assert "stage 3" not in stage2_card(900, 1080.0, follow_up_share=0.5)
