"""Evaluation of the chat: conversations (follow-ups asked with the system's own earlier answers as history) and
ambiguous questions (several stories answer them differently).

Conversation file (JSON Lines), one chat per line:
    {"id": "c1", "turns": [{"question": "...", "answers": ["gold", ...], "doc": "tech/026.txt", "sentence": "..."}, ...]}
A turn with ``answers: []`` must be declined. Each turn is asked with the Answers the system gave to the earlier
turns of the same chat as history, exactly as the web chat does.

Ambiguous-question file, one question per line:
    {"id": "a1", "question": "who was arrested?", "stories": [{"doc": "...", "answers": ["..."], "sentence": "..."}]}

What an answer shows: its text, or when several stories answer it, each story's answer (``Answer.stories``; the
first is the best). A gold story counts as recalled when one of the shown stories matches one of its answers
(SQuAD F1 >= 0.5 after normalisation) and cites that story's article.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.errors import QAError
from qa.eval.questions import doc_matches, percentile
from qa.eval.squad import best_over_golds, exact_match, f1_score
from qa.types import Answer

STORY_MATCH_F1 = 0.5


def file_kind(path: str | Path) -> str:
    """'conversations', 'ambiguous' or 'questions', from the first object in the file."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                first = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QAError(f"{path}: the first line is not JSON ({exc}); see the README for the formats") from None
            if isinstance(first, dict) and "turns" in first:
                return "conversations"
            if isinstance(first, dict) and "stories" in first:
                return "ambiguous"
            return "questions"
    return "questions"


def _load(path: str | Path, key: str) -> list[dict]:
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw.get(key), list) or not raw.get("question", "x"):
                raise KeyError(key)
            items.append(raw)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise QAError(f"{path}:{number}: not a {key} object ({exc}); see the README for the format") from None
    return items


def shown_answer(answer: Answer) -> str:
    """What a person reads as the answer: the text, or the best story's answer when several stories answer."""
    if answer.stories:
        return answer.stories[0].text
    return answer.text if answer.found else ""


@dataclass
class ConversationResult:
    conversations: int
    turns: int
    answerable_turns: int
    unanswerable_turns: int
    turn_em: float  # answerable turns, percent; a declined turn scores 0
    turn_f1: float
    follow_up_f1: float  # answerable turns after the first of each chat
    first_turn_f1: float
    answered_share: float  # answerable turns answered
    declined_share: float  # unanswerable turns declined
    f1_all: float  # every turn SQuAD 2.0 style: a declined unanswerable turn scores 100
    ask_p50_ms: float
    follow_up_p50_ms: float
    ask_p95_ms: float
    per_turn: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AmbiguousResult:
    questions: int
    gold_stories: int
    story_recall: float  # share of gold stories whose answer is shown, cited in that story's article
    questions_with_two_stories: int  # questions showing at least two of their gold stories
    questions_with_two_share: float
    stories_shown_mean: float
    ask_p50_ms: float
    ask_p95_ms: float
    per_question: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_conversations(engine, path_or_chats) -> ConversationResult:
    chats = _load(path_or_chats, "turns") if isinstance(path_or_chats, (str, Path)) else list(path_or_chats)
    if chats:  # load the models and the index first: latency figures are for answering
        engine.ask(chats[0]["turns"][0]["question"])
    records, ask_ms, follow_ms = [], [], []
    for chat in chats:
        history: list[Answer] = []
        for position, turn in enumerate(chat["turns"]):
            golds = tuple(turn.get("answers") or ())
            started = time.perf_counter()
            answer = engine.ask(turn["question"], history=history)
            elapsed = 1000 * (time.perf_counter() - started)
            ask_ms.append(elapsed)
            if position:
                follow_ms.append(elapsed)
            history.append(answer)
            shown = shown_answer(answer)
            record = {
                "chat": chat.get("id"), "turn": position, "question": turn["question"], "answers": list(golds),
                "doc": turn.get("doc"), "answer": shown, "found": answer.found, "confidence": answer.confidence,
                "follow_up": answer.follow_up, "focus": list(answer.focus), "stories": len(answer.stories),
                "cited": sorted({c.article_id for c in answer.citations}), "ask_ms": round(elapsed, 3),
            }  # fmt: skip
            if golds:
                record["em"] = best_over_golds(exact_match, shown, golds) if answer.found else 0.0
                record["f1"] = best_over_golds(f1_score, shown, golds) if answer.found else 0.0
            else:
                record["declined"] = not answer.found
            records.append(record)
    answerable = [r for r in records if r["answers"]]
    unanswerable = [r for r in records if not r["answers"]]
    follow = [r for r in answerable if r["turn"] > 0]
    first = [r for r in answerable if r["turn"] == 0]

    def mean(values) -> float:
        values = list(values)
        return 100 * sum(values) / len(values) if values else 0.0

    declined = sum(r["declined"] for r in unanswerable)
    return ConversationResult(
        conversations=len(chats),
        turns=len(records),
        answerable_turns=len(answerable),
        unanswerable_turns=len(unanswerable),
        turn_em=mean(r["em"] for r in answerable),
        turn_f1=mean(r["f1"] for r in answerable),
        follow_up_f1=mean(r["f1"] for r in follow),
        first_turn_f1=mean(r["f1"] for r in first),
        answered_share=sum(r["found"] for r in answerable) / max(1, len(answerable)),
        declined_share=declined / max(1, len(unanswerable)),
        f1_all=100 * (sum(r["f1"] for r in answerable) + declined) / max(1, len(records)),
        ask_p50_ms=statistics.median(ask_ms) if ask_ms else 0.0,
        follow_up_p50_ms=statistics.median(follow_ms) if follow_ms else 0.0,
        ask_p95_ms=percentile(ask_ms, 95),
        per_turn=records,
    )


