"""The lines of an article that are not its prose: the byline and the headline (and a label above it)."""

from __future__ import annotations

import pytest

from qa.answer.article_parts import asks_for_author, byline, in_byline, in_headline
from qa.ingest.articles import guess_title_and_author
from qa.types import Passage, Span

SEED_TOP = ("Crime & Justice\n\nKazakhstan busts suspects accused of trafficking drugs on 'dark web'\n\n"
            "By Alexander Bogatik\n\nASTANA -- Kazakhstan's National Security Committee (KNB) dismantled a crime "
            "ring, authorities said.\n")
TITLE = "Kazakhstan busts suspects accused of trafficking drugs on 'dark web'"


def span_of(words: str, text: str = SEED_TOP, start: int = 0, title: str = TITLE) -> Span:
    passage = Passage("seed.txt", title, text, start, start + len(text), 1.0, author=guess_title_and_author(text)[1])
    at = text.index(words)
    return Span(words, start + at, start + at + len(words), 0.9, passage)


def test_the_byline_is_found_near_the_top_with_the_name_s_characters():
    line_start, line_end, start, end = byline(SEED_TOP, "Alexander Bogatik")
    assert SEED_TOP[line_start:line_end] == "By Alexander Bogatik"
    assert SEED_TOP[start:end] == "Alexander Bogatik"


@pytest.mark.parametrize("text", [
    "Storm hits Dover\n\nThe storm hit Dover on Monday, by all accounts.\n",  # "by" in a sentence
    "Storm hits Dover\n\nBy then, the ferries had stopped.\n",  # prose that opens with "By"
    "Storm\n\n" + "A line.\n\n" * 10 + "By Jane Smith\n",  # far below the headline: not a byline
])
def test_prose_is_not_a_byline(text):
    assert byline(text, guess_title_and_author(text)[1]) is None


def test_spans_on_the_byline_and_above_the_headline_are_not_prose():
    assert in_byline(span_of("Alexander Bogatik"))
    assert not in_byline(span_of("National Security Committee"))
    assert in_headline(span_of("Crime & Justice"))  # a section label above the headline
    assert in_headline(span_of("busts suspects"))
    assert not in_headline(span_of("crime ring"))
    # a later chunk of the article: nothing in it is above the headline
    assert not in_headline(span_of("Crime", "Crime rose in the city.", start=500))


@pytest.mark.parametrize("question, asked", [
    ("who wrote the article?", True),
    ("who wrote this story about the dark web?", True),
    ("who is the author of the article on Ryanair?", True),
    ("who is the reporter?", True),
    ("who wrote it?", False),  # a play, a song, a report: any follow-up
    ("who wrote the report?", False),
    ("who wrote the Vagina Monologues?", False),
])
def test_author_questions(question, asked):
    assert asks_for_author(question) is asked
