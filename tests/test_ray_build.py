"""`qa index --ray`: the chunks are embedded by Ray Data actors on a local 2-worker Ray, and the index equals a
normal build (same chunks, same vectors for the hashing embedder). Skipped when Ray is not installed."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")

from qa.ingest import ray_build  # noqa: E402
from qa.cli import main  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.settings import Settings  # noqa: E402
from tests.conftest import story, write  # noqa: E402

TOPICS = ("parliament", "football", "markets", "elections", "storms", "music", "courts", "science")


@pytest.fixture(scope="session")
def local_ray():
    """A local Ray with 2 worker CPUs, started once and stopped at the end."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """Enough articles that their chunks go to the cluster (ray_build.MIN_REMOTE_TEXTS)."""
    folder = tmp_path / "archive"
    for i in range(80):
        topic = TOPICS[i % len(TOPICS)]
        sentences = [f"Report {i} on {topic}: sentence {j} says that {topic} item {i * j} changed by {j}%."
                     for j in range(1, 25)]
        write(folder, f"{topic}/{i:03}.txt", story(f"{topic.title()} story {i}", *sentences))
    monkeypatch.setenv("QA_EMBEDDER", "hashing")
    return folder


def contents(index_dir) -> tuple[list[tuple], np.ndarray]:
    """Every chunk (article, offsets) and its stored vector, in chunk order."""
    with Engine(settings=Settings(index_dir=index_dir, embedder="hashing")) as engine:
        generation = engine.generation()
        rows = generation.chunk_rows()
        vectors = generation.vectors([r[0] for r in rows])
    return [tuple(r[1:]) for r in rows], vectors


def test_a_ray_build_equals_a_normal_build(local_ray, archive, tmp_path):
    runner = CliRunner()
    normal = runner.invoke(main, ["index", str(archive), "--index", str(tmp_path / "normal")])
    assert normal.exit_code == 0, normal.output
    distributed = runner.invoke(main, ["index", str(archive), "--index", str(tmp_path / "ray"), "--ray"])
    assert distributed.exit_code == 0, distributed.output
    assert "80 added" in distributed.output

    chunks, vectors = contents(tmp_path / "normal")
    ray_chunks, ray_vectors = contents(tmp_path / "ray")
    assert len(chunks) >= ray_build.MIN_REMOTE_TEXTS
    assert ray_chunks == chunks
    assert np.array_equal(ray_vectors, vectors)


def test_the_articles_are_split_and_embedded_on_the_actors_as_a_local_build_does_it(local_ray, archive, tmp_path):
    from qa.ingest.articles import parse_source
    from qa.ingest.sync import embedded_texts, segment

    settings = Settings(index_dir=tmp_path / "index", articles_dir=archive, embedder="hashing")
    embedder = ray_build.ray_embedder(settings, ray_build.LOCAL)
    articles = [a for path in sorted(archive.rglob("*.txt"))
                for a in parse_source(str(path.relative_to(archive)), path.read_bytes()).articles]
    assert len(articles) >= ray_build.MIN_REMOTE_ARTICLES
    split = embedder.segment_many(articles, settings)
    assert embedder.remote_articles == len(articles)
    for article in articles:
        spans, chunks, vectors = split[article.id]
        assert (spans, chunks) == segment(article, embedder.inner, settings)
        assert np.array_equal(vectors, embedder.inner.embed(embedded_texts(article, chunks, settings)))


def test_the_chunks_really_went_to_the_actors(local_ray, archive, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", articles_dir=archive, embedder="hashing")
    embedder = ray_build.ray_embedder(settings, ray_build.LOCAL)
    steps: list[int] = []
    texts = [f"text number {i} about {TOPICS[i % 8]}" for i in range(ray_build.MIN_REMOTE_TEXTS)]
    vectors = embedder.embed(texts, progress=steps.append)
    assert embedder.remote_texts == len(texts) and sum(steps) == len(texts)
    assert embedder.inner.calls == 0  # the local embedder embedded nothing
    assert np.array_equal(vectors, embedder.inner.embed(texts))
    assert embedder.fingerprint == embedder.inner.fingerprint  # the index's identity check sees one embedder


def test_a_few_chunks_are_embedded_here(archive, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing")
    embedder = ray_build.ray_embedder(settings, ray_build.LOCAL)
    assert embedder.embed(["one chunk"]).shape == (1, 64)
    assert embedder.remote_texts == 0
