"""How much an article's headline above the first paragraph costs a reader: SQuAD 1.1 dev F1 over the plain
paragraph and over the same paragraph under a news-style headline made from it (qa/train/headlines.py: from its first
sentence or from the answer's own sentence, half each, so the headline often holds the question's words and the
answer, as real ones do). Under a headline the prediction is the best span in the body: ask() never gives words only
a headline holds.

    .venv/bin/python scripts/eval_headlines.py [--reader DIR ...] [--limit 2000] [--seed 13] [--json OUT]

The headlines are drawn from dev, never from the train questions a reader learnt from.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from qa.answer.reader.factory import DEFAULT_READER_DIR, make_reader
    from qa.eval.squad import best_over_golds, f1_score, load_squad
    from qa.precision import cpu_name
    from qa.train.headlines import with_headline
    from qa.types import Passage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", action="append", default=None, help="a reader folder or id (repeatable)")
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    questions = load_squad(args.squad)[: args.limit]
    titled = [with_headline(q, random.Random(f"{args.seed}:{q.id}")) for q in questions]
    results = {"cpu": cpu_name(), "questions": len(questions), "readers": {}}
    for name in args.reader or [str(DEFAULT_READER_DIR)]:
        reader = make_reader(name, batch_size=64)
        scores = {}
        for variant, asked in (("plain", questions), ("headline", titled)):
            items = [(q.question, [Passage(q.id, q.title, q.context, 0, len(q.context), 1.0)]) for q in asked]
            read = reader.read_many(items, top_k=10, allow_no_answer=False)
            f1 = 0.0
            for q, spans in zip(asked, read):
                body = q.context.find("\n\n") + 2 if variant == "headline" else 0
                best = next((s.text for s in spans if s.start >= body), "")
                f1 += best_over_golds(f1_score, best, q.answers)
            scores[variant] = round(100 * f1 / max(1, len(asked)), 2)
        results["readers"][name] = scores
        print(f"{name}: F1 plain {scores['plain']:.1f}, under a headline {scores['headline']:.1f}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
