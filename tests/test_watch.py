"""`qa index --watch`: saves, renames and deletes reach the index after a quiet period."""

from __future__ import annotations

import threading
import time

from qa.ingest.watch import watch
from tests.conftest import story, write


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_watch_follows_saves_renames_and_deletes(engine, articles):
    write(articles, "flood.txt", story("Floods", "Heavy rain flooded the valley."))
    reports, stop = [], threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(articles, lambda: engine.sync(articles)),
        kwargs={"debounce_s": 0.3, "on_report": reports.append, "stop": stop},
        daemon=True,
    )
    thread.start()
    try:
        assert _wait_for(lambda: reports and reports[0].added == ["flood.txt"])
        write(articles, "market.txt", story("Markets", "Shares rose in London."))
        assert _wait_for(lambda: "market.txt" in engine.generation().article_ids())
        (articles / "market.txt").rename(articles / "markets.txt")
        assert _wait_for(lambda: engine.generation().article_ids() == ["flood.txt", "markets.txt"])
        (articles / "flood.txt").unlink()
        assert _wait_for(lambda: engine.generation().article_ids() == ["markets.txt"])
        # A burst of saves is debounced into few syncs.
        before = len(reports)
        for i in range(10):
            write(articles, "markets.txt", story("Markets", f"Shares rose {i} percent."))
        assert _wait_for(lambda: len(reports) > before)
        time.sleep(1.0)
        assert len(reports) - before <= 3
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
