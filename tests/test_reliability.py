"""Issue 14: data loss, security and resource faults in storage, ingest and the CLI (see also scripts/fault_suite.py)."""

from __future__ import annotations

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
