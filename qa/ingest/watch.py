"""Keep an index in step with a folder as files are saved, renamed and deleted (debounced)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from qa.ingest.articles import SUFFIXES
from qa.errors import IndexBusy
from qa.types import SyncReport


def watch(
    folder: Path,
    sync: Callable[[], SyncReport],
    *,
    debounce_s: float = 1.0,
    on_report: Callable[[SyncReport], None] = lambda report: None,
    on_error: Callable[[Exception], None] = lambda exc: None,
    stop: threading.Event | None = None,
) -> None:
    """Run ``sync`` once, then again each time article files change and have been quiet for ``debounce_s``.
    Returns when ``stop`` is set (or on KeyboardInterrupt)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    stop = stop or threading.Event()
    dirty = threading.Event()
    last_event = [0.0]

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
            relevant = event.is_directory or any(Path(str(p)).suffix.lower() in SUFFIXES for p in paths if p)
            if relevant and event.event_type not in {"opened", "closed_no_write"}:
                last_event[0] = time.monotonic()
                dirty.set()

    def run_sync() -> None:
        try:
            on_report(sync())
        except IndexBusy as exc:  # someone else is syncing: try again after the next quiet period
            on_error(exc)
            dirty.set()
            last_event[0] = time.monotonic()
        except Exception as exc:  # one bad sync must not end the watch
            on_error(exc)

    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    try:
        run_sync()
        while not stop.is_set():
            if dirty.is_set() and time.monotonic() - last_event[0] >= debounce_s:
                dirty.clear()
                run_sync()
            stop.wait(min(0.2, debounce_s / 2))
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)
