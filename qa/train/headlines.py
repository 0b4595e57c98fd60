"""News-style headlines over SQuAD paragraphs, for training the reader to read an article's first passage.

Every article the chat reads opens with its headline, and the index's first chunk of an article holds it. The reader
learnt from SQuAD, whose paragraphs have none, and a headline runs into the first sentence as one run-on sentence
(the tokenizer drops the line break): its telegraphic words draw the answer ("US show" for "what's the show
called?" of "US show sued for rat-eating stunt", where the body says "its programme Fear Factor"), and read without
it the reader gets first-paragraph questions wrong that the headline settles ("how old was he?": "dies aged 92").
``qa train-reader --headline-share S`` reads the share S of the training questions again over their paragraph with a
headline made from it on top, labelled with the answer in the body: the headline is context, never the answer.

A headline here is the paragraph's first sentence or the answer's own sentence (half each, so that the headline
often holds the question's words and the answer, as "China bank" does for "which bank was it?"), with brackets,
articles and auxiliaries dropped, cut to 4-8 words: "Super Bowl 50 American football game determine champion".

Measured, not shipped (README, "Training with headlines"): 600 steps (lr 3e-5, seed 13) from the shipped reader with
S 0.5 took SQuAD dev F1 under such a headline from 79.6 to 80.8 (plain 82.0 -> 82.4, scripts/eval_headlines.py) and
conversations_dev turn F1 from 62.5 to 64.1, but the walks' chats lost 3-8 points and ambiguous_dev two gold stories.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from collections.abc import Sequence

from qa.eval.squad import SquadQuestion
from qa.train.low_overlap import answer_sentence

# Words a headline leaves out ("the", "was", "which"): what makes it telegraphic
_DROPPED = frozenset(
    "a an the is are was were be been being has have had do does did which that who whom whose this these those "
    "its it there also however".split()
)
# Words a headline does not open with: the sentence's scene-setting ("In July 2002 ...", "Although ...")
_OPENERS = frozenset("at on in with although though when after before while during as by for of to from since once "
                     "right now then thus but and or so".split())
_BRACKETS = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_WORD = re.compile(r"[\w$£€%'’.&-]*\w[%]?")


def headline(context: str, answer_start: int, rng: random.Random) -> str:
    """A headline for the paragraph (one line, no full stop), never empty for a paragraph that has words."""
    sentence = answer_sentence(context, answer_start if rng.random() < 0.5 else 0)
    words = [w for w in _WORD.findall(_BRACKETS.sub("", sentence)) if w.lower() not in _DROPPED]
    while words and words[0].lower() in _OPENERS:
        words = words[1:]
    words = words[: rng.randint(4, 8)] or _WORD.findall(context)[:4]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def with_headline(question: SquadQuestion, rng: random.Random) -> SquadQuestion:
    """The question over its paragraph with a headline on top, its answer moved with the body."""
    line = headline(question.context, question.answer_starts[0], rng)
    shift = len(line) + 2
    return replace(question, context=f"{line}\n\n{question.context}",
                   answer_starts=tuple(start + shift for start in question.answer_starts))


def headlined(questions: Sequence[SquadQuestion], share: float, rng: random.Random) -> list[SquadQuestion]:
    """A ``share`` of the questions, drawn at random from ``rng``, each over its headlined paragraph."""
    count = round(share * len(questions))
    if count <= 0:
        return []
    return [with_headline(q, rng) for q in rng.sample(list(questions), count)]
