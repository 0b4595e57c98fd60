"""ask(): retrieve passages, read answer spans, merge them into cited answers: one answer, an answer per story
when several stories answer the question, or an honest "not found". A follow-up is read inside the story the chat
is about (its focus); a question that stands on its own searches the whole collection."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Iterable, Sequence

from qa.answer.article_parts import (
    AUTHOR_WORDS,
    asks_for_author,
    asks_for_gist,
    asks_for_source,
    byline,
    in_byline,
    in_headline,
    prose_sentences,
    tells_the_article,
)
from qa.answer.answer_types import (
    HONORIFICS, agrees, asked_organisation, asks_for_currency, asks_yes_or_no, before_relative_clause, converted_from,
    converts, expected_type, is_denied, is_the_agent, leaves_it_unnamed, level_or_change, name_start, said_by,
    wants_a_name, whole_date, whole_score, within_brackets,
)
from qa.answer.calibration import Calibration
from qa.answer.ellipsis import complete
from qa.answer.figures import figures
from qa.answer.naming import asks_for_someone, ends_with_a_person, named_span, with_whole_name
from qa.answer.spelling import respell, unknown_words
from qa.answer.focus import SETTLED_COVERAGE, StoryFocus
from qa.answer.conversation import (
    as_turns,
    asks_what_it_is,
    chat_focus,
    context_query,
    defined_name,
    exchange_before,
    exchange_named,
    exchange_text,
    has_anaphora,
    is_bare,
    is_the_referent,
    last_exchange,
    overlaps_last_answer,
    owns_last_answer,
    picked_story,
    points_back,
    reader_question,
    repeats,
    restates,
    small_talk,
    stories_in_focus,
    story_articles,
    topic_first,
    Turn,
    with_apostrophes,
    with_followed_stories,
    without_chatter,
)
from qa.ingest.text import normalize_answer
from qa.types import Answer, Citation, Passage, Span, Story, answer_from_dict

NOT_FOUND = "The articles don't say."
WHICH_STORY = "Which story? Ask a question about it first; then \u201ctell me more\u201d goes on with it."
PICK_A_STORY = "Pick one of the stories above (\u201cFollow this story\u201d), then ask for more of it."
NO_SOURCE_YET = "Nothing has been answered yet: each answer quotes the sentence it came from."
STORY_TOLD = "That is all the story says. Ask another question, or about another story."
WHICH_ARTICLE = "Which article? Ask about its story first, or say which: \u201cwho wrote the article about ...?\u201d"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Where a sentence may end inside a span ("... in 2003. Although, he ..."); the index's sentences decide
_SENTENCE_GAP = re.compile(r"[.!?][\"”’')]*\s+[\"“‘(]*[A-Z0-9]")
MAX_STORIES = 20
HEADLINE_CAP = 0.99  # an answer only a headline holds stays just under the bar


def _overlaps(a: Citation, b: Citation) -> bool:
    return a.article_id == b.article_id and a.start < b.end and b.start < a.end


def distinct_answers(answers: list[Answer]) -> list[Answer]:
    """Drop an answer whose every citation overlaps the characters of a better one: "suspected members of the
    groups" under "12 suspected members" is the same span cut differently, not another answer, and would take an
    alternative's place from a genuinely different one. ``answers`` is best first."""
    kept: list[Answer] = []
    cited: list[Citation] = []  # the citations of what is kept so far
    for answer in answers:
        if kept and answer.citations and all(any(_overlaps(c, k) for k in cited) for c in answer.citations):
            continue
        kept.append(answer)
        cited.extend(answer.citations)
    return kept


def _story_in(history: list, question: str, index: int) -> Story | None:
    """The ``index``-th story of the latest story-by-story answer to ``question`` in a history of Answers or their
    to_dict() output."""
    for item in reversed(history):
        if isinstance(item, dict) and item.get("stories") and "text" in item and "found" in item:
            item = answer_from_dict(item)
        if isinstance(item, Answer) and item.stories and item.question == question:
            return item.stories[index] if index < len(item.stories) else None
    return None


def _article_passage(article, start: int, end: int) -> Passage:
    """``article.text[start:end]`` as a passage of its article (for an answer that quotes the article directly: its
    byline, its lead, a picked story's answer)."""
    return Passage(article.id, article.title, article.text[start:end], start, end, 1.0, -1, article.url, article.date,
                   article.author)


def _with_chosen_story(history: list, turns: list[Turn], focus: tuple[str, ...]) -> list[Turn]:
    """After a story-by-story answer, the story the person chose is what the chat's last exchange said: "in which
    cities?" after choosing the "12 suspected members" card reads with that answer beside it."""
    last = history[-1] if history else None
    if not (turns and focus and isinstance(last, Answer) and last.stories and turns[-1].question == last.question):
        return turns
    chosen = next((s for s in last.stories if set(s.article_ids) & set(focus)), None)
    if chosen is None:
        return turns
    return [*turns[:-1], replace(turns[-1], answer=chosen.text, article_ids=chosen.article_ids)]


