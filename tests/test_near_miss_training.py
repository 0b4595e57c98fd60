"""Near-miss "no answer" questions in the reader's training: the generator on train questions, the windows they
become, the trainer's fine-tune options, and a fine-tune of a tiny random BERT (two steps, resumable)."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from qa.eval.squad import load_squad
from qa.train.near_miss import article_paragraphs, near_misses
from qa.train.reader import TrainConfig, feature_meta, lr_at, planned_steps
from tests.fakes import write_squad

SHIPPED = Path(__file__).resolve().parents[1] / "qa" / "models" / "minilm-squad"

ARTICLES = {
    "Super_Bowl": [
        ("Denver won Super Bowl 50 in 2016, beating Carolina 24 to 10 at Levi's Stadium in Santa Clara.",
         [("Which team won Super Bowl 50?", "Denver"), ("Where was Super Bowl 50 played?", "Levi's Stadium"),
          ("Who lost Super Bowl 50 in 2016?", "Carolina")]),
        ("Super Bowl 49 was won by New England in 2015, who beat Seattle in Glendale.",
         [("Who won Super Bowl 49?", "New England"), ("Where was the game played in 2015?", "Glendale")]),
        ("The 51st Super Bowl was played in Houston in 2017, where Atlanta lost after leading by 25 points.",
         [("In which city was the 51st Super Bowl played?", "Houston"), ("How many points did Atlanta lead by?", "25")]),
    ],
    "Rivers": [
        ("The Rhine flows through Basel and Cologne before it reaches Rotterdam, 1230 kilometres from its source.",
         [("How long is the Rhine?", "1230 kilometres"), ("Which city does the Rhine reach last?", "Rotterdam")]),
        ("The Danube rises in Donaueschingen and flows through Vienna and Budapest over 2850 kilometres.",
         [("Where does the Danube rise?", "Donaueschingen"), ("How long is the Danube?", "2850 kilometres")]),
    ],
}


def squad_file(folder: Path) -> Path:
    return write_squad(folder, ARTICLES)


@pytest.fixture
def questions(tmp_path):
    return load_squad(squad_file(tmp_path))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(SHIPPED), local_files_only=True)


def test_near_misses_are_deterministic_and_their_swapped_words_are_absent_from_the_paragraph(questions):
    made = near_misses(questions, 100, random.Random(3))
    again = near_misses(questions, 100, random.Random(3))
    assert made == again and len(made) >= 5
    paragraphs = article_paragraphs(questions)
    assert len({m.source.id for m in made}) == len(made)  # at most one per question
    for m in made:
        paragraph = m.source.context
        assert m.old in paragraph and not re.search(rf"\b{re.escape(m.new)}\b", paragraph)
        assert m.question == m.source.question.replace(m.old, m.new, 1) and m.question != m.source.question
        # the new words come from another paragraph of the same article (or are the next/previous ordinal)
        others = " ".join(c for c in paragraphs[m.source.title] if c != paragraph)
        assert m.new in others or re.fullmatch(r"\d+(st|nd|rd|th)", m.new)
    assert len(near_misses(questions, 3, random.Random(3))) == 3
    assert near_misses(questions, 0, random.Random(3)) == []


def test_article_paragraphs_keeps_file_order_without_repeats(questions):
    paragraphs = article_paragraphs(questions)
    assert list(paragraphs) == ["Super_Bowl", "Rivers"]
    assert paragraphs["Super_Bowl"] == [context for context, _ in ARTICLES["Super_Bowl"]]


def test_features_add_near_miss_windows_labelled_no_answer_and_leave_the_others_alone(questions, tokenizer):
    from qa.train.features import build_features

    options = dict(max_length=64, stride=16, negative_share=0.5, seed=5)
    plain = build_features(questions, tokenizer, **options)
    mixed = build_features(questions, tokenizer, near_miss_share=0.5, **options)
    again = build_features(questions, tokenizer, near_miss_share=0.5, **options)
    for name in ("ids", "type_ids", "offsets", "starts", "ends"):
        assert np.array_equal(getattr(mixed, name), getattr(again, name))  # seeded, deterministic
    n = len(plain)
    extra = len(mixed) - n
    expected = near_misses(questions, round(0.5 * len(questions)), random.Random("near-miss:5"))
    assert extra >= len(expected) > 0
    # the windows that were there before are unchanged, in the same order
    assert np.array_equal(mixed.starts[:n], plain.starts) and np.array_equal(mixed.ends[:n], plain.ends)
    assert np.array_equal(mixed.ids[: plain.offsets[-1]], plain.ids)
    # every near-miss window is labelled (0, 0): CLS, no answer
    assert (mixed.starts[n:] == 0).all() and (mixed.ends[n:] == 0).all()
    first = tokenizer.decode(mixed.ids[mixed.offsets[n] : mixed.offsets[n + 1]])
    assert expected[0].question.lower().split()[0] in first and "[CLS]" in first
    assert (plain.starts > 0).any()  # answerable windows keep their spans


def test_train_config_options_are_checked_and_drive_the_schedule(tmp_path):
    base = dict(squad_train=tmp_path / "train.json", out_dir=tmp_path / "out", work_dir=tmp_path / "work")
    cfg = TrainConfig(**base)
    assert (cfg.near_miss_share, cfg.steps, cfg.schedule, cfg.fine_tune) == (0.0, None, "linear", False)
    for bad in ({"schedule": "cosine"}, {"steps": 0}, {"near_miss_share": 1.5}, {"fine_tune": True}):
        with pytest.raises(ValueError):
            TrainConfig(**base, **bad)
    assert planned_steps(TrainConfig(**base, epochs=2.0, batch_size=32), 1000) == 64
    assert planned_steps(TrainConfig(**base, steps=700), 1000) == 700
    linear = TrainConfig(**base, lr=3e-5, steps=100, warmup_share=0.1)
    constant = dataclasses.replace(linear, schedule="constant")
    assert lr_at(0, linear, 100) == pytest.approx(3e-6) == lr_at(0, constant, 100)
    assert lr_at(55, linear, 100) == pytest.approx(3e-5 * 45 / 90)
    assert lr_at(55, constant, 100) == lr_at(99, constant, 100) == 3e-5
    # windows built with or without near misses are never mistaken for each other in the cache
    assert feature_meta(cfg, "s", "v") != feature_meta(dataclasses.replace(cfg, near_miss_share=0.3), "s", "v")


def _tiny_reader(folder: Path) -> Path:
    """The shipped tokenizer and a randomly initialised 2-layer BertForQuestionAnswering, with a parent training
    state, saved like an exported reader."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    tokenizer = AutoTokenizer.from_pretrained(str(SHIPPED), local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=128)
    BertForQuestionAnswering(config).half().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    parent = {"state": {"global_step": 10, "total_steps": 10, "wall_seconds": 1.0, "history": []}, "config": {"seed": 1}}
    (folder / "training_state.json").write_text(json.dumps(parent))
    return folder


