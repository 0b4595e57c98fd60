"""Compare retrieval modes (dense, lexical BM25, hybrid) on question files, over one index.

    .venv/bin/qa index CORPUS --index indexes/bbc          # e.g. a copy of ../shared/corpora/bbc plus the seed
    .venv/bin/python scripts/eval_retrieval.py --index indexes/bbc ../shared/eval/bbc_dev.jsonl ../shared/eval/bbc_paraphrase_dev.jsonl

Prints hit@1/5/10 and MRR of the gold article for each mode and file, and writes bench-results/retrieval.json.
With --grid it also scores hybrid fusion over a grid of BM25 weights and RRF rank constants (how the defaults in
qa/settings.py were chosen). With --ceiling it prints, for the configured mode, the share of questions whose gold
article has a passage among the first N (e.g. 20 and 50): the hit@5 a perfect re-ranker of the top N could reach,
so what re-ranking could buy before any is trained. With --rerank N it also re-ranks the first N passages by the
configured reader's best span margin (span logit minus "no answer") and prints how often the gold article is then
in the first 5: the reader as a ready-made cross-encoder.
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
    from qa.eval.questions import evaluate, gold_articles, load_questions
    from qa.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "bbc")
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    parser.add_argument("--grid", action="store_true", help="also try fusion weights and rank constants")
    parser.add_argument("--ceiling", default="", help="comma-separated depths N, e.g. 20,50 (see above)")
    parser.add_argument("--rerank", type=int, default=0, help="re-rank the first N passages by the reader")
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
    if args.ceiling:
        depths = [int(n) for n in args.ceiling.split(",")]
        print("\n| file | " + " | ".join(f"gold in top {n} passages" for n in depths) + " |\n|---|"
              + "---|" * len(depths))
        engine = Engine(settings=base, embedder=embedder)
        for path in args.files:
            questions = [q for q in load_questions(path) if q.answerable]
            gold = gold_articles(engine, questions)
            shares = []
            for n in depths:
                held = [bool({p.article_id for p in engine.search(q.question, k=n)} & gold.get(q.id, set()))
                        for q in questions]
                shares.append(sum(held) / max(1, len(held)))
            results[f"{path.name}:ceiling"] = {f"top_{n}": share for n, share in zip(depths, shares)}
            print(f"| {path.name} ({len(questions)} q) | " + " | ".join(f"{x:.3f}" for x in shares) + " |")
    if args.rerank:
        engine = Engine(settings=base, embedder=embedder)
        print(f"\n| file | gold in top 5 passages | after the reader re-ranks the top {args.rerank} |\n|---|---|---|")
        for path in args.files:
            questions = [q for q in load_questions(path) if q.answerable]
            gold = gold_articles(engine, questions)
            before = after = 0
            for q in questions:
                passages = engine.search(q.question, k=args.rerank)
                margin: dict[int, float] = {}
                for span in engine.reader.read(q.question, passages, top_k=3 * len(passages), allow_no_answer=False):
                    key = id(span.passage)
                    margin[key] = max(margin.get(key, float("-inf")), span.logit - span.null_logit)
                ranked = sorted(passages, key=lambda p: -margin.get(id(p), float("-inf")))
                before += any(p.article_id in gold.get(q.id, set()) for p in passages[:5])
                after += any(p.article_id in gold.get(q.id, set()) for p in ranked[:5])
            n = max(1, len(questions))
            results[f"{path.name}:rerank_{args.rerank}"] = {"top_5": before / n, "reranked_top_5": after / n}
            print(f"| {path.name} ({len(questions)} q) | {before / n:.3f} | {after / n:.3f} |")
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
