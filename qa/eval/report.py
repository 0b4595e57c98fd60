"""Turn an EvalResult (and what the run was) into a Markdown report with two PNG plots beside it.

``write_report(result, info, "out/run.md")`` writes out/run.md, out/run-calibration.png and out/run-latency.png; the
Markdown links the plots by file name, so the three files can be moved or attached together. Question and article
text is untrusted: every table cell is escaped so it can neither break the table nor inject HTML, links or images.
"""

from __future__ import annotations

import datetime
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from qa.eval.questions import EvalResult

CORRECT_F1 = 0.5  # an answer with F1 >= this against its closest gold answer counts as right
BINS = 10  # equal-width confidence bins of the reliability diagram


@dataclass(frozen=True)
class RunInfo:
    """What was evaluated, for the report's header."""

    questions_file: str
    index_dir: str
    date: str
    embedder: str
    retrieval: str
    reader: str | None = None  # None: answers were not scored (--no-answers)
    answer_threshold: float | None = None
    threshold_from: str = ""
    generation: int | None = None
    articles: int | None = None

    @classmethod
    def from_engine(cls, engine: Any, questions_file: str | Path, *, with_answers: bool) -> "RunInfo":
        settings, status = engine.settings, engine.status()
        # The index's own embedder is what the questions were searched with; the setting is only a fallback.
        embedder = status.embedder or settings.embedder
        if status.dimension:
            embedder = f"{embedder} ({status.dimension}-d)"
        reader = threshold = None
        threshold_from = ""
        if with_answers:  # touching engine.reader otherwise could fail for a retrieval-only run
            from qa.answer.calibration import Calibration
            from qa.answer.reader.factory import DEFAULT_READER_DIR

            name = getattr(engine.reader, "name", None)
            reader = name or str(settings.reader or "shipped")
            if name == str(DEFAULT_READER_DIR):  # the package's own folder: its name says more than the path
                reader = f"shipped ({DEFAULT_READER_DIR.name})"
            if settings.answer_threshold is not None:
                threshold, threshold_from = settings.answer_threshold, "set in settings"
            else:  # the same rule as Engine.ask: the threshold fitted with the reader's calibration
                threshold, threshold_from = Calibration.load(name).threshold, "from the reader's calibration"
        return cls(
            questions_file=str(questions_file),
            index_dir=str(engine.index_dir),
            date=datetime.datetime.now().astimezone().isoformat(timespec="minutes"),
            embedder=embedder,
            retrieval=settings.retrieval,
            reader=reader,
            answer_threshold=threshold,
            threshold_from=threshold_from,
            generation=status.generation if status.exists else None,
            articles=status.articles if status.exists else None,
        )


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float  # share of the bin's best answers that are right


def is_right(record: dict[str, Any]) -> bool:
    """The best candidate (shown or withheld) is right; a question with no answer in the articles never is."""
    if not record.get("answers"):
        return False
    return float(record.get("best_f1", record.get("f1", 0.0))) >= CORRECT_F1


def calibration_bins(per_question: list[dict[str, Any]], bins: int = BINS) -> list[CalibrationBin]:
    """Non-empty equal-width bins of stated confidence, with the observed share of right answers in each."""
    grouped: list[list[dict[str, Any]]] = [[] for _ in range(bins)]
    for record in per_question:
        if record.get("confidence") is not None:
            grouped[min(bins - 1, max(0, int(float(record["confidence"]) * bins)))].append(record)
    return [
        CalibrationBin(
            low=i / bins,
            high=(i + 1) / bins,
            count=len(group),
            mean_confidence=sum(float(r["confidence"]) for r in group) / len(group),
            accuracy=sum(is_right(r) for r in group) / len(group),
        )
        for i, group in enumerate(grouped)
        if group
    ]


def expected_calibration_error(bins: list[CalibrationBin]) -> float:
    total = sum(b.count for b in bins)
    return sum(b.count * abs(b.mean_confidence - b.accuracy) for b in bins) / max(1, total)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Backslash-escaping these keeps untrusted text from becoming emphasis, code, links or images, or ending a cell.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~!])")