_HONORIFICS = frozenset(HONORIFICS) | {"prof"}


def _within_brackets(span: Span) -> Span | None:
    """A span that runs out of a bracket or into one ends there ("£2.1bn) which should lead to ..." -> "£2.1bn");
    None when nothing is left."""
    start, end = within_brackets(span.text)
    if (start, end) == (0, len(span.text)):
        return span
    if end <= start:
        return None
    return replace(span, text=span.text[start:end], start=span.start + start, end=span.start + end)


def _original_sum(span: Span) -> Span:
    """A sum read in the brackets that convert the one before it, as that one ("£2.31m" -> "3.35m Euros")."""
    passage = span.passage
    found = converted_from(passage.text, span.start - passage.start, span.end - passage.start)
    if found is None:
        return span
    start, end = found
    return replace(span, text=passage.text[start:end], start=passage.start + start, end=passage.start + end)


def _widened(span: Span, widen: Callable[[str, str, str], tuple[int, int]], reach: int = 40) -> Span:
    """The span widened by ``widen(answer, before, after)`` characters to the left and right, read within ``reach``
    of it in its passage (qa.answer.answer_types.whole_date, whole_score)."""
    text, at, end = span.passage.text, span.start - span.passage.start, span.end - span.passage.start
    left, right = widen(span.text, text[max(0, at - reach) : at], text[end : end + reach])
    if not (left or right):
        return span
    return replace(span, text=text[at - left : end + right], start=span.start - left, end=span.end + right)


def _converted(answer: Answer, other: Answer) -> bool:
    """``other`` is ``answer``'s sum converted into another currency, cited beside it in the same sentence."""
    return any(
        a.article_id == b.article_id and a.sentence_start == b.sentence_start
        and converts(a.sentence, (a.start, a.end), (b.start, b.end), base=a.sentence_start)
        for a in answer.citations for b in other.citations
    )


_APPOSITION = re.compile(r"[\s,]*((the|a|an)\s+)?", re.IGNORECASE)


def _beside(citation: Citation, name: str) -> bool:
    """The cited answer stands right before or after ``name`` in its sentence, apart by at most a comma and an
    article."""
    text = citation.sentence
    start, end = citation.start - citation.sentence_start, citation.end - citation.sentence_start
    for found in re.finditer(re.escape(name), text, re.IGNORECASE) if name else ():
        if found.start() >= end:
            gap = text[end : found.start()]
        elif found.end() <= start:
            gap = text[found.end() : start]
        else:
            continue
        if _APPOSITION.fullmatch(gap):
            return True
    return False


def _answer_words(text: str) -> frozenset[str]:
    return frozenset(normalize_answer(text).split()) - _HONORIFICS


def _merge_same_answers(stories: list[Story]) -> list[Story]:
    """Articles that give the same answer tell one story: "Mr Khodorkovsky" in one article and "Mikhail
    Khodorkovsky" in another are merged into the better-scored one (``stories`` best first)."""
    kept: list[Story] = []
    for story in stories:
        words = _answer_words(story.text)
        same = next((k for k in kept if words and (words <= _answer_words(k.text) or _answer_words(k.text) <= words)), None)
        if same is None:
            kept.append(story)
            continue
        merged = replace(same, citations=same.citations + story.citations,
                         article_ids=same.article_ids + tuple(a for a in story.article_ids if a not in same.article_ids))
        kept[kept.index(same)] = merged
    return kept


@dataclass(frozen=True)
class _Scoring:
    calibration: Calibration
    threshold: float


@dataclass
class _Group:
    key: str
    spans: list[Span]
    confidence: float


