"""Fit the reader's confidence calibration and answer threshold on SQuAD dev, the way ask() uses the reader.

For each sampled dev question the reader sees a pool of passages like ask() does: once with the gold paragraph among
other paragraphs of the same article (label 1 if its best span is right, F1 >= 0.5, else 0), once with only the
other paragraphs (label 0: the answer is not there), and once with a near miss: the gold paragraph with every
sentence that holds a gold answer cut out, among the others (label 0: the story is there, the fact is not; this is
what questions about events the articles never report look like). Passage scores are real MiniLM cosines. A
logistic regression over (span margin over "no answer", log span probability, passage score) gives the confidence;
the threshold maximises the mean of "right answers given" and "absent answers declined". The figures also say how
the fit does on questions it did not see (two folds).

    .venv/bin/python scripts/calibrate_reader.py [--reader DIR] [--questions 1500] [--dry-run]

Writes calibration.json into the reader folder (keeping its follow-up entry) and prints the fit's figures.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def expected_calibration_error(confidence: np.ndarray, label: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence >= lo) & (confidence < hi if hi < 1 else confidence <= hi)
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - label[inside].mean())
    return float(total)


def without_answer_sentences(question) -> str:
    """The question's paragraph minus every sentence that contains a gold answer ('' if little would be left)."""
    from qa.ingest.text import sentences

    context = question.context
    spans = sentences(context)
    answer_ranges = [(start, start + len(text)) for start, text in zip(question.answer_starts, question.answers)]
    kept = [context[a:b] for a, b in spans if not any(a < end and start < b for start, end in answer_ranges)]
    text = " ".join(kept)
    if len(text) < 200 or any(answer in text for answer in question.answers):
        return ""
    return text


def main() -> None:
    from qa.answer.calibration import Calibration, decision_rates, fit_calibration, held_out_rates, span_features
    from qa.embedders import SentenceTransformerEmbedder
    from qa.settings import Settings
    from qa.answer.reader.factory import DEFAULT_READER_DIR, make_reader
    from qa.eval.squad import best_over_golds, f1_score, load_squad
    from qa.types import Passage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default=str(DEFAULT_READER_DIR))
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--questions", type=int, default=1500)
    parser.add_argument("--pool", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    parser.add_argument("--retrieval-feature", action="store_true",
                        help="also fit on the passage cosine (by default its weight is 0, so confidence does not "
                             "depend on the embedder's score scale)")
    args = parser.parse_args()

    questions = load_squad(args.squad)
    rng = random.Random(args.seed)
    sample = rng.sample(questions, min(args.questions, len(questions)))
    paragraphs: dict[str, list[str]] = {}
    for q in questions:
        contexts = paragraphs.setdefault(q.title, [])
        if q.context not in contexts:
            contexts.append(q.context)

    # the configured embedder (QA_EMBEDDER): passage cosines are a calibration feature, so they must be the index's
    embedder = SentenceTransformerEmbedder(Settings.from_env().embedder)
    keys = sorted({(q.title, c) for q in sample for c in paragraphs[q.title]})
    vectors = embedder.embed([f"{t}\n{c}" for t, c in keys], batch_size=64)
    index = {key: row for row, key in enumerate(keys)}
    question_vectors = embedder.embed([q.question for q in sample], batch_size=64)

    near_misses = [without_answer_sentences(q) for q in sample]
    near_vectors = embedder.embed([f"{q.title}\n{m}" if m else q.title for q, m in zip(sample, near_misses)], batch_size=64)
    near_miss_scores = [float(v @ question_vectors[qi]) for qi, v in enumerate(near_vectors)]

    items, golds, question_of = [], [], []  # question_of: which sampled question each read asks
    for qi, q in enumerate(sample):
        others = [c for c in paragraphs[q.title] if c != q.context]
        rng.shuffle(others)

        def pool(contexts):
            return [
                Passage(q.title, q.title, c, 0, len(c), float(vectors[index[(q.title, c)]] @ question_vectors[qi]))
                for c in contexts
            ]

        items.append((q.question, pool([q.context] + others[: args.pool - 1])))
        golds.append(q.answers)
        question_of.append(qi)
        if others:
            items.append((q.question, pool(others[: args.pool])))
            golds.append(None)
            question_of.append(qi)
        near_miss = without_answer_sentences(q)
        if near_miss:
            items.append((q.question, [Passage(q.title, q.title, near_miss, 0, len(near_miss), near_miss_scores[qi])]
                          + pool(others[: args.pool - 1])[: args.pool - 1]))
            golds.append(None)
            question_of.append(qi)

    reader = make_reader(args.reader, batch_size=64)
    spans = reader.read_many(items, top_k=1, allow_no_answer=False)
    features, right, answerable, groups = [], [], [], []
    for found, gold, group in zip(spans, golds, question_of):
        if not found:
            continue
        best = found[0]
        features.append(span_features(best, retrieval=args.retrieval_feature))
        right.append(gold is not None and best_over_golds(f1_score, best.text, gold) >= 0.5)
        answerable.append(gold is not None)
        groups.append(group)
    x, right, answerable = np.asarray(features), np.asarray(right), np.asarray(answerable)
    weights, bias, threshold = fit_calibration(x, right, answerable)
    confidence = np.asarray([Calibration(tuple(weights), bias).confidence_from_features(f) for f in features])
    given, declined = decision_rates(confidence, right, answerable, threshold)
    held_given, held_declined = held_out_rates(x, right, answerable, groups)
    fitted_on = (
        f"SQuAD 1.1 dev, {len(sample)} questions (seed {args.seed}), pools of {args.pool} paragraphs with the gold "
        f"one, without it, and with it minus its answer sentences; {len(right)} reads"
        + ("" if args.retrieval_feature else "; passage cosine not used")
    )
    calibration = Calibration(tuple(float(w) for w in weights), bias, round(threshold, 3), fitted_on)
    figures = {
        "reads": int(len(right)),
        "ece": round(expected_calibration_error(confidence, right.astype(int)), 4),
        "right_answers_given": round(given, 4),
        "absent_answers_declined": round(declined, 4),
        # fitted on half the questions, scored on the other half (and the other way round)
        "held_out_right_answers_given": round(held_given, 4),
        "held_out_absent_answers_declined": round(held_declined, 4),
    }
    if not args.dry_run:
        calibration.save(args.reader, {"figures": figures, **follow_up_entry(args.reader)})
    print({"weights": calibration.weights, "bias": calibration.bias,
           "threshold": calibration.threshold, **figures})


def follow_up_entry(folder) -> dict:
    """The follow-up calibration already in the reader's calibration.json (calibrate_follow_ups.py), kept."""
    import json

    path = Path(folder) / "calibration.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {"follow_up": data["follow_up"]} if "follow_up" in data else {}

if __name__ == "__main__":
    main()