def test_fine_tune_starts_a_new_schedule_from_exported_weights_and_resumes(tmp_path):
    from safetensors.torch import load_file

    from qa.train.reader import train

    parent = _tiny_reader(tmp_path / "parent")
    cfg = TrainConfig(
        squad_train=squad_file(tmp_path), out_dir=tmp_path / "out", work_dir=tmp_path / "work", init_from=parent,
        fine_tune=True, steps=3, batch_size=4, max_length=64, stride=16, lr=1e-3, near_miss_share=0.3,
        precision="fp32", device="cpu", threads=1, time_budget_s=3600, log_every=1,
    )
    logs = []
    # a spent budget: the run stops before its first step, checkpoints, and the next run finishes the schedule
    state = train(dataclasses.replace(cfg, time_budget_s=0.0), log=logs.append)
    assert state.global_step == 0 and state.total_steps == 3 and state.parent["state"]["global_step"] == 10
    assert any("fine-tuning" in line for line in logs)
    assert json.loads((cfg.work_dir / "features" / "meta.json").read_text())["near_miss_share"] == 0.3
    state = train(cfg, log=logs.append)
    assert any("resumed from checkpoint at step 0" in line for line in logs)
    assert state.global_step == 3 and [(s["start_step"], s["end_step"]) for s in state.history] == [(0, 0), (0, 3)]
    exported = json.loads((cfg.out_dir / "training_state.json").read_text())
    assert exported["state"]["parent"]["state"]["global_step"] == 10  # how the starting weights were trained
    assert exported["config"]["fine_tune"] is True and exported["config"]["near_miss_share"] == 0.3
    weights = load_file(cfg.out_dir / "model.safetensors")
    assert all(str(t.dtype) == "torch.float16" for t in weights.values())
    before = load_file(parent / "model.safetensors")
    assert any(not (weights[k] == before[k]).all() for k in before)  # it did train


