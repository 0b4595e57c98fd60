"""Names in answers: the whole name of an organisation, and the name of a person the reader's span only describes
(right after the description, or in the sentence after a story's opening one).

"which website did she find him on?" is answered "Friends" of "on Friends Reunited." when the reader's span stops
inside the name; for a question that asks for an organisation the answer runs to the name's last capitalised word
(of SQuAD dev's 219 such questions, 5 gold answers stop before one: "Verizon" of "Verizon Communications", "NBC
Blue" of "NBC Blue Network"; the longer name is no worse an answer).

News writes the "delayed identification" lead: "A 20-year-old US man is selling advertising space on his forehead
...", and the next sentence names him: "Andrew Fisher, from Omaha, Nebraska, said ...". Asked "who is selling
advertising space on his forehead?", the reader answers "US man": true, but someone asking "who" wants the name, and
"where is he from?" then reads beside the sentence that says it. The checks below keep the names that are that
person's (a title or a verb of saying marks it as a person's elsewhere in the article). A name can also follow
its description with no comma: "said GM chief executive Rick Wagoner".
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from qa.answer.answer_types import HONORIFICS, PEOPLE_NOUNS, expected_type, names_a_person
from qa.types import Passage, Span

# The head of the descriptor is a noun for a person ("man", "viewer", "student"), last in the answer or before where
# they work ("An ex-chief financial officer at Boeing")
_PERSON_HEAD = re.compile(rf"(?:^|\s|-)({PEOPLE_NOUNS})(\s+(at|of|for|from|with)(\s+[\w'&.-]+){{1,4}})?\W*$",
                          re.IGNORECASE)
# Before the descriptor in its sentence: only its article and lowercase modifiers ("A 20-year-old"), so the answer
# is the sentence's subject, the one the next sentence goes on to name
_SUBJECT_OPENING = re.compile(r"^\s*((?i:a|an|the)\s+)?((?!(a|an|the)\s)[a-z0-9][\w-]*\s+)*$")
# Capitalised words that open a sentence without being a name
_NOT_NAMES = frozenset({
    "a", "an", "the", "but", "and", "or", "so", "yet", "in", "on", "at", "for", "from", "by", "with", "after",
    "before", "during", "since", "while", "when", "where", "if", "as", "it", "its", "he", "she", "they", "we", "i",
    "his", "her", "their", "this", "that", "these", "those", "there", "speaking", "according", "now", "last", "next",
    "earlier", "meanwhile", "however", "police", "officials",
})  # fmt: skip
_TITLE = "|".join(h.capitalize() for h in HONORIFICS)
# A word of a name: capitalised, with lowercase letters after ("Andrew", "MacDonald", "O'Leary")
_NAME_WORD = r"[A-Z][a-z'’-]*[A-Z]?[a-z'’-]+"
# Letters after a name that are not part of it: "Ian MacDonald QC"
_POST_NOMINAL = r"(?:\s+(?:QC|MP|MEP|MSP|AM|OBE|MBE|CBE|Jr|Sr)\b)?"
# A name of two to four capitalised words opening the sentence (or after "The Californian man,"), then a comma, a
# bracket or a lowercase word (a verb):
# not "Sir Alan Budd's inquiry" (a possessive) nor "New York Attorney General Elliot Spitzer" (a title run on)
_OPENING_NAME = re.compile(
    rf"^\s*(?:[Tt]he\s+(?:[\w-]+\s+){{0,3}}(?:{PEOPLE_NOUNS}),\s+)?(?:(?:{_TITLE})\.?\s+)?"
    rf"(?P<name>(?:{_NAME_WORD}\s+){{1,3}}{_NAME_WORD}){_POST_NOMINAL}(?=,|\s+\(|\s+[a-z])"
)
# "which student ...?", "what 20-year-old man ...?": someone asked for as "who" would
_WHICH_PERSON = re.compile(rf"^\s*(and\s+)?(which|what)\s+([\w-]+\s+){{0,2}}?({PEOPLE_NOUNS})\b", re.IGNORECASE)
# The rest of a name the answer stops inside: capitalised words, one space apart ("Madrid" of "Madrid's", not "'s")
_REST_OF_NAME = re.compile(r"^(?: [A-Z][\w&-]*)+")


def rest_of_name(answer: str, after: str) -> int:
    """How many characters of ``after`` (the text right after the answer) finish the name the answer stops
    inside; 0 when it ends a name, a sentence or a phrase."""
    if not answer or not answer.split()[-1][:1].isupper() or answer.endswith("."):
        return 0
    found = _REST_OF_NAME.match(after)
    return found.end() if found else 0


# A name right after a description of someone, with no comma: "GM chief executive" + " Rick Wagoner"
_NAME_AFTER = re.compile(rf"^ (?:{_NAME_WORD} ){{1,3}}{_NAME_WORD}(?![\w'’-])")


def name_after(answer: str, after: str) -> int:
    """How many characters of ``after`` (the text right after ``answer``) are the name of the person ``answer``
    describes ("said GM chief executive Rick Wagoner"), with the space before it; 0 when no name follows."""
    if not ends_with_a_person(answer):
        return 0
    found = _NAME_AFTER.match(after)
    return found.end() if found else 0


def asks_for_someone(question: str) -> bool:
    """"who ...?" or "which man/student ...?": a question a person's name answers."""
    return expected_type(question) == "person" or bool(_WHICH_PERSON.match(question))


