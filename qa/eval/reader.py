"""Score a reader on SQuAD 1.1 dev: exact match and F1 with the official normalisation."""

from __future__ import annotations

import time
from pathlib import Path

from qa.answer.reader.base import Reader
from qa.eval.squad import SquadQuestion, best_over_golds, exact_match, f1_score, load_squad
from qa.types import Passage, Span


def _paragraph_passage(question: SquadQuestion) -> Passage:
    """The question's paragraph as a whole passage; the question id stands in for an article id."""
    context = question.context
    return Passage(article_id=question.id, title=question.title, text=context, start=0, end=len(context), score=1.0)


def _read_batch(reader: Reader, items: list[tuple[str, list[Passage]]]) -> list[list[Span]]:
    # SQuAD 1.1 always has an answer, so the reader may not abstain: its best span is the prediction.
    read_many = getattr(reader, "read_many", None)
    if callable(read_many):  # batches windows across questions; much faster than one question at a time
        return read_many(items, top_k=1, allow_no_answer=False)
    return [reader.read(question, passages, top_k=1, allow_no_answer=False) for question, passages in items]


def evaluate_reader(
    reader: Reader,
    squad_path: str | Path,
    *,
    limit: int | None = None,
    batch_questions: int = 64,
) -> dict:
    """EM and F1 (percentages) of ``reader`` on the first ``limit`` questions of a SQuAD file, in file order.

    Each question is read against its own paragraph as one passage. ``seconds`` is reading time only: the model is
    loaded before the clock starts.
    """
    questions = load_squad(squad_path)
    if limit is not None:
        questions = questions[:limit]
    reader.load()
    started = time.perf_counter()
    predictions: list[str] = []
    step = max(1, batch_questions)
    for lo in range(0, len(questions), step):
        chunk = questions[lo : lo + step]
        items = [(q.question, [_paragraph_passage(q)]) for q in chunk]
        predictions.extend(spans[0].text if spans else "" for spans in _read_batch(reader, items))
    seconds = time.perf_counter() - started
    n = len(questions)
    em = sum(best_over_golds(exact_match, p, q.answers) for p, q in zip(predictions, questions))
    f1 = sum(best_over_golds(f1_score, p, q.answers) for p, q in zip(predictions, questions))
    return {
        "em": 100.0 * em / n if n else 0.0,
        "f1": 100.0 * f1 / n if n else 0.0,
        "questions": n,
        "seconds": seconds,
    }
