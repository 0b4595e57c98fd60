"""Sync keeps the index in step with the folder, re-embedding only what changed, one generation at a time."""

from __future__ import annotations

import shutil
import threading

import pytest

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.errors import ArticlesNotFound, EmbedderMismatch, IndexBusy, IndexNotFound
from qa.store.generations import writer_lock
from qa.types import Article
from tests.conftest import SEED, story, write

FLOOD = story("Floods hit the valley", "Heavy rain flooded the valley on Tuesday.", "Two hundred families left home.")
MARKET = story("Markets rally", "Shares rose sharply in London.", "The FTSE gained three percent.")
ELECTION = story("Election called", "The prime minister called an early election.", "Voting is set for May.")


def test_first_sync_adds_everything_and_search_finds_it(engine, articles, embedder):
    write(articles, "flood.txt", FLOOD)
    write(articles, "news/market.txt", MARKET)
    report = engine.sync(articles)
    assert sorted(report.added) == ["flood.txt", "news/market.txt"]
    assert report.chunks_embedded > 0 and report.generation == 1
    top = engine.search("rain flooded valley", k=1)[0]
    assert top.article_id == "flood.txt" and top.title == "Floods hit the valley"
    assert FLOOD[top.start : top.end] == top.text


def test_unchanged_articles_are_not_re_embedded(engine, articles, embedder):
    write(articles, "flood.txt", FLOOD)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    calls = embedder.calls
    report = engine.sync(articles)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 2)
    assert embedder.calls == calls and report.chunks_embedded == 0


def test_edit_replaces_only_that_articles_chunks(engine, articles, embedder):
    write(articles, "flood.txt", FLOOD)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    write(articles, "market.txt", MARKET.replace("three percent", "four percent"))
    calls = embedder.calls
    report = engine.sync(articles)
    assert report.updated == ["market.txt"] and report.unchanged == 1
    assert embedder.calls - calls == report.chunks_embedded > 0
    texts = [p.text for p in engine.search("FTSE gained percent", k=10) if p.article_id == "market.txt"]
    assert any("four percent" in t for t in texts) and not any("three percent" in t for t in texts)
    assert engine.status().chunks == len(engine.generation().store)


def test_delete_removes_article_and_its_vectors(engine, articles):
    write(articles, "flood.txt", FLOOD)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    (articles / "flood.txt").unlink()
    report = engine.sync(articles)
    assert report.removed == ["flood.txt"]
    assert {p.article_id for p in engine.search("rain valley", k=10)} == {"market.txt"}
    assert engine.status().articles == 1


def test_rename_keeps_vectors_and_changes_the_id(engine, articles, embedder):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    (articles / "flood.txt").rename(articles / "weather-flood.txt")
    calls = embedder.calls
    report = engine.sync(articles)
    assert report.added == ["weather-flood.txt"] and report.removed == ["flood.txt"]
    assert embedder.calls == calls  # same content: vectors reused
    assert engine.search("rain", k=1)[0].article_id == "weather-flood.txt"


def test_api_upsert_and_delete(engine, articles):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    report = engine.upsert([Article(id="api/1", text=ELECTION, title="Election called")])
    assert report.added == ["api/1"]
    assert engine.search("early election prime minister", k=1)[0].article_id == "api/1"
    assert engine.upsert([Article(id="api/1", text=ELECTION, title="Election called")]).unchanged == 1
    # A folder sync leaves API articles alone.
    assert engine.sync(articles).removed == []
    report = engine.delete(["api/1", "nope"])
    assert report.removed == ["api/1"] and [s.path for s in report.skipped] == ["nope"]
    assert engine.status().articles == 1


