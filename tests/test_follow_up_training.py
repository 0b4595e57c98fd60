"""Chat follow-ups in the reader's training: made from SQuAD questions the way a chat asks them, and the windows they
become (labelled with their answer, as ask() reads a follow-up)."""

from __future__ import annotations

import random

import numpy as np

from qa.answer.conversation import Turn, reader_question
from qa.train.follow_ups import as_follow_up, follow_ups
from tests.test_near_miss_training import questions, stage2_card, tokenizer  # noqa: F401  (fixtures)


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
    calibration = {"threshold": 0.24, "fitted_on": "SQuAD dev", "figures": {"ece": 0.012},
                   "follow_up": {"threshold": 0.31, "fitted_on": "synthesised follow-ups",
                                 "figures": {"right_answers_given": 0.897, "absent_answers_declined": 0.899}}}
    text = stage2_card(900, 1080.0, calibration=calibration, follow_up_share=0.5, follow_up_ellipsis=0.5)
    assert "threshold 0.31; fitted on synthesised follow-ups; 89.7% of right answers given, 89.9% of absent" in text
    assert "chat follow-ups: up to 43,800 SQuAD train questions (0.5 per question)" in text
    assert 'near-miss "no answer" windows' not in text
    assert "--follow-up-share 0.5 --follow-up-ellipsis 0.5" in text and "step 900 of 900" in text
    assert "for 50% of those that follow a preposition, are left out" in text
