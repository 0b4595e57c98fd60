"""Lexical-search candidates for an index that updates incrementally, measured side by side on the same chunks.

The product wants immutable segments: a sync adds a small new segment and tombstones the chunks it deletes; a merge
combines segments. This script measures what each candidate costs and how close its ranking stays to today's
lexical index (qa.store.lexical.BM25Index, one bm25s index rebuilt over every chunk on each sync).

Candidates (each behind one small interface: build, add, delete, commit, search):

    bm25s-monolithic        today's BM25Index (as at commit 9439a3b, reimplemented here with bm25s so that it stays
                            fixed): an update rebuilds it over all live chunks and saves it
    bm25s-segments          one bm25s index per segment (the corpus split into --segments in file order, as several
                            syncs would leave it), tombstones filtered at query time; each query term's postings
                            rescaled by idf_global / idf_segment (df and N summed over segments, tombstoned chunks
                            still counted, as Lucene does until a merge); an update builds one small segment
    bm25s-segments-exact    the same, and also undoes each segment's own average chunk length (it keeps the chunk
                            lengths), so scores equal a single index over the same chunks
    bm25s-segments-lexicalview  the project's own segmented search, qa.store.lexical.LexicalView over one
                            qa.store.lexical.BM25Index per segment, when that module has it (skipped otherwise)
    sqlite-fts5             one FTS5 table, tokenize='porter unicode61'; query = OR of the question's words less
                            bm25s's English stop words, ranked by bm25(); incremental INSERT/DELETE, WAL journal
    sqlite-fts5-prestemmed  FTS5 (tokenize='unicode61') over text already put through bm25s's own analysis in Python
                            (token pattern, stop words, PyStemmer English)
    tantivy                 tantivy (PyPI `tantivy`), field tokenizer "en_stem"; query words less bm25s's stop words;
                            delete by a term-set query on the id field + add + commit + reload; writer on 1 thread
    tantivy-bm25s-analyzer  tantivy with an analyzer built like bm25s's (regex \\w\\w+, lowercase, bm25s's English stop
                            words, Snowball English stemmer)

What is indexed: the chunks the index build makes, chunked in-process with qa.ingest.sync.segment using the default
embedder's tokenizer only (the model is not loaded), each indexed as f"{title}\\n{chunk text}" as
qa.ingest.sync builds the lexical index. --embedder hashing:384 chunks with the test embedder instead (the JSON says
which was used).

Figures, one run (latency figures are medians):
  * lexical-only retrieval on the answerable questions of each --questions file: hit@5, hit@20 at the article level
    (the top 50 chunks deduplicated to articles, in order), MRR over those articles, and overlap@50 (the share of
    bm25s-monolithic's top 50 chunks the candidate also returns in its top 50; 1.0 = same set);
  * query p50 (ms) over all those questions, on the BBC index and on the synthetic one;
  * build time of the full BBC index and of a synthetic index of --synthetic-chunks chunks (BBC chunks repeated under
    new ids);
  * update time: 300 changes (100 articles added, 100 edited = delete + add, 100 deleted; --changes) applied to each
    index, committed and made searchable; median of --update-rounds rounds with disjoint articles. The ratio
    synthetic/BBC says whether an update costs in proportion to the change or to the index;
  * a check after the updates that deleted chunks are no longer found and added ones are.
Indexes live in a temporary folder on disk; each candidate persists its changes as it would in the product, synced
to disk (bm25s folders fsynced as the product's generation writer does, SQLite WAL with synchronous=FULL, tantivy's
own commit). The machine's load average is recorded: timings on a shared machine move with other work.

Run (from the repository root; tantivy is optional: `.venv/bin/pip install tantivy`):

    .venv/bin/python scripts/bench_lexical.py
    .venv/bin/python scripts/bench_lexical.py --candidates bm25s-monolithic sqlite-fts5 --synthetic-chunks 30000

Options: --corpus (default ../shared/corpora/bbc), --questions FILE [FILE ...] (default the BBC dev and paraphrase dev
files), --synthetic-chunks (default 100000; 0 skips), --candidates, --segments (default 8), --changes (default 100),
--update-rounds (default 3), --embedder (default: the product's default), --lexical-module (a qa/store/lexical.py
file loaded on its own for bm25s-segments-lexicalview; default: qa.store.lexical as imported), --out (default
bench-results/lexical.json).

It prints a Markdown table and writes the JSON. It draws no conclusions: read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from qa.eval.questions import article_rank, load_questions, percentile  # noqa: E402
from qa.ingest.sync import folder_chunks  # noqa: E402
from qa.settings import Settings  # noqa: E402

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern
TOP = 50  # chunks read per question, deduplicated to articles


# -- chunks -----------------------------------------------------------------------------------------------------------
class TokenizerOnly:
    """The counting half of the default embedder (its Hugging Face tokenizer, as SentenceTransformerEmbedder counts
    tokens) without loading the model: chunk boundaries need only the tokenizer and the max sequence length."""

    def __init__(self, model: str):
        from transformers import AutoTokenizer

        from qa.embedders import resolve_model_path

        path = Path(resolve_model_path(model))
        self._tokenizer = AutoTokenizer.from_pretrained(str(path))
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config["max_seq_length"]) - 2  # as SentenceTransformerEmbedder.max_tokens
        self.name = model

    def count_tokens(self, texts):
        if not texts:
            return []
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def token_spans(self, text):
        encoded = self._tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        return [tuple(span) for span in encoded["offset_mapping"]]


def load_chunks(folder: Path, embedder_name: str | None):
    """(article ids, titles, lexical texts) per chunk, in file order, plus a description of the chunker."""
    settings = Settings() if embedder_name is None else Settings(embedder=embedder_name)
    if settings.embedder.startswith("hashing"):
        from qa.embedders import make_embedder

        embedder, chunker = make_embedder(settings), f"{settings.embedder} (test embedder's token counter)"
    else:
        embedder, chunker = TokenizerOnly(settings.embedder), f"{settings.embedder} tokenizer"
    articles, texts, titles = [], [], []
    for article, chunks, _ in folder_chunks(folder, embedder, settings):
        for chunk in chunks:
            articles.append(article.id)
            titles.append(article.title)
            # as qa.store.writer builds the lexical index: the title counts as words of every chunk
            texts.append(f"{article.title or ''}\n{chunk.text}")
    return articles, titles, texts, chunker


def analyze(texts, stemmer):
    """bm25s's own analysis (token pattern, English stop words, PyStemmer English) as lists of terms."""
    from bm25s.stopwords import STOPWORDS_EN

    out = []
    for text in texts:
        words = [w for w in TOKEN.findall(text.lower()) if w not in STOPWORDS_EN]
        out.append(stemmer.stemWords(words) if stemmer is not None else words)
    return out


