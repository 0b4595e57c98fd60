"""Vector stores on the same vectors: build time, open time, memory at open, search p50/p95 (one query at a time, the
way `qa` searches) and recall@10 against exact search, for FAISS flat, FAISS IVF (the faiss-ann store), FAISS HNSW
(measured to choose between the two, not a store) and a real Milvus 2.3 server. Prints a table and the CPU.

    .venv/bin/python scripts/bench_stores.py                  # 100k x 384, uniform and clustered vectors (~5 min)
    .venv/bin/python scripts/bench_stores.py --sizes 1000000 --data uniform --no-hnsw --no-milvus

Vectors are unit vectors: "uniform" (random directions: every neighbour is almost as far as any other, the worst
case for approximate search) and "clustered" (1 topic per 100 vectors, each vector its topic plus noise, queries
new members of a topic: how sentence embeddings of articles behave).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.precision import cpu_name  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.store.vectors import load_store, new_store  # noqa: E402


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def dataset(kind: str, n: int, dim: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return unit(rng.standard_normal((n, dim), dtype=np.float32)), unit(rng.standard_normal((queries, dim), dtype=np.float32))
    topics = unit(rng.standard_normal((max(1, n // 100), dim), dtype=np.float32))
    noise = 0.08  # per dimension: a member's cosine to its topic is about 0.6, as for sentences of one story
    members = topics[rng.integers(0, len(topics), n)] + noise * rng.standard_normal((n, dim), dtype=np.float32)
    asked = topics[rng.integers(0, len(topics), queries)] + noise * rng.standard_normal((queries, dim), dtype=np.float32)
    return unit(members), unit(asked)


def timed_searches(search, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    search(queries[:1], k)  # warm-up
    times, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = search(q[None, :], k)
        times.append(time.perf_counter() - start)
        row = np.full(k, -1, np.int64)
        row[: ids.shape[1]] = ids[0][:k]
        found.append(row)
    return times, np.vstack(found)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth)]))


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def bench_store(label: str, settings: Settings, ids, vectors, queries, truth, work: Path) -> dict:
    index_dir = Path(tempfile.mkdtemp(dir=work))
    staging = index_dir / "gen-000001.tmp"
    staging.mkdir(parents=True)
    gc.collect()
    start = time.perf_counter()
    store = new_store(settings.store, vectors.shape[1], settings)
    store.add(ids, vectors)
    store.save(staging)
    if settings.store == "milvus":
        wait_for_milvus_index(store)
    build = time.perf_counter() - start
    final = index_dir / "gen-000001"
    staging.rename(final)
    del store
    gc.collect()
    rows = []
    # The IVF is built once and opened both ways: read into memory, and memory-mapped.
    modes = [("", False), (", mapped", True)] if settings.store == "faiss-ann" else [("", settings.ann_mmap)]
    for suffix, mode in modes:
        opening = settings.replace(ann_mmap=mode)
        memory = open_memory_mb(final, new_store_name(settings), vectors.shape[1], opening)
        start = time.perf_counter()
        loaded = load_store(new_store_name(settings), final, vectors.shape[1], opening)
        opened = time.perf_counter() - start
        if settings.store == "milvus":
            import qa.store.milvus as milvus

            milvus.FRESH_S = -1.0  # measure settled reads (Bounded); Strong ones are measured below
        times, found = timed_searches(loaded.search, queries)
        row = {
            "store": label + suffix, "build_s": build, "open_s": opened, "open_rss_mb": memory,
            "disk_mb": folder_mb(final), "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * float(np.percentile(times, 95)), "recall10": recall_at(found, truth),
        }
        if settings.store == "milvus":
            milvus.FRESH_S = 1e12
            strong, _ = timed_searches(loaded.search, queries[:50])
            row["note"] = f"Strong consistency p50 {1000 * statistics.median(strong):.1f} ms"
        rows.append(row)
        del loaded
    return rows


def open_memory_mb(folder: Path, name: str, dimension: int, settings: Settings) -> float:
    """Resident memory a fresh process gains by opening the generation (after importing everything it needs)."""
    if name == "milvus":
        return float("nan")  # the server holds the vectors
    code = (
        "import sys, faiss; sys.path.insert(0, sys.argv[1]); from pathlib import Path; from qa.settings import Settings;"
        "from qa.store.vectors import load_store; import qa.store.faiss_ann;"
        "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024;"
        "before = rss(); store = load_store(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]),"
        " Settings(store=sys.argv[2], ann_mmap=sys.argv[5] == '1')); print(rss() - before)"
    )
    root = str(Path(__file__).resolve().parents[1])
    args = [sys.executable, "-c", code, root, name, str(folder), str(dimension), "1" if settings.ann_mmap else "0"]
    return float(subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip())


def new_store_name(settings: Settings) -> str:
    return "faiss-ann" if settings.store == "auto" else settings.store


def wait_for_milvus_index(store, timeout_s: float = 900) -> None:
    """Seal the segments and wait until the server has built its HNSW index over every row."""
    client = store._connect()
    client.flush(store.collection)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = client.describe_index(store.collection, "vector")
        if info.get("pending_index_rows", 1) == 0 and info.get("indexed_rows", 0) >= len(store):
            return
        time.sleep(0.5)
    raise TimeoutError("the Milvus server did not finish its index in time")


def bench_hnsw(vectors, queries, truth, m: int = 32, ef_construction: int = 80, ef_search: int = 128) -> dict:
    import faiss

    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(vectors)
    build = time.perf_counter() - start
    index.hnsw.efSearch = ef_search
    times, found = timed_searches(index.search, queries)
    return {
        "store": f"faiss HNSW M{m} ef{ef_search} (not a store)", "build_s": build, "open_s": float("nan"),
        "open_rss_mb": float("nan"), "disk_mb": float("nan"), "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * float(np.percentile(times, 95)), "recall10": recall_at(found, truth),
    }


def start_milvus(work: Path):
    from milvus import MilvusServer

    server = MilvusServer()
    server.set_base_dir(str(work / "milvus-server"))
    server.start()
    return server, f"http://127.0.0.1:{server.listen_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", nargs="+", default=["uniform", "clustered"], choices=["uniform", "clustered"])
    parser.add_argument("--nprobe", type=int, default=Settings().ann_nprobe)
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads (default 1)")
    parser.add_argument("--no-hnsw", action="store_true", help="skip the FAISS HNSW comparison")
    parser.add_argument("--no-milvus", action="store_true", help="skip the Milvus server")
    parser.add_argument("--milvus-uri", help="an already running Milvus server instead of starting one")
    args = parser.parse_args()

    import faiss

    # One query at a time uses one core in FAISS anyway; an OpenMP team on a shared 2-core machine only spins.
    faiss.omp_set_num_threads(args.threads)
    print(f"CPU: {cpu_name()}; faiss {faiss.__version__} with {args.threads} thread(s)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-stores-"))
    server, uri, rows = None, args.milvus_uri, []
    cases = [(n, kind) for n in args.sizes for kind in args.data]
    try:
        data = {}
        for n, kind in cases:  # in-process first: a running Milvus server's threads would slow FAISS down
            vectors, queries = dataset(kind, n, args.dim, args.queries)
            exact = faiss.IndexFlatIP(args.dim)
            exact.add(vectors)
            truth = exact.search(queries, 10)[1]
            del exact
            data[n, kind] = vectors, queries, truth
            ids = np.arange(n, dtype=np.int64)
            configs = [
                ("faiss-flat", Settings(store="faiss-flat")),
                (f"faiss-ann IVF nprobe{args.nprobe}", Settings(store="faiss-ann", ann_nprobe=args.nprobe)),
            ]
            for label, settings in configs:
                for row in bench_store(label, settings, ids, vectors, queries, truth, work):
                    rows.append({"n": n, "data": kind, **row})
                print(f"  {n:,} {kind} {label}: done", flush=True)
            if not args.no_hnsw:
                rows.append({"n": n, "data": kind, **bench_hnsw(vectors, queries, truth)})
                print(f"  {n:,} {kind} HNSW: done", flush=True)
        if not args.no_milvus:
            if uri is None:
                start = time.perf_counter()
                server, uri = start_milvus(work)
                print(f"Milvus server started in {time.perf_counter() - start:.1f} s at {uri}", flush=True)
            for n, kind in cases:
                vectors, queries, truth = data[n, kind]
                settings = Settings(store="milvus", milvus_uri=uri)
                for row in bench_store("milvus server HNSW ef64", settings, np.arange(n, dtype=np.int64), vectors,
                                       queries, truth, work):
                    rows.append({"n": n, "data": kind, **row})
                print(f"  {n:,} {kind} milvus: done", flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| vectors | data | store | build s | open s | memory at open MB | on disk MB | search p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:,} | {r['data']} | {r['store']} | {r['build_s']:.1f} | {r['open_s']:.2f} | "
            f"{r['open_rss_mb']:.0f} | {r['disk_mb']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['recall10']:.3f} |"
        )
    for r in rows:
        if r.get("note"):
            print(f"{r['n']:,} {r['data']} {r['store']}: {r['note']}")
    print(f"\n{args.queries} queries, one at a time, k=10; medians. CPU: {cpu_name()}")


if __name__ == "__main__":
    main()
