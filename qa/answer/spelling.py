"""A question typed with a slip ("who was arested for selling drugs onlne?") asks about words no article uses, so
its story cannot be found by them, nor held in a chat's focus by them. Each such word is spelled as the passages
found for the rest of the question spell it (their articles, whole), when one of their words is plainly the same word
mistyped."""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from typing import Sequence

# How alike a typed word and an article's word must be (difflib's ratio: "arested"/"arrested" 0.93, "onlne"/"online"
# 0.91, "agensy"/"agency" 0.83, one letter of five swapped 0.8; "ageny"/"agent" 0.6). Only a word no article uses
# is respelled at all, so a real word one letter from another ("leeds", "leads") never is.
SAME_WORD = 0.8
# Shorter words are too often another word one letter away ("sale", "sole")
MIN_LETTERS = 5

_WORD = re.compile(r"(?<![\w'’-])([A-Za-z]+)(?![\w'’-])")


def respelled(question: str, lexicon, texts: Sequence[str]) -> str:
    """``question`` with every word of at least MIN_LETTERS letters that the collection never uses (``lexicon``: the
    index's terms, with ``terms(text)`` and ``frequency(term)``) replaced by the word of ``texts`` most like it, of
    the same first letter and at least SAME_WORD alike; unchanged when no word is unknown or none is like it."""
    unknown = unknown_words(question, lexicon)
    if not unknown or not texts:
        return question
    seen = Counter(w.lower() for text in texts for w in _WORD.findall(text) if len(w) >= MIN_LETTERS - 1)
    out, at = [], 0
    for match in unknown:
        typed = match.group().lower()
        best = max(((SequenceMatcher(None, typed, word).ratio(), count, word) for word, count in seen.items()
                    if word[0] == typed[0] and word != typed), default=None)
        if best is None or best[0] < SAME_WORD or _unknown(best[2], lexicon):
            continue
        word = best[2] if match.group().islower() else best[2].capitalize()
        out.append(question[at : match.start()] + word)
        at = match.end()
    return "".join(out) + question[at:] if out else question


def unknown_words(question: str, lexicon) -> list[re.Match]:
    """The words of at least MIN_LETTERS letters that no article uses."""
    return [m for m in _WORD.finditer(question) if len(m.group()) >= MIN_LETTERS and _unknown(m.group(), lexicon)]


def _unknown(word: str, lexicon) -> bool:
    terms = lexicon.terms(word)
    return bool(terms) and all(not lexicon.frequency(t) for t in terms)
