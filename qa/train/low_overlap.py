"""SQuAD questions worded least like the sentence that answers them, for training the reader on reworded questions.

People word questions their own way ("the eurosceptic party's number two" for "UKIP's deputy leader"): on
bbc_paraphrase_dev a question shares a median 18% of its content words with its answer's sentence, on bbc_dev 53%.
The shipped reader finds the right span for most of them but scores it under the bar, as it learnt from SQuAD, where
a question that shares few words with a passage is mostly one the passage does not answer (its other-paragraph
negatives). SQuAD train has such questions that are answered too (12% share at most a quarter of their words with
their sentence); ``qa train-reader --low-overlap-share S --low-overlap-copies N`` reads the share S of questions with
the least overlap N more times, labelled with their answer.

Measured, not shipped (README, "Training on reworded questions"): 750 steps (lr 3e-5, seed 13) from the shipped reader
with S 0.2 and N 3 left bbc_paraphrase_dev at F1 37.0 and its best-guess F1 at 65.4, and its recalibrated bar declined
less everywhere (bbc_dev unanswerable 100% -> 50%, near misses 59.6% -> 57.0%). SQuAD's own low-overlap questions are
not reworded the way people reword; the option stays for a mix with near misses or a bigger reader.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.eval.squad import SquadQuestion
from qa.train.words import content_words

# A crude stem: "arrested" and "arrests" share their first five letters.
_STEM = 5


def answer_sentence(context: str, answer_start: int) -> str:
    """The sentence around ``answer_start``, cut at ". " and line breaks (enough for a word count; not for citing)."""
    lo = max(context.rfind(". ", 0, answer_start), context.rfind("\n", 0, answer_start))
    hi = context.find(". ", answer_start)
    return context[0 if lo < 0 else lo + 1 : len(context) if hi < 0 else hi]


def overlap(question: str, sentence: str) -> float:
    """The share of the question's content words whose stem is in ``sentence`` (0 when it has none)."""
    words = content_words(question)
    if not words:
        return 0.0
    stems = {w[:_STEM] for w in content_words(sentence)}
    return sum(w[:_STEM] in stems for w in words) / len(words)


def least_overlapping(questions: Sequence[SquadQuestion], share: float) -> list[SquadQuestion]:
    """The ``share`` of ``questions`` whose wording overlaps their answer's sentence least, least first (ties keep
    file order, so the pick is deterministic)."""
    count = round(share * len(questions))
    if count <= 0:
        return []
    scored = sorted(
        range(len(questions)),
        key=lambda i: overlap(questions[i].question, answer_sentence(questions[i].context, questions[i].answer_starts[0])),
    )
    return [questions[i] for i in scored[:count]]
