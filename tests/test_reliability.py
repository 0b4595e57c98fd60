"""Issue 14: data loss, security and resource faults in storage, ingest and the CLI (see also scripts/fault_suite.py)."""

from __future__ import annotations

import os

import pytest

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.webapp.service import ChatService
from tests.conftest import story, write

FLOOD = story("Floods hit the valley", "Heavy rain flooded the valley on Tuesday.", "Two hundred families left home.")
MARKET = story("Markets rally", "Shares rose sharply in London.", "The FTSE gained three percent.")


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

    import qa.articles

    monkeypatch.setattr(qa.articles, "MAX_FILE_BYTES", 1_000_000)
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
