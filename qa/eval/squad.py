"""SQuAD 1.1: loading, the official answer normalisation, and EM/F1 scoring."""

from __future__ import annotations

import collections
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.text import normalize_answer  # the runtime owns it; scoring uses the same one


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]


def load_squad(path: str | Path) -> list[SquadQuestion]:
    """Read a SQuAD json or json.gz file into a flat list of questions, in file order."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    out: list[SquadQuestion] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                out.append(
                    SquadQuestion(
                        id=qa["id"],
                        title=article["title"],
                        context=paragraph["context"],
                        question=qa["question"],
                        answers=tuple(a["text"] for a in qa["answers"]),
                        answer_starts=tuple(a["answer_start"] for a in qa["answers"]),
                    )
                )
    return out


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(metric, prediction: str, golds: tuple[str, ...] | list[str]) -> float:
    """SQuAD scores a prediction against its closest gold answer."""
    return max((metric(prediction, gold) for gold in golds), default=0.0)