def stage2_card(steps: int, seconds: float, *, calibration=None, adversarial=None, blend=None, **config) -> str:
    """The model card of a fine-tune (``config``: its options) from the first-stage shipped reader."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from reader_card import card_lines

    parent = json.loads((SHIPPED / "training_state.json").read_text())
    while parent["state"].get("parent"):  # the first stage, whichever reader is shipped now
        parent = parent["state"]["parent"]
    config = {**parent["config"], "lr": 3e-5, "steps": steps, "schedule": "linear", "fine_tune": True, "seed": 13,
              **config}
    state = {"global_step": steps, "total_steps": steps, "examples_seen": 32 * steps, "wall_seconds": seconds,
             "parent": parent,
             "history": [{"start_step": 0, "end_step": steps, "seconds": seconds, "precision": "bf16", "threads": 2,
                          "hardware": "AMD EPYC (2 cores), 2 threads"}]}
    result = {"em": 73.0, "f1": 82.5, "questions": 10570}
    return "\n".join(card_lines({"state": state, "config": config}, result, calibration, adversarial, "AMD EPYC", blend))


def test_the_model_card_describes_a_fine_tune_and_the_training_it_started_from():
    text = stage2_card(750, 1800.0, near_miss_share=0.333,
                       adversarial={"declined": 0.8, "near_misses": 400, "originals_answered_right": 0.75})
    assert "Status: complete." in text and "step 7366 of 7366" in text and "step 750 of 750" in text
    assert "29,170 SQuAD train questions" in text and "linear decay over 750 steps" in text
    assert "chat follow-ups" not in text and "--follow-up-share 0.0" in text
    assert "0.50 h of training steps: steps 0-750" in text and "declines 80.0% of 400" in text
    assert "--fine-tune" in text and "CC BY-SA 4.0" in text


def test_the_model_card_gives_the_calibrations_rates_and_their_held_out_figures():
    figures = {"ece": 0.013, "right_answers_given": 0.917, "absent_answers_declined": 0.904,
               "held_out_right_answers_given": 0.928, "held_out_absent_answers_declined": 0.891}
    follow = {"threshold": 0.26, "fitted_on": "follow-ups", "figures": {**figures, "right_answers_given": 0.889}}
    calibration = {"threshold": 0.29, "fitted_on": "questions", "figures": figures, "follow_up": follow}
    text = stage2_card(750, 1800.0, calibration=calibration)
    assert "91.7% of right answers given, 90.4% of absent ones declined (92.8% and 89.1% fitted on half" in text
    assert "88.9% of right answers given" in text
    # a calibration from before held-out figures were recorded says only what it has
    old = {**calibration, "figures": {"ece": 0.013, "right_answers_given": 0.917, "absent_answers_declined": 0.904}}
    assert "fitted on half" not in stage2_card(750, 1800.0, calibration={**old, "follow_up": None})
