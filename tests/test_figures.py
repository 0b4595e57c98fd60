"""The figures a question names, and whether an article writes them (qa.answer.figures)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from qa.answer.figures import figures, missing_figures


@pytest.mark.parametrize("text, expected", [
    ("who won the 2010 world cup?", {"2010"}),
    ("the 50th anniversary", {"50"}),
    ("up to $120m (£64m) went missing", {"120", "64"}),
    ("More than 45,000 people; 45000 again", {"45000"}),
    ("1.55bn euros", {"1.55"}),
    ("a 17-12 win", {"17", "12"}),
    ("When Britain went to the polls in 1979, Tory leader ... in 1983.", {"1979", "1983"}),
    ("six men, No 1, 8 November", set()),  # one digit, or a word: said several ways
    ("the next 007; the 2004-05 season", {"2004"}),  # a leading zero is a code
    ("phone 1,2,3", set()),  # commas not between groups of three digits separate single digits
    ("version 2.0.1", set()),  # a dotted run is no amount
    ("in the 1970s and the 70's", set()),  # a decade: an article names its years one by one
])  # fmt: skip
def test_figures_are_numbers_of_two_digits_or_more_written_any_way(text, expected):
    assert figures(text) == expected


def test_a_question_misses_the_figures_its_article_never_writes():
    article = figures("Italy won the 2006 World Cup final, watched by 69,000 in Berlin.")
    assert missing_figures("who won the 2010 world cup?", article) == {"2010"}
    assert missing_figures("who won the 2006 world cup before 69000 fans?", article) == frozenset()
    assert missing_figures("who won the world cup?", article) == frozenset()


@given(st.integers(min_value=10, max_value=10**9))
def test_a_figure_is_found_with_or_without_thousands_separators(n):
    assert figures(f"about {n:,} people") == figures(f"about {n} people") == {str(n)}
