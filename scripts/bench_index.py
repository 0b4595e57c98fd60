"""Index benchmark on the BBC corpus: build throughput vs raw fp32 encode, re-sync cost, search latency and
retrieval quality (bf16 index vs fp32 vectors). All figures come from one run; timings are medians or ratios.

    .venv/bin/python scripts/bench_index.py [--corpus ../shared/corpora/bbc] [--questions ../shared/eval/bbc_dev.jsonl]
    .venv/bin/python scripts/bench_index.py --ray [ADDRESS] [--pairs 3]   # single-process vs `qa index --ray` builds

Writes bench-results/index.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rank_of(doc: str, ranked_docs: list[str]) -> int | None:
    """1-based rank of the gold article among distinct retrieved articles."""
    seen: list[str] = []
    for d in ranked_docs:
        if d not in seen:
            seen.append(d)
    return seen.index(doc) + 1 if doc in seen else None


def retrieval_metrics(ranks: list[int | None]) -> dict:
    n = len(ranks)
    return {
        "questions": n,
        "hit@1": sum(1 for r in ranks if r and r <= 1) / n,
        "hit@5": sum(1 for r in ranks if r and r <= 5) / n,
        "hit@10": sum(1 for r in ranks if r and r <= 10) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def ray_vs_single(args) -> None:
    """Full builds of the same corpus with the real embedder: single process, then embedding on Ray (started
    before timing, as a cluster would be), ``--pairs`` times in turn; throughput ratio = single-process seconds / Ray
    seconds, each pair's and their median. Also the seconds until the actors' first batch came back: worker processes
    starting, importing torch, loading the model, then splitting and embedding the first (longest) articles."""
    from qa.embedders import SentenceTransformerEmbedder
    from qa.engine import Engine
    from qa.precision import cpu_name
    from qa.ingest import ray_build
    from qa.ingest.ray_build import RayEmbedder, connect
    from qa.settings import Settings

    if args.articles_per_call:
        ray_build.ARTICLES_PER_CALL = args.articles_per_call

    work = Path(tempfile.mkdtemp(prefix="qa-bench-ray-"))
    settings = Settings(index_dir=work / "single", articles_dir=args.corpus)
    embedder = SentenceTransformerEmbedder(settings.embedder, precision=settings.precision)
    embedder.load()
    cpus = connect(args.ray)
    pairs = []
    for pair in range(args.pairs):
        folder = work / str(pair)
        started = time.perf_counter()
        report = Engine(settings=settings.replace(index_dir=folder / "single"), embedder=embedder).sync(
            args.corpus, progress=False)
        single_s = time.perf_counter() - started
        remote = RayEmbedder(embedder, model=settings.embedder, precision=settings.precision, address=args.ray,
                             batch_size=settings.embed_batch_size * 2)
        started = time.perf_counter()
        ray_report = Engine(settings=settings.replace(index_dir=folder / "ray"), embedder=remote).sync(
            args.corpus, progress=False)
        ray_s = time.perf_counter() - started
        assert ray_report.chunks_embedded == report.chunks_embedded == remote.remote_texts
        first = remote.first_result_seconds or 0.0
        pairs.append({"single_process_seconds": round(single_s, 2), "ray_seconds": round(ray_s, 2),
                      "ray_first_batch_seconds": round(first, 2), "ratio": round(single_s / ray_s, 3)})
        print(json.dumps(pairs[-1]), flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    results = {
        "corpus": str(args.corpus), "cpu": cpu_name(), "ray_cpus": cpus, "chunks": report.chunks_embedded,
        "precision": embedder.precision, "articles_per_call": ray_build.ARTICLES_PER_CALL, "pairs": pairs,
        "ray_throughput_ratio_median": round(statistics.median(p["ratio"] for p in pairs), 3),
        "ray_first_batch_seconds_median": round(statistics.median(p["ray_first_batch_seconds"] for p in pairs), 2),
    }
    out = args.out.with_name("index-ray.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "bbc")
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "bbc_dev.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "index.json")
    parser.add_argument("--search-repeats", type=int, default=3)
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="instead: a normal build and a `qa index --ray` build of the corpus, and their ratio")
    parser.add_argument("--articles-per-call", type=int, default=None,
                        help="with --ray: articles each Ray actor splits and embeds per call (default: the shipped 32)")
    parser.add_argument("--pairs", type=int, default=3,
                        help="with --ray: single-process and Ray builds, in turn, this many times (median ratio)")
    args = parser.parse_args()
    if args.ray is not None:
        return ray_vs_single(args)

    import torch
    from sentence_transformers import SentenceTransformer

    from qa.embedders import SentenceTransformerEmbedder, resolve_model_path
    from qa.engine import Engine
    from qa.precision import cpu_name
    from qa.settings import Settings
    from qa.store.vectors import FaissFlatStore

    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    corpus = work / "bbc"
    shutil.copytree(args.corpus, corpus)  # a copy we may edit
    settings = Settings(index_dir=work / "index", articles_dir=corpus)
    embedder = SentenceTransformerEmbedder(settings.embedder, precision=settings.precision)
    embedder.load()  # model load is not part of either timing
    engine = Engine(settings=settings, embedder=embedder)

    # 1. Full build (in the precision 'auto' measured fastest here, unless QA_PRECISION forces one).
    started = time.perf_counter()
    report = engine.sync(corpus, progress=False)
    build_s = time.perf_counter() - started
    generation = engine.generation()
    n_articles, n_chunks = generation.counts()

    # 2. Raw fp32 SentenceTransformer.encode() of exactly the texts the build embedded.
    chunk_ids = sorted(r[0] for r in generation.chunk_rows())
    rows = [(p.chunk_id, p.title, p.text) for p in generation.passages_for(chunk_ids, [0.0] * len(chunk_ids))]
    texts = []
    for chunk_id, title, text in rows:
        title = " ".join((title or "").split()[:24])
        prefixed = settings.embed_titles and title and not text.lstrip().startswith(title[:40])
        texts.append(f"{title}\n{text}" if prefixed else text)
    raw = SentenceTransformer(resolve_model_path(settings.embedder), device="cpu")
    started = time.perf_counter()
    fp32_vectors = raw.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    raw_s = time.perf_counter() - started
    stored = generation.vectors([r[0] for r in rows])
    cosines = (stored * fp32_vectors).sum(axis=1)

    # 3. Search latency (question embedding included) and retrieval quality.
    questions = [q for q in load_questions(args.questions) if q.get("answers")]
    latencies, ranks = [], []
    for _ in range(args.search_repeats):
        for q in questions:
            started = time.perf_counter()
            hits = engine.search(q["question"], k=50)
            latencies.append(time.perf_counter() - started)
    for q in questions:
        ranks.append(rank_of(q["doc"], [p.article_id for p in engine.search(q["question"], k=50)]))
    # Dense only, for a like-for-like comparison with the fp32 vectors below.
    dense = Engine(settings=settings.replace(retrieval="dense"), embedder=embedder)
    dense_ranks = [rank_of(q["doc"], [p.article_id for p in dense.search(q["question"], k=50)]) for q in questions]

    # The same retrieval over the fp32 vectors, to show reduced precision changes nothing that matters.
    fp32_store = FaissFlatStore(stored.shape[1])
    fp32_store.add(np.asarray([r[0] for r in rows], dtype=np.int64), fp32_vectors)
    fp32_ranks = []
    for q in questions:
        query = raw.encode([q["question"]], normalize_embeddings=True, convert_to_numpy=True)
        _, ids = fp32_store.search(query, 50)
        fp32_ranks.append(rank_of(q["doc"], [p.article_id for p in generation.passages_for(ids[0].tolist(), [0] * 50)]))

    # 4. Re-sync after editing one article.
    victim = sorted(corpus.glob("business/*.txt"))[0]
    victim.write_text(victim.read_text(encoding="utf-8", errors="replace") + "\n\nAn added closing sentence.\n")
    started = time.perf_counter()
    edit_report = engine.sync(corpus, progress=False)
    resync_s = time.perf_counter() - started
    assert edit_report.updated == [victim.relative_to(corpus).as_posix()], edit_report

    results = {
        "corpus": str(args.corpus),
        "articles": n_articles,
        "chunks": n_chunks,
        "precision": embedder.precision,
        "precision_setting": settings.precision,
        "cpu": cpu_name(),
        "threads": torch.get_num_threads(),
        "build_seconds": round(build_s, 2),
        "raw_fp32_encode_seconds": round(raw_s, 2),
        "indexing_throughput_ratio": round(raw_s / build_s, 3),
        "resync_one_edit_seconds": round(resync_s, 3),
        "resync_over_build": round(resync_s / build_s, 4),
        "search_p50_ms": round(1000 * statistics.median(latencies), 2),
        "search_p95_ms": round(1000 * float(np.percentile(latencies, 95)), 2),
        "min_cosine_to_fp32": round(float(cosines.min()), 6),
        "retrieval_mode": settings.retrieval,
        "retrieval": retrieval_metrics(ranks),
        "retrieval_dense": retrieval_metrics(dense_ranks),
        "retrieval_dense_fp32": retrieval_metrics(fp32_ranks),
        "skipped": [s.path for s in report.skipped],
        "notes": report.notes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    shutil.rmtree(work, ignore_errors=True)

    r, d, f = results["retrieval"], results["retrieval_dense"], results["retrieval_dense_fp32"]
    print(f"| figure | value |\n|---|---|")
    print(f"| articles / chunks | {n_articles} / {n_chunks} |")
    print(f"| indexing throughput ÷ raw fp32 encode ({results['precision']}) | {results['indexing_throughput_ratio']} "
          f"({results['build_seconds']} s vs {results['raw_fp32_encode_seconds']} s) |")
    print(f"| re-sync after one edit ÷ full build | {results['resync_over_build']} ({results['resync_one_edit_seconds']} s) |")
    print(f"| search p50 / p95 (ms, incl. question embedding) | {results['search_p50_ms']} / {results['search_p95_ms']} |")
    print(f"| min cosine of stored vectors to fp32 | {results['min_cosine_to_fp32']} |")
    for name, m in ((f"index ({settings.retrieval})", r), ("dense, stored vectors", d), ("dense, fp32 vectors", f)):
        print(f"| {name}: hit@1 / hit@5 / hit@10 / MRR ({m['questions']} q) | "
              f"{m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['hit@10']:.3f} / {m['mrr']:.3f} |")


if __name__ == "__main__":
    main()