def md_cell(value: Any) -> str:
    """One line of plain text, safe inside a Markdown table cell."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())  # a newline would end the table row
    text = html.escape(text, quote=False)  # renderers pass raw HTML such as <script> through
    return _MARKDOWN.sub(r"\\\1", text)


def plot_paths(report: str | Path) -> tuple[Path, Path]:
    """FILE.md -> (FILE-calibration.png, FILE-latency.png), in the same folder."""
    report = Path(report)
    return report.with_name(f"{report.stem}-calibration.png"), report.with_name(f"{report.stem}-latency.png")


def write_report(result: EvalResult, info: RunInfo, path: str | Path) -> list[Path]:
    """Write the plots, then the Markdown that links them; returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    calibration_png, latency_png = plot_paths(path)
    with_answers = info.reader is not None
    written = []
    bins = calibration_bins(result.per_question) if with_answers else []
    if with_answers:
        _plot_calibration(bins, info.answer_threshold, calibration_png)
        written.append(calibration_png)
    _plot_latency(result, latency_png, with_answers=with_answers)
    written.append(latency_png)
    markdown = render_markdown(result, info, bins, calibration_png.name if with_answers else None, latency_png.name)
    _replace(path, lambda tmp: tmp.write_text(markdown, encoding="utf-8"))
    return [*written, path]


