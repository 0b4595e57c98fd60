"""The lines of an article that are not its prose: the headline and the byline. Words there are never an answer
to what the article reports (a headline is telegraphic, a byline names who wrote it); the byline answers only
"who wrote the article?". Which line is the byline, ingest has said already: the article's ``author``, found on a
"By Name" line near the top (qa.ingest.articles.guess_title_and_author). What is left is the story's prose, told
sentence by sentence for "what is it about?" and "tell me more"."""

from __future__ import annotations

import re

from qa.types import Span

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
_BY = re.compile(r"[ \t]*by[ \t]+", re.IGNORECASE)


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


def _names(line: str, author: str | None) -> bool:
    """Whether ``line`` is "By <author>"."""
    return bool(author) and " ".join(line.split()).lower() == f"by {' '.join(author.split())}".lower()


def in_byline(span: Span) -> bool:
    """Whether the span is on the article's byline: who wrote the article, never who did what it reports ("Alexander
    Bogatik" for "who was arrested for trafficking drugs on the dark web?")."""
    return _names(line_of(span), span.passage.author)


def asks_for_author(question: str) -> bool:
    return bool(_AUTHOR_QUESTION.search(question))


# "what is the article about?", "what happened?": the story's first sentence; "tell me more": its next one
_ABOUT_QUESTION = re.compile(
    r"^\s*(what\s*('s|is|was)\s+(it|this|that|the\s+(news\s+)?(article|story|piece|report))\s+(all\s+)?about"
    r"|what\s+happened|summari[sz]e(\s+(it|this|that|the\s+(article|story)))?|give\s+me\s+(a|the)\s+summary"
    r"|what\s*('s|is)\s+the\s+story)\W*$",
    re.IGNORECASE,
)
_MORE_QUESTION = re.compile(r"^\s*(tell\s+me\s+more(\s+about\s+(it|this|that))?|more|go\s+on|say\s+more|keep\s+going)\W*$",
                            re.IGNORECASE)


# "where did you read that?", "source?": where the last answer came from
_SOURCE_QUESTION = re.compile(
    r"^\s*(sources?|citation|(what('s|\s+is)\s+)?(the|your)\s+source|where\s+did\s+you\s+(read|get|find|see)\s+"
    r"(that|this|it)|where('s|\s+is|\s+was)\s+(that|this)\s+from|where\s+does\s+(that|this|it)\s+come\s+from"
    r"|which\s+article\s+(says|said)\s+(that|so|this)|how\s+do\s+you\s+know(\s+(that|this))?)\W*$",
    re.IGNORECASE,
)


def asks_for_source(question: str) -> bool:
    return bool(_SOURCE_QUESTION.match(question))


def tells_the_article(question: str) -> bool:
    """Whether the message asks to be told the article itself (its gist, more of it, or where an answer came from):
    its reply is a sentence of the story, no exchange a follow-up leans on."""
    return asks_for_source(question) or asks_for_gist(question) is not None


def asks_for_gist(question: str) -> str | None:
    """"lead" for a question about what the story is ("what is the article about?"), "more" for one that asks it to
    go on ("tell me more"), None for any other."""
    if _ABOUT_QUESTION.match(question):
        return "lead"
    if _MORE_QUESTION.match(question):
        return "more"
    return None


def prose_sentences(text: str, title: str, author: str | None, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The article's sentences below its headline (and anything above it) that are not its byline, in order."""
    body = 0
    headline = re.search(rf"^[ \t]*{re.escape(title.strip())}[ \t]*$", text, re.MULTILINE) if title.strip() else None
    if headline is not None:
        body = headline.end()
    return [(start, end) for start, end in sentences
            if start >= body and text[start:end].strip() and not _names(text[start:end], author)]


def byline(text: str, author: str | None) -> tuple[int, int, int, int] | None:
    """Where an article names ``author``, its author, on a "By Name" line: (line start, line end, name start, name
    end), or None (an author known from an HTML page's or a JSON record's metadata has no such line)."""
    start = 0
    for line in text.splitlines(keepends=True):
        if _names(line, author):
            name = start + _BY.match(line).end()
            return start, start + len(line.rstrip("\r\n")), name, start + len(line.rstrip())
        start += len(line)
    return None