def test_bad_files_are_skipped_and_never_abort_the_sync(engine, articles):
    write(articles, "flood.txt", FLOOD)
    (articles / "empty.txt").write_bytes(b"")
    (articles / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (articles / "latin.txt").write_bytes("Caf\xe9 news\n\nThe caf\xe9 opened.".encode("latin-1"))
    (articles / "notes.pdf").write_bytes(b"%PDF")  # not an article type: ignored silently
    report = engine.sync(articles)
    assert sorted(report.added) == ["flood.txt", "latin.txt"]
    assert sorted((s.path, s.reason.split()[0]) for s in report.skipped) == [("binary.txt", "binary"), ("empty.txt", "empty")]
    assert any("latin.txt" in note for note in report.notes)
    assert "Café" in engine.article("latin.txt").text


def test_a_folder_s_readme_is_not_an_article(engine, articles):
    write(articles, "flood.txt", FLOOD)
    write(articles, "README.TXT", "Consists of 2225 documents from the BBC news website.\n")
    write(articles, "sport/LICENSE.md", "Copyright BBC.\n")
    write(articles, "readmission-rates.txt", "Hospital readmissions\n\nReadmissions fell.\n")  # only the name's start
    report = engine.sync(articles)
    assert sorted(report.added) == ["flood.txt", "readmission-rates.txt"]
    skipped = {s.path: s.reason for s in report.skipped}
    assert set(skipped) == {"README.TXT", "sport/LICENSE.md"} and "rename it to index it" in skipped["README.TXT"]


def test_a_5mb_article_is_indexed_with_exact_offsets(engine, articles):
    paragraph = "The committee met again on Thursday to discuss the budget in great detail. " * 40
    text = "Huge report\n\n" + "\n\n".join(f"Section {i}. {paragraph}" for i in range(1700))
    assert len(text.encode()) > 5_000_000
    write(articles, "huge.txt", text)
    report = engine.sync(articles)
    assert report.added == ["huge.txt"] and report.chunks_embedded > 1000
    for passage in engine.search("budget committee", k=5):
        assert text[passage.start : passage.end] == passage.text


def test_duplicate_articles_under_two_names_are_both_indexed(engine, articles):
    write(articles, "a.txt", FLOOD)
    write(articles, "copy/a.txt", FLOOD)
    assert sorted(engine.sync(articles).added) == ["a.txt", "copy/a.txt"]


def test_missing_folder_is_a_clear_error_and_keeps_the_index(engine, articles, tmp_path):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    with pytest.raises(ArticlesNotFound, match="does not exist"):
        engine.sync(tmp_path / "nope")
    assert engine.status().articles == 1


def test_search_without_an_index_says_how_to_build_one(engine):
    with pytest.raises(IndexNotFound, match="qa index"):
        engine.search("anything")


def test_another_embedder_is_refused_until_rebuild(engine, articles, settings):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    other = Engine(settings=settings, embedder=HashingEmbedder(dimension=32))
    with pytest.raises(EmbedderMismatch, match="qa index --rebuild"):
        other.search("rain")
    with pytest.raises(EmbedderMismatch):
        other.sync(articles)
    report = other.sync(articles, rebuild=True)
    assert report.added == ["flood.txt"]
    assert other.search("rain", k=1)[0].article_id == "flood.txt"


def test_changing_chunk_size_re_embeds_everything(engine, articles, settings, embedder):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    smaller = Engine(settings=settings.replace(chunk_tokens=16), embedder=embedder)
    report = smaller.sync(articles)
    assert report.updated == ["flood.txt"]


def test_a_second_writer_gets_a_clear_busy_error(engine, articles, settings):
    write(articles, "flood.txt", FLOOD)
    with writer_lock(settings.index_dir):
        with pytest.raises(IndexBusy, match="being updated"):
            engine.sync(articles)
    assert engine.sync(articles).added == ["flood.txt"]


def test_readers_keep_answering_from_the_old_generation_during_a_sync(engine, articles, settings):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    reader = Engine(settings=settings, embedder=HashingEmbedder(dimension=64))
    assert reader.search("rain", k=1)[0].article_id == "flood.txt"

    started, release = threading.Event(), threading.Event()

    class SlowEmbedder(HashingEmbedder):
        def embed(self, texts, **kwargs):
            started.set()
            release.wait(10)
            return super().embed(texts, **kwargs)

    writer = Engine(settings=settings, embedder=SlowEmbedder(dimension=64))
    write(articles, "market.txt", MARKET)
    thread = threading.Thread(target=writer.sync, args=(articles,))
    thread.start()
    try:
        assert started.wait(10)
        hits = reader.search("rain valley", k=5)  # mid-sync: the previous generation answers
        assert hits and {p.article_id for p in hits} == {"flood.txt"}
    finally:
        release.set()
        thread.join(10)
    assert "market.txt" in {p.article_id for p in reader.search("shares London FTSE", k=5)}


def test_old_generations_are_pruned(engine, articles, settings):
    for i in range(6):
        write(articles, f"a{i}.txt", story(f"Story {i}", f"Sentence {i} here."))
        engine.sync(articles)
    generations = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert len(generations) == 3 and generations[-1] == "gen-000006"
    shutil.rmtree(settings.index_dir / generations[0])  # a pruned generation is never needed again
    assert engine.status().articles == 6


def test_seed_sync_and_search(engine, tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    assert engine.sync(folder).added == [SEED.name]
    passages = engine.search("who was arrested", k=10)
    assert any("12 suspected members" in p.text for p in passages)
    assert all("Comment Policy" not in p.text for p in passages)


def test_a_sync_that_changes_nothing_publishes_no_generation(engine, articles, settings):
    write(articles, "flood.txt", FLOOD)
    assert engine.sync(articles).generation == 1
    report = engine.sync(articles)
    assert report.generation == 1 and not report.changed
    assert sorted(p.name for p in settings.index_dir.glob("gen-*")) == ["gen-000001"]
    write(articles, "market.txt", MARKET)
    assert engine.sync(articles).generation == 2


def test_folder_chunks_are_the_chunks_a_sync_indexes(engine, articles, settings, embedder):
    from qa.ingest.sync import folder_chunks

    write(articles, "a.txt", story("Storm", "The harbour closed after the storm.", "Ferries stayed in port all day."))
    write(articles, "b.txt", story("Vote", "The council voted to rebuild the pier."))
    engine.sync(articles)
    split = {(a.id, c.start, c.end) for a, chunks, _ in folder_chunks(articles, embedder, settings) for c in chunks}
    assert split == {tuple(row[1:]) for row in engine.generation().chunk_rows()}
