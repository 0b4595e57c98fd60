"""The lines of an article that are not its prose: the headline and the byline. Words there are never an answer
to what the article reports (a headline is telegraphic, a byline names who wrote it); the byline answers only
"who wrote the article?"."""

from __future__ import annotations

import re

from qa.types import Span

# "By Alexander Bogatik" on a line of its own
_BYLINE = re.compile(r"^[ \t]*(?i:by)[ \t]+([A-Z][\w.'-]*([ \t]+([A-Z][\w.'-]*|and|&|de|van|von|al))*)[ \t]*$",
                     re.MULTILINE)
# "who wrote the article?", "who is the author of this story?"; not "who wrote it?" (a play, a song) nor "who wrote
# the report?" (a report the article quotes)
_AUTHOR_QUESTION = re.compile(
    r"\b(who\s+(wrote|writes|has\s+written|authored|penned)\s+(the|this|that|it|an?)\s+(news\s+)?(article|story|piece)"
    r"|(author|writer|reporter|journalist)\s+of\s+(the|this|that|an?)\s+(news\s+)?(article|story|piece)"
    r"|who\s+(is|was)\s+(the|its)\s+(author|writer|reporter|journalist)"
    r"|who\s+is\s+the\s+(article|story|piece)\s+by|(article|story|piece)\s+(was\s+)?written\s+by\s+whom)\b",
    re.IGNORECASE,
)
# Words of such a question that say nothing about which article it means
AUTHOR_WORDS = ("who wrote write writes written authored penned author writer reporter journalist article story piece "
                "news about")
BYLINE_LINES = 8  # a byline stands near the top, under the headline


def line_of(span: Span) -> str:
    """The line of its passage that holds the span's first character."""
    passage = span.passage
    at = span.start - passage.start
    line_start = passage.text.rfind("\n", 0, max(0, at)) + 1
    line_end = passage.text.find("\n", at)
    return passage.text[line_start : line_end if line_end >= 0 else None]


def in_headline(span: Span) -> bool:
    """Whether the span lies on its article's headline line, or above it (a section label: "Crime & Justice"): a
    headline is telegraphic ("Sydney to host north v south game"), so the same words in the body quote the sentence
    that says it."""
    passage, title = span.passage, span.passage.title.strip()
    if not title:
        return False
    if line_of(span).strip() == title:
        return True
    if passage.start != 0:
        return False
    headline = re.search(rf"^[ \t]*{re.escape(title)}[ \t]*$", passage.text, re.MULTILINE)
    return headline is not None and span.start < headline.start()


def in_byline(span: Span) -> bool:
    """Whether the span is on the article's byline: who wrote the article, never who did what it reports ("Alexander
    Bogatik" for "who was arrested for trafficking drugs on the dark web?")."""
    return bool(_BYLINE.fullmatch(line_of(span)))


def asks_for_author(question: str) -> bool:
    return bool(_AUTHOR_QUESTION.search(question))


def byline(text: str) -> tuple[int, int, int, int] | None:
    """Where an article names its author: (line start, line end, name start, name end), or None. Only the first
    lines are looked at: "By then, ..." further down is prose."""
    top_end = 0
    for _ in range(BYLINE_LINES):
        next_end = text.find("\n", top_end + 1)
        if next_end < 0:
            top_end = len(text)
            break
        top_end = next_end
    found = _BYLINE.search(text, 0, top_end)
    if found is None:
        return None
    return found.start(), found.end(), found.start(1), found.end(1)
