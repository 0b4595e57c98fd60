"""Is a question asked of the story a chat is about, or of the whole collection? Decided from the question's
wording (a pronoun, an opener, a definite description, a bare question) and from evidence: how much of the
question's information (IDF-weighted words) the story holds, against the best article the collection offers."""

from __future__ import annotations

import re
from typing import Sequence

from qa.answer.conversation import (
    QUESTION_WORDS,
    Turn,
    asks_what_it_is,
    definite_nouns,
    has_anaphora,
    is_bare,
    named_topic,
    named_words,
    opens_as_follow_up,
    points_back,
    said_in_chat,
    thing_asked_about,
)
from qa.types import Passage

# A question stays with the chat's story unless the best article elsewhere explains clearly more of its words.
NEW_QUESTION_MARGIN = 0.25
# A declined question still puts the chat on its best guess's story when that story holds most of its words.
SETTLED_COVERAGE = 0.5
# A question is open to several stories when at least this many articles hold all its words.
OPEN_QUESTION_ARTICLES = 3


def names_typed_in_lower_case(question: str, passages: Sequence[Passage]) -> list[str]:
    """The words a question types in lower case that the passages found for it write only as names, and not only
    where a sentence starts ("tony blair" -> "Tony Blair", "mps" -> "MPs"): what a question names however it was
    typed. "what did tony blair say about the budget?" in a chat about a bomb threat at a stadium is a new question,
    as "what did Tony Blair say ...?" is."""
    found = []
    for word in dict.fromkeys(re.findall(r"(?<![\w'’-])[a-z][a-z-]{2,}(?![\w'’-])", question)):
        if word in QUESTION_WORDS:
            continue
        uses = [(p.text, m.start()) for p in passages
                for m in re.finditer(rf"(?<![\w'’-]){re.escape(word)}(?![\w-])", p.text, re.IGNORECASE)]
        if uses and all(text[at].isupper() for text, at in uses) and any(
                not _SENTENCE_START.search(text, 0, at) for text, at in uses):
            found.append(word)
    return found


# Where a capital says nothing: the text's start, a line's, or after a sentence's end (and any quote marks)
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\n\s*)[\"'“‘(]*$")


