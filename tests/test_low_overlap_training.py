"""Reworded questions in the reader's training: the questions worded least like their answer's sentence are found,
and read again as answered windows, after every other window, which stay as they were."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qa.eval.squad import load_squad
from qa.train.low_overlap import answer_sentence, least_overlapping, overlap
from qa.train.reader import TrainConfig, feature_meta
from tests.test_near_miss_training import squad_file, tokenizer  # noqa: F401  (the shared tokenizer fixture)


@pytest.fixture
def questions(tmp_path):
    return load_squad(squad_file(tmp_path))


def test_overlap_counts_content_word_stems_shared_with_the_sentence():
    sentence = "Police arrested 12 suspects in Astana and Almaty, the KNB said."
    assert overlap("Who was arrested in Astana?", sentence) == 1.0  # "arrested", "astana"; question words don't count
    assert overlap("Which agency announced the arrests?", sentence) == pytest.approx(1 / 3)  # "arrests" ~ "arrested"
    assert overlap("Which drug ring was broken up?", sentence) == 0.0
    assert overlap("Who?", sentence) == 0.0  # no content word at all


def test_answer_sentence_is_the_sentence_around_the_answer():
    context = "Denver won in 2016. Carolina lost by 14 points. The game was in Santa Clara."
    assert answer_sentence(context, context.index("14")).strip() == "Carolina lost by 14 points"
    assert answer_sentence(context, 0) == "Denver won in 2016"
    assert answer_sentence(context, context.index("Santa")).strip() == "The game was in Santa Clara."


def test_least_overlapping_picks_the_share_worded_least_like_their_sentence(questions):
    picked = least_overlapping(questions, 0.25)
    assert len(picked) == round(0.25 * len(questions)) > 0
    score = {q.id: overlap(q.question, answer_sentence(q.context, q.answer_starts[0])) for q in questions}
    assert max(score[q.id] for q in picked) <= min(score[q.id] for q in questions if q not in picked)
    assert [score[q.id] for q in picked] == sorted(score[q.id] for q in picked)
    # "Where was the game played in 2015?" shares only "2015" of its words with "...who beat Seattle in Glendale."
    assert "Where was the game played in 2015?" in [q.question for q in picked]
    assert least_overlapping(questions, 0.0) == [] and least_overlapping(questions, 0.25) == picked


def test_features_read_the_reworded_questions_again_as_answered_windows(questions, tokenizer):  # noqa: F811
    from qa.train.features import build_features

    options = dict(max_length=64, stride=16, negative_share=0.5, seed=5)
    plain = build_features(questions, tokenizer, **options)
    boosted = build_features(questions, tokenizer, low_overlap_share=0.25, low_overlap_copies=2, **options)
    n = len(plain)
    assert np.array_equal(boosted.starts[:n], plain.starts) and np.array_equal(boosted.ids[: plain.offsets[-1]], plain.ids)
    picked = least_overlapping(questions, 0.25)
    extra = len(boosted) - n
    assert extra >= 2 * len(picked)  # each read twice more (a long paragraph gives more than one window)
    assert (boosted.starts[n:] > 0).sum() >= 2 * len(picked)  # labelled with their answer, no "no answer" pairs added
    first = tokenizer.decode(boosted.ids[boosted.offsets[n] : boosted.offsets[n + 1]])
    assert picked[0].question.lower().rstrip("?").split()[-1] in first


def test_the_options_are_validated_and_change_the_cached_windows():
    cfg = TrainConfig(squad_train="s.json", out_dir="o", work_dir="w")
    assert (cfg.low_overlap_share, cfg.low_overlap_copies) == (0.0, 1)
    for bad in ({"low_overlap_share": 1.5}, {"low_overlap_copies": 0}):
        with pytest.raises(ValueError):
            TrainConfig(squad_train="s.json", out_dir="o", work_dir="w", **bad)
    assert feature_meta(cfg, "s", "v") != feature_meta(dataclasses.replace(cfg, low_overlap_share=0.2), "s", "v")
    assert feature_meta(cfg, "s", "v") != feature_meta(dataclasses.replace(cfg, low_overlap_copies=3), "s", "v")


def test_the_model_card_describes_the_reworded_questions_of_a_fine_tune():
    from tests.test_near_miss_training import stage2_card

    text = stage2_card(750, 1800.0, low_overlap_share=0.2, low_overlap_copies=3)
    assert "reworded questions: the 17,520 SQuAD train questions (20%)" in text and "read 3 more times" in text
    assert "--low-overlap-share 0.2 --low-overlap-copies 3" in text
    assert "reworded questions" not in stage2_card(750, 1800.0) and "--low-overlap" not in stage2_card(750, 1800.0)
