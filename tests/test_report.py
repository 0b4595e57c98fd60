"""`qa eval --report`: the Markdown report and its plots, on a scripted run whose every figure is known."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

import qa.eval.questions
from qa.answer.answering import NOT_FOUND
from qa.cli import main
from qa.eval.questions import EvalQuestion, evaluate
from qa.eval.report import RunInfo, md_cell, write_report
from qa.types import Answer, Passage
from tests.conftest import story, write
from tests.fakes import PhraseReader

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRICKY = "Is a | b <script>alert(1)</script>\nreally?"
IMAGE = "Paris ![x](http://e.vil/p.png)"


class Clock:
    """Stands in for the time module in qa.eval.questions, so latencies are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@dataclass
class Scripted:
    retrieved: list[str]
    answer: Answer
    search_ms: float
    ask_ms: float


class ScriptedEngine:
    """search/ask return fixed results and advance the clock by fixed times."""

    def __init__(self, script: dict[str, Scripted], clock: Clock):
        self.script, self.clock = script, clock

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        self.clock.now += self.script[question].search_ms / 1000
        return [Passage(a, a, "", 0, 0, 1.0) for a in self.script[question].retrieved]

    def ask(self, question: str) -> Answer:
        self.clock.now += self.script[question].ask_ms / 1000
        return self.script[question].answer

    def article_ids(self) -> list[str]:
        return sorted({a for step in self.script.values() for a in step.retrieved})

    def articles_containing(self, snippet: str) -> list[str]:
        return []


def declined(question: str, guess: str, confidence: float) -> Answer:
    return Answer(question, NOT_FOUND, False, confidence, alternatives=[Answer(question, guess, False, confidence)])


QUESTIONS = [
    EvalQuestion("q1", "Who founded Acme?", ("Ann Smith",), "a.txt"),
    EvalQuestion("q2", TRICKY, ("Dover",), "b.txt"),
    EvalQuestion("q3", "When?", ("Monday",), "c.txt"),
    EvalQuestion("q4", "Capital of Atlantis?", (), None),
]
SCRIPT = {
    # rank 1, right, shown
    "Who founded Acme?": Scripted(["a.txt", "b.txt"], Answer("", "Ann Smith", True, 0.96), 10, 100),
    # rank 3 among distinct articles, wrong, shown
    TRICKY: Scripted(["a.txt", "a.txt", "x.txt", "b.txt"], Answer("", "Calais", True, 0.85), 20, 200),
    # gold article not retrieved; withheld best guess has F1 2/3 >= 0.5, so it is right for calibration
    "When?": Scripted(["a.txt"], declined("When?", "on Monday", 0.81), 30, 300),
    # not in the articles: declined, and its best guess counts as wrong
    "Capital of Atlantis?": Scripted(["a.txt"], declined("Capital of Atlantis?", IMAGE, 0.131), 40, 400),
}
INFO = RunInfo(
    questions_file="data/questions.jsonl",
    index_dir="indexes/bbc",
    date="2025-01-02T03:04+00:00",
    embedder="hashing (64-d)",
    retrieval="hybrid",
    reader="phrase-reader",
    answer_threshold=0.84,
    threshold_from="set in settings",
    generation=3,
    articles=2,
)