class StoryFocus:
    """The rules, over one retriever (qa.answer.retriever.Retriever): its term statistics and articles' words."""

    def __init__(self, retriever):
        self.retriever = retriever
        self._asking: frozenset[str] | None = None

    def stays(self, question: str, terms: list[str], turns: Sequence[Turn], focus: tuple[str, ...],
              several: tuple, passages: list[Passage], *, chosen: bool) -> bool:
        """Whether the question is asked of the chat's story (``chosen``: the person picked it) rather than of the
        whole collection."""
        # An opener ("and when ...?", "in which ...?") makes a follow-up of a bare question or of one the story
        # mostly speaks of, not of "in which cities will charles kennedy stop later in the week?" in a chat about a
        # lawsuit, nor of "in which river is china's controversial dam?" in one about video games that says "China".
        # A topic named first that the story never mentions is another story's: "as for biogen, what is its
        # existing ms drug?" in a chat about Bruce Willis's lawsuit ("its" is Biogen's)
        topic = named_topic(question)
        if topic and self.names_something_else(topic, focus, passages):
            return False
        elliptical = opens_as_follow_up(question) and (
            is_bare(question) or self.coverage(terms, focus) >= SETTLED_COVERAGE)
        if has_anaphora(question) or elliptical or self.refers_back(question, turns, focus):
            return True
        # A bare question stays with the story if the story speaks of it at all ("what's the show called?" in a
        # story about a show), or if it names no story of its own (below).
        if is_bare(question) and (not terms or self.coverage(terms, focus) > 0):
            return True
        # Of many stories in focus, one is often the collection's best match for any question at all: only a
        # question said as a follow-up is asked of them. A story the chat only guessed at (its questions were all
        # declined) does not hold a question that does not lean on it either: "who was arrested?" after "tell me a
        # joke" is asked of every story, not of the guess for the joke.
        if several or not (chosen or self.settled(turns, focus)):
            return False
        # It names something the story never mentions: "who won I'm a Celebrity in 2004?" in a chat about a rugby
        # match is a new question, however common its words are.
        if self.names_something_else(question, focus, passages):
            return False
        # A question that names no story of its own (many articles hold all its words) asked in a chat about one
        # story is about that story: in a chat about a play, "how many tickets had been sold?" is not answered with
        # a concert's ticket sales. Clearing the focus asks it of every story. "who is Gordon Brown?" names its
        # subject: it is about the chat's story only if the story is about him; nor is "what is the cell chip?" about a
        # football transfer story that says neither word.
        return self.about_focus(terms, focus, passages) or (
            self.open_question(terms) and not asks_what_it_is(question)
            and not (thing_asked_about(question) and not is_bare(question) and self.coverage(terms, focus) == 0))

    def _named_terms(self, question: str, passages: Sequence[Passage]) -> list[str]:
        """The index terms of what the question names, capitalised or typed in lower case."""
        named = named_words(question) + names_typed_in_lower_case(question, passages)
        return self.retriever.terms.terms(" ".join(named))

    def names_something_else(self, question: str, focus: tuple[str, ...], passages: Sequence[Passage] = ()) -> bool:
        named = self._named_terms(question, passages)
        if not named:
            return False
        story = self.retriever.articles_terms(focus)
        return not any(term in story for term in named)

    def silent_on(self, question: str, terms: list[str], focus: tuple[str, ...]) -> bool:
        """The question says what it is about in words of its own, does not lean on the chat, and the story uses
        none of those words: whatever the story yields is not an answer ("who resigned from the cabinet?" in a chat
        about a court ruling). Leaning on the chat: "he", "that", "and when?", a definite description, which
        presumes the thing is known ("what's the money for?" of a story that says "raise funds"), or a bare question,
        said in the story's own context ("how fast?" of tickets "sold within 50 minutes", "who scored?" of a match
        report that lists "Goals:")."""
        return bool(terms) and not (points_back(question) or definite_nouns(question) or is_bare(question)) \
            and self.coverage(terms, focus) == 0

    @property
    def asking(self) -> frozenset[str]:
        """The stems of the words that ask rather than say what about."""
        if self._asking is None:
            self._asking = frozenset(self.retriever.terms.terms(" ".join(sorted(QUESTION_WORDS))))
        return self._asking

    def question_terms(self, question: str) -> list[str]:
        """The question's words that say what it is about (stemmed as the lexical index stems them)."""
        return [t for t in self.retriever.terms.terms(question) if t not in self.asking]

    def story_named(self, question: str, stories: Sequence[tuple[str, ...]],
                    passages: Sequence[Passage]) -> tuple[str, ...] | None:
        """Of several stories in focus, the one the question names something of that no other holds: "why is Parker
        out?" after "who will start at centre for Wales against England?" was answered story by story (three
        rugby stories, one of them on Sonny Parker's injury) is about that story, as if its card were picked."""
        named = self._named_terms(question, passages)
        picked = set()
        for term in named:
            holding = [story for story in stories if term in self.retriever.articles_terms(story)]
            if len(holding) == 1:
                picked.add(holding[0])
        return picked.pop() if len(picked) == 1 else None

    def refers_back(self, question: str, turns: Sequence[Turn], focus: tuple[str, ...]) -> bool:
        """A definite description of something the chat has said and its story holds ("the threat" after a bomb
        threat at a stadium, "the game" after "which game is it in?") names that thing again: a follow-up, however
        many other words it has."""
        nouns = self.question_terms(" ".join(definite_nouns(question)))  # "the name" asks, it names nothing
        if not nouns or not turns:
            return False
        said = set(self.retriever.terms.terms(said_in_chat(turns)))
        story = self.retriever.articles_terms(focus)
        return any(noun in said and noun in story for noun in nouns)

    def coverage(self, terms: list[str], focus: tuple[str, ...]) -> float:
        """How much of the question one article of the focus explains, at best (a focus of many stories is not
        one big article: together they would explain almost any question)."""
        return max((self.retriever.coverage(terms, [article_id]) for article_id in focus), default=0.0)

    def about_focus(self, terms: list[str], focus: tuple[str, ...], passages: list[Passage]) -> bool:
        """A question said on its own still belongs to the chat's story when the story explains its words about as
        well as the best article the whole collection offers (or is that article)."""
        if not passages or passages[0].article_id in focus:
            return True
        in_focus = self.coverage(terms, focus)
        # the best of the articles read, not only the first: "where will paion shares trade?" ranks another
        # business story first, the one that holds "paion" below it
        elsewhere = max(self.retriever.coverage(terms, [p.article_id]) for p in passages)
        return elsewhere - in_focus < NEW_QUESTION_MARGIN

    def settled(self, turns: Sequence[Turn], focus: tuple[str, ...]) -> bool:
        """The chat is about its story: an answer came from it, or a declined question's words are mostly its words
        ("what's the latest on the Ryanair Boeing order?"), not only a guess made for "tell me a joke"."""
        for turn in turns:
            if not set(turn.article_ids or turn.focus or ()) & set(focus):
                continue
            if turn.answer or turn.stories:
                return True
            terms = self.question_terms(turn.question)
            if terms and self.coverage(terms, focus) >= SETTLED_COVERAGE:
                return True
        return False

    def open_question(self, terms: list[str]) -> bool:
        return len(self.retriever.articles_with_all(terms)) >= OPEN_QUESTION_ARTICLES
