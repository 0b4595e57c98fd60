"""The package's folders are its architecture: storage, ingestion and answering are what the runtime runs;
training and evaluation sit beside them and are never imported by the runtime (a server or `qa ask` must not pay
for, or break on, code that only trains or scores models)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUNTIME_MODULES = [
    "qa",
    "qa.engine",
    "qa.cli",
    "qa.webapp.app",
    "qa.ingest.sync",
    "qa.ingest.watch",
    "qa.answer.answering",
    "qa.answer.reader.factory",
    "qa.answer.reader.transformers_reader",
    "qa.store.index",
]


def test_the_runtime_never_imports_training_or_evaluation():
    code = (
        "import importlib, sys\n"
        f"for name in {RUNTIME_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('qa.train', 'qa.eval')))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


def test_no_module_sits_loose_beside_the_packages_but_the_entry_points():
    loose = sorted(p.name for p in (ROOT / "qa").glob("*.py"))
    assert loose == [
        "__init__.py", "__main__.py", "batching.py", "cli.py", "embedders.py", "engine.py", "errors.py",
        "precision.py", "settings.py", "types.py",
    ]
