"""The near-miss generator behind scripts/adversarial_squad.py (qa/train/near_miss.py): the paragraph stays on topic,
the question stops being answered by it."""

from __future__ import annotations

import random

from qa.train.near_miss import near_miss

PARAGRAPH = "Denver won Super Bowl 50 in 2016, beating Carolina. It was the 50th Super Bowl."
OTHERS = ["Super Bowl 49 was won by New England in 2015.", "Seattle lost to New England."]


def test_a_swap_takes_words_from_other_paragraphs_that_its_own_paragraph_lacks():
    seen = set()
    for seed in range(20):
        made = near_miss("Which team won Super Bowl 50 in 2016?", PARAGRAPH, OTHERS, random.Random(seed))
        assert made is not None
        question, old, new = made
        assert old in PARAGRAPH and new not in PARAGRAPH and new in " ".join(OTHERS)
        assert question == "Which team won Super Bowl 50 in 2016?".replace(old, new, 1)
        seen.add((old, new))
    assert ("50", "49") in seen and ("2016", "2015") in seen


def test_ordinals_move_to_the_next_or_previous_edition():
    question, old, new = near_miss("Who won the 50th Super Bowl?", PARAGRAPH, [], random.Random(0))
    assert old == "50th" and new in {"49th", "51st"} and question == f"Who won the {new} Super Bowl?"


def test_nothing_safe_to_swap_gives_none():
    assert near_miss("What happened?", PARAGRAPH, OTHERS, random.Random(0)) is None
    # a name the paragraph does not hold is not swapped: the paragraph did not answer it to begin with
    assert near_miss("Did Miami play?", PARAGRAPH, ["Miami and Boston played."], random.Random(0)) is None