def render_markdown(
    result: EvalResult, info: RunInfo, bins: list[CalibrationBin], calibration_png: str | None, latency_png: str
) -> str:
    r = result
    index = md_cell(info.index_dir)
    if info.generation is not None:
        index += f" (generation {info.generation}, {info.articles} articles)"
    settings = [f"embedder {md_cell(info.embedder)}", f"retrieval {md_cell(info.retrieval)}"]
    if info.reader is not None:
        settings.append(f"reader {md_cell(info.reader)}")
        threshold = "—" if info.answer_threshold is None else f"{info.answer_threshold:.2f}"
        settings.append(f"answer threshold {threshold}" + (f" ({md_cell(info.threshold_from)})" if info.threshold_from else ""))
    lines = [
        f"# Evaluation report: {md_cell(Path(info.questions_file).name)}",
        "",
        f"- Question file: {md_cell(info.questions_file)}",
        f"- Questions: {r.questions} ({r.answerable} answerable, {r.unanswerable} not in the articles)",
        f"- Index: {index}",
        f"- Date: {md_cell(info.date)}",
        f"- Settings: {'; '.join(settings)}",
        "",
        "## Metrics",
        "",
        "| Metric | Value |",
        "|---|---|",
    ]
    rows = [("hit@1", f"{r.hit_at_1:.3f}"), ("hit@5", f"{r.hit_at_5:.3f}"), ("hit@10", f"{r.hit_at_10:.3f}"), ("MRR", f"{r.mrr:.3f}")]
    if info.reader is not None:
        rows += [
            ("EM (answerable, %)", f"{r.em:.1f}"),
            ("F1 (answerable, %)", f"{r.f1:.1f}"),
            ("EM / F1, all questions (SQuAD 2.0 style, %)", f"{r.em_all:.1f} / {r.f1_all:.1f}"),
            ("answered (of answerable)", f"{r.answered_share:.0%}" if r.answerable else "—"),
            ("declined (of not in the articles)", f"{r.declined_share:.0%}" if r.unanswerable else "—"),
            ("answers given that are right", f"{r.given_right_share:.0%}"),
            ("best-guess F1, shown or declined (answerable, %)", f"{r.best_f1:.1f}"),
        ]
    rows += [("search p50 / p95 (ms)", f"{r.search_p50_ms:.0f} / {r.search_p95_ms:.0f}")]
    if info.reader is not None:
        rows += [("ask p50 / p95 (ms)", f"{r.ask_p50_ms:.0f} / {r.ask_p95_ms:.0f}")]
    lines += [f"| {name} | {value} |" for name, value in rows]

    if calibration_png is not None:
        lines += [
            "",
            "## Calibration",
            "",
            f"![Reliability diagram: stated confidence against observed correctness]({quote(calibration_png)})",
            "",
            f"Each question's best candidate answer, shown or withheld below the threshold, is placed by its stated "
            f"confidence; it is right when the question is answerable and its F1 against the closest gold answer is "
            f"at least {CORRECT_F1}. Questions not in the articles count as wrong answers at their confidence. "
            f"Expected calibration error: {expected_calibration_error(bins):.3f}.",
            "",
            "| Confidence | Questions | Mean confidence | Right |",
            "|---|---|---|---|",
        ]
        lines += [f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.mean_confidence:.3f} | {b.accuracy:.0%} |" for b in bins]

    lines += ["", "## Latency", "", f"![Histogram of search and ask latency]({quote(latency_png)})", ""]
    lines += ["## Questions", "", "| id | question | gold | answer | found | confidence | gold article rank | F1 |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    lines += [_question_row(record) for record in r.per_question]
    return "\n".join(lines) + "\n"


def _question_row(record: dict[str, Any]) -> str:
    answers = record.get("answers") or []
    gold = " / ".join(md_cell(a) for a in answers) if answers else "*(not in the articles)*"
    if record.get("doc"):
        gold += f" ({md_cell(record['doc'])})"
    if "found" not in record:
        answer = found = confidence = "—"
    else:
        found = "yes" if record["found"] else "no"
        confidence = f"{float(record['confidence']):.2f}"
        if record["found"]:
            answer = md_cell(record["answer"])
        else:
            guess = record.get("best_guess")
            answer = f"*declined* (best guess: {md_cell(guess)})" if guess else "*declined*"
    if not answers:
        rank = "—"
    else:
        rank = str(record["rank"]) if record.get("rank") is not None else ("not retrieved" if record.get("doc") else "—")
    f1 = f"{float(record['f1']):.2f}" if "f1" in record else "—"
    cells = [md_cell(record.get("id", "")), md_cell(record.get("question", "")), gold, answer, found, confidence, rank, f1]
    return "| " + " | ".join(cells) + " |"


# -- plots -------------------------------------------------------------------------------------------------------
def _figure(width: float, height: float) -> Any:
    # A bare Figure on an Agg canvas: no pyplot, so no global backend switch and no state shared across threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _plot_calibration(bins: list[CalibrationBin], threshold: float | None, path: Path) -> None:
    figure = _figure(6, 5.5)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar([b.low for b in bins], [b.accuracy for b in bins], width=1 / BINS, align="edge", color="tab:blue",
           alpha=0.3, edgecolor="tab:blue", label="share right in bin")
    ax.plot([b.mean_confidence for b in bins], [b.accuracy for b in bins], "o-", color="tab:blue",
            label="mean confidence vs share right")
    for b in bins:  # how many questions stand behind each bar
        ax.annotate(f"n={b.count}", ((b.low + b.high) / 2, b.accuracy), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", label=f"answer threshold {threshold:.2f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.1), xlabel="stated confidence of the best answer",
           ylabel="share right (answerable, F1 ≥ 0.5)", title="Reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    _save(figure, path)


def _plot_latency(result: EvalResult, path: Path, *, with_answers: bool) -> None:
    panels = [("search", "search_ms", result.search_p50_ms, result.search_p95_ms)]
    if with_answers:
        panels.append(("ask", "ask_ms", result.ask_p50_ms, result.ask_p95_ms))
    figure = _figure(5 * len(panels), 4)
    for i, (name, key, p50, p95) in enumerate(panels, start=1):
        ax = figure.add_subplot(1, len(panels), i)
        values = [float(r[key]) for r in result.per_question if r.get(key) is not None]
        if values:
            ax.hist(values, bins=min(30, max(5, len(values) // 2)), color="tab:green", alpha=0.7, edgecolor="white")
        ax.yaxis.get_major_locator().set_params(integer=True)  # counts of questions
        ax.axvline(p50, color="black", label=f"p50 {p50:.0f} ms")
        ax.axvline(p95, color="tab:red", linestyle="--", label=f"p95 {p95:.0f} ms")
        ax.set(xlabel="ms", ylabel="questions", title=f"{name} latency (n={len(values)})")
        ax.legend(fontsize=8)
    _save(figure, path)


def _save(figure: Any, path: Path) -> None:
    _replace(path, lambda tmp: figure.savefig(tmp, format="png"))


def _replace(path: Path, write: Any) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
