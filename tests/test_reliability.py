"""Issue 14: data loss, security and resource faults in storage, ingest and the CLI (also scripts/fault_suite.py)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.errors import IndexWriteFailed
from qa.settings import Settings
from qa.store.vectors import FaissFlatStore
from qa.types import Article
from qa.webapp.service import ChatService
from tests.conftest import ROOT, story, write

FLOOD = story("Floods hit the valley", "Heavy rain flooded the valley on Tuesday.", "Two hundred families left home.")
MARKET = story("Markets rally", "Shares rose sharply in London.", "The FTSE gained three percent.")
ELECTION = story("Election called", "The prime minister called an early election.", "Voting is set for May.")
WIRE = story("Wire report", "The harbour authority closed the port after the storm.")


def test_remove_deletes_the_file_the_article_came_from_not_a_prefix_of_its_id(settings, articles):
    write(articles, "notes.txt", FLOOD)
    write(articles, "notes.txt#2.txt", MARKET)
    service = ChatService(
        settings,
        engine=Engine(settings=settings, embedder=HashingEmbedder()),
        writer=Engine(settings=settings, embedder=HashingEmbedder()),
    )
    service.sync()
    outcome = service.remove("notes.txt#2.txt")
    assert outcome.ok, outcome.lines
    assert (articles / "notes.txt").exists() and not (articles / "notes.txt#2.txt").exists()
    assert service.article_ids() == ["notes.txt"]


def test_links_to_files_or_folders_outside_the_articles_folder_are_skipped_with_a_reason(engine, articles, tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.txt", story("Secret", "The password is swordfish."))
    write(outside, "more/other.txt", story("Other", "Also private."))
    write(articles, "flood.txt", FLOOD)
    write(articles, "sub/market.txt", MARKET)
    (articles / "passwd.txt").symlink_to(outside / "secret.txt")
    (articles / "linked").symlink_to(outside / "more", target_is_directory=True)
    (articles / "alias.txt").symlink_to(articles / "flood.txt")  # a link inside the folder is fine
    report = engine.sync(articles)
    assert sorted(report.added) == ["alias.txt", "flood.txt", "sub/market.txt"]
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"passwd.txt", "linked"}
    assert all("outside the articles folder" in r for r in reasons.values())
    assert not engine.articles_containing("swordfish")


def test_a_file_over_the_size_limit_is_skipped_before_it_is_read(engine, articles, monkeypatch):
    import tracemalloc

    import qa.ingest.articles

    monkeypatch.setattr(qa.ingest.articles, "MAX_FILE_BYTES", 1_000_000)
    write(articles, "flood.txt", FLOOD)
    with open(articles / "huge.txt", "wb") as handle:
        handle.truncate(40_000_000)  # sparse: costs no disk
    tracemalloc.start()
    try:
        report = engine.sync(articles)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.added == ["flood.txt"]
    assert [(s.path, "limit per file" in s.reason) for s in report.skipped] == [("huge.txt", True)]
    assert peak < 10_000_000  # the 40 MB were never read into memory


def test_utf16_files_with_a_byte_order_mark_are_decoded(engine, articles):
    (articles / "le.txt").write_bytes(story("Floods hit the valley", "Heavy rain on Tuesday.").encode("utf-16"))
    (articles / "be.txt").write_bytes(b"\xfe\xff" + story("Markets rally", "Shares rose.").encode("utf-16-be"))
    report = engine.sync(articles)
    assert sorted(report.added) == ["be.txt", "le.txt"] and not report.skipped
    assert engine.article("le.txt").title == "Floods hit the valley"
    assert any("le.txt" in note and "UTF-16" in note for note in report.notes)


def test_an_unreadable_subfolder_is_reported_as_skipped(engine, articles, monkeypatch):
    write(articles, "flood.txt", FLOOD)
    write(articles, "locked/market.txt", MARKET)
    scandir = os.scandir

    def denied(path):  # chmod 0 does not stop root, who runs these tests in CI
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    report = engine.sync(articles)
    assert report.added == ["flood.txt"]
    assert [s.path for s in report.skipped] == ["locked/"] and "unreadable folder" in report.skipped[0].reason


def test_a_deleted_file_backed_article_comes_back_on_the_next_sync(engine, articles):
    write(articles, "flood.txt", FLOOD)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    assert engine.delete(["market.txt"]).removed == ["market.txt"]
    assert engine.article_ids() == ["flood.txt"]
    report = engine.sync(articles)  # the file is still there, unchanged
    assert report.added == ["market.txt"] and report.unchanged == 1
    assert engine.article_ids() == ["flood.txt", "market.txt"]


def test_a_rejected_upload_is_deleted_from_the_temp_folder_but_a_saved_ones_source_is_kept(tmp_path):
    from qa.webapp.uploads import save_uploads

    incoming = tmp_path / "incoming"  # under the temp folder, like the page's upload copies
    good = write(incoming, "good.txt", FLOOD)
    bad = write(incoming, "virus.exe", "MZ")
    saved, rejected = save_uploads(tmp_path / "articles", [("good.txt", good), ("virus.exe", bad)])
    assert [s.name for s in saved] == ["good.txt"] and len(rejected) == 1
    assert good.exists() and not bad.exists()


def test_search_rejects_an_empty_question_a_broken_character_and_k_below_one(engine, articles):
    from qa.errors import QAError

    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    for question, k, message in [("", 5, "empty"), ("   ", None, "empty"), ("caf\ud800", 5, "not valid text"),
                                 ("rain", 0, "k must be"), ("rain", -1, "k must be"), ("rain", 2.5, "k must be")]:
        with pytest.raises(QAError, match=message):
            engine.search(question, k)
    assert len(engine.search("rain", 1)) == 1


# -- the index folder: a lost CURRENT, damaged files, a full disk, driven through the real `qa` command ----------
def _qa(*args, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QA_EMBEDDER="hashing", PYTHONPATH=str(ROOT))
    env.pop("QA_INDEX_DIR", None)

    def limit() -> None:  # writes past this size fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=limit if limit_bytes else None)


def _one_line_error(run: subprocess.CompletedProcess, *words: str) -> bool:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    return run.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:") and all(w in lines[0] for w in words)


@pytest.fixture
def three_generations(engine, articles, settings):
    """gen 1: two files; gen 2: an article added through the API; gen 3: a third file."""
    write(articles, "flood.txt", FLOOD)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    engine.upsert([Article(id="wire/1", text=WIRE, title="Wire report")])
    write(articles, "election.txt", ELECTION)
    assert engine.sync(articles).generation == 3
    engine.close()
    return settings.index_dir


def _ids(index_dir) -> list[str]:
    with Engine(settings=Settings(index_dir=index_dir, embedder="hashing"), embedder=HashingEmbedder()) as engine:
        return engine.article_ids()


ALL_IDS = ["election.txt", "flood.txt", "market.txt", "wire/1"]


@pytest.mark.parametrize(
    "pointer", [None, b"", b"\xff\x00garbage\n", b"../other/gen-000001\n", b"/etc\n", b"gen-000042\n"],
    ids=["deleted", "empty", "garbage", "outside", "absolute", "gone"],
)
def test_a_lost_current_recovers_the_newest_complete_generation_and_deletes_nothing(three_generations, articles, pointer):
    index = three_generations
    other = index.parent / "other" / "gen-000001"
    other.mkdir(parents=True)
    (index / "CURRENT").unlink()
    if pointer is not None:
        (index / "CURRENT").write_bytes(pointer)
    status = _qa("status", "--index", index)
    assert status.returncode == 0 and "generation 3, 4 articles" in status.stdout
    assert "warning: CURRENT" in status.stderr and "gen-000003" in status.stderr
    assert _ids(index) == ALL_IDS  # readers use it too
    sync = _qa("index", articles, "--index", index)
    assert sync.returncode == 0, sync.stderr
    assert "gen-000003, the newest complete generation" in sync.stdout and "4 unchanged" not in sync.stdout
    assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000001", "gen-000002", "gen-000003"]
    assert (index / "CURRENT").read_text() == "gen-000003\n" and other.is_dir()
    assert _ids(index) == ALL_IDS


def test_clean_leftovers_deletes_no_generation_while_current_is_unusable(three_generations):
    from qa.store.generations import clean_leftovers

    index = three_generations
    (index / "gen-000009.tmp").mkdir()
    for pointer in ("", "garbage", "gen-000042", "../gen-000001"):
        (index / "CURRENT").write_text(pointer)
        clean_leftovers(index)
        assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000001", "gen-000002", "gen-000003"]


def test_index_rebuild_works_whatever_current_holds(three_generations, articles):
    index = three_generations
    (index / "CURRENT").write_text("garbage")
    run = _qa("index", articles, "--index", index, "--rebuild")
    assert run.returncode == 0 and "(generation 4): 3 added" in run.stdout, run.stderr
    assert _ids(index) == ["election.txt", "flood.txt", "market.txt"]


def _newest_segment(generation):
    """The segment a generation wrote itself (the others are hard links shared with the generations before)."""
    return generation / json.loads((generation / "manifest.json").read_text())["segments"][-1]["name"]


def _truncate(path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize(
    "damage",
    [
        lambda g: _truncate(_newest_segment(g) / "meta.sqlite"),
        lambda g: (_newest_segment(g) / "meta.sqlite").write_bytes(b"\0" * (_newest_segment(g) / "meta.sqlite").stat().st_size),
        lambda g: [_truncate(p) for p in (_newest_segment(g) / "bm25").glob("*.npy")],
        lambda g: _truncate(_newest_segment(g) / "vectors.faiss"),
        lambda g: (g / "manifest.json").write_text("{not json"),
    ],
    ids=["meta-truncated", "meta-zeroed", "bm25-truncated", "vectors-truncated", "manifest-garbage"],
)
def test_a_damaged_generation_is_a_one_line_error_and_a_plain_sync_repairs_it(three_generations, articles, damage):
    index = three_generations
    damage(index / "gen-000003")
    for command in (("search", "rain valley"), ("ask", "what flooded?"), ("status",)):
        run = _qa(*command, "--index", index)
        assert _one_line_error(run, "gen-000003", "damaged", "qa index"), (command, run.stderr)
    sync = _qa("index", articles, "--index", index)
    assert sync.returncode == 0 and "note: gen-000003" in sync.stdout, sync.stderr
    assert _qa("status", "--verify", "--index", index).returncode == 0
    assert _ids(index) == ALL_IDS  # nothing lost: the API article too
    search = json.loads(_qa("search", "harbour storm port", "--index", index, "--json").stdout)
    assert search[0]["article_id"] == "wire/1"


def test_bytes_overwritten_in_the_vectors_are_found_by_status_verify_and_repaired(three_generations, articles):
    index = three_generations
    segment = _newest_segment(index / "gen-000003")
    with open(segment / "vectors.faiss", "r+b") as handle:
        handle.seek(100)
        handle.write(bytes(range(200)))
    assert _qa("status", "--index", index).returncode == 0  # same size: only the checksum can tell
    run = _qa("status", "--verify", "--index", index)
    assert f"FAILED  {segment.name}/vectors.faiss" in run.stdout and f"ok      {segment.name}/meta.sqlite" in run.stdout
    assert _one_line_error(run, "vectors.faiss", "sha256 does not match", "qa index")
    sync = _qa("index", articles, "--index", index)
    assert f"re-embedding the articles of {segment.name}" in sync.stdout
    assert _qa("status", "--verify", "--index", index).returncode == 0 and _ids(index) == ALL_IDS


def test_a_full_disk_is_a_one_line_error_and_leaves_no_staging_folder(three_generations, articles):
    index = three_generations
    write(articles, "big.txt", story("Big", *[f"Sentence {i} about the harbour and the storm." for i in range(3000)]))
    run = _qa("index", articles, "--index", index, limit_bytes=60_000)
    assert _one_line_error(run, "could not write", "disk space", "qa index"), run.stderr
    assert not [p for p in index.iterdir() if p.name.endswith(".tmp")]
    assert (index / "CURRENT").read_text() == "gen-000003\n" and _ids(index) == ALL_IDS
    assert _qa("index", articles, "--index", index).returncode == 0 and "big.txt" in _ids(index)


def test_a_full_disk_while_writing_vectors_is_a_one_line_error(engine, articles, monkeypatch):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    write(articles, "market.txt", MARKET)

    def full(self, path):
        raise RuntimeError("Error: 'ret == (size_t)(1)' failed: write error in vectors.faiss: No space left on device")

    monkeypatch.setattr(FaissFlatStore, "save", full)
    with pytest.raises(IndexWriteFailed, match="writing vectors failed.*Free some disk space"):
        engine.sync(articles)
    assert not [p for p in engine.index_dir.iterdir() if p.name.endswith(".tmp")]
    assert engine.article_ids() == ["flood.txt"]


def _to_format_1(generation) -> None:
    """Rewrite a one-segment generation as the first versions wrote it: meta.sqlite (with the sources table),
    vectors.faiss and bm25/ at the top of the folder, and a manifest without segments or checksums."""
    import shutil
    import sqlite3

    manifest = json.loads((generation / "manifest.json").read_text())
    (segment,) = [generation / s["name"] for s in manifest["segments"]]
    for name in ("meta.sqlite", "vectors.faiss", "bm25"):
        (segment / name).rename(generation / name)
    shutil.rmtree(segment)
    with sqlite3.connect(generation / "meta.sqlite") as db:
        db.execute("ATTACH DATABASE ? AS s", (str(generation / "sources.sqlite"),))
        db.execute("CREATE TABLE sources AS SELECT * FROM s.sources")
    for name in ("sources.sqlite", "deletes.json"):
        (generation / name).unlink()
    for key in ("files", "segments"):
        del manifest[key]
    manifest["format"] = 1
    (generation / "manifest.json").write_text(json.dumps(manifest))


def test_generations_written_before_checksums_and_the_sentences_table_still_work(engine, articles):
    import sqlite3

    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    generation = engine.index_dir / "gen-000001"
    _to_format_1(generation)
    with sqlite3.connect(generation / "meta.sqlite") as db:
        db.execute("DROP TABLE sentences")
    engine.close()
    loaded = engine.generation()
    assert loaded.sentences("flood.txt") and engine.search("rain", k=1)[0].article_id == "flood.txt"
    start = FLOOD.index("Heavy")
    assert loaded.cited_sentence("flood.txt", start, start + 5)[2] == "Heavy rain flooded the valley on Tuesday."
    _, checks = engine.verify(full=True)
    assert all(c.ok for c in checks) and "no checksum recorded" in checks[0].detail
    write(articles, "market.txt", MARKET)
    assert engine.sync(articles).added == ["market.txt"]  # and the new generation has both
    assert engine.generation().sentences("flood.txt") == loaded.sentences("flood.txt")


# -- citations from a huge article ---------------------------------------------------------------------------
def test_citations_read_only_the_cited_sentence_of_a_huge_article(engine, articles):
    import tracemalloc

    paragraph = "The committee met again on Thursday to discuss the budget in great detail. " * 40
    text = "Huge report\n\n" + "\n\n".join(f"Section {i}. {paragraph}" for i in range(250))
    write(articles, "huge.txt", text)
    engine.sync(articles)
    generation = engine.generation()
    start = text.index("Section 177.") + len("Section 177. The ")
    end = start + len("committee")
    sentences = generation.sentences("huge.txt")
    expected = next(s for s in sentences if s[0] <= start < s[1])
    generation.cited_sentence("huge.txt", start, end)  # warm up
    tracemalloc.start()
    try:
        first, last, sentence = generation.cited_sentence("huge.txt", start, end)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (first, last) == expected and sentence == text[first:last] and "committee" in sentence
    assert peak < 100_000 < len(text) // 5  # neither the text nor its 10,000 sentence spans were loaded
    assert generation.text_slice("huge.txt", start, end) == "committee"
    assert generation.text_slice("huge.txt", 5, 2) == "" and generation.text_slice("nope", 0, 5) == ""
    # A span across two sentences quotes both.
    boundary = sentences[10][1]
    assert generation.sentence_bounds("huge.txt", boundary - 3, sentences[11][0] + 3) == (sentences[10][0], sentences[11][1])


@pytest.mark.slow  # about 30 s: some 70 `qa` subprocesses
def test_the_fault_suite_passes():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "fault_suite.py")], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "| FAIL |" not in run.stdout and " faults handled" in run.stdout


def test_repairing_from_an_older_generation_publishes_even_when_nothing_else_changed(engine, articles):
    write(articles, "flood.txt", FLOOD)
    engine.sync(articles)
    write(articles, "market.txt", MARKET)
    engine.sync(articles)
    (articles / "market.txt").unlink()  # the folder now matches gen 1 exactly
    (_newest_segment(engine.index_dir / "gen-000002") / "meta.sqlite").write_bytes(b"garbage")
    report = engine.sync(articles)
    assert report.generation == 3 and any("continuing from gen-000001" in note for note in report.notes)
    assert (engine.index_dir / "CURRENT").read_text() == "gen-000003\n" and engine.article_ids() == ["flood.txt"]


def test_an_empty_question_or_invalid_utf8_on_the_command_line_is_a_one_line_error(three_generations):
    index = three_generations
    for command in ("search", "ask"):
        assert _one_line_error(_qa(command, "  ", "--index", index), "question is empty")
    env = dict(os.environ, QA_EMBEDDER="hashing", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "qa", "search", b"caf\xe9 \xff", "--index", str(index)], env=env,
                         capture_output=True, text=True, errors="replace", timeout=120)
    assert _one_line_error(run, "not valid text")
