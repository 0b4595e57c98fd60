"""End-to-end evaluation on a question file: retrieval hit@k/MRR, answer EM/F1, abstention, latency.

Question file format (JSON Lines), one object per line:
    {"id": "q1", "question": "...", "answers": ["gold", "other gold"], "doc": "tech/026.txt", "sentence": "..."}
``answers: []`` (and ``doc: null``) marks a question whose answer is not in the articles.

Each ``per_question`` record holds id, question, answers (gold), doc, rank and search_ms; with answers also answer,
found, confidence, ask_ms, best_guess and best_f1, and for answerable questions em and f1. ``em``/``f1`` score what
was shown (a declined answer scores 0); ``best_f1`` scores the best candidate whether shown or withheld, which is
what ``confidence`` is a confidence in (the report's calibration plot uses it).

``em_all``/``f1_all`` score every question the way SQuAD 2.0's official script does: an unanswerable question scores
100 when declined and 0 when answered, so a system that never declines cannot hide its made-up answers.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.errors import QAError
from qa.eval.squad import best_over_golds, exact_match, f1_score


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc: str | None
    sentence: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class EvalResult:
    questions: int
    answerable: int
    unanswerable: int
    hit_at_1: float
    hit_at_5: float
    hit_at_10: float
    mrr: float
    em: float  # answerable questions, percent
    f1: float  # answerable questions, percent
    em_all: float  # all questions, SQuAD 2.0 style: declining an unanswerable one scores 100
    f1_all: float
    answered_share: float  # answerable questions answered (found=True)
    declined_share: float  # unanswerable questions declined (found=False)
    search_p50_ms: float
    search_p95_ms: float
    ask_p50_ms: float
    ask_p95_ms: float
    best_f1: float = 0.0  # answerable questions, percent: the best candidate scored whether shown or withheld
    given_right_share: float = 0.0  # answers given (to any question) that are right: F1 >= 0.5 against a gold answer
    per_question: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def load_questions(path: str | Path) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            questions.append(
                EvalQuestion(
                    id=str(raw.get("id", number)),
                    question=raw["question"],
                    answers=tuple(raw.get("answers") or ()),
                    doc=raw.get("doc"),
                    sentence=raw.get("sentence"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QAError(f"{path}:{number}: not a question object ({exc}); see the README for the format") from None
    return questions


def doc_matches(article_id: str, doc: str) -> bool:
    """Gold docs name a file relative to the corpus; an index may hold it under a parent folder too."""
    return article_id == doc or article_id.endswith("/" + doc)


def article_rank(article_ids: list[str], gold: str | set[str]) -> int | None:
    """1-based rank of the gold article (a doc name, or a set of resolved article ids) among the distinct articles
    retrieved."""
    distinct = list(dict.fromkeys(article_ids))
    for rank, article_id in enumerate(distinct, start=1):
        if article_id in gold if isinstance(gold, set) else doc_matches(article_id, gold):
            return rank
    return None


def gold_articles(engine, questions: list[EvalQuestion]) -> dict[str, set[str]]:
    """The indexed article ids each answerable question's gold doc stands for. A doc is found by name; when no
    article has that name (a file renamed on the way into the articles folder, as the seed is), by the gold
    sentence it contains."""
    names = engine.article_ids()
    gold: dict[str, set[str]] = {}
    for q in questions:
        if not (q.answerable and q.doc):
            continue
        ids = {a for a in names if doc_matches(a, q.doc)}
        if not ids and q.sentence:
            ids = set(engine.articles_containing(q.sentence))
        gold[q.id] = ids
    return gold


def all_question_score(answerable_points: float, declined: float, questions: int) -> float:
    """Percent over all questions, SQuAD 2.0 style: each answerable question brings what its shown answer scored
    (0-1), each unanswerable one 1 when declined."""
    return 100 * (answerable_points + declined) / max(1, questions)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def evaluate(engine, questions: list[EvalQuestion], *, k: int = 10, with_answers: bool = True) -> EvalResult:
    ranks, search_ms, ask_ms, per_question = [], [], [], []
    if questions:  # load models and index first: latency figures are for answering, not for start-up
        engine.search(questions[0].question, k=k)
        if with_answers:
            engine.ask(questions[0].question)
    gold = gold_articles(engine, questions)
    em = f1 = best_f1 = answered = declined = given_right = 0.0
    for q in questions:
        started = time.perf_counter()
        passages = engine.search(q.question, k=max(k, 10) * 3)
        search_ms.append(1000 * (time.perf_counter() - started))
        rank = article_rank([p.article_id for p in passages], gold[q.id]) if q.id in gold else None
        if q.answerable:
            ranks.append(rank)
        record = {"id": q.id, "question": q.question, "answers": list(q.answers), "doc": q.doc, "rank": rank,
                  "search_ms": round(search_ms[-1], 3)}
        if with_answers:
            started = time.perf_counter()
            answer = engine.ask(q.question)
            ask_ms.append(1000 * (time.perf_counter() - started))
            # Below the threshold the answer says "not found" but its confidence is the withheld best guess's.
            best_guess = answer.text if answer.found else (answer.alternatives[0].text if answer.alternatives else "")
            record.update(answer=answer.text, found=answer.found, confidence=answer.confidence,
                          ask_ms=round(ask_ms[-1], 3), best_guess=best_guess,
                          best_f1=best_over_golds(f1_score, best_guess, q.answers) if q.answerable else 0.0)
            if q.answerable:
                guess = answer.text if answer.found else ""
                record["em"] = best_over_golds(exact_match, guess, q.answers)
                record["f1"] = best_over_golds(f1_score, guess, q.answers)
                em += record["em"]
                f1 += record["f1"]
                best_f1 += record["best_f1"]
                answered += answer.found
                given_right += answer.found and record["f1"] >= 0.5
            else:
                declined += not answer.found
        per_question.append(record)

    n_answerable = sum(q.answerable for q in questions)
    n_unanswerable = len(questions) - n_answerable

    def hit(cutoff: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= cutoff) / max(1, len(ranks))

    return EvalResult(
        questions=len(questions),
        answerable=n_answerable,
        unanswerable=n_unanswerable,
        hit_at_1=hit(1),
        hit_at_5=hit(5),
        hit_at_10=hit(10),
        mrr=sum(1 / r for r in ranks if r) / max(1, len(ranks)),
        em=100 * em / max(1, n_answerable),
        f1=100 * f1 / max(1, n_answerable),
        em_all=all_question_score(em, declined, len(questions)),
        f1_all=all_question_score(f1, declined, len(questions)),
        answered_share=answered / max(1, n_answerable),
        declined_share=declined / max(1, n_unanswerable),
        search_p50_ms=statistics.median(search_ms) if search_ms else 0.0,
        search_p95_ms=percentile(search_ms, 95),
        ask_p50_ms=statistics.median(ask_ms) if ask_ms else 0.0,
        ask_p95_ms=percentile(ask_ms, 95),
        best_f1=100 * best_f1 / max(1, n_answerable),
        given_right_share=given_right / max(1, answered + n_unanswerable - declined),
        per_question=per_question,
    )
