"""The command line: JSON output for scripts, one clean line for errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.cli import main
from tests.conftest import SEED, story, write


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_EMBEDDER", "hashing")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_index_search_status_json(run, articles):
    write(articles, "seed.txt", SEED.read_text())
    write(articles, "other.txt", story("Markets rally", "Shares rose in London."))
    result = run("index", articles, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sorted(report["added"]) == ["other.txt", "seed.txt"] and report["generation"] == 1
    assert set(report) >= {"added", "updated", "removed", "unchanged", "skipped", "chunks_embedded", "seconds"}

    result = run("search", "who was arrested?", "-k", "3", "--json")
    passages = json.loads(result.output)
    assert len(passages) == 3
    assert set(passages[0]) >= {"article_id", "title", "text", "start", "end", "score"}
    text = SEED.read_text()
    for p in passages:
        if p["article_id"] == "seed.txt":
            assert text[p["start"] : p["end"]] == p["text"]

    status = json.loads(run("status", "--json").output)
    assert (status["articles"], status["exists"]) == (2, True)


def test_human_output(run, articles):
    write(articles, "seed.txt", SEED.read_text())
    assert "1 added" in run("index", articles).output
    assert "1 unchanged" in run("index", articles).output
    assert "Kazakhstan busts suspects" in run("search", "dark web drugs").output
    assert "1 articles" in run("status").output


def test_errors_are_one_line_without_traceback(run, tmp_path):
    result = run("search", "anything", "--index", tmp_path / "none")
    assert result.exit_code == 1
    assert result.output.startswith("error: no index at") and "Traceback" not in result.output
    result = run("index", tmp_path / "missing-folder")
    assert result.exit_code == 1 and "does not exist" in result.output


def test_bad_setting_is_a_clean_error(run, monkeypatch):
    monkeypatch.setenv("QA_CHUNK_TOKENS", "lots")
    result = run("status")
    assert result.exit_code == 1 and "QA_CHUNK_TOKENS" in result.output


def test_settings_env_overrides_and_validation(monkeypatch):
    from qa.errors import ConfigError
    from qa.settings import Settings

    s = Settings.from_env({"QA_INDEX_DIR": "/x/idx", "QA_SEARCH_K": "9", "QA_EMBED_TITLES": "no"})
    assert (str(s.index_dir), s.search_k, s.embed_titles) == ("/x/idx", 9, False)
    assert Settings.from_env({"QA_SEARCH_K": "9"}, search_k=3).search_k == 3
    with pytest.raises(ConfigError, match="precision"):
        Settings(precision="fp8")
    with pytest.raises(ConfigError, match="QA_EMBED_TITLES"):
        Settings.from_env({"QA_EMBED_TITLES": "maybe"})
    with pytest.raises(Exception):
        s.search_k = 4  # frozen
