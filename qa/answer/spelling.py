"""A question typed with a slip ("who was arested for selling drugs onlne?") asks about words no article uses, so
its story cannot be found by them, nor held in a chat's focus by them. Each such word that is no English word either
is spelled as the articles found for the rest of the question spell it, when one of their words is plainly the same
word mistyped. The English words are the whole words of the shipped reader's WordPiece vocabulary (21,745 of them):
a small collection uses few words, and "where" is no slip for "were" because three articles never say it."""

from __future__ import annotations

import json
import re
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path
from typing import Sequence

# How alike a typed word and an article's word must be (difflib's ratio: "arested"/"arrested" 0.93, "onlne"/"online"
# 0.91, "agensy"/"agency" 0.83, one letter of five swapped 0.8; "ageny"/"agent" 0.6). Only a word no article uses
# is respelled at all, so a real word one letter from another ("leeds", "leads") never is.
SAME_WORD = 0.8
# Shorter words are too often another word one letter away ("sale", "sole")
MIN_LETTERS = 5

# The shipped reader's tokenizer: its vocabulary's whole words are the dictionary (read once per Engine)
DICTIONARY_FILE = Path(__file__).resolve().parent.parent / "models" / "minilm-squad" / "tokenizer.json"

_WORD = re.compile(r"(?<![\w'’-])([A-Za-z]+)(?![\w'’-])")


def dictionary(path: Path = DICTIONARY_FILE) -> frozenset[str]:
    """The whole, alphabetic words of a Hugging Face tokenizer.json's vocabulary (empty when there is no such file:
    then nothing is respelled)."""
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(w for w in vocab if w.isascii() and w.isalpha())


def respelled(question: str, lexicon, texts: Sequence[str], words: frozenset[str]) -> str:
    """``question`` with every word of at least MIN_LETTERS letters that the collection never uses (``lexicon``: the
    index's terms, with ``terms(text)`` and ``frequency(term)``) and ``words`` (a dictionary, lower case) does not
    hold replaced by the word of ``texts`` most like it, of the same first letter and at least SAME_WORD alike;
    unchanged when no word is unknown or none is like it."""
    return respell(question, unknown_words(question, lexicon, words), texts, lexicon)


def respell(question: str, unknown: Sequence[re.Match], texts: Sequence[str], lexicon) -> str:
    """``respelled`` for the ``unknown`` words already found (``unknown_words``)."""
    if not unknown or not texts:
        return question
    seen = Counter(w.lower() for text in texts for w in _WORD.findall(text) if len(w) >= MIN_LETTERS - 1)
    out, at = [], 0
    for match in unknown:
        typed = match.group().lower()
        best = max(((alike, count, word) for word, count in seen.items()
                    if word[0] == typed[0] and word != typed and (alike := _alike(typed, word)) >= SAME_WORD),
                   default=None)
        if best is None or _unknown(best[2], lexicon):
            continue
        word = best[2] if match.group().islower() else best[2].capitalize()
        out.append(question[at : match.start()] + word)
        at = match.end()
    return "".join(out) + question[at:] if out else question


def _alike(typed: str, word: str) -> float:
    """difflib's ratio, after its cheap upper bounds (as get_close_matches does): an article's 10,000 words are
    compared in milliseconds."""
    matcher = SequenceMatcher(None, typed, word)
    if matcher.real_quick_ratio() < SAME_WORD or matcher.quick_ratio() < SAME_WORD:
        return 0.0
    return matcher.ratio()


def unknown_words(question: str, lexicon, words: frozenset[str]) -> list[re.Match]:
    """The words of at least MIN_LETTERS letters that no article uses and no dictionary holds (none without one)."""
    return [m for m in _WORD.finditer(question) if words and len(m.group()) >= MIN_LETTERS
            and m.group().lower() not in words and _unknown(m.group(), lexicon)]


def _unknown(word: str, lexicon) -> bool:
    terms = lexicon.terms(word)
    return bool(terms) and all(not lexicon.frequency(t) for t in terms)
