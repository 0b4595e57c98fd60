"""Compare retrieval modes (dense, lexical BM25, hybrid) on question files, over one index.

    .venv/bin/qa index CORPUS --index indexes/bbc          # e.g. a copy of ../shared/corpora/bbc plus the seed
    .venv/bin/python scripts/eval_retrieval.py --index indexes/bbc ../shared/eval/bbc_dev.jsonl ../shared/eval/bbc_paraphrase_dev.jsonl

Prints hit@1/5/10 and MRR of the gold article for each mode and file, and writes bench-results/retrieval.json.
With --grid it also scores hybrid fusion over a grid of BM25 weights and RRF rank constants (how the defaults in
qa/settings.py were chosen).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from qa.embedders import make_embedder
    from qa.engine import Engine
    from qa.eval.questions import evaluate, load_questions
    from qa.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "bbc")
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    parser.add_argument("--grid", action="store_true", help="also try fusion weights and rank constants")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "retrieval.json")
    args = parser.parse_args()

    base = Settings.from_env(index_dir=args.index)
    embedder = make_embedder(base)  # shared: the model loads once
    results = {}
    print("| file | mode | hit@1 | hit@5 | hit@10 | MRR | search p50 ms |\n|---|---|---|---|---|---|---|")
    for path in args.files:
        questions = load_questions(path)
        for mode in args.modes.split(","):
            engine = Engine(settings=base.replace(retrieval=mode), embedder=embedder)
            r = evaluate(engine, questions, with_answers=False)
            results[f"{path.name}:{mode}"] = {k: v for k, v in r.to_dict().items() if k != "per_question"}
            print(f"| {path.name} ({r.answerable} q) | {mode} | {r.hit_at_1:.3f} | {r.hit_at_5:.3f} | "
                  f"{r.hit_at_10:.3f} | {r.mrr:.3f} | {r.search_p50_ms:.1f} |")
    if args.grid:
        print("\n| file | BM25 weight | rank constant | hit@1 | hit@5 | hit@10 | MRR |\n|---|---|---|---|---|---|---|")
        for path in args.files:
            questions = load_questions(path)
            for lexical_weight in (0.3, 0.5, 0.7, 1.0):
                for constant in (10, 30, 60):
                    settings = base.replace(retrieval="hybrid", fusion_lexical_weight=lexical_weight,
                                            fusion_rank_constant=constant)
                    r = evaluate(Engine(settings=settings, embedder=embedder), questions, with_answers=False)
                    results[f"{path.name}:hybrid:{lexical_weight}:{constant}"] = {
                        k: v for k, v in r.to_dict().items() if k != "per_question"
                    }
                    print(f"| {path.name} | {lexical_weight} | {constant} | {r.hit_at_1:.3f} | {r.hit_at_5:.3f} | "
                          f"{r.hit_at_10:.3f} | {r.mrr:.3f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