def query_words(query: str) -> list[str]:
    """The question's words (bm25s's token pattern) less bm25s's English stop words, distinct, unstemmed."""
    from bm25s.stopwords import STOPWORDS_EN

    return list(dict.fromkeys(w for w in TOKEN.findall(query.lower()) if w not in STOPWORDS_EN))


def stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def top_k(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top if scores[i] > 0]


def fsync_tree(path: Path) -> None:
    """Make written files durable, as the product's generation writer does (tantivy's commit and SQLite's WAL commit
    sync on their own)."""
    for entry in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if entry.is_file():
            with entry.open("rb") as handle:
                os.fsync(handle.fileno())
    folder = path if path.is_dir() else path.parent
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- candidates -------------------------------------------------------------------------------------------------------
class Candidate:
    """build(ids, texts); add(ids, texts); delete(ids); commit() makes the changes durable and searchable;
    search(query, k) -> [(chunk id, score)] best first."""

    name = ""
    analysis = ""

    def __init__(self, work: Path):
        self.work = work
        work.mkdir(parents=True)

    def close(self) -> None:
        pass


class BM25sMonolithic(Candidate):
    """Today's lexical index, as qa.store.lexical.BM25Index is at commit 9439a3b (built and searched here with
    bm25s directly, so that the baseline does not move while qa/store is rewritten): one bm25s index over every live
    chunk, rebuilt and saved in a new folder on each update."""

    name = "bm25s-monolithic"
    analysis = "bm25s: token \\w\\w+, bm25s English stop words, PyStemmer english (Snowball); k1 1.5, b 0.75, lucene idf"

    def build(self, ids, texts):
        self.stem = stemmer()
        self.live = dict(zip(ids, texts))
        self.generation = 0
        self._rebuild()

    def _rebuild(self):
        import bm25s

        ids = sorted(self.live)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize([self.live[i] for i in ids], stopwords="en", stemmer=self.stem, show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.generation += 1
        folder = self.work / f"gen-{self.generation:06d}"
        folder.mkdir()
        self.retriever.save(str(folder), allow_pickle=False, show_progress=False)
        np.save(folder / "chunk_ids.npy", self.ids, allow_pickle=False)
        fsync_tree(folder)
        if self.generation > 1:
            shutil.rmtree(self.work / f"gen-{self.generation - 1:06d}")

    def add(self, ids, texts):
        self.live.update(zip(ids, texts))

    def delete(self, ids):
        for i in ids:
            self.live.pop(i, None)

    def commit(self):
        self._rebuild()

    def search(self, query, k):
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self.stem, show_progress=False, return_ids=False)
        words = [w for w in tokens[0] if w in self.retriever.vocab_dict]
        if not words:
            return []
        return top_k(self.ids, self.retriever.get_scores(words), k)


