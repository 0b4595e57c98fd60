"""Shared fixtures: a deterministic fake embedder and small article folders. No test touches the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "kazakhstan-dark-web-drug-ring.txt"
SHARED = ROOT.parent / "shared"
BBC = SHARED / "corpora" / "bbc"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dimension=64)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(index_dir=tmp_path / "index", articles_dir=tmp_path / "articles", embedder="hashing")


@pytest.fixture
def articles(tmp_path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def engine(settings, embedder) -> Engine:
    with Engine(settings=settings, embedder=embedder) as e:
        yield e


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def story(title: str, *sentences: str) -> str:
    return title + "\n\n" + "\n\n".join(sentences) + "\n"
