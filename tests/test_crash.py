"""A `qa index` killed with SIGKILL at any moment leaves a usable index, and the next sync completes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.settings import Settings
from tests.conftest import ROOT, story, write


def _index(folder, index_dir) -> subprocess.Popen:
    env = dict(os.environ, QA_EMBEDDER="hashing", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "qa", "index", str(folder), "--index", str(index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _check_consistent(index_dir) -> int:
    """The live generation opens, searches, and its vectors match its chunk table. Returns its article count."""
    engine = Engine(settings=Settings(index_dir=index_dir, embedder="hashing"), embedder=HashingEmbedder())
    try:
        generation = engine.generation()
        articles, chunks = generation.counts()
        assert len(generation.store) == chunks
        assert engine.search("river valley report", k=3)
        return articles
    finally:
        engine.close()


def test_sigkill_at_random_moments_never_breaks_the_index(tmp_path):
    rng = random.Random(20)
    folder, index_dir = tmp_path / "articles", tmp_path / "index"
    body = [f"The river valley report number {{i}} says sentence {j} happened." for j in range(30)]
    for i in range(150):
        write(folder, f"a{i:03d}.txt", story(f"Report {i}", *(s.format(i=i) for s in body)))

    assert _index(folder, index_dir).wait(120) == 0

    def change_some(round_):
        # Change something each round so every run has real work to do when it is killed.
        for _ in range(40):
            i = rng.randrange(200)
            path = folder / f"a{i:03d}.txt"
            if path.exists() and rng.random() < 0.3:
                path.unlink()
            else:
                write(folder, path.name, story(f"Report {i} v{round_}", *(s.format(i=i) for s in body)))

    change_some(-1)
    started = time.monotonic()
    assert _index(folder, index_dir).wait(120) == 0
    duration = time.monotonic() - started  # of one uninterrupted incremental sync like those below

    kills = 0
    for round_ in range(20):
        change_some(round_)
        process = _index(folder, index_dir)
        time.sleep(rng.uniform(0.05, duration * 0.95))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(60)
        _check_consistent(index_dir)
    assert kills >= 15  # (nearly) every round really was interrupted

    expected = len(list(folder.glob("*.txt")))
    assert _index(folder, index_dir).wait(120) == 0
    assert _check_consistent(index_dir) == expected
    leftovers = [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
