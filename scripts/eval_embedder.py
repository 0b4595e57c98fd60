"""Compare embedders on held-out question -> passage retrieval: SQuAD 1.1 dev, never used in training.

    .venv/bin/python scripts/eval_embedder.py --embedder minilm --embedder runs/retriever/model

Every SQuAD dev paragraph is cut into chunks the way ``qa index`` cuts an article and embedded with its title in
front (qa/train/retriever_data.py); each dev question is then searched among all of them (about 2,100 paragraphs of
48 articles, many about the same subject). A question is found at rank k when the k-th chunk is from its own
paragraph and holds one of its answers. Also reported: how long each embedder took per text in the same run (compare
them as a ratio; one run on a noisy machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def chunk_table(questions, count_tokens, target_tokens: int):
    from qa.train.retriever_data import paragraph_chunks

    texts, owners = [], []
    seen: dict[str, int] = {}
    for q in questions:
        if q.context in seen:
            continue
        seen[q.context] = len(seen)
        for s, e in paragraph_chunks(q.context, count_tokens, target_tokens):
            texts.append((f"{q.title.replace('_', ' ')}\n{q.context[s:e]}", q.context[s:e]))
            owners.append(seen[q.context])
    return texts, owners, seen


def score(embedder, questions, target_tokens: int, limit: int | None) -> dict:
    import numpy as np

    chunks, owners, paragraph_of = chunk_table(questions, embedder.count_tokens, target_tokens)
    asked = questions[:limit] if limit else questions
    times = []
    started = time.perf_counter()
    passage_vectors = embedder.embed([embedded for embedded, _ in chunks], batch_size=64)
    times.append(("passages", time.perf_counter() - started, len(chunks)))
    started = time.perf_counter()
    question_vectors = embedder.embed([q.question for q in asked], batch_size=64)
    times.append(("questions", time.perf_counter() - started, len(asked)))
    owners = np.asarray(owners)
    ranks = []
    for q, vector in zip(asked, question_vectors):
        order = np.argsort(-(passage_vectors @ vector), kind="stable")[:100]
        gold = paragraph_of[q.context]
        answers = [a.lower() for a in q.answers]
        rank = next((r + 1 for r, i in enumerate(order)
                     if owners[i] == gold and any(a in chunks[i][1].lower() for a in answers)), None)
        ranks.append(rank)
    n = len(ranks)

    def hit(k):
        return sum(r is not None and r <= k for r in ranks) / n

    return {
        "questions": n, "chunks": len(chunks),
        "hit@1": round(hit(1), 4), "hit@5": round(hit(5), 4), "hit@20": round(hit(20), 4),
        "mrr@100": round(sum(1 / r for r in ranks if r) / n, 4),
        "encode_ms_per_text": {name: round(1000 * seconds / count, 3) for name, seconds, count in times},
    }


def main() -> None:
    from qa.embedders import SentenceTransformerEmbedder
    from qa.eval.squad import load_squad
    from qa.precision import cpu_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", action="append", default=None,
                        help="a model name or folder (repeat to compare; default: the bundled MiniLM)")
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--target-tokens", type=int, default=128, help="chunk size, as Settings.chunk_tokens")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    questions = load_squad(args.squad)
    results = {"cpu": cpu_name(), "squad": str(args.squad), "embedders": {}}
    print(f"CPU: {results['cpu']}")
    print("| embedder | questions | chunks | hit@1 | hit@5 | hit@20 | MRR | ms per passage / question |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.embedder or ["minilm"]:
        embedder = SentenceTransformerEmbedder(name, precision=args.precision)
        r = score(embedder, questions, args.target_tokens, args.limit)
        r["precision"] = embedder.precision
        results["embedders"][name] = r
        ms = r["encode_ms_per_text"]
        print(f"| {name} | {r['questions']} | {r['chunks']} | {r['hit@1']:.3f} | {r['hit@5']:.3f} | "
              f"{r['hit@20']:.3f} | {r['mrr@100']:.3f} | {ms['passages']:.2f} / {ms['questions']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
