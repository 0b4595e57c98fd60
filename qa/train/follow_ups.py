"""Follow-up questions synthesised from SQuAD, as a chat asks them: another question of the same article and its
answer become the chat's last exchange, and the words the question shares with that exchange (or the article's
title) become a pronoun ("Which NFL team represented the NFC at Super Bowl 50?" after a question about Super Bowl 50
-> "Which NFL team represented the NFC at it?"). The reader is then asked it the way ask() asks a follow-up
(qa.answer.conversation.reader_question): the question, then the last exchange in brackets.

Used to train the reader on such inputs (``qa train-reader --follow-up-share``) and to calibrate its confidence on
them (scripts/calibrate_follow_ups.py, from SQuAD dev only)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence

from qa.eval.squad import SquadQuestion

_WORD = re.compile(r"\w+(?:'\w+)?")


# A run of shared words after one of these can go, with it, as people leave it out ("which team represented the NFC
# at Super Bowl 50?" -> "which team represented the NFC?"); elsewhere it becomes a pronoun.
_PREPOSITIONS = frozenset({"at", "in", "of", "for", "on", "during", "from", "by", "with", "about", "to", "into"})


def as_follow_up(question: str, context: str, rng: random.Random, *, ellipsis_share: float = 0.0) -> str | None:
    """``question`` with its longest run of words found in ``context`` (at least one content word) replaced by a
    pronoun or, for ``ellipsis_share`` of those that follow a preposition, left out with it; None when it shares
    nothing worth replacing."""
    from qa.answer.conversation import QUESTION_WORDS

    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(question)]
    known = set(w.lower() for w in _WORD.findall(context))
    best = None
    for i in range(len(words)):
        for j in range(i, len(words)):
            run = [w for _, _, w in words[i : j + 1]]
            if not all(w in known for w in run):
                break
            content = [w for w in run if w not in QUESTION_WORDS and len(w) > 2]
            if content and (best is None or j - i > best[1] - best[0]):
                best = (i, j)
    if best is None or best[0] == 0:  # the question word itself
        return None
    start, end = words[best[0]][0], words[best[1]][1]
    before = words[best[0] - 1] if best[0] > 1 else None  # never the question word itself
    if ellipsis_share and before and before[2] in _PREPOSITIONS and rng.random() < ellipsis_share:
        follow_up = (question[: before[0]].rstrip() + question[end:]).strip()
        return follow_up if len(_WORD.findall(follow_up)) >= 3 else None
    pronoun = "they" if words[best[1]][2].endswith("s") and rng.random() < 0.5 else rng.choice(["it", "that", "this"])
    follow_up = question[:start] + pronoun + question[end:]
    return follow_up if len(_WORD.findall(follow_up)) >= 3 else None


@dataclass(frozen=True)
class FollowUp:
    source: SquadQuestion  # the question it was made from: its paragraph and answer
    wording: str  # the follow-up as a person would say it
    previous_question: str
    previous_answer: str

    @property
    def reader_input(self) -> str:
        from qa.answer.conversation import Turn, reader_question

        return reader_question(self.wording, [Turn(self.previous_question, self.previous_answer)])


def follow_ups(questions: Sequence[SquadQuestion], count: int, rng: random.Random, *,
               ellipsis_share: float = 0.0) -> list[FollowUp]:
    """Up to ``count`` follow-ups, each from a different question, in a random order (``ellipsis_share``: see
    as_follow_up)."""
    by_title: dict[str, list[SquadQuestion]] = {}
    for q in questions:
        by_title.setdefault(q.title, []).append(q)
    made: list[FollowUp] = []
    for q in rng.sample(list(questions), len(questions)):
        if len(made) >= count:
            break
        others = [p for p in by_title[q.title] if p.id != q.id]
        if not others:
            continue
        previous = rng.choice(others)
        history = f"{previous.question} {previous.answers[0]} {q.title.replace('_', ' ')}"
        wording = as_follow_up(q.question, history, rng, ellipsis_share=ellipsis_share)
        if wording:
            made.append(FollowUp(q, wording, previous.question, previous.answers[0]))
    return made