class Answerer:
    """Answers one question against one index generation, read through ``retriever`` (qa.answer.retriever.Retriever)."""

    def __init__(
        self,
        retriever,
        reader,
        cited_sentence: Callable[[str, int, int], tuple[int, int, str]],
        *,
        calibration: Calibration,
        follow_up_calibration: Calibration | None = None,
        top_k_passages: int = 5,
        threshold: float | None = None,
        max_alternatives: int = 3,
        story_sentences: int = 64,
        dictionary: frozenset[str] = frozenset(),
    ):
        self.retriever = retriever
        self.rules = StoryFocus(retriever)  # is a question asked of the chat's story?
        self._reader = reader
        self._cited_sentence = cited_sentence  # (article id, start, end) -> (sentence start, end, text)
        self.calibration = calibration
        self.top_k_passages = top_k_passages
        self.threshold = calibration.threshold if threshold is None else threshold
        self._standalone = _Scoring(calibration, self.threshold)
        # A follow-up says less than a standalone question, so its margins run lower: it has its own calibration.
        follow = follow_up_calibration
        self._follow_up = _Scoring(follow, follow.threshold if threshold is None else threshold) if follow else self._standalone
        self.max_alternatives = max_alternatives
        self.story_sentences = story_sentences
        self.dictionary = dictionary  # English words: never a typing slip (qa.answer.spelling)

    def ask(self, question: str, history: Iterable | None = None, *, focus: Sequence[str] | None = None) -> Answer:
        answer = self._ask(question, history, focus=focus)
        if asks_yes_or_no(answer.question) and not answer.stories and not answer.small_talk:
            # A span is no yes or no: "higher taxes" for "has it been pulled?". The passages read stay, to judge by.
            return replace(answer, text=NOT_FOUND, found=False, citations=[], alternatives=[], elsewhere=0,
                           yes_no=True)
        named = figures(answer.question)
        if answer.found or answer.stories or not named or not answer.passages:
            return answer
        # Declined: say so when it is because no article read writes a figure the question names
        articles = dict.fromkeys(p.article_id for p in answer.passages)
        unwritten = named.difference(*(self.retriever.article_figures(a) for a in articles))
        return replace(answer, unwritten=tuple(sorted(unwritten))) if unwritten else answer

    def _ask(self, question: str, history: Iterable | None, *, focus: Sequence[str] | None) -> Answer:
        question = with_apostrophes(" ".join(question.split()))
        history = list(history or [])
        turns = with_followed_stories(as_turns(history))
        focus_ids = chat_focus(turns) if focus is None else tuple(dict.fromkeys(str(a) for a in focus))
        several = stories_in_focus(turns, focus_ids)
        if not several:
            turns = _with_chosen_story(history, turns, focus_ids)
        if focus is None and not focus_ids and turns:
            focus_ids = self._focus_of_text_history(turns)
        if not question:
            return Answer(question, NOT_FOUND, False, 0.0, focus=focus_ids)
        question = without_chatter(question)
        reply = small_talk(question)
        if reply is not None:  # "thanks": a reply, and the chat stays on its story
            return Answer(question, reply, False, 0.0, focus=focus_ids, small_talk=True)
        if several:
            latest = next(turn for turn in reversed(turns) if turn.stories)
            index = picked_story(question, latest.story_answers)
            if index is not None:  # "the second one": as "Follow this story" on its card
                return self._picked(history, latest, index)
        gist = asks_for_gist(question)
        if gist:
            return self._ask_gist(question, gist, turns, focus_ids, several)
        if asks_for_source(question):
            return self._source(question, turns, focus_ids)
        terms = self.rules.question_terms(question)
        # Each ranking's best passage is read even when fusion ranks it lower, if the other ranking holds it too:
        # "which airline ordered 70 new Boeing planes?" has BM25's first passage in the Ryanair story, lower by
        # meaning and fused below five passages of another Boeing story.
        # So is BM25's first passage when only it holds the question's rarest word: "Korneyev", which one article
        # has, in "who is Ivan Korneyev?" (a word no article has is the rarest, and then nothing is added).
        passages = self.retriever.search(question, self.top_k_passages, leaders=True,
                                         rarest=self.retriever.rarest(terms))
        fixed = self._respelled(question, passages)
        if fixed != question:  # "who was arested for selling drugs onlne?" is asked as its articles spell it
            question, terms = fixed, self.rules.question_terms(fixed)
            passages = self.retriever.search(question, self.top_k_passages, leaders=True,
                                             rarest=self.retriever.rarest(terms))
        phrase = self.retriever.phrase_passage(question, passages, self.rules.asking)
        if phrase is not None:  # "who is jonny evans": the one article that writes his name is read too
            passages = [*passages, phrase]
        if asks_for_author(question):
            return self._ask_author(question, terms, focus_ids, passages)
        if focus_ids and self.rules.stays(question, terms, turns, focus_ids, several, passages,
                                              chosen=focus is not None):
            named = self.rules.story_named(question, several, passages) if several else None
            if several and named is None:
                return self._ask_in_stories(question, turns, several)
            if named is not None:  # the one story it names: as if its card were picked
                focus_ids, turns = named, _with_chosen_story(history, turns, named)
            if self.rules.silent_on(question, terms, focus_ids):
                passages = self.retriever.search_within(context_query(question, turns), focus_ids, self.top_k_passages)
                answer = Answer(question, NOT_FOUND, False, 0.0, [], [], passages, understood_as=question,
                                focus=focus_ids, follow_up=True)
            else:
                answer = self._ask_in_focus(question, turns, focus_ids)
            if not answer.found and terms and not has_anaphora(question):
                # not in this story: say how many others hold its words, so the person can ask them instead (not
                # for "who said that?": "that" is this story's, and 1,888 articles hold "said")
                answer = replace(answer, elsewhere=len(self.retriever.articles_with_all(terms) - set(focus_ids)))
            return answer
        answer = self._ask_collection(question, terms, passages)
        if focus_ids and not answer.found and not answer.stories and terms and answer.focus != focus_ids \
                and (is_bare(question) or self.rules.coverage(terms, answer.focus) < SETTLED_COVERAGE):
            # A guess made for a question the whole collection could not answer moves the chat only to a story that
            # holds most of its words: "what is the medicine meant to treat?" in a chat about a drug from bat spit
            # took the chat to a tennis doping story for the next follow-up; "who made it?" after "what is the cell
            # chip?", declined in a chat about a football transfer, is asked of the story about the chip. A bare
            # question's one word is all of it: "what was the crowd?" took a football chat to a story on search
            # engines that says "crowd".
            answer = replace(answer, focus=focus_ids)
        return answer

    def _respelled(self, question: str, passages: list[Passage]) -> str:
        """The question with its words that no article uses spelled as the articles found for it spell them
        (qa.answer.spelling); only those articles are read, and only when some word is unknown."""
        unknown = unknown_words(question, self.retriever.terms, self.dictionary) if passages else []
        if not unknown:
            return question
        generation = self.retriever.generation
        # the passages, and their articles' first 100,000 characters (read as a slice: an archive's article can be
        # 50 MB)
        texts = [p.text for p in passages] + [generation.text_slice(a, 0, 100_000)
                                              for a in dict.fromkeys(p.article_id for p in passages)]
        return respell(question, unknown, texts, self.retriever.terms)

    def _focus_of_text_history(self, turns: Sequence[Turn]) -> tuple[str, ...]:
        """A history given as text only ({"question", "answer"} from an API client) names no articles: the story
        is the article that best matches its last answered exchange."""
        previous = last_exchange(turns)
        if previous is None or not previous.answer:
            return ()
        found = self.retriever.search(exchange_text(previous), 1)
        return (found[0].article_id,) if found else ()

    # -- answering -----------------------------------------------------------------------------------------------
    def _ask_in_focus(self, question: str, turns: Sequence[Turn], focus: tuple[str, ...]) -> Answer:
        """Read the story the chat is about, with the last exchange beside the question (what "it" and "they" are),
        scored by the follow-up calibration; a question the story does not answer is declined, not answered from
        another story."""
        previous = last_exchange(turns)
        # "and gm?" after "who runs fiat?" is read as "who runs gm?": the reader knows whole questions
        whole = self._completed(question, turns) or question
        passages = self.retriever.search_within(context_query(whole, turns), focus, self.top_k_passages)
        leaned_on = exchange_named(whole, turns)
        if whole == question and not points_back(question) and not is_bare(question):
            # A follow-up that says what it asks about is read on its own, in the story: beside the last exchange the
            # reader is drawn to that exchange's words. "who was suspected of making the threat?" after "which
            # stadium was evacuated ...? Bernabeu stadium" read "Real Sociedad" (of "the game between the hosts and
            # Real Sociedad"), alone "ETA". A question that points back ("who said that?"), is elliptical ("and
            # when?") or bare ("who resigned?") still needs the exchange to say what it is about.
            spans = self._follow_up_spans(question, whole, turns, passages, question, (previous, leaned_on))
            answer = self._answer_from(question, spans, passages, self._follow_up)
            return replace(answer, understood_as=question, focus=focus, follow_up=True)
        asked = reader_question(whole, turns, leaned_on)
        spans = self._follow_up_spans(question, whole, turns, passages, asked, (previous, leaned_on))
        earlier = exchange_before(turns, leaned_on) if not spans and is_bare(whole) else None
        if earlier is not None:
            # A bare follow-up says nothing of its own: "and when?" after "how much is the deal worth?" -> "$4bn",
            # read beside that sum, finds no time at all; beside the exchange before it ("which airline ordered 70
            # new Boeing planes? Ryanair") it finds "between 2008 and 2012".
            asked = reader_question(whole, turns, earlier)
            spans = self._follow_up_spans(question, whole, turns, passages, asked, (previous, leaned_on, earlier))
        answer = self._answer_from(question, spans, passages, self._follow_up)
        return replace(answer, understood_as=asked, focus=focus, follow_up=True)

    def _follow_up_spans(self, question: str, whole: str, turns: Sequence[Turn], passages: list[Passage], asked: str,
                         exchanges: Sequence[Turn | None]) -> list[Span]:
        """The reader's spans for a follow-up asked as ``asked``, less the words of the exchanges it leans on (the
        last, and the earlier one its description names, "that bank", or that was given to the reader beside it):
        they are no answer."""
        spans = self._reader_spans(whole, passages, asked=asked)
        for leaned_on in dict.fromkeys(t for t in exchanges if t is not None):
            # nor what qualifies the unnamed one the last question asked for: "US" of "A US TV network is being sued
            # by a viewer", for "who is suing them?" after "which TV network is being sued ...?"
            spans = [span for span in spans
                     if not repeats(span.text, leaned_on) and not restates(question, span, leaned_on)
                     and not owns_last_answer(question, span, leaned_on) and not overlaps_last_answer(span, leaned_on)
                     and not leaves_it_unnamed(leaned_on.question, span.text, span.passage.text,
                                               span.start - span.passage.start)
                     and not is_the_referent(question, span.text, turns)]
        return spans

    def _completed(self, question: str, turns: Sequence[Turn]) -> str | None:
        """An elliptical follow-up as a whole question (qa.answer.ellipsis), from the last question asked before it,
        itself completed when it was elliptical too ("and renault?" after "and gm?" after "who runs fiat?")."""
        previous = last_exchange(turns)
        if previous is None:
            return None
        earlier = turns[: max(i for i, t in enumerate(turns) if t is previous)]
        last = self._completed(previous.question, earlier) or previous.question
        return complete(question, last, self._rarity)

    def _rarity(self, word: str) -> float:
        terms = self.retriever.terms
        return max((terms.idf(t) for t in terms.terms(word)), default=0.0)

    def _ask_in_stories(self, question: str, turns: Sequence[Turn], stories: tuple[tuple[str, ...], ...]) -> Answer:
        """A follow-up to a story-by-story answer, before a story is chosen: asked of each of those stories (its
        best passages for the question with the last exchange beside it), answered story by story again, or as one
        answer when only one story answers it."""
        # "what about tony blair?" after "what did gordon brown say about the budget?" answered story by story is
        # asked of each story as "what did tony blair say about the budget?"
        whole = self._completed(question, turns) or question
        query, asked = context_query(whole, turns), reader_question(whole, turns)
        # as many passages as a follow-up in one story reads, shared among the stories (at least one each): the best
        # passage alone of each of two stories about the Lords' reform did not say what it would be renamed
        per_story = max(1, self.top_k_passages // len(stories))
        passages = [p for story in stories for p in self.retriever.search_within(query, story, per_story)]
        latest = next(turn for turn in reversed(turns) if turn.stories)
        said = {normalize_answer(text) for text in latest.story_answers}
        # a follow-up asks for something new: the stories' own answers again are the reader echoing the context
        spans = [s for s in self._reader_spans(whole, passages, asked=asked) if normalize_answer(s.text) not in said]
        found = self._stories(question, spans)
        if len(found) >= 2:
            best = found[0]
            return Answer(question, f"Several stories answer this ({len(found)}).", True, best.confidence,
                          best.citations, [], passages, stories=found, understood_as=asked,
                          focus=story_articles(found), follow_up=True)
        if len(found) == 1:
            answer = self._answer_from(question, [s for s in spans if s.passage.article_id in found[0].article_ids],
                                       passages)
            return replace(answer, understood_as=asked, focus=found[0].article_ids, follow_up=True)
        return Answer(question, NOT_FOUND, False, 0.0, [], [], passages, understood_as=asked,
                      focus=story_articles(stories), follow_up=True)

    def _ask_author(self, question: str, terms: list[str], focus: tuple[str, ...], passages: list[Passage]) -> Answer:
        """"who wrote the article?": the byline of the story the chat is about, or of the article the question
        describes ("who wrote the article about the dark web drug ring?"), cited on the byline itself."""
        subject = [t for t in terms if t not in set(self.retriever.terms.terms(AUTHOR_WORDS))]
        if focus and (not subject or self.rules.coverage(subject, focus) >= SETTLED_COVERAGE):
            articles = focus
        elif subject and passages and self.rules.coverage(subject, (passages[0].article_id,)) >= SETTLED_COVERAGE:
            articles = (passages[0].article_id,)
        elif not subject:  # a new chat: which article?
            return Answer(question, WHICH_ARTICLE, False, 0.0, focus=focus, small_talk=True)
        else:  # none that the question describes
            return Answer(question, NOT_FOUND, False, 0.0, [], [], passages, understood_as=question, focus=focus)
        for article_id in articles:
            article = self.retriever.generation.article(article_id)
            found = byline(article.text, article.author) if article else None
            if found:
                line_start, line_end, start, end = found
                line = _article_passage(article, line_start, line_end)
                return Answer(question, article.text[start:end], True, 1.0, [self._cite(line, start, end)], [],
                              [line], understood_as=question, focus=articles)
        return Answer(question, NOT_FOUND, False, 0.0, [], [], passages, understood_as=question, focus=articles)

    def _picked(self, history: list, latest: Turn, index: int) -> Answer:
        """The story a typed message picked of a story-by-story answer ("the second one"), as the answer to that
        answer's question: the chat is about it from now on, as after "Follow this story" on its card, and its
        follow-ups read beside that question and this story's answer."""
        story = _story_in(history, latest.question, index)
        ids = latest.stories[index]
        read = f"{latest.question} (story {index + 1} of {len(latest.stories)})"
        if story is not None:
            return Answer(latest.question, story.text, True, story.confidence, list(story.citations),
                          understood_as=read, focus=tuple(story.article_ids), follow_up=True)
        # a history of text only (an API client): the story's answer, cited where its first article says it
        text = latest.story_answers[index]
        article = self.retriever.generation.article(ids[0])
        at = article.text.find(text) if article else -1
        citations = []
        if at >= 0:
            citations = [self._cite(_article_passage(article, at, at + len(text)), at, at + len(text))]
        return Answer(latest.question, text, True, 1.0 if citations else 0.0, citations, understood_as=read,
                      focus=tuple(ids), follow_up=True)

    def _source(self, question: str, turns: Sequence[Turn], focus: tuple[str, ...]) -> Answer:
        """"where did you read that?": the sentence the last answer was quoted from, cited as it was (every answer
        shows it already; this says it again in words, instead of reading "where" as a place to find)."""
        previous = next((t for t in reversed(turns) if t.cited and not tells_the_article(t.question)), None)
        if previous is None:
            return Answer(question, NO_SOURCE_YET, False, 0.0, focus=focus, small_talk=True)
        article_id, start, end = previous.cited[0]
        article = self.retriever.generation.article(article_id)
        if article is None:
            return Answer(question, NO_SOURCE_YET, False, 0.0, focus=focus, small_talk=True)
        citation = self._cite(_article_passage(article, start, end), start, end)
        return Answer(question, citation.sentence, True, 1.0, [replace(citation, start=citation.sentence_start,
                                                                         end=citation.sentence_end)],
                      understood_as=question, focus=focus, follow_up=True)

    def _ask_gist(self, question: str, gist: str, turns: Sequence[Turn], focus: tuple[str, ...],
                  several: tuple) -> Answer:
        """"what is the article about?": the first sentence of the story the chat is about (its lead, which says what
        happened); "tell me more": its next sentence after the last one the chat has shown, quoted and cited as an
        answer is. Without one story in focus, a reply that says which to pick."""
        if several:
            return Answer(question, PICK_A_STORY, False, 0.0, focus=focus, small_talk=True)
        article = self.retriever.generation.article(focus[0]) if focus else None
        if article is None:
            return Answer(question, WHICH_STORY, False, 0.0, focus=focus, small_talk=True)
        prose = prose_sentences(article.text, article.title, article.author,
                                self.retriever.generation.sentences(article.id))
        if gist == "more":
            # on from the last sentence told, skipping those an answer has quoted already: after "the second one"
            # picked a story whose answer stands in its last sentence, "tell me more" starts at its lead
            told = max((end for turn in turns if asks_for_gist(turn.question)
                        for cited, _, end in turn.cited if cited == article.id), default=0)
            quoted = [start for turn in turns for cited, start, _ in turn.cited if cited == article.id]
            prose = [(start, end) for start, end in prose
                     if start >= told and not any(start <= at < end for at in quoted)]
        sentence = prose[0] if prose else None
        if sentence is None:
            return Answer(question, STORY_TOLD, False, 0.0, focus=focus, small_talk=True)
        said = article.text[sentence[0] : sentence[1]]
        start = sentence[0] + len(said) - len(said.lstrip())
        end = sentence[0] + len(said.rstrip())
        passage = _article_passage(article, start, end)
        return Answer(question, passage.text, True, 1.0, [self._cite(passage, start, end)], [], [passage],
                      understood_as=question, focus=focus, follow_up=True)

    def _ask_collection(self, question: str, terms: list[str], passages: list[Passage]) -> Answer:
        asked = topic_first(question)  # "the guy auctioning his forehead, how many bids has he had"
        spans = self._reader_spans(question, passages, asked=asked)
        if self.rules.open_question(terms):
            # A question many articles could answer ("who was arrested?"): read the best passage of each of them,
            # since a short question gives the ranking little to go on.
            extra = self._story_passages(question, terms)
            if extra:
                spans += self._reader_spans(question, extra)
                passages = passages + extra
            # Only articles that speak of the question's subject tell a story that answers it.
            holding = self.retriever.articles_with(self.retriever.rarest(terms))
            on_subject = [sp for sp in spans if sp.passage.article_id in holding]
            stories = self._stories(question, on_subject)
            if stories and asks_what_it_is(question):
                return self._described(question, stories, passages)
            if len(stories) >= 2:
                best = stories[0]
                return Answer(
                    question,
                    f"Several stories answer this ({len(stories)}).",
                    True,
                    best.confidence,
                    best.citations,
                    [],
                    passages,
                    stories=stories,
                    understood_as=question,
                    # about all of them until one is chosen: a follow-up is asked of each
                    focus=story_articles(stories),
                )
        answer = self._answer_from(question, spans, passages)
        # The chat is about the story the answer came from; when it was declined, the story of the best guess, so
        # that "in which cities?" after a declined "who was arrested for selling drugs online?" still has one.
        cited = answer.citations if answer.found else (answer.alternatives[0].citations if answer.alternatives else [])
        return replace(answer, understood_as=asked or question,
                       focus=tuple(dict.fromkeys(c.article_id for c in cited)))

    def _described(self, question: str, stories: list[Story], passages: list[Passage]) -> Answer:
        """"who is Gordon Brown?" is one man, however many articles name him: the best description is the answer and
        the other articles' descriptions are its alternatives ("Chancellor", not "Chancellor", "Tony Blair" and "union
        leader" as stories). The articles that first name someone say who they are, so every article's first
        sentence naming them is read, as for a question that several stories answer."""
        name = defined_name(question) or ""
        # A description stands beside the name ("Chancellor Gordon Brown", "Gordon Brown, the chancellor"); "Tony
        # Blair" in "Tony Blair and Gordon Brown are ..." is someone else.
        stories = [s for s in stories if any(_beside(c, name) for c in s.citations)] or stories
        best, others = stories[0], stories[1:]
        alternatives = [Answer(question, s.text, True, s.confidence, s.citations) for s in others]
        return Answer(question, best.text, True, best.confidence, best.citations,
                      alternatives[: self.max_alternatives], passages, understood_as=question, focus=best.article_ids)

    def _reader_spans(self, question: str, passages: list[Passage], *, asked: str | None = None) -> list[Span]:
        """The reader's candidate spans for ``question`` (worded as ``asked`` for the reader), keeping only those of
        the type of answer the question wants."""
        # An article that never writes a figure the question names ("the 2010 world cup") reports another edition,
        # year or sum: its spans are not answers, however sure the reader is of them.
        named = figures(question)
        if named:
            passages = [p for p in passages if named <= self.retriever.article_figures(p.article_id)]
        if not passages:
            return []
        # Many candidates, so that distinct answers survive grouping as alternatives.
        spans = self._reader.read(asked or question, passages, top_k=3 * len(passages), allow_no_answer=False)
        spans = [cut for cut in map(_within_brackets, spans) if cut is not None]
        wanted = expected_type(question)
        if wanted in ("money", "measure", "quantity") and not asks_for_currency(question):
            # "3.35m Euros", the figure the article gives, not its "(£2.31m)" (unless asked "in pounds")
            spans = [_original_sum(s) for s in spans]
        if wanted == "time":  # "February" of "on 6 February" is "6 February"
            spans = [_widened(s, partial(whole_date, question), reach=12) for s in spans]
        spans = [_widened(s, whole_score) for s in spans]  # "6-4" of "4-6 7-6 (8-6) 6-4"
        # "$2.86 to $41.32 a barrel" is "$41.32 a barrel" for "what did crude fall to?"
        spans = [replace(s, text=s.text[cut[0] : cut[1]], start=s.start + cut[0], end=s.start + cut[1])
                 if (cut := level_or_change(question, s.text)) != (0, len(s.text)) else s for s in spans]
        if wanted:  # an answer of a known type ends where a relative clause begins
            spans = [replace(s, text=s.text[:cut], end=s.start + cut) if (cut := before_relative_clause(s.text)) < len(s.text)
                     else s for s in spans]
        # An answer never runs across a paragraph break (a headline into the first paragraph, say).
        spans = [span for span in spans
                 if agrees(wanted, span.text, span.passage.text, span.start - span.passage.start)
                 and not _PARAGRAPH_BREAK.search(span.text) and not self._crosses_sentences(span)
                 and not in_byline(span)
                 and not leaves_it_unnamed(question, span.text, span.passage.text, span.start - span.passage.start)
                 and not is_the_agent(question, span.text, span.passage.text, span.start - span.passage.start)
                 and not is_denied(question, span.text, span.passage.text, span.start - span.passage.start)
                 and said_by(question, span.text, span.passage.text, span.start - span.passage.start)]
        if wants_a_name(question):
            # "US supermarket giant Wal-Mart" answers "who is being sued?" as "Wal-Mart", cited at its own characters
            # (the descriptor stays in the cited sentence); the same name in other articles then groups with it.
            spans = [replace(s, text=s.text[cut:], start=s.start + cut) if (cut := name_start(s.text)) else s
                     for s in spans]
        if asked_organisation(question):  # "Friends" of "Friends Reunited" (qa.answer.naming)
            spans = [with_whole_name(s) for s in spans]
        if asks_for_someone(question):  # "US man" is "Andrew Fisher", named in the next sentence (qa.answer.naming)
            spans = [named_span(s, question, self.retriever.generation, self._cited_sentence) or s
                     if ends_with_a_person(s.text) else s for s in spans]
        return spans

    def _crosses_sentences(self, span: Span) -> bool:
        """An answer lies within one sentence, as its quote does: "Wang Xuebing, jailed for 12 years in 2003.
        Although, he committed the offences ..., Mr Wang" is the reader running on (0.14% of SQuAD dev's gold answers
        cross the index's sentence bounds, most of them at an abbreviation: "W. E. B. Du Bois")."""
        if not _SENTENCE_GAP.search(span.text):
            return False
        _, sentence_end, _ = self._cited_sentence(span.passage.article_id, span.start, span.start + 1)
        return span.end > sentence_end

    def _answer_from(self, question: str, spans: list[Span], passages: list[Passage], scoring: "_Scoring | None" = None) -> Answer:
        scoring = scoring or self._standalone
        groups = self._group(spans, scoring)
        if not groups:
            return Answer(question=question, text=NOT_FOUND, found=False, confidence=0.0, passages=passages)
        answers = distinct_answers([self._answer(question, group, passages, scoring) for group in groups])
        best = answers[0]
        # Alternatives are other answers within the same story, never another story's answer to the question.
        story = {c.article_id for c in best.citations}
        # nor the answer itself in another currency ("£2.1bn" beside "$4bn" in "$4bn (£2.1bn)")
        same_story = [a for a in answers[1:]
                      if any(c.article_id in story for c in a.citations) and not _converted(best, a)]
        alternatives = same_story[: self.max_alternatives]
        if best.found:
            # beside an answer, words only a headline holds are no other possible answer ("Man auctions" beside
            # "Andrew Fisher"); with none given they stay the best guess
            alternatives = [a for a in same_story
                            if not all(c.sentence.strip() == c.title.strip() for c in a.citations)]
            return Answer(best.question, best.text, True, best.confidence, best.citations,
                          alternatives[: self.max_alternatives], passages)
        # Below the threshold: say so plainly, but keep the best guess and the passages for the reader to judge.
        return Answer(question, NOT_FOUND, False, best.confidence, [], [best, *alternatives], passages)

    # -- stories -------------------------------------------------------------------------------------------------
    def _story_passages(self, question: str, terms: list[str]) -> list[Passage]:
        return self.retriever.sentences_with(question, terms, limit=self.story_sentences)

    def _stories(self, question: str, spans: list[Span]) -> list[Story]:
        """One story per article (near-duplicates that give the same answer merge), each with its best confident
        answer; best first."""
        best_in: dict[str, _Group] = {}
        for group in self._group(spans, self._standalone):
            for span in group.spans:
                best_in.setdefault(span.passage.article_id, group)
        stories: dict[str, tuple[_Group, list[str]]] = {}
        for article_id, group in best_in.items():
            if group.confidence < self.threshold:
                continue
            stories.setdefault(group.key, (group, []))[1].append(article_id)
        out = []
        for group, article_ids in stories.values():
            own = _Group(group.key, [s for s in group.spans if s.passage.article_id in article_ids], group.confidence)
            answer = self._answer(question, own, [])
            if not answer.citations:
                continue
            first = own.spans[0].passage
            out.append(Story(answer.text, answer.confidence, answer.citations, tuple(article_ids), first.title, first.date))
        out.sort(key=lambda story: -story.confidence)
        return _merge_same_answers(out)[:MAX_STORIES]

    def _group(self, spans: list[Span], scoring: "_Scoring") -> list[_Group]:
        """One group per distinct answer text; the same words found in several articles cite them all."""
        groups: dict[str, _Group] = {}
        for span in spans:
            key = normalize_answer(span.text) or span.text.strip().lower()
            if not key:
                continue
            confidence = scoring.calibration.confidence(span)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(key, [span], confidence)
            else:
                if all((s.passage.article_id, s.start, s.end) != (span.passage.article_id, span.start, span.end) for s in group.spans):
                    group.spans.append(span)
                group.confidence = max(group.confidence, confidence)
        for group in groups.values():
            group.spans.sort(key=lambda s: -scoring.calibration.confidence(s))
            if all(in_headline(s) for s in group.spans):
                # Words only the headline has are never the answer given, however sure the reader is of them (it
                # reads headlinese as prose: "Man auctions" for "who is selling ad space on his forehead?",
                # "Newcastle 2-1" for "what minute?"); they stay a best guess, under the bar.
                group.confidence = min(group.confidence, HEADLINE_CAP * scoring.threshold)
        return sorted(groups.values(), key=lambda g: -g.confidence)

    def _answer(self, question: str, group: _Group, passages: list[Passage], scoring: "_Scoring | None" = None) -> Answer:
        """Citations quote exactly the answer's text: a grouped variant such as "the KNB" for "KNB" is cited at
        the answer's own characters inside it; a variant that does not contain them is not cited."""
        text = group.spans[0].text
        citations, seen = [], set()
        for span in sorted(group.spans, key=in_headline):  # the body's sentences first, a headline after them
            offset = span.text.find(text)
            if offset < 0:
                continue
            start = span.start + offset
            key = (span.passage.article_id, start)
            if key not in seen:
                seen.add(key)
                citations.append(self._cite(span.passage, start, start + len(text)))
        found = group.confidence >= (scoring or self._standalone).threshold
        return Answer(question, text, found, round(group.confidence, 4), citations, [], passages)

    def _cite(self, passage: Passage, span_start: int, span_end: int) -> Citation:
        # The sentence holding the span's first character through the one holding its last (answers may cross),
        # read without loading the whole article.
        sentence_start, sentence_end, sentence = self._cited_sentence(passage.article_id, span_start, span_end)
        return Citation(
            article_id=passage.article_id,
            title=passage.title,
            start=span_start,
            end=span_end,
            sentence=sentence,
            sentence_start=sentence_start,
            sentence_end=sentence_end,
            url=passage.url,
            date=passage.date,
            author=passage.author,
        )