class _Segment:
    def __init__(self, ids, texts, stem, folder: Path):
        import bm25s

        self.ids = np.asarray(ids, dtype=np.int64)
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stem, show_progress=False)
        self.lengths = np.array([len(doc) for doc in tokens.ids], dtype=np.float64)
        self.retriever.index(tokens, show_progress=False)
        self.n = int(self.retriever.scores["num_docs"])
        self.total_length = float(self.lengths.sum())
        self.avgdl = self.total_length / max(1, self.n)
        self.alive = np.ones(self.n, dtype=bool)
        self.position = {int(i): p for p, i in enumerate(self.ids)}
        self.folder = folder
        self.retriever.save(str(folder), allow_pickle=False, show_progress=False)
        np.save(folder / "chunk_ids.npy", self.ids, allow_pickle=False)
        np.save(folder / "lengths.npy", self.lengths.astype(np.int32), allow_pickle=False)
        fsync_tree(folder)

    def df(self, term) -> int:
        term_id = self.retriever.vocab_dict.get(term)
        if term_id is None:
            return 0
        indptr = self.retriever.scores["indptr"]
        return int(indptr[term_id + 1] - indptr[term_id])

    def save_tombstones(self):
        np.save(self.folder / "deleted.npy", np.flatnonzero(~self.alive).astype(np.int32), allow_pickle=False)
        fsync_tree(self.folder / "deleted.npy")


def _lucene_idf(df, n):
    return np.log(1 + (n - df + 0.5) / (df + 0.5))


