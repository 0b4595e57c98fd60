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


def share(questions, gold: dict, passages_of) -> float:
    """The share of ``questions`` whose gold article has a passage among ``passages_of(question)``."""
    held = [any(p.article_id in gold.get(q.id, set()) for p in passages_of(q)) for q in questions]
    return sum(held) / max(1, len(held))


def reader_ranked(engine, question: str, passages: list) -> list:
    """``passages`` ordered by the reader's best span margin in each (span logit minus "no answer")."""
    margin: dict[int, float] = {}
    for span in engine.reader.read(question, passages, top_k=3 * len(passages), allow_no_answer=False):
        margin[id(span.passage)] = max(margin.get(id(span.passage), float("-inf")), span.logit - span.null_logit)
    return sorted(passages, key=lambda p: -margin.get(id(p), float("-inf")))


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
    if args.ceiling or args.rerank:
        engine = Engine(settings=base, embedder=embedder)
        answerable = {path: [q for q in load_questions(path) if q.answerable] for path in args.files}
        gold = {path: gold_articles(engine, questions) for path, questions in answerable.items()}
    if args.ceiling:
        depths = [int(n) for n in args.ceiling.split(",")]
        print("\n| file | " + " | ".join(f"gold in top {n} passages" for n in depths) + " |\n|---|"
              + "---|" * len(depths))
        for path, questions in answerable.items():
            shares = [share(questions, gold[path], lambda q: engine.search(q.question, k=n)) for n in depths]
            # where the gold article's first passage stands, for the questions it is not in the top 10 of
            deep = [[p.article_id in gold[path].get(q.id, set()) for p in engine.search(q.question, k=max(depths))]
                    for q in questions]
            far = sorted(hits.index(True) + 1 for hits in deep if True in hits and hits.index(True) >= 10)
            results[f"{path.name}:ceiling"] = {**{f"top_{n}": x for n, x in zip(depths, shares)}, "ranks_after_10": far}
            print(f"| {path.name} ({len(questions)} q) | " + " | ".join(f"{x:.3f}" for x in shares) + " |")
            if far:
                print(f"  {path.name}: the gold article's first passage after the top 10 is at rank {far}")
    if args.rerank:
        print(f"\n| file | gold in top 5 passages | after the reader re-ranks the top {args.rerank} |\n|---|---|---|")
        for path, questions in answerable.items():
            first = {q.id: engine.search(q.question, k=args.rerank) for q in questions}
            before = share(questions, gold[path], lambda q: first[q.id][:5])
            after = share(questions, gold[path], lambda q: reader_ranked(engine, q.question, first[q.id])[:5])
            results[f"{path.name}:rerank_{args.rerank}"] = {"top_5": before, "reranked_top_5": after}
            print(f"| {path.name} ({len(questions)} q) | {before:.3f} | {after:.3f} |")
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
