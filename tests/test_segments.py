"""Segments and tombstones: a sync writes what changed, never the whole index, and readers see exactly the live
articles however the index is split."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from qa.engine import Engine
from qa.settings import Settings
from qa.store.lexical import BM25Index, LexicalView
from qa.types import Article
from tests.conftest import story, write


def _article(i: int, topic: str = "harbour") -> Article:
    return Article(id=f"a{i:03d}", title=f"Report {i}",
                   text=story(f"Report {i}", f"The {topic} council met on day {i}.", f"Officials number {i} spoke."))


def _manifest(engine: Engine) -> dict:
    return engine.generation().manifest


def _files(generation) -> dict[str, os.stat_result]:
    return {p.relative_to(generation).as_posix(): p.stat() for p in generation.rglob("*") if p.is_file()}


def test_a_sync_writes_one_small_segment_and_hard_links_the_rest(settings, embedder):
    engine = Engine(settings=settings, embedder=embedder)
    engine.upsert([_article(i) for i in range(300)])
    first = engine.generation().path
    engine.upsert([_article(100, "airport")])
    second = engine.generation().path
    before, after = _files(first), _files(second)
    old = _manifest(engine)["segments"][0]["name"]
    shared = [n for n in after if n.startswith(old + "/")]
    assert shared and all(after[n].st_ino == before[n].st_ino for n in shared)  # the same bytes, not a copy
    new = [n for n in after if n.split("/")[0].startswith("seg-") and n not in before]
    assert sum(after[n].st_size for n in new) < sum(after[n].st_size for n in shared) / 3
    records = _manifest(engine)["files"]
    assert all(records[n] == json.loads((first / "manifest.json").read_text())["files"][n] for n in shared)
    assert all(c.ok for c in engine.verify(full=True)[1])


def test_deleted_and_edited_articles_are_tombstoned_everywhere(settings, embedder):
    engine = Engine(settings=settings, embedder=embedder)
    engine.upsert([_article(i) for i in range(10)])
    engine.delete(["a003"])
    engine.upsert([Article(id="a004", title="Report 4", text=story("Report 4", "The airport reopened at dawn."))])
    generation = engine.generation()
    assert "a003" not in engine.article_ids() and engine.article("a003") is None
    assert "airport" in engine.article("a004").text and "harbour" not in engine.article("a004").text
    assert len(engine.generation().segments) == 2  # a delete writes no segment: only tombstones
    deleted = np.concatenate([s.deleted_chunks for s in generation.segments])
    assert len(deleted) >= 2  # a003's chunks and a004's old ones
    hits = engine.search("harbour council officials", k=50)
    assert {p.article_id for p in hits} == {f"a{i:03d}" for i in range(10)} - {"a003"}  # every live one, once
    assert [p.text for p in hits if p.article_id == "a004"] == ["Report 4\n\nThe airport reopened at dawn."]
    assert not set(p.chunk_id for p in hits) & set(deleted.tolist())
    _, ids = generation.store.search(embedder.embed(["The harbour council met on day 3."]), 50)
    assert not set(ids[0].tolist()) & set(deleted.tolist())
    assert not set(generation.lexical.postings("harbour").tolist()) & set(deleted.tolist())
    assert generation.counts() == (9, sum(s.live_chunks for s in generation.segments))
    assert engine.articles_containing("airport reopened") == ["a004"]


def test_segments_stay_few_as_syncs_add_up_and_merging_changes_no_answer(tmp_path, embedder):
    # Dense ranking is exact and so unchanged by a merge; BM25's statistics do change a little (a merge drops the
    # deleted chunks that still counted in document frequencies, as in Lucene).
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", segment_chunks=12, retrieval="dense")
    engine = Engine(settings=settings, embedder=embedder)
    for day in range(30):
        engine.upsert([_article(day)])
        if day % 4 == 3:
            engine.delete([f"a{day - 2:03d}"])
    segments = engine.generation().segments
    assert len(segments) <= 8 + sum(s.live_chunks >= 6 for s in segments)  # MERGE_FACTOR small ones, at most
    before = [(p.article_id, p.chunk_id) for p in engine.search("council officials day", k=20)]
    ids = engine.article_ids()
    report = engine.merge()
    assert any("merged" in note for note in report.notes)
    after = engine.generation()
    assert all(not len(s.deleted_chunks) for s in after.segments)
    assert engine.article_ids() == ids
    assert [(p.article_id, p.chunk_id) for p in engine.search("council officials day", k=20)] == before


def test_a_big_build_is_written_in_segments_of_bounded_size(tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", segment_chunks=10)
    engine = Engine(settings=settings, embedder=embedder)
    report = engine.upsert([_article(i) for i in range(30)])
    segments = engine.generation().segments
    assert len(segments) >= 3 and max(s.chunks for s in segments) < 10 + 3
    assert report.chunks_embedded == sum(s.chunks for s in segments)
    assert len(engine.article_ids()) == 30


def test_a_renamed_file_keeps_its_vectors_under_the_new_name(engine, articles):
    write(articles, "old.txt", story("Storm", "The harbour closed after the storm."))
    engine.sync(articles)
    vectors = engine.generation().vectors(engine.generation().chunks_of(["old.txt"]))
    (articles / "old.txt").rename(articles / "new.txt")
    report = engine.sync(articles)
    assert report.added == ["new.txt"] and report.chunks_embedded == 0
    assert np.array_equal(engine.generation().vectors(engine.generation().chunks_of(["new.txt"])), vectors)
    assert engine.article_ids() == ["new.txt"] and engine.article_source("new.txt") == "new.txt"


def test_lexical_search_over_segments_scores_with_global_statistics():
    texts = ["storm harbour", "storm airport", "market shares", "storm storm river", "election vote", "harbour"]
    ids = list(range(len(texts)))
    whole = LexicalView([BM25Index.build(ids, texts)])
    parts = LexicalView([BM25Index.build(ids[:3], texts[:3]), BM25Index.build(ids[3:], texts[3:])])
    for term in ("storm", "harbour", "vote", "unseen"):
        assert parts.idf(term) == pytest.approx(whole.idf(term))
        assert sorted(parts.postings(term).tolist()) == sorted(whole.postings(term).tolist())
    assert {i for i, _ in parts.search("storm harbour", 10)} == {i for i, _ in whole.search("storm harbour", 10)}
    gone = LexicalView(parts.segments, np.asarray([0, 3]))
    assert {i for i, _ in gone.search("storm harbour", 10)} == {1, 5}
    assert 0 not in gone.postings("storm").tolist()


def test_apply_adds_edits_and_deletes_in_one_generation(settings, embedder):
    engine = Engine(settings=settings, embedder=embedder)
    engine.upsert([_article(i) for i in range(5)])
    edited = Article(id="a001", title="Report 1", text=story("Report 1", "The airport reopened."))
    report = engine.apply(upsert=[_article(9), edited], delete=["a002", "missing"])
    assert report.generation == 2 and report.added == ["a009"] and report.updated == ["a001"]
    assert report.removed == ["a002"] and [s.path for s in report.skipped] == ["missing"]
    assert engine.article_ids() == ["a000", "a001", "a003", "a004", "a009"]
    assert "airport" in engine.article("a001").text


def test_one_segment_scores_exactly_as_one_bm25s_index():
    import bm25s

    texts = ["Storm hits the harbour", "The harbour authority closed the port", "Shares rose in London",
             "Storm storm warnings for the river", "Voters went to the polls in May"]
    view = LexicalView([BM25Index.build(range(len(texts)), texts)])
    plain = bm25s.BM25()
    plain.index(bm25s.tokenize(texts, stopwords="en", stemmer=view._stemmer, show_progress=False), show_progress=False)
    for query in ("storm harbour", "port closed after the storm", "london shares"):
        words = [w for w in view.words(query) if w in plain.vocab_dict]
        expected = plain.get_scores(words)
        got = dict(view.search(query, len(texts)))
        assert {i: pytest.approx(float(expected[i]), rel=1e-6) for i in range(len(texts)) if expected[i] > 0} == got