class BM25sSegments(Candidate):
    name = "bm25s-segments"
    analysis = BM25sMonolithic.analysis
    exact_length = False
    segments_at_build = 8

    def build(self, ids, texts):
        self.stem = stemmer()
        self.segments: list[_Segment] = []
        self.pending_ids, self.pending_texts, self.touched = [], [], set()
        bounds = np.linspace(0, len(ids), self.segments_at_build + 1).astype(int)
        for lo, hi in pairwise(bounds):
            self._new_segment(ids[lo:hi], texts[lo:hi])

    def _new_segment(self, ids, texts):
        if len(ids):
            folder = self.work / f"seg-{len(self.segments):04d}"
            folder.mkdir()
            self.segments.append(_Segment(ids, texts, self.stem, folder))

    def add(self, ids, texts):
        self.pending_ids += list(ids)
        self.pending_texts += list(texts)

    def delete(self, ids):
        wanted = {int(i) for i in ids}
        for seg in self.segments:
            hit = [seg.position[i] for i in wanted if i in seg.position]
            if hit:
                seg.alive[hit] = False
                self.touched.add(id(seg))

    def commit(self):
        for seg in self.segments:
            if id(seg) in self.touched:
                seg.save_tombstones()
        self.touched.clear()
        self._new_segment(self.pending_ids, self.pending_texts)
        self.pending_ids, self.pending_texts = [], []

    def search(self, query, k):
        import bm25s

        terms = bm25s.tokenize([query], stopwords="en", stemmer=self.stem, show_progress=False, return_ids=False)[0]
        if not terms or not self.segments:
            return []
        # global statistics: N, df and the average length summed over segments (tombstoned chunks included)
        n_global = sum(seg.n for seg in self.segments)
        unique = list(dict.fromkeys(terms))
        df_global = {t: sum(seg.df(t) for seg in self.segments) for t in unique}
        avgdl_global = sum(seg.total_length for seg in self.segments) / n_global
        k1, b = 1.5, 0.75
        hits = []
        for seg in self.segments:
            scores_of = seg.retriever.scores
            data, indices, indptr = scores_of["data"], scores_of["indices"], scores_of["indptr"]
            parts_i, parts_w = [], []
            for term in terms:  # duplicates kept: bm25s sums a repeated query word twice
                term_id = seg.retriever.vocab_dict.get(term)
                if term_id is None or not df_global[term]:
                    continue
                start, end = indptr[term_id], indptr[term_id + 1]
                if start == end:
                    continue
                idf_seg = _lucene_idf(end - start, seg.n)
                idf_glob = _lucene_idf(df_global[term], n_global)
                docs = indices[start:end]
                if self.exact_length:
                    # stored score = idf_seg * tf / (K_seg + tf), K = k1 (1 - b + b dl / avgdl): recover tf, rescore
                    tfc = data[start:end].astype(np.float64) / idf_seg
                    dl = seg.lengths[docs]
                    tf = tfc * (k1 * (1 - b + b * dl / seg.avgdl)) / (1 - tfc)
                    weights = idf_glob * tf / (k1 * (1 - b + b * dl / avgdl_global) + tf)
                else:
                    weights = data[start:end] * (idf_glob / idf_seg)
                parts_i.append(docs)
                parts_w.append(weights)
            if not parts_i:
                continue
            scores = np.bincount(np.concatenate(parts_i), np.concatenate(parts_w), minlength=seg.n)
            scores[~seg.alive] = 0
            hits += top_k(seg.ids, scores, k)
        hits.sort(key=lambda pair: -pair[1])
        return hits[:k]


class BM25sSegmentsExact(BM25sSegments):
    name = "bm25s-segments-exact"
    exact_length = True


LEXICAL_MODULE: Path | None = None  # --lexical-module: a qa/store/lexical.py file to load on its own


