"""Retrieval ideas measured and not shipped (the README's "tried and not kept" list), over an existing index.

    .venv/bin/python scripts/retrieval_experiments.py --index indexes/bbc ../shared/eval/bbc_dev.jsonl ../shared/eval/bbc_paraphrase_dev.jsonl

Each experiment adds one ranking to the shipped hybrid fusion (dense + BM25, weighted RRF) and prints hit@1/5/10
and MRR of the gold article for a small grid of weights, next to the shipped ranking:
  sentences     a third list from vectors of every sentence (each sentence stands for the chunk holding it)
  article-bm25  BM25 over whole articles, fused with the hybrid article ranking
  clauses       one more dense search per clause of a long question, their weight shared among the clauses
It then times a cross-encoder re-ranker's forward pass (bundled MiniLM with a 1-logit head, 6 and 3 layers, the
embedder's precision, 176 tokens per pair) for 10/20/30 passages: the cost of re-ranking before reading.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEPTH = 50  # candidates per ranking, as the engine's fusion_depth
CLAUSE_BREAK = re.compile(
    r",|;|\s(?=(?:that|who|which|when|while|after|before|because|according to|for the|to|by|with|from|at|on)\s)", re.I
)


def clauses(question: str) -> list[str]:
    parts = [p.strip(" ?.") for p in CLAUSE_BREAK.split(question)]
    parts = [p for p in parts if len(p.split()) >= 3]
    return parts if len(parts) >= 2 else []


def figures(article_rankings: list[list[str]], golds: list[set[str]]) -> str:
    from qa.eval.questions import article_rank

    ranks = [article_rank(ranking, gold) for ranking, gold in zip(article_rankings, golds)]
    n = max(1, len(ranks))
    hit = [sum(1 for r in ranks if r is not None and r <= cutoff) / n for cutoff in (1, 5, 10)]
    mrr = sum(1 / r for r in ranks if r) / n
    return f"{hit[0]:.3f} | {hit[1]:.3f} | {hit[2]:.3f} | {mrr:.3f}"


def main() -> None:
    from qa.embedders import make_embedder
    from qa.engine import Engine
    from qa.eval.questions import gold_articles, load_questions
    from qa.store.lexical import BM25Index, reciprocal_rank_fusion
    from qa.settings import Settings
    from qa.ingest.text import sentences

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "bbc")
    args = parser.parse_args()

    settings = Settings.from_env(index_dir=args.index)
    embedder = make_embedder(settings)
    engine = Engine(settings=settings, embedder=embedder)
    generation = engine.generation()
    db = generation.db
    chunk_article = dict(db.execute("SELECT id, article_id FROM chunks"))
    chunks_of: dict[str, list[tuple[int, int, int]]] = {}
    for chunk_id, article_id, start, end in db.execute("SELECT id, article_id, start, end FROM chunks ORDER BY start"):
        chunks_of.setdefault(article_id, []).append((start, end, chunk_id))
    articles = db.execute("SELECT id, text FROM articles ORDER BY id").fetchall()
    article_ids = [row[0] for row in articles]

    def articles_of(chunk_ids) -> list[str]:
        return list(dict.fromkeys(chunk_article[c] for c in chunk_ids))

    def fuse(rankings, weights, constant):
        return [item for item, _ in reciprocal_rank_fusion(rankings, weights, k=constant)]

    print("embedding every sentence ...", file=sys.stderr)
    sentence_chunk, sentence_texts = [], []
    for article_id, text in articles:
        for start, end in sentences(text):
            if end - start < 15:
                continue
            holder = next((c for a, b, c in chunks_of.get(article_id, []) if a <= start and end <= b), None)
            if holder is not None:
                sentence_chunk.append(holder)
                sentence_texts.append(text[start:end])
    sentence_vectors = embedder.embed(sentence_texts)
    article_bm25 = BM25Index.build(range(len(articles)), [text for _, text in articles])
    print(f"{len(sentence_texts)} sentences, {len(articles)} articles", file=sys.stderr)

    w, s = settings.fusion_dense_weight, settings.fusion_lexical_weight
    k = settings.fusion_rank_constant
    print("| file | experiment | weight of the added list | rank constant | hit@1 | hit@5 | hit@10 | MRR |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.files:
        questions = [q for q in load_questions(path) if q.answerable]
        gold = gold_articles(engine, questions)
        golds = [gold.get(q.id, set()) for q in questions]
        runs = []
        for q in questions:
            vectors = embedder.embed([q.question, *clauses(q.question)])
            _, ids = generation.store.search(vectors[:1], DEPTH)
            dense = [int(i) for i in ids[0] if i >= 0]
            lexical = [i for i, _ in generation.lexical.search(q.question, DEPTH)]
            order = np.argsort(-(sentence_vectors @ vectors[0]))
            by_sentence = list(dict.fromkeys(sentence_chunk[i] for i in order[: 4 * DEPTH]))[:DEPTH]
            by_clause = []
            if len(vectors) > 1:
                _, clause_ids = generation.store.search(vectors[1:], DEPTH)
                by_clause = [[int(i) for i in row if i >= 0] for row in clause_ids]
            whole = [article_ids[i] for i, _ in article_bm25.search(q.question, DEPTH)]
            runs.append((dense, lexical, by_sentence, by_clause, whole))

        def row(name, weight, constant, rankings):
            print(f"| {path.name} | {name} | {weight} | {constant} | {figures(rankings, golds)} |")

        row("shipped hybrid", "-", k, [articles_of(fuse([d, l], (w, s), k)) for d, l, *_ in runs])
        for extra in (0.5, 1.0):
            for constant in (10, 30):
                row("sentences", extra, constant,
                    [articles_of(fuse([d, l, t], (w, s, extra), constant)) for d, l, t, *_ in runs])
        for extra in (0.3, 0.5, 1.0):
            for constant in (10, 30):
                row("article-bm25", extra, constant,
                    [fuse([articles_of(fuse([d, l], (w, s), k)), a], (1.0, extra), constant)
                     for d, l, _, _, a in runs])
        for extra in (0.5, 1.0, 2.0):
            for constant in (10, 30):
                row("clauses", extra, constant,
                    [articles_of(fuse([d, l, *c], (w, s, *[extra / max(1, len(c))] * len(c)), constant))
                     for d, l, _, c, _ in runs])
    engine.close()
    cross_encoder_cost(settings)


def cross_encoder_cost(settings) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    from qa.embedders import resolve_model_path
    from qa.precision import resolve_precision

    precision = resolve_precision(settings.precision)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    print(f"\ncross-encoder forward, {precision}, {torch.get_num_threads()} threads, 176 tokens per pair (median of 5 ms):")
    print("| layers | 10 passages | 20 passages | 30 passages |\n|---|---|---|---|")
    for layers in (6, 3):
        model = AutoModelForSequenceClassification.from_pretrained(
            resolve_model_path(settings.embedder), num_labels=1, num_hidden_layers=layers
        ).eval().to(dtype)
        cells = []
        for n in (10, 20, 30):
            ids = torch.randint(1000, 20000, (n, 176))
            times = []
            with torch.inference_mode():
                for _ in range(7):
                    started = time.perf_counter()
                    model(input_ids=ids, attention_mask=torch.ones_like(ids))
                    times.append(1000 * (time.perf_counter() - started))
            cells.append(f"{statistics.median(times[2:]):.0f}")
        print(f"| {layers} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
