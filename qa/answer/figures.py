"""The figures a question names ("the 2010 world cup", "the 50th anniversary", "the $120m fraud"): an article that
never writes one of them does not answer it. That is how a question about another edition of an event looks: "who won
the 2010 world cup?" read in a report on 2006 finds 2006's winner, in the right place and of the right type, and the
reader is sure of it. Only figures of two digits or more count: BBC style spells one to nine out ("six men"), and
"one", "first" or "No 1" say the same without a digit.

Measured on SQuAD 1.1 dev (scripts/adversarial_squad.py prints these counts beside its near misses): of the 1,109
questions that name such a figure, 11 name one that their whole Wikipedia article never writes, and 156 one that their
own paragraph does not (the paragraph leans on the article: "the game" for "Super Bowl 50"). A news article says what
it reports in full, so the check is made against the whole article."""

from __future__ import annotations

import re

# 45,000 | 1.55 | 2010: a comma only between groups of three digits, and never a piece of a longer run of digits,
# commas and dots ("1,2,3", "2.0.1"); a decade ("the 1970s", "the 70's") spans years that an article names one by one
_FIGURE = re.compile(r"(?<!\d)(?<!\d[.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d|[.,]\d|['’]?s\b)")


def figures(text: str) -> frozenset[str]:
    """The figures of two or more digits in ``text``, commas removed ("45,000" and "45000" are one figure); a
    leading zero marks a code ("007", the "05" of "2004-05"), not an amount, and is left out."""
    found = set()
    for match in _FIGURE.finditer(text):
        figure = match.group().replace(",", "")
        if sum(c.isdigit() for c in figure) >= 2 and not figure.startswith("0"):
            found.add(figure)
    return frozenset(found)


def missing_figures(question: str, article_figures: frozenset[str]) -> frozenset[str]:
    """The question's figures an article does not hold (empty: it holds them all, or the question names none)."""
    return figures(question) - article_figures