def lexical_module():
    """qa.store.lexical as imported, or the file given by --lexical-module loaded standalone (it needs no other qa
    module), so a version being written in another checkout can be measured."""
    if LEXICAL_MODULE is None:
        from qa.store import lexical

        return lexical
    import importlib.util

    spec = importlib.util.spec_from_file_location("lexical_under_test", LEXICAL_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LexicalViewSegments(Candidate):
    """The project's own segmented search, when qa.store.lexical has it: one qa.store.lexical.BM25Index per segment
    (saved in its own folder), searched through qa.store.lexical.LexicalView(segments, deleted chunk ids). Skipped
    when the module has no LexicalView."""

    name = "bm25s-segments-lexicalview"
    analysis = BM25sMonolithic.analysis + " (qa.store.lexical.LexicalView: global IDF rescaling, as bm25s-segments)"
    segments_at_build = 8

    def build(self, ids, texts):
        self.lexical = lexical_module()
        self.segments, self.deleted = [], np.zeros(0, dtype=np.int64)
        self.pending_ids, self.pending_texts = [], []
        bounds = np.linspace(0, len(ids), self.segments_at_build + 1).astype(int)
        for lo, hi in pairwise(bounds):
            self._new_segment(ids[lo:hi], texts[lo:hi])
        self.view = self.lexical.LexicalView(self.segments, self.deleted)

    def _new_segment(self, ids, texts):
        if len(ids):
            folder = self.work / f"seg-{len(self.segments):04d}"
            folder.mkdir()
            index = self.lexical.BM25Index.build(list(ids), list(texts))
            index.save(folder)
            fsync_tree(folder)
            self.segments.append(index)

    def add(self, ids, texts):
        self.pending_ids += list(ids)
        self.pending_texts += list(texts)

    def delete(self, ids):
        self.deleted = np.union1d(self.deleted, np.asarray(ids, dtype=np.int64))

    def commit(self):
        np.save(self.work / "deleted.npy", self.deleted, allow_pickle=False)
        fsync_tree(self.work / "deleted.npy")
        self._new_segment(self.pending_ids, self.pending_texts)
        self.pending_ids, self.pending_texts = [], []
        self.view = self.lexical.LexicalView(self.segments, self.deleted)

    def search(self, query, k):
        return self.view.search(query, k)


class SqliteFTS5(Candidate):
    name = "sqlite-fts5"
    analysis = ("FTS5 tokenize='porter unicode61' (alphanumeric runs, diacritics folded, Porter 1980 stemmer, no stop "
                "words in the index); query words less bm25s stop words; bm25() k1 1.2, b 0.75")
    tokenize = "porter unicode61"
    prestem = False

    def build(self, ids, texts):
        self.stem = stemmer() if self.prestem else None
        self.db = sqlite3.connect(self.work / "fts.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # every commit synced, as the other candidates' writes are
        self.db.execute(f"CREATE VIRTUAL TABLE chunks USING fts5(body, tokenize='{self.tokenize}')")
        self.db.execute("BEGIN")
        self._insert(ids, texts)
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def _body(self, texts):
        return [" ".join(terms) for terms in analyze(texts, self.stem)] if self.prestem else list(texts)

    def _insert(self, ids, texts):
        self.db.executemany("INSERT INTO chunks(rowid, body) VALUES (?, ?)", zip(map(int, ids), self._body(texts)))

    def add(self, ids, texts):
        self._insert(ids, texts)

    def delete(self, ids):
        self.db.executemany("DELETE FROM chunks WHERE rowid = ?", [(int(i),) for i in ids])

    def commit(self):
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def search(self, query, k):
        words = query_words(query)
        if self.prestem:
            words = list(dict.fromkeys(self.stem.stemWords(words)))
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = self.db.execute(
            "SELECT rowid, bm25(chunks) FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT ?", (match, k)
        ).fetchall()
        return [(int(r), -float(s)) for r, s in rows]

    def close(self):
        self.db.execute("COMMIT")
        self.db.close()


class SqliteFTS5Prestemmed(SqliteFTS5):
    name = "sqlite-fts5-prestemmed"
    analysis = ("bm25s's analysis done in Python (\\w\\w+, bm25s stop words, PyStemmer english), stored as terms in "
                "FTS5 tokenize='unicode61'; bm25() k1 1.2, b 0.75")
    tokenize = "unicode61"
    prestem = True


class Tantivy(Candidate):
    name = "tantivy"
    analysis = ("tantivy en_stem (simple alphanumeric tokenizer, remove >40 chars, lowercase, Snowball English "
                "stemmer; no stop words in the index); query words less bm25s stop words; BM25 k1 1.2, b 0.75")
    analyzer = "en_stem"

    def build(self, ids, texts):
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=False, indexed=True, fast=True)
        builder.add_text_field("body", stored=False, tokenizer_name=self.analyzer, index_option="freq")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(self.work))
        if self.analyzer != "en_stem":
            from bm25s.stopwords import STOPWORDS_EN

            analyzer = (
                tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"\w\w+"))
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.custom_stopword(sorted(STOPWORDS_EN)))
                .filter(tantivy.Filter.stemmer("english"))
                .build()
            )
            self.index.register_tokenizer(self.analyzer, analyzer)
        self.writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        self.add(ids, texts)
        self.commit()

    def add(self, ids, texts):
        Document = self.tantivy.Document
        for i, text in zip(ids, texts):
            self.writer.add_document(Document(id=int(i), body=text))

    def delete(self, ids):
        if len(ids):
            self.writer.delete_documents_by_query(
                self.tantivy.Query.term_set_query(self.schema, "id", [int(i) for i in ids])
            )

    def commit(self):
        self.writer.commit()
        self.index.reload()

    def search(self, query, k):
        words = query_words(query)
        if not words:
            return []
        parsed, _errors = self.index.parse_query_lenient(" ".join(words), ["body"])
        searcher = self.index.searcher()
        hits = searcher.search(parsed, limit=k, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(i), float(score)) for i, (score, _) in zip(ids, hits)]

    def close(self):
        self.writer.wait_merging_threads()


class TantivyBM25sAnalyzer(Tantivy):
    name = "tantivy-bm25s-analyzer"
    analysis = ("tantivy with regex \\w\\w+, lowercase, bm25s English stop words, Snowball English stemmer (as bm25s "
                "analyses); BM25 k1 1.2, b 0.75")
    analyzer = "bm25s_like"


