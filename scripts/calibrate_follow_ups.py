"""Fit the confidence calibration for follow-up questions, read inside the story a chat is about.

A follow-up ("which bank was it?") says less than a question asked on its own, so the reader's margins are lower and
the calibration fitted for standalone questions declines right answers. This fits a second one on follow-ups
synthesised from SQuAD 1.1 dev (never the project's eval files): for a dev question, another question of the same
article and its gold answer become the chat's last exchange, and the words the question shares with that exchange
(or the article's title) are replaced by a pronoun, as people do ("Which NFL team represented the NFC at Super Bowl
50?" after a question about Super Bowl 50 -> "Which NFL team represented the NFC at it?"). The question is read the
way ask() reads a follow-up (``qa.answer.conversation.reader_question``) among paragraphs of its own article, ranked by
MiniLM cosine to the question with the last exchange beside it: once with the gold paragraph (label 1 if the best
span is right, F1 >= 0.5), once without it and once with it minus its answer sentences (label 0). A logistic
regression over the same features as the main calibration; the threshold maximises the mean of "right answers
given" and "absent answers declined". The figures also say how the fit does on follow-ups it did not see (two folds).

    .venv/bin/python scripts/calibrate_follow_ups.py [--reader DIR] [--questions 1500] [--dry-run]

Adds a "follow_up" entry to calibration.json in the reader folder and prints the fit's figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

def main() -> None:
    from calibrate_reader import expected_calibration_error, without_answer_sentences

    from qa.answer.calibration import Calibration, decision_rates, fit_calibration, held_out_rates, span_features
    from qa.answer.conversation import Turn, context_query, reader_question
    from qa.embedders import SentenceTransformerEmbedder
    from qa.settings import Settings
    from qa.answer.reader.factory import DEFAULT_READER_DIR, make_reader
    from qa.eval.squad import best_over_golds, f1_score, load_squad
    from qa.train.follow_ups import follow_ups
    from qa.types import Passage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default=str(DEFAULT_READER_DIR))
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--questions", type=int, default=1500)
    parser.add_argument("--pool", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    parser.add_argument("--retrieval-feature", action="store_true",
                        help="also fit on the passage cosine (by default its weight is 0, so confidence does not "
                             "depend on the embedder's score scale)")
    args = parser.parse_args()

    questions = load_squad(args.squad)
    rng = random.Random(args.seed)
    paragraphs: dict[str, list[str]] = {}
    for q in questions:
        if q.context not in paragraphs.setdefault(q.title, []):
            paragraphs[q.title].append(q.context)

    # (question, follow-up wording, previous question, previous answer)
    sample = [(f.source, f.wording, f.previous_question, f.previous_answer)
              for f in follow_ups(questions, args.questions, rng)]

    # the configured embedder (QA_EMBEDDER): passage cosines are a calibration feature, so they must be the index's
    embedder = SentenceTransformerEmbedder(Settings.from_env().embedder)
    keys = sorted({(q.title, c) for q, *_ in sample for c in paragraphs[q.title]})
    vectors = embedder.embed([f"{t}\n{c}" for t, c in keys], batch_size=64)
    index = {key: row for row, key in enumerate(keys)}
    queries = [context_query(f, [Turn(pq, pa)]) for q, f, pq, pa in sample]
    query_vectors = embedder.embed(queries, batch_size=64)
    near_misses = [without_answer_sentences(q) for q, *_ in sample]
    near_vectors = embedder.embed([f"{q.title}\n{m}" if m else q.title for (q, *_), m in zip(sample, near_misses)],
                                  batch_size=64)

    items, golds, question_of = [], [], []  # question_of: which follow-up each read asks
    for qi, (q, follow_up, pq, pa) in enumerate(sample):
        asked = reader_question(follow_up, [Turn(pq, pa)])
        others = [c for c in paragraphs[q.title] if c != q.context]
        rng.shuffle(others)

        def pool(contexts):
            scored = [Passage(q.title, q.title, c, 0, len(c), float(vectors[index[(q.title, c)]] @ query_vectors[qi]))
                      for c in contexts]
            return sorted(scored, key=lambda p: -p.score)

        items.append((asked, pool([q.context] + others[: args.pool - 1])))
        golds.append(q.answers)
        question_of.append(qi)
        if others:
            items.append((asked, pool(others[: args.pool])))
            golds.append(None)
            question_of.append(qi)
        if near_misses[qi]:
            near = Passage(q.title, q.title, near_misses[qi], 0, len(near_misses[qi]),
                           float(near_vectors[qi] @ query_vectors[qi]))
            items.append((asked, [near] + pool(others[: args.pool - 1])[: args.pool - 1]))
            golds.append(None)
            question_of.append(qi)

    reader = make_reader(args.reader, batch_size=64)
    spans = reader.read_many(items, top_k=1, allow_no_answer=False)
    features, right, answerable, groups = [], [], [], []
    for found, gold, group in zip(spans, golds, question_of):
        if not found:
            continue
        features.append(span_features(found[0], retrieval=args.retrieval_feature))
        right.append(gold is not None and best_over_golds(f1_score, found[0].text, gold) >= 0.5)
        answerable.append(gold is not None)
        groups.append(group)
    x, right, answerable = np.asarray(features), np.asarray(right), np.asarray(answerable)
    weights, bias, threshold = fit_calibration(x, right, answerable)
    fitted = Calibration(tuple(float(w) for w in weights), bias, round(threshold, 3), "")
    confidence = np.asarray([fitted.confidence_from_features(f) for f in features])
    given, declined = decision_rates(confidence, right, answerable, threshold)
    held_given, held_declined = held_out_rates(x, right, answerable, groups)
    figures = {
        "reads": int(len(right)),
        "ece": round(expected_calibration_error(confidence, right.astype(int)), 4),
        "right_answers_given": round(given, 4),
        "absent_answers_declined": round(declined, 4),
        "best_span_right_share": round(float(right[answerable].mean()), 4),
        # fitted on half the follow-ups, scored on the other half (and the other way round)
        "held_out_right_answers_given": round(held_given, 4),
        "held_out_absent_answers_declined": round(held_declined, 4),
    }
    entry = {
        "weights": list(fitted.weights),
        "bias": fitted.bias,
        "threshold": round(float(threshold), 3),
        "fitted_on": f"SQuAD 1.1 dev, {len(sample)} synthesised follow-ups (seed {args.seed}), pools of {args.pool} "
        "paragraphs of their article with the gold one, without it, and with it minus its answer sentences"
        + ("" if args.retrieval_feature else "; passage cosine not used"),
        "figures": figures,
    }
    print(json.dumps({k: entry[k] for k in ("weights", "bias", "threshold", "figures")}))
    print("examples:", [f for _, f, _, _ in sample[:5]])
    if not args.dry_run:
        path = Path(args.reader) / "calibration.json"
        data = json.loads(path.read_text())
        data["follow_up"] = entry
        path.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
