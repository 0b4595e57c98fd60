"""Elliptical follow-ups ("and gm?", "and when?") completed from the chat's last question."""

from __future__ import annotations

import pytest

from qa.answer.ellipsis import complete

# how rare each word is (an IDF): the last question's rarest words are its subject
RARITY = {"runs": 2.9, "fiat": 6.1, "manchester": 4.4, "united": 3.2, "fine": 4.5, "pubs": 6.4, "ignore": 5.0,
          "men's": 3.9, "800m": 5.4, "won": 3.0, "european": 3.5, "indoors": 6.0, "club": 3.0, "robbie": 6.2,
          "weir": 7.0, "joining": 4.0, "gm": 5.5, "pay": 3.0, "arrested": 4.5, "selling": 3.5, "drugs": 4.8,
          "online": 4.2, "walked": 8.0, "out": 8.0, "leeds": 5.0,
          "american": 5.0, "lose": 4.0, "quarter": 3.0, "sang": 5.0, "half-time": 6.0, "gordon": 4.6, "brown": 3.9,
          "say": 1.9, "budget": 3.7}  # fmt: skip


def rarity(word: str) -> float:
    return RARITY.get(word.lower(), 1.0)


@pytest.mark.parametrize(
    "last, question, whole",
    [
        ("who runs fiat", "and gm?", "who runs gm?"),
        # the words after the same preposition, however rare the others are
        ("who walked out in leeds", "and in bradford?", "who walked out in bradford?"),
        ("who runs manchester united", "and chelsea?", "who runs chelsea?"),  # the subject is both rare words
        ("what's the fine for pubs that ignore it", "and for smokers?", "what's the fine for smokers that ignore it?"),
        ("who won the men's 800m?", "what about the women's race?", "who won the women's race?"),
        ("where are the european indoors", "and when", "when are the european indoors?"),
        ("which club is robbie weir joining", "and when?", "when is robbie weir joining?"),
        ("how much did gm pay fiat", "and why?", "why did gm pay fiat?"),
        ("how much did gm pay fiat", "and when?", "when did gm pay fiat?"),
        ("how much is the deal worth?", "and when?", None),  # "when is the deal worth?" asks nothing
        # "who" is the subject: "in which cities was arrested ...?" is no question; read as a follow-up instead
        ("who was arrested for selling drugs online?", "and in which cities?", None),
        ("how much is the deal worth?", "and where is that based?", None),  # a clause of its own
        ("how old is she", "and when's the men's race?", None),  # a question of its own
        ("who sang it there before her?", "and at half-time?", None),  # nothing "at" to replace
        ("how much did american lose in the quarter?", "and southwest?", "how much did southwest lose in the quarter?"),
        ("who runs fiat", "how old is he?", None),  # not elliptical
        # a name of two words replaces two rare words: not "what did tony blair brown say ...?"
        ("what did gordon brown say about the budget", "what about tony blair?", "what did tony blair say about the budget?"),
    ],
)
def test_an_elliptical_follow_up_is_the_last_question_about_something_else(last, question, whole):
    assert complete(question, last, rarity) == whole