CANDIDATES = {
    c.name: c
    for c in (BM25sMonolithic, BM25sSegments, BM25sSegmentsExact, LexicalViewSegments, SqliteFTS5,
              SqliteFTS5Prestemmed, Tantivy, TantivyBM25sAnalyzer)
}  # fmt: skip


# -- the measurements -------------------------------------------------------------------------------------------------
def change_plan(chunk_articles: list[str], rounds: int, changes: int, seed: int = 7):
    """Disjoint article sets per round: `changes` to delete, `changes` to edit; `changes` sources to re-add as new
    articles (copies under new ids; any article may be copied)."""
    order = list(dict.fromkeys(chunk_articles))
    rng = random.Random(seed)
    picked = rng.sample(order, 2 * changes * rounds)
    plans = []
    for r in range(rounds):
        block = picked[2 * changes * r : 2 * changes * (r + 1)]
        plans.append({"delete": block[:changes], "edit": block[changes:], "add": rng.sample(order, changes)})
    return plans


def apply_round(candidate, plan, chunks_of: dict, texts: list[str], next_id: int, copy_offset: int = 0):
    """Delete, edit (delete + add under new ids, last chunk changed) and add articles; returns seconds, the next free
    id, the deleted chunk ids and the added (id, text) pairs."""
    deleted, added = [], []
    for article in plan["delete"] + plan["edit"]:
        deleted += [c + copy_offset for c in chunks_of[article]]
    for n, article in enumerate(plan["edit"] + plan["add"]):
        source = [texts[c] for c in chunks_of[article]]
        if n < len(plan["edit"]):
            source[-1] = source[-1] + " This story was updated with a correction."
        else:
            source = [f"Follow-up {next_id}: " + t for t in source]
        for text in source:
            added.append((next_id, text))
            next_id += 1
    started = time.perf_counter()
    candidate.delete(deleted)
    candidate.add([i for i, _ in added], [t for _, t in added])
    candidate.commit()
    return time.perf_counter() - started, next_id, deleted, added