def _shown_stories(answer: Answer) -> list[tuple[str, set[str]]]:
    """(answer text, cited article ids) for each answer the person is shown."""
    if answer.stories:
        return [(s.text, {c.article_id for c in s.citations}) for s in answer.stories]
    if answer.found:
        return [(answer.text, {c.article_id for c in answer.citations})]
    return []


def story_matches(gold: dict, shown: list[tuple[str, set[str]]], gold_ids: set[str]) -> bool:
    golds = tuple(gold.get("answers") or ())
    for text, cited in shown:
        cited_gold = bool(cited & gold_ids) if gold_ids else any(doc_matches(a, gold["doc"]) for a in cited)
        if cited_gold and best_over_golds(f1_score, text, golds) >= STORY_MATCH_F1:
            return True
    return False


def evaluate_ambiguous(engine, path_or_questions) -> AmbiguousResult:
    questions = _load(path_or_questions, "stories") if isinstance(path_or_questions, (str, Path)) else list(path_or_questions)
    if questions:
        engine.ask(questions[0]["question"])
    names = engine.article_ids()
    records, ask_ms = [], []
    recalled_total = gold_total = two = 0
    for item in questions:
        started = time.perf_counter()
        answer = engine.ask(item["question"])
        ask_ms.append(1000 * (time.perf_counter() - started))
        shown = _shown_stories(answer)
        recalled = []
        for gold in item["stories"]:
            ids = {a for a in names if doc_matches(a, gold["doc"])}
            if not ids and gold.get("sentence"):
                ids = set(engine.articles_containing(gold["sentence"]))
            recalled.append(story_matches(gold, shown, ids))
        recalled_total += sum(recalled)
        gold_total += len(recalled)
        two += sum(recalled) >= 2
        records.append({
            "id": item.get("id"), "question": item["question"], "gold_stories": len(recalled),
            "recalled": sum(recalled), "shown": [text for text, _ in shown], "ask_ms": round(ask_ms[-1], 3),
            "missed": [g["doc"] for g, hit in zip(item["stories"], recalled) if not hit],
        })  # fmt: skip
    return AmbiguousResult(
        questions=len(questions),
        gold_stories=gold_total,
        story_recall=recalled_total / max(1, gold_total),
        questions_with_two_stories=two,
        questions_with_two_share=two / max(1, len(questions)),
        stories_shown_mean=statistics.mean([len(r["shown"]) for r in records]) if records else 0.0,
        ask_p50_ms=statistics.median(ask_ms) if ask_ms else 0.0,
        ask_p95_ms=percentile(ask_ms, 95),
        per_question=records,
    )