def describes_a_person(answer: str, before: str) -> bool:
    """Whether ``answer`` is a description of someone ("US man", "A blind student") standing as the subject of its
    sentence, ``before`` being the sentence's text before it."""
    return ends_with_a_person(answer) and bool(_SUBJECT_OPENING.match(before))


def indefinite_person(answer: str, before: str) -> bool:
    """Whether ``answer`` is someone described but not yet identified ("a viewer" of "... is being sued by a viewer
    who says ..."): a story's lead does that for the person its next sentence names, wherever the lead puts them."""
    return ends_with_a_person(answer) and bool(
        re.match(r"(a|an)\s", answer, re.IGNORECASE) or re.search(r"\b(a|an)\s+$", before, re.IGNORECASE))


def ends_with_a_person(answer: str) -> bool:
    """The answer's last word is a noun for a person: a description, not a name (the cheap check first)."""
    return bool(_PERSON_HEAD.search(answer))


def name_given_next(following: str, article: str) -> tuple[int, int] | None:
    """The bounds in ``following`` (the sentence after the description) of the name it opens with, when
    ``article`` speaks of that name as a person's ("Mr Fisher", "Fisher said"); else None."""
    found = _OPENING_NAME.match(following)
    if found is None:
        return None
    name = found.group("name")
    if name.split()[0].lower() in _NOT_NAMES or not names_a_person(name, article):
        return None
    return found.start("name"), found.end("name")


# -- on spans, in their articles --------------------------------------------------------------------------------
def with_whole_name(span: Span) -> Span:
    """The span run to the end of the name it stops inside, in its passage ("Friends" -> "Friends Reunited")."""
    at = span.end - span.passage.start
    after = span.passage.text[at : at + 200]
    rest = rest_of_name(span.text, after)
    return replace(span, text=span.text + after[:rest], end=span.end + rest) if rest else span


def named_span(span: Span, question: str, generation, cited_sentence: Callable[[str, int, int], tuple[int, int, str]]
               ) -> Span | None:
    """The span moved to the name of the person it describes, with the reader's scores: right after it ("GM chief
    executive Rick Wagoner") or opening the next sentence of the article (``generation``: its index generation,
    ``cited_sentence``: its sentence bounds); never to a name the question gives ("who is Rick Wagoner?" is answered
    by the description). None when no name is found."""
    at = span.end - span.passage.start
    after = span.passage.text[at : at + 80]
    length = name_after(span.text, after)
    named = replace(span, text=after[1:length], start=span.end + 1, end=span.end + length) if length \
        else _named_next(span, generation, cited_sentence)
    asked = set(re.findall(r"\w+", question.lower()))
    return named if named is not None and not set(re.findall(r"\w+", named.text.lower())) <= asked else None


def _named_next(span: Span, generation, cited_sentence) -> Span | None:
    article_id = span.passage.article_id
    sentence_start, sentence_end, sentence = cited_sentence(article_id, span.start, span.end)
    before = sentence[: max(0, span.start - sentence_start)]
    if not describes_a_person(span.text, before) and not (
            indefinite_person(span.text, before) and _opens_the_story(span.passage, sentence_start, generation)):
        return None
    following = generation.text_slice(article_id, sentence_end, sentence_end + 400)
    at = sentence_end + len(following) - len(following.lstrip())
    bounds = name_given_next(following.lstrip(), generation.text_slice(article_id, 0, 100_000))
    if bounds is None:
        return None
    passage = replace(span.passage, text=following.lstrip(), start=at, end=at + len(following.lstrip()))
    return replace(span, text=passage.text[bounds[0] : bounds[1]], start=at + bounds[0], end=at + bounds[1],
                   passage=passage)


def _opens_the_story(passage: Passage, sentence_start: int, generation) -> bool:
    """Whether the sentence starting at ``sentence_start`` is the first of its article after the headline."""
    before = generation.text_slice(passage.article_id, 0, sentence_start)
    return not re.search(r"[.!?]", before.replace(passage.title, "", 1))