def check_updates(candidate, deleted: list[int], added: list[tuple[int, str]]) -> bool:
    """Deleted chunks are never returned; an added chunk is found by its own text's distinctive prefix."""
    gone = set(deleted)
    probes = added[:: max(1, len(added) // 10)][:10]
    for chunk_id, text in probes:
        results = [i for i, _ in candidate.search(text[:300], TOP)]
        if chunk_id not in results or gone.intersection(results):
            return False
    return True


def evaluate(candidate, questions, chunk_articles: list[str]):
    per_question, latencies = {}, []
    for q in questions:
        started = time.perf_counter()
        hits = candidate.search(q.question, TOP)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [i for i, _ in hits]
        per_question[q.id] = {"chunks": ranked, "rank": article_rank([chunk_articles[i] for i in ranked], q.doc)}
    return per_question, latencies


def retrieval_figures(per_question: dict, questions, reference: dict | None) -> dict:
    ranks = [per_question[q.id]["rank"] for q in questions]
    out = {
        "questions": len(questions),
        "hit@5": sum(1 for r in ranks if r is not None and r <= 5) / len(ranks),
        "hit@20": sum(1 for r in ranks if r is not None and r <= 20) / len(ranks),
        "mrr": sum(1 / r for r in ranks if r is not None) / len(ranks),
    }
    if reference is not None:
        shares = []
        for q in questions:
            ref = set(reference[q.id]["chunks"])
            shares.append(len(ref & set(per_question[q.id]["chunks"])) / len(ref) if ref else 1.0)
        out["overlap@50"] = statistics.mean(shares)
    return out


def bench(name: str, args, chunk_articles, texts, question_sets, reference, tmp: Path) -> dict:
    cls = CANDIDATES[name]
    cls.segments_at_build = args.segments
    result: dict = {"candidate": name, "analysis": cls.analysis}
    ids = list(range(len(texts)))
    chunks_of: dict[str, list[int]] = {}
    for i, article in enumerate(chunk_articles):
        chunks_of.setdefault(article, []).append(i)
    plans = change_plan(chunk_articles, args.update_rounds, args.changes)

    # the BBC index: build, questions, updates
    candidate = cls(tmp / f"{name}-bbc")
    started = time.perf_counter()
    candidate.build(ids, texts)
    result["build_s"] = time.perf_counter() - started
    result["chunks"] = len(texts)
    all_latencies, result["retrieval"], result["per_question"] = [], {}, {}
    candidate.search("warm up the index", TOP)
    for label, questions in question_sets.items():
        per_question, latencies = evaluate(candidate, questions, chunk_articles)
        all_latencies += latencies
        result["per_question"][label] = per_question
        ref = reference.get(label) if reference else None
        result["retrieval"][label] = retrieval_figures(per_question, questions, ref)
    result["query_p50_ms"] = percentile(all_latencies, 50)
    next_id, times, deleted, added = len(texts), [], [], []
    changed_chunks = []
    for plan in plans:
        seconds, next_id, gone, new = apply_round(candidate, plan, chunks_of, texts, next_id)
        times.append(seconds)
        deleted += gone
        added += new
        changed_chunks.append(len(gone) + len(new))
    result["update_s"] = statistics.median(times)
    result["update_rounds_s"] = times
    result["chunks_changed_per_round"] = changed_chunks
    result["update_check"] = check_updates(candidate, deleted, added)
    candidate.close()
    del candidate
    shutil.rmtree(tmp / f"{name}-bbc", ignore_errors=True)

    # the synthetic index: BBC chunks repeated under new ids
    if args.synthetic_chunks:
        copies = -(-args.synthetic_chunks // len(texts))
        big_texts = [texts[i % len(texts)] for i in range(copies * len(texts))][: args.synthetic_chunks]
        big_articles = [chunk_articles[i % len(texts)] for i in range(len(big_texts))]
        candidate = cls(tmp / f"{name}-synthetic")
        started = time.perf_counter()
        candidate.build(list(range(len(big_texts))), big_texts)
        result["synthetic_chunks"] = len(big_texts)
        result["synthetic_build_s"] = time.perf_counter() - started
        candidate.search("warm up the index", TOP)
        latencies = []
        for questions in question_sets.values():
            latencies += evaluate(candidate, questions, big_articles)[1]
        result["synthetic_query_p50_ms"] = percentile(latencies, 50)
        next_id, times = len(big_texts), []
        for plan in plans:  # the same changes, to the first copy's chunks (same ids as in the BBC index)
            seconds, next_id, _, _ = apply_round(candidate, plan, chunks_of, texts, next_id)
            times.append(seconds)
        result["synthetic_update_s"] = statistics.median(times)
        result["synthetic_update_rounds_s"] = times
        result["update_ratio"] = result["synthetic_update_s"] / result["update_s"]
        candidate.close()
        del candidate
        shutil.rmtree(tmp / f"{name}-synthetic", ignore_errors=True)
    return result


def table(results: list[dict], labels: list[str]) -> str:
    head = ["candidate"]
    for label in labels:
        head += [f"{label} {figure}" for figure in ("hit@5", "hit@20", "MRR", "overlap@50")]
    head += ["query p50 ms", "build s", "update s", "synth query p50 ms", "synth build s", "synth update s",
             "update ratio", "update check"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [r["candidate"]]
        for label in labels:
            fig = r["retrieval"][label]
            overlap = fig.get("overlap@50")
            row += [f"{fig['hit@5']:.3f}", f"{fig['hit@20']:.3f}", f"{fig['mrr']:.3f}",
                    "-" if overlap is None else f"{overlap:.3f}"]  # fmt: skip
        row += [f"{r['query_p50_ms']:.2f}", f"{r['build_s']:.2f}", f"{r['update_s']:.3f}"]
        if "synthetic_update_s" in r:
            row += [f"{r['synthetic_query_p50_ms']:.2f}", f"{r['synthetic_build_s']:.2f}",
                    f"{r['synthetic_update_s']:.3f}", f"{r['update_ratio']:.2f}"]  # fmt: skip
        else:
            row += ["-"] * 4
        row.append("ok" if r["update_check"] else "FAILED")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def code_identity() -> dict:
    """Which code was measured: the commit of this checkout, whether it had local changes, and the lexical module
    used by bm25s-segments-lexicalview (path and sha256)."""
    import hashlib
    import subprocess

    def git(*argv):
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    path = Path(LEXICAL_MODULE or ROOT / "qa/store/lexical.py")
    return {
        "root": str(ROOT),
        "commit": git("rev-parse", "HEAD"),
        "local_changes": git("status", "--porcelain", "--untracked-files=no", "qa"),
        "lexical_module": str(path),
        "lexical_module_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument(
        "--questions", nargs="+", type=Path,
        default=[ROOT.parent / "shared/eval/bbc_dev.jsonl", ROOT.parent / "shared/eval/bbc_paraphrase_dev.jsonl"],
    )  # fmt: skip
    parser.add_argument("--synthetic-chunks", type=int, default=100_000)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--segments", type=int, default=8, help="segments the corpus is split into (bm25s-segments)")
    parser.add_argument("--changes", type=int, default=100, help="articles added, edited and deleted per update")
    parser.add_argument("--update-rounds", type=int, default=3)
    parser.add_argument("--embedder", default=None, help="chunk with this embedder's tokenizer (default: the product's)")
    parser.add_argument("--lexical-module", type=Path, default=None,
                        help="a qa/store/lexical.py to load standalone for bm25s-segments-lexicalview")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results/lexical.json")
    args = parser.parse_args()
    global LEXICAL_MODULE
    LEXICAL_MODULE = args.lexical_module

    load_start = os.getloadavg()
    started = time.perf_counter()
    chunk_articles, _titles, texts, chunker = load_chunks(args.corpus, args.embedder)
    print(f"{len(texts)} chunks of {len(set(chunk_articles))} articles, chunked with the {chunker} "
          f"in {time.perf_counter() - started:.1f}s", file=sys.stderr)  # fmt: skip
    question_sets = {}
    for path in args.questions:
        questions = [q for q in load_questions(path) if q.answers and q.doc]
        question_sets[path.stem] = questions

    names = list(dict.fromkeys(args.candidates))
    if "bm25s-monolithic" in names:  # first: the others' overlap is measured against it
        names.remove("bm25s-monolithic")
        names.insert(0, "bm25s-monolithic")
    results, skipped, reference = [], {}, None
    with tempfile.TemporaryDirectory(prefix="bench-lexical-") as tmp:
        for name in names:
            if name == "bm25s-segments-lexicalview":
                module = lexical_module()
                if not hasattr(module, "LexicalView"):
                    skipped[name] = f"{module.__file__} has no LexicalView"
                    print(f"{name}: skipped, {skipped[name]}", file=sys.stderr)
                    continue
            if name.startswith("tantivy"):
                try:
                    import tantivy  # noqa: F401
                except ImportError:
                    skipped[name] = "tantivy is not installed (pip install tantivy)"
                    print(f"{name}: skipped, {skipped[name]}", file=sys.stderr)
                    continue
            print(f"{name} ...", file=sys.stderr, flush=True)
            try:
                result = bench(name, args, chunk_articles, texts, question_sets, reference, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - one candidate's failure (an API in flux) must not lose the others' figures
                skipped[name] = f"failed: {type(exc).__name__}: {exc}"
                print(f"{name}: {skipped[name]}", file=sys.stderr)
                continue
            if name == "bm25s-monolithic":
                reference = result["per_question"]
            results.append(result)

    from importlib.metadata import PackageNotFoundError, version

    def package(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    labels = list(question_sets)
    print(table(results, labels))
    print()
    for r in results:
        print(f"- {r['candidate']}: {r['analysis']}")
    for name, why in skipped.items():
        print(f"- {name}: skipped, {why}")
    report = {
        "chunker": chunker,
        "chunks": len(texts),
        "articles": len(set(chunk_articles)),
        "questions": {label: len(q) for label, q in question_sets.items()},
        "top_chunks_read": TOP,
        "segments_at_build": args.segments,
        "changes_per_update": {"added": args.changes, "edited": args.changes, "deleted": args.changes},
        "update_rounds": args.update_rounds,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_start": load_start, "load_average_end": os.getloadavg()},
        "versions": {p: package(p) for p in ("bm25s", "PyStemmer", "tantivy")} | {"sqlite": sqlite3.sqlite_version},
        "skipped": skipped,
        "code": code_identity(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
