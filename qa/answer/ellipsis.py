"""Elliptical follow-ups completed from the chat's last question: "and gm?" after "who runs fiat?" is "who runs gm?",
"and when?" after "where are the european indoors?" is "when are the european indoors?". The reader, trained on
SQuAD's self-contained questions, answers the completed question; the last exchange still goes beside it."""

from __future__ import annotations

import re
from typing import Callable

from qa.answer.conversation import QUESTION_WORDS

_OPENER = re.compile(r"^\s*(and|but|so|also|then|what about|how about)\b[\s,]*", re.IGNORECASE)
# Pieces of the patterns below
_AUX = r"(is|are|was|were|did|does|do|has|have|had|will|would|can|could)"
_PREP = r"(in|at|on|from|to|by|for|with|through|of)"
_HOW_MUCH = r"how\s+(much|many|long|old|far|big|often|fast|tall)"
_HOW = rf"({_HOW_MUCH}|how)"
# What is left is only a question word: "when", "how much", "in which city", "which team"
_QUESTION_WORD = re.compile(rf"^(who|whom|whose|when|where|why|{_HOW}|({_PREP}\s+)?(which|what)(\s+[\w-]+)?)$",
                            re.IGNORECASE)
# The last question's own question word, with its noun ("which club" of "which club is robbie weir joining?")
_ASKED = re.compile(rf"^\s*(({_PREP}\s+)?(which|what|whose)(\s+(?!{_AUX}\b)[\w-]+)?|who|whom|when|where|why|{_HOW})\b",
                    re.IGNORECASE)
# Words that make a clause of what follows the opener ("and where is that based?" is a question of its own)
_CLAUSE_WORDS = frozenset(
    "is are was were did does do has have had will would can could should may might must shall it its he him his she "
    "her they them their this that these those there".split()
)
_PREPOSITIONS = frozenset("for in at on of to from by with about against over under".split())
_ASKING = frozenset("who whom whose what which when where why how".split())
_DETERMINERS = frozenset("the a an his her their its this that these those".split())
# A question word that is not the subject of the last question: "where are ...", "how much did ...", "which club is
# ...". "who was arrested ...?" asked again with "when" has no subject left ("when was arrested ...?").
_ADVERBIAL = re.compile(rf"^\s*(when|where|why|how|({_PREP}\s+)?(which|what|whose)\s+(?!{_AUX}\b)[\w-]+\s+{_AUX}\b)",
                        re.IGNORECASE)
# "how much is the deal worth?": the rest says what the amount is of; "when is the deal worth?" asks nothing
_AMOUNT_IS = re.compile(rf"^\s*{_HOW_MUCH}\b(\s+[\w-]+)?\s+(is|are|was|were)\b", re.IGNORECASE)
MAX_WORDS = 4  # "and the women's 800m?"; more words say a question of their own
RIGHT_SHARE = 0.6  # a word after the rarest one, this rare, is part of the same subject ("manchester united")
LEFT_SHARE = 0.8  # before it, only a word nearly as rare is: "runs" is not part of "who runs manchester united?"


def complete(question: str, previous: str, weight: Callable[[str], float]) -> str | None:
    """The follow-up as a whole question, or None when it is not elliptical. ``weight(word)``: how rare a word is
    (its IDF); the last question's rarest words are the subject the new words replace."""
    opener = _OPENER.match(question)
    if opener is None or not previous.strip():
        return None
    rest = question[opener.end():].strip(" ?!.")
    words = rest.split()
    if not words or len(words) > MAX_WORDS or any(w.lower() in _CLAUSE_WORDS for w in words):
        return None
    last = previous.strip().rstrip("?!. ")
    if words[0].split("'")[0].lower() in _ASKING and not _QUESTION_WORD.match(rest):
        return None  # "and when's the men's race?" is a question of its own
    if _QUESTION_WORD.match(rest):  # "and when?": the last question again, asking this
        asked = _ASKED.match(last)
        if not asked or not _ADVERBIAL.match(last) or _AMOUNT_IS.match(last):
            return None
        return f"{rest}{last[asked.end():]}?"
    tokens = list(re.finditer(r"[\w'-]+", last))
    asked = _ASKED.match(last)
    skip = asked.end() if asked else 0
    content = {i for i, t in enumerate(tokens) if t.start() >= skip and t.group().lower() not in QUESTION_WORDS
               and t.group().lower() not in _PREPOSITIONS | _DETERMINERS and len(t.group()) > 1}
    if not content:
        return None
    weights = {i: weight(tokens[i].group()) for i in content}
    lead = words[0].lower()
    # "and in Bradford?" after "who walked out in Leeds?": the words after the same preposition are what it replaces
    same = [i + 1 for i, t in enumerate(tokens) if t.group().lower() == lead and i + 1 in weights] \
        if lead in _PREPOSITIONS else []
    if lead in _PREPOSITIONS and not same:
        return None  # "and at half-time?" after "who sang it there before her?": nothing of the kind to replace
    top = max(same or sorted(content), key=lambda i: weights[i])
    first = end = top
    # a rare word after it belongs to the subject when it ends the question ("manchester united"), not when more
    # follows ("lose" of "how much did american lose in the quarter?")
    if top + 1 == len(tokens) - 1 and top + 1 in weights and weights[top + 1] >= RIGHT_SHARE * weights[top]:
        end += 1
    # a name of several words replaces as many rare words: "what about tony blair?" after "what did gordon brown say
    # about the budget?" is about Tony Blair, not "tony blair brown"
    while end - top + 1 < len(words) and end + 1 in weights and weights[end + 1] >= RIGHT_SHARE * weights[top] \
            and lead not in _PREPOSITIONS | _DETERMINERS:
        end += 1
    if lead in _DETERMINERS:  # "what about the women's race?" replaces "the men's 800m", determiner and all
        found = next((i for i in range(top - 1, max(-1, top - 4), -1) if tokens[i].group().lower() in _DETERMINERS
                      and all(j in content for j in range(i + 1, top))), None)
        first = found if found is not None else first
    else:
        while first - 1 in weights and weights[first - 1] >= LEFT_SHARE * weights[top]:
            first -= 1
        # "and for smokers?" after "what's the fine for pubs ...?" brings its own preposition: it replaces "for pubs"
        if lead in _PREPOSITIONS and first > 0 and tokens[first - 1].group().lower() in _PREPOSITIONS:
            first -= 1
    return f"{last[: tokens[first].start()]}{rest}{last[tokens[end].end():]}?"
