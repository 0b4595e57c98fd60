"""ask(): retrieve passages, read answer spans, merge them into one cited answer (or an honest "not found")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from qa.calibration import Calibration
from qa.reader.squad import normalize_answer
from qa.types import Answer, Citation, Passage, Span

NOT_FOUND = "The articles don't say."

# Words that point back to an earlier turn: "where did it happen?", "what did they do next?"
_ANAPHORA = {
    "it", "its", "he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "this", "that",
    "these", "those", "there", "then", "the same", "such",
}  # fmt: skip
_FOLLOW_UP_OPENERS = re.compile(r"^(and|also|what about|how about|and what|why|so)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a chat: what was asked, what was answered, and from which articles."""

    question: str
    answer: str = ""
    article_ids: tuple[str, ...] = ()


def as_turns(history: Iterable | None) -> list[Turn]:
    """Accept Answers, Turns, {"question", "answer"} dicts or (question, answer) pairs."""
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, Answer):
            ids = tuple(dict.fromkeys(c.article_id for c in item.citations)) if item.found else ()
            turns.append(Turn(item.question, item.text if item.found else "", ids))
        elif isinstance(item, dict):
            turns.append(Turn(str(item.get("question", "")), str(item.get("answer", "") or ""), tuple(item.get("article_ids", ()))))
        else:
            question, answer = item
            turns.append(Turn(str(question), str(answer or "")))
    return [t for t in turns if t.question.strip()]


def is_follow_up(question: str) -> bool:
    words = re.findall(r"[a-z']+", question.lower())
    return len(words) <= 2 or bool(set(words) & _ANAPHORA) or bool(_FOLLOW_UP_OPENERS.match(question.strip()))


def retrieval_query(question: str, turns: Sequence[Turn]) -> str:
    """A follow-up is searched together with the previous question and its answer, so "where did it happen?"
    still finds the story the chat is about."""
    if not turns or not is_follow_up(question):
        return question
    previous = turns[-1]
    return " ".join(part for part in (question, previous.question, previous.answer) if part)


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


@dataclass
class _Group:
    key: str
    spans: list[Span]
    confidence: float


class Answerer:
    def __init__(
        self,
        search: Callable[[str, int], list[Passage]],
        reader,
        sentences_of: Callable[[str], list[tuple[int, int]]],
        article_text: Callable[[str], str],
        *,
        calibration: Calibration,
        top_k_passages: int = 5,
        threshold: float | None = None,
        max_alternatives: int = 3,
    ):
        self._search = search
        self._reader = reader
        self._sentences_of = sentences_of
        self._article_text = article_text
        self.calibration = calibration
        self.top_k_passages = top_k_passages
        self.threshold = calibration.threshold if threshold is None else threshold
        self.max_alternatives = max_alternatives

    def ask(self, question: str, history: Iterable | None = None, *, focus=None) -> Answer:
        question = " ".join(question.split())
        turns = as_turns(history)
        passages = self._search(retrieval_query(question, turns), self.top_k_passages * 2)
        passages = self._prefer_previous_articles(passages, question, turns)[: self.top_k_passages]
        if not question or not passages:
            return Answer(question=question, text=NOT_FOUND, found=False, confidence=0.0, passages=passages)
        # Many candidates, so that distinct answers survive grouping as alternatives.
        spans = self._reader.read(question, passages, top_k=3 * len(passages), allow_no_answer=False)
        groups = self._group(spans)
        if not groups:
            return Answer(question=question, text=NOT_FOUND, found=False, confidence=0.0, passages=passages)
        answers = distinct_answers([self._answer(question, group, passages) for group in groups])
        best, alternatives = answers[0], answers[1 : 1 + self.max_alternatives]
        if best.found:
            return Answer(best.question, best.text, True, best.confidence, best.citations, alternatives, passages)
        # Below the threshold: say so plainly, but keep the best guess and the passages for the reader to judge.
        return Answer(question, NOT_FOUND, False, best.confidence, [], answers[: 1 + self.max_alternatives], passages)

    def _prefer_previous_articles(self, passages: list[Passage], question: str, turns: Sequence[Turn]) -> list[Passage]:
        if not turns or not turns[-1].article_ids or not is_follow_up(question):
            return passages
        previous = set(turns[-1].article_ids)
        return sorted(passages, key=lambda p: (p.article_id not in previous, -p.score))

    def _group(self, spans: list[Span]) -> list[_Group]:
        """One group per distinct answer text; the same words found in several articles cite them all."""
        groups: dict[str, _Group] = {}
        for span in spans:
            key = normalize_answer(span.text) or span.text.strip().lower()
            if not key:
                continue
            confidence = self.calibration.confidence(span)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(key, [span], confidence)
            else:
                if all((s.passage.article_id, s.start, s.end) != (span.passage.article_id, span.start, span.end) for s in group.spans):
                    group.spans.append(span)
                group.confidence = max(group.confidence, confidence)
        for group in groups.values():
            group.spans.sort(key=lambda s: -self.calibration.confidence(s))
        return sorted(groups.values(), key=lambda g: -g.confidence)

    def _answer(self, question: str, group: _Group, passages: list[Passage]) -> Answer:
        """Citations quote exactly the answer's text: a grouped variant such as "the KNB" for "KNB" is cited at
        the answer's own characters inside it; a variant that does not contain them is not cited."""
        text = group.spans[0].text
        citations, seen = [], set()
        for span in group.spans:
            offset = span.text.find(text)
            if offset < 0:
                continue
            start = span.start + offset
            key = (span.passage.article_id, start)
            if key not in seen:
                seen.add(key)
                citations.append(self._cite(span.passage, start, start + len(text)))
        found = group.confidence >= self.threshold
        return Answer(question, text, found, round(group.confidence, 4), citations, [], passages)

    def _cite(self, passage: Passage, span_start: int, span_end: int) -> Citation:
        article_id = passage.article_id
        text = self._article_text(article_id)
        # The sentence holding the span's first character through the one holding its last (answers may cross).
        sentence_start, sentence_end = span_start, span_end
        for start, end in self._sentences_of(article_id):
            if start <= span_start < end:
                sentence_start = min(sentence_start, start)
            if start < span_end <= end:
                sentence_end = max(sentence_end, end)
        return Citation(
            article_id=article_id,
            title=passage.title,
            start=span_start,
            end=span_end,
            sentence=text[sentence_start:sentence_end],
            sentence_start=sentence_start,
            sentence_end=sentence_end,
            url=passage.url,
            date=passage.date,
            author=passage.author,
        )
