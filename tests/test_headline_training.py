"""Headlines in the reader's training: a share of questions is read again over its paragraph with a news-style
headline on top, labelled with the answer in the body (qa/train/headlines.py)."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from qa.eval.squad import SquadQuestion, load_squad
from qa.train.headlines import headline, headlined, with_headline
from qa.train.reader import TrainConfig, feature_meta
from tests.test_near_miss_training import squad_file, tokenizer  # noqa: F401  (the shared tokenizer fixture)

CONTEXT = ("Super Bowl 50 was an American football game (the 50th) to determine the champion of the National Football "
           "League. The Denver Broncos defeated the Carolina Panthers 24-10 to earn their third title.")


@pytest.fixture
def questions(tmp_path):
    return load_squad(squad_file(tmp_path))


def test_a_headline_is_a_short_telegraphic_line_of_the_paragraphs_words():
    words = set(CONTEXT.replace(".", " ").split())
    for seed in range(30):
        line = headline(CONTEXT, CONTEXT.index("Carolina"), random.Random(seed))
        said = line.split()
        assert 1 <= len(said) <= 8 and "\n" not in line and not line.endswith(".")
        assert all(w in words for w in said[1:]) and said[0].lower() in {w.lower() for w in words}
        assert not {"the", "was", "an"} & {w.lower() for w in said} and "(the" not in line  # no articles, brackets
        assert said[0][0].isupper()


def test_the_answer_moves_with_the_body_under_the_headline():
    q = SquadQuestion("q1", "Super_Bowl_50", CONTEXT, "Who did Denver beat?", ("Carolina Panthers",),
                      (CONTEXT.index("Carolina Panthers"),))
    for seed in range(10):
        titled = with_headline(q, random.Random(seed))
        line, body = titled.context.split("\n\n", 1)
        assert body == CONTEXT and line
        start = titled.answer_starts[0]
        assert titled.context[start : start + len("Carolina Panthers")] == "Carolina Panthers" and start > len(line)


def test_features_read_a_share_of_questions_again_under_a_headline(questions, tokenizer):  # noqa: F811
    from qa.train.features import build_features

    options = dict(max_length=64, stride=16, negative_share=0.5, seed=5)
    plain = build_features(questions, tokenizer, **options)
    titled = build_features(questions, tokenizer, headline_share=0.5, **options)
    n = len(plain)
    assert np.array_equal(titled.starts[:n], plain.starts) and np.array_equal(titled.ids[: plain.offsets[-1]], plain.ids)
    picked = headlined(questions, 0.5, random.Random("headline:5"))
    assert len(titled) - n >= len(picked) > 0
    for i in range(n, len(titled)):  # each label is the answer in the body, below the headline's line
        if titled.starts[i] == 0:
            continue
        window = titled.ids[titled.offsets[i] : titled.offsets[i + 1]]
        answer = tokenizer.decode(window[titled.starts[i] : titled.ends[i] + 1])
        assert any(answer == tokenizer.decode(tokenizer(q.answers[0], add_special_tokens=False)["input_ids"])
                   for q in picked)


def test_the_option_is_validated_and_changes_the_cached_windows():
    cfg = TrainConfig(squad_train="s.json", out_dir="o", work_dir="w")
    assert cfg.headline_share == 0.0
    with pytest.raises(ValueError):
        TrainConfig(squad_train="s.json", out_dir="o", work_dir="w", headline_share=1.5)
    assert feature_meta(cfg, "s", "v") != feature_meta(dataclasses.replace(cfg, headline_share=0.5), "s", "v")


def test_the_model_card_describes_the_headlined_paragraphs_of_a_fine_tune():
    from tests.test_near_miss_training import stage2_card

    text = stage2_card(600, 1800.0, headline_share=0.5)
    assert "headlined paragraphs: 43,800 SQuAD train questions (50%)" in text and "--headline-share 0.5" in text
    assert "headlined" not in stage2_card(600, 1800.0) and "--headline-share" not in stage2_card(600, 1800.0)
