"""Near-miss unanswerable questions: a SQuAD question with one name, number, year or ordinal swapped for another.

The swap takes a word of the same kind from another paragraph of the same article ("Super Bowl 50" -> "Super Bowl 49",
"Denver" -> "Carolina"), so the question's own paragraph is still on topic but no longer answers it: what a question
about a later edition of an event, or about the wrong person, looks like to the reader. A swap is kept only when the
old words are in the paragraph and the new ones are nowhere in it.

Shared by scripts/adversarial_squad.py (built from SQuAD dev only, to measure how often the reader declines) and by the
reader's training features (built from SQuAD train only: the near miss paired with its original paragraph becomes a
"no answer" window).

Measured, not shipped: 750 steps (lr 3e-5, batch 32, seed 13) from the shipped reader with 0.333 or 0.1 near misses
per question raised the share of the 400 dev near misses declined from 53.5% to 92.3% / 89.8%, but the reader also
learnt to decline questions that name things differently from the text ("Thai PM" for "Thailand's Prime Minister"):
bbc_dev F1 79.1 -> 68.0 / 70.7, bbc_paraphrase_dev F1 33.3 -> 3.7 / 0.0. The same run without near misses kept 79.1
and 33.3 (and declined 56.25%). Swaps need answerable counterparts that are worded differently from the paragraph.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.eval.squad import SquadQuestion

_NUMBER = re.compile(r"\b\d{1,4}(?:st|nd|rd|th)?\b")
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+(?:\s+(?:of\s+|the\s+)?[A-Z][a-z]+)*")


@dataclass(frozen=True)
class NearMiss:
    source: SquadQuestion  # the answerable question it was made from; its paragraph no longer answers ``question``
    question: str
    old: str  # swapped out (in the paragraph)
    new: str  # swapped in (not in the paragraph)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def near_miss(question: str, paragraph: str, others: Sequence[str], rng: random.Random) -> tuple[str, str, str] | None:
    """(new question, what was swapped out, what was swapped in), or None when nothing can be swapped safely."""
    choices = []
    for match in _NUMBER.finditer(question):
        old = match.group()
        if old not in paragraph:
            continue
        if old[-2:].isalpha():  # an ordinal: the next or previous edition
            n = int(old[:-2])
            candidates = [_ordinal(m) for m in (n + 1, n - 1) if m > 0]
        else:
            candidates = sorted({m.group() for text in others for m in _NUMBER.finditer(text)} - {old})
            candidates = [c for c in candidates if len(c) == len(old) and not c[-2:].isalpha()]
        candidates = [c for c in candidates if not re.search(rf"\b{re.escape(c)}\b", paragraph)]
        if candidates:
            choices.append((match.start(), match.end(), old, rng.choice(candidates)))
    for match in _NAME.finditer(question):
        old = match.group()
        if match.start() == 0 or old not in paragraph:
            continue
        candidates = sorted({m.group() for text in others for m in _NAME.finditer(text)} - {old})
        candidates = [c for c in candidates if c not in paragraph and c not in question and len(c.split()) == len(old.split())]
        if candidates:
            choices.append((match.start(), match.end(), old, rng.choice(candidates)))
    if not choices:
        return None
    start, end, old, new = rng.choice(choices)
    return question[:start] + new + question[end:], old, new


def article_paragraphs(questions: Iterable[SquadQuestion]) -> dict[str, list[str]]:
    """Each article's distinct paragraphs, in file order."""
    paragraphs: dict[str, dict[str, None]] = {}
    for q in questions:
        paragraphs.setdefault(q.title, {})[q.context] = None
    return {title: list(contexts) for title, contexts in paragraphs.items()}


def near_misses(questions: Sequence[SquadQuestion], limit: int, rng: random.Random) -> list[NearMiss]:
    """Up to ``limit`` near misses, at most one per question, from the questions in a random order drawn from ``rng``
    (the same ``rng`` state gives the same list). Questions whose swap would not be safe are skipped."""
    paragraphs = article_paragraphs(questions)
    made: list[NearMiss] = []
    if limit <= 0:
        return made
    for q in rng.sample(list(questions), len(questions)):
        if len(made) >= limit:
            break
        others = [c for c in paragraphs[q.title] if c != q.context]
        swapped = near_miss(q.question, q.context, others, rng)
        if swapped:
            made.append(NearMiss(q, *swapped))
    return made