@pytest.fixture
def result(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(qa.eval.questions, "time", clock)
    return evaluate(ScriptedEngine(SCRIPT, clock), QUESTIONS)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR" and len(data) > 5000
    return struct.unpack(">II", data[16:24])


def test_evaluate_keeps_latencies_and_the_best_guess(result):
    records = {r["id"]: r for r in result.per_question}
    assert [records[q]["search_ms"] for q in ("q1", "q2", "q3", "q4")] == pytest.approx([10, 20, 30, 40])
    assert [records[q]["ask_ms"] for q in ("q1", "q2", "q3", "q4")] == pytest.approx([100, 200, 300, 400])
    assert (result.search_p50_ms, result.search_p95_ms) == pytest.approx((25, 40))
    assert (result.ask_p50_ms, result.ask_p95_ms) == pytest.approx((250, 400))
    # the shown answer still scores 0 when declined; the withheld guess is scored apart
    assert (records["q3"]["answer"], records["q3"]["f1"], records["q3"]["best_guess"]) == (NOT_FOUND, 0.0, "on Monday")
    assert records["q3"]["best_f1"] == pytest.approx(2 / 3)
    assert [records[q]["rank"] for q in ("q1", "q2", "q3", "q4")] == [1, 3, None, None]
    # of the two answers given (Ann Smith, Calais) one is right; the best guesses score 1, 0 and 2/3
    assert result.given_right_share == pytest.approx(1 / 2)
    assert result.best_f1 == pytest.approx(100 * (1 + 0 + 2 / 3) / 3)


def test_report_has_known_figures_escaped_text_and_linked_plots(result, tmp_path):
    report = tmp_path / "out" / "my run.md"
    written = write_report(result, INFO, report)
    folder = report.parent
    assert sorted(p.name for p in folder.iterdir()) == ["my run-calibration.png", "my run-latency.png", "my run.md"]
    assert sorted(written) == sorted(folder.iterdir())
    assert png_size(folder / "my run-calibration.png") == (600, 550)
    assert png_size(folder / "my run-latency.png") == (1000, 400)

    md = report.read_text(encoding="utf-8")
    lines = md.splitlines()
    assert lines[:8] == [
        "# Evaluation report: questions.jsonl",
        "",
        "- Question file: data/questions.jsonl",
        "- Questions: 4 (3 answerable, 1 not in the articles)",
        "- Index: indexes/bbc (generation 3, 2 articles)",
        "- Date: 2025-01-02T03:04+00:00",
        "- Settings: embedder hashing (64-d); retrieval hybrid; reader phrase-reader; answer threshold 0.84 (set in settings)",
        "",
    ]
    metrics = lines[lines.index("| Metric | Value |") + 2 :][:13]
    assert metrics == [
        "| hit@1 | 0.333 |",
        "| hit@5 | 0.667 |",
        "| hit@10 | 0.667 |",
        "| MRR | 0.444 |",
        "| EM (answerable, %) | 33.3 |",
        "| F1 (answerable, %) | 33.3 |",
        "| EM / F1, all questions (SQuAD 2.0 style, %) | 50.0 / 50.0 |",  # q1 right + q4 declined, of 4
        "| answered (of answerable) | 67% |",
        "| declined (of not in the articles) | 100% |",
        "| answers given that are right | 50% |",
        "| best-guess F1, shown or declined (answerable, %) | 55.6 |",
        "| search p50 / p95 (ms) | 25 / 40 |",
        "| ask p50 / p95 (ms) | 250 / 400 |",
    ]
    # bins 0.1-0.2: q4 (wrong); 0.8-0.9: q2 (wrong) and q3 (right); 0.9-1.0: q1 (right)
    assert "Expected calibration error: 0.208." in md  # (0.131 + 2 * |0.83 - 0.5| + 0.04) / 4
    bins = lines[lines.index("| Confidence | Questions | Mean confidence | Right |") + 2 :][:3]
    assert bins == ["| 0.1–0.2 | 1 | 0.131 | 0% |", "| 0.8–0.9 | 2 | 0.830 | 50% |", "| 0.9–1.0 | 1 | 0.960 | 100% |"]
    rows = [line for line in lines if re.match(r"\| q\d ", line)]
    assert rows == [
        "| q1 | Who founded Acme? | Ann Smith (a.txt) | Ann Smith | yes | 0.96 | 1 | 1.00 |",
        r"| q2 | Is a \| b &lt;script&gt;alert(1)&lt;/script&gt; really? | Dover (b.txt) | Calais | yes | 0.85 | 3 | 0.00 |",
        "| q3 | When? | Monday (c.txt) | *declined* (best guess: on Monday) | no | 0.81 | not retrieved | 0.00 |",
        r"| q4 | Capital of Atlantis? | *(not in the articles)* | *declined* (best guess: Paris \!\[x\](http://e.vil/p.png)) | no | 0.13 | — | — |",
    ]
    assert "<script>" not in md and "![x]" not in md
    # every row has exactly the header's 8 cells once escaped pipes are set aside
    assert all(len(re.split(r"(?<!\\)\|", row)) == 10 for row in rows)

    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links == ["my%20run-calibration.png", "my%20run-latency.png"]
    assert all((folder / unquote(link)).is_file() for link in links)


def test_retrieval_only_report_has_no_calibration(monkeypatch, tmp_path):
    clock = Clock()
    monkeypatch.setattr(qa.eval.questions, "time", clock)
    result = evaluate(ScriptedEngine(SCRIPT, clock), QUESTIONS, with_answers=False)
    info = RunInfo("q.jsonl", "idx", "today", "hashing (64-d)", "dense")
    write_report(result, info, tmp_path / "r.md")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r-latency.png", "r.md"]
    md = (tmp_path / "r.md").read_text()
    assert "## Calibration" not in md and "ask p50" not in md and "| search p50 / p95 (ms) | 25 / 40 |" in md
    assert "| q3 | When? | Monday (c.txt) | — | — | — | not retrieved | — |" in md
    assert png_size(tmp_path / "r-latency.png") == (500, 400)


@pytest.mark.parametrize(
    "raw, escaped",
    [
        ("a|b", r"a\|b"),
        ("line\r\nbreak\u2028x\x00y", "line break x y"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("[link](javascript:x) `code` *em* _u_ ~s~ \\", r"\[link\](javascript:x) \`code\` \*em\* \_u\_ \~s\~ \\"),
        ("AT&T", "AT&amp;T"),
    ],
)
def test_md_cell(raw, escaped):
    assert md_cell(raw) == escaped


def test_cli_eval_report_writes_markdown_and_plots(tmp_path, monkeypatch, articles):
    monkeypatch.setenv("QA_EMBEDDER", "hashing")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr("qa.answer.reader.factory.make_reader", lambda *a, **k: PhraseReader({"Ann Smith": 5.0}))
    write(articles, "acme.txt", story("Acme Robotics founded", "Acme Robotics was founded by Ann Smith in Leeds."))
    write(articles, "weather.txt", story("Storm hits Dover", "The storm hit Dover on Monday.", "Ferries stopped."))
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "Who founded Acme Robotics?", "answers": ["Ann Smith"], "doc": "acme.txt"})
        + "\n"
        + json.dumps({"id": "q|2", "question": "Who won the <b>cup</b>?", "answers": [], "doc": None})
        + "\n"
    )
    runner = CliRunner()
    assert runner.invoke(main, ["index", str(articles)], catch_exceptions=False).exit_code == 0
    report = tmp_path / "reports" / "run.md"
    result = runner.invoke(main, ["eval", str(questions), "--report", str(report), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["questions"] == 2  # the "wrote ..." lines go to stderr
    assert f"wrote {report}" in result.stderr

    for name in ("run-calibration.png", "run-latency.png"):
        assert (report.parent / name).read_bytes()[:8] == PNG_MAGIC
    md = report.read_text(encoding="utf-8")
    assert "- Questions: 2 (1 answerable, 1 not in the articles)" in md
    assert "reader phrase-reader; answer threshold 0.50 (from the reader's calibration)" in md
    assert "- Settings: embedder hashing (64-d); retrieval hybrid; reader phrase-reader" in md
    assert f"- Index: {md_cell(tmp_path / 'index')} (generation 1, 2 articles)" in md
    assert "| q1 | Who founded Acme Robotics? | Ann Smith (acme.txt) | Ann Smith | yes | 0.99 | 1 | 1.00 |" in md
    # the phrase reader finds "Ann Smith" whatever is asked: a confident wrong answer to the unanswerable one
    assert r"| q\|2 | Who won the &lt;b&gt;cup&lt;/b&gt;? | *(not in the articles)* | Ann Smith | yes | 0.99 | — | — |" in md
    assert "](run-calibration.png)" in md and "](run-latency.png)" in md


def test_all_question_scores_credit_declining_and_charge_made_up_answers(result, monkeypatch):
    # SQuAD 2.0 style over all 4: q1 right (100), q2 wrong (0), q3 declined though answerable (0), q4 declined (100)
    assert (result.em, result.f1) == pytest.approx((100 / 3, 100 / 3))
    assert (result.em_all, result.f1_all) == pytest.approx((50.0, 50.0))
    # the same run, but the unanswerable question gets a made-up answer: it scores 0, like a wrong answer
    script = dict(SCRIPT, **{"Capital of Atlantis?": Scripted(["a.txt"], Answer("", "Paris", True, 0.9), 40, 400)})
    clock = Clock()
    monkeypatch.setattr(qa.eval.questions, "time", clock)
    made_up = evaluate(ScriptedEngine(script, clock), QUESTIONS)
    assert (made_up.em_all, made_up.f1_all, made_up.declined_share) == pytest.approx((25.0, 25.0, 0.0))


def test_cli_eval_text_output_scores_answerable_and_all_questions(tmp_path, monkeypatch, articles):
    monkeypatch.setenv("QA_EMBEDDER", "hashing")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr("qa.answer.reader.factory.make_reader", lambda *a, **k: PhraseReader({"Ann Smith": 5.0}))
    write(articles, "acme.txt", story("Acme Robotics founded", "Acme Robotics was founded by Ann Smith in Leeds."))
    right = {"id": "q1", "question": "Who founded Acme Robotics?", "answers": ["Ann Smith"], "doc": "acme.txt"}
    absent = {"id": "q2", "question": "Who won the cup?", "answers": [], "doc": None}
    both, answerable_only = tmp_path / "both.jsonl", tmp_path / "answerable.jsonl"
    both.write_text(json.dumps(right) + "\n" + json.dumps(absent) + "\n")
    answerable_only.write_text(json.dumps(right) + "\n")
    runner = CliRunner()
    assert runner.invoke(main, ["index", str(articles)], catch_exceptions=False).exit_code == 0

    lines = runner.invoke(main, ["eval", str(both)], catch_exceptions=False).stdout.splitlines()
    # the fake reader answers "Ann Smith" to the cup question too: a made-up answer, so all-question scores halve
    assert lines[2] == "answers:   EM 100.0  F1 100.0  answered 100%  declined 0% of unanswerable"
    assert lines[3].startswith("all:       EM 50.0  F1 50.0  (SQuAD 2.0 style")
    assert lines[4].startswith("given:     50% of the answers given are right; best-guess F1 100.0 ")

    lines = runner.invoke(main, ["eval", str(answerable_only)], catch_exceptions=False).stdout.splitlines()
    assert lines[2] == "answers:   EM 100.0  F1 100.0  answered 100%  none unanswerable"
    assert not any(line.startswith("all:") for line in lines)
    assert lines[3].startswith("given:     100% of the answers given are right")
