"""Chat follow-ups in the reader's training: made from SQuAD questions the way a chat asks them, and the windows they
become (labelled with their answer, as ask() reads a follow-up)."""

from __future__ import annotations

import random

import numpy as np

from qa.answer.conversation import Turn, reader_question
from qa.train.follow_ups import as_follow_up, follow_ups
from tests.test_near_miss_training import questions, tokenizer  # noqa: F401  (fixtures)


def test_a_follow_up_replaces_what_the_chat_said_with_a_pronoun():
    rng = random.Random(1)
    said = "Which team won Super Bowl 50? Denver Super Bowl"
    made = as_follow_up("Where was Super Bowl 50 played?", said, rng)
    assert made is not None and "Super Bowl" not in made and made.startswith("Where was ")
    assert as_follow_up("Where does the Danube rise?", said, rng) is None  # shares nothing worth replacing
    # or, after a preposition, left out with it, as people leave it out ("in which cities?", "who represented them?")
    asked = "Which team represented the NFC at Super Bowl 50?"
    assert as_follow_up(asked, said, rng, ellipsis_share=1.0) == "Which team represented the NFC?"
    assert as_follow_up(asked, said, random.Random(2)).rsplit(" at ", 1)[1] in {"it?", "that?", "this?"}
    # the subject is never left out: "Where was played?" is no question
    assert as_follow_up("Where was Super Bowl 50 played?", said, rng, ellipsis_share=1.0).startswith("Where was ")


def test_follow_ups_are_deterministic_and_read_with_the_last_exchange(questions):  # noqa: F811
    made = follow_ups(questions, 50, random.Random(4))
    assert made == follow_ups(questions, 50, random.Random(4)) and made
    assert len({f.source.id for f in made}) == len(made)
    for f in made:
        assert f.previous_question != f.source.question  # another question of the same article
        assert f.reader_input == reader_question(f.wording, [Turn(f.previous_question, f.previous_answer)])


def test_follow_up_windows_carry_their_answer_and_leave_the_others_alone(questions, tokenizer):  # noqa: F811
    from qa.train.features import build_features

    options = dict(max_length=96, stride=16, negative_share=0.0, seed=5)
    plain = build_features(questions, tokenizer, **options)
    mixed = build_features(questions, tokenizer, follow_up_share=1.0, **options)
    n = len(plain)
    expected = follow_ups(questions, len(questions), random.Random("follow-up:5"))
    assert len(mixed) - n >= len(expected) > 0
    assert np.array_equal(mixed.ids[: plain.offsets[-1]], plain.ids)  # the plain windows are unchanged
    for k, f in enumerate(expected):  # short paragraphs: one window each, with the answer inside it
        window = mixed.ids[mixed.offsets[n + k] : mixed.offsets[n + k + 1]]
        assert f.wording.split()[0].lower() in tokenizer.decode(window)
        answer = tokenizer.decode(window[mixed.starts[n + k] : mixed.ends[n + k] + 1])
        gold = tokenizer(f.source.answers[0], add_special_tokens=False)["input_ids"]
        assert mixed.starts[n + k] > 0 and answer == tokenizer.decode(gold)


def test_the_model_card_describes_a_follow_up_fine_tune():
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from reader_card import card_lines

    from tests.test_near_miss_training import SHIPPED

    parent = json.loads((SHIPPED / "training_state.json").read_text())
    while parent["state"].get("parent"):  # the first stage, whichever reader is shipped now
        parent = parent["state"]["parent"]
    config = {**parent["config"], "lr": 3e-5, "steps": 900, "schedule": "linear", "fine_tune": True,
              "follow_up_share": 0.5, "follow_up_ellipsis": 0.5, "seed": 13}
    state = {"global_step": 900, "total_steps": 900, "examples_seen": 28800, "wall_seconds": 1080.0, "parent": parent,
             "history": [{"start_step": 0, "end_step": 900, "seconds": 1080.0, "precision": "bf16", "threads": 2,
                          "hardware": "AMD EPYC (2 cores), 2 threads"}]}
    calibration = {"threshold": 0.24, "fitted_on": "SQuAD dev", "figures": {"ece": 0.012},
                   "follow_up": {"threshold": 0.31, "fitted_on": "synthesised follow-ups",
                                 "figures": {"right_answers_given": 0.897, "absent_answers_declined": 0.899}}}
    text = "\n".join(card_lines({"state": state, "config": config}, {"em": 73.0, "f1": 82.5, "questions": 10570},
                                calibration, None, "AMD EPYC"))
    assert "threshold 0.31; fitted on synthesised follow-ups; 89.7% of right answers given, 89.9% of absent" in text
    assert "chat follow-ups: up to 43,800 SQuAD train questions (0.5 per question)" in text
    assert 'near-miss "no answer" windows' not in text
    assert "--follow-up-share 0.5 --follow-up-ellipsis 0.5" in text and "step 900 of 900" in text
    assert "for 50% of those that follow a preposition, are left out" in text
