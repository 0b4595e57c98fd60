"""The `qa` command line. Domain errors become one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path

import click

from qa.errors import QAError

INDEX_OPTION = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), default=None, help="Index folder (default: QA_INDEX_DIR or indexes/default)."
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


class _CleanErrors(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            sys.exit(1)
        except OSError as exc:
            click.secho(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True, fg="red")
            sys.exit(1)
        except sqlite3.DatabaseError as exc:  # a last resort: damaged index files are normally IndexCorrupt already
            click.secho(f"error: the index database is damaged or unwritable ({exc}); repair it with `qa index` "
                        "or `qa index --rebuild`", err=True, fg="red")
            sys.exit(1)


def _dump(value) -> None:
    def plain(item):
        if is_dataclass(item):
            return asdict(item)
        if isinstance(item, list):
            return [plain(x) for x in item]
        return item

    click.echo(json.dumps(plain(value), indent=2, ensure_ascii=False, default=str))


def _engine(index_dir: Path | None):
    from qa.engine import Engine
    from qa.settings import Settings

    return Engine(settings=Settings.from_env(index_dir=index_dir))


@click.group(cls=_CleanErrors)
@click.version_option(package_name="articles-qa")
def main() -> None:
    """Question answering over a folder of articles, with exact citations."""
    # Hub progress bars ("Loading weights") would bury the answer; our own progress bars stay.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # The engine's warnings (an index recovered after CURRENT was lost) are one line each on stderr.
    logger = logging.getLogger("qa")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def _question(question: str) -> str:
    """The question as the engine takes it, or a clean error (empty, or not valid text: invalid UTF-8 in argv
    arrives as lone surrogates)."""
    from qa.engine import valid_question

    return valid_question(question)


@main.command("index")
@click.argument("articles_dir", required=False, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--rebuild", is_flag=True, help="Re-embed everything into a fresh generation.")
@click.option("--watch", is_flag=True, help="Keep syncing as files change, until interrupted.")
@click.option("--merge", is_flag=True, help="After syncing, merge small segments and drop deleted rows for good.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Embed new chunks on a Ray cluster (needs the [ray] extra): ADDRESS (host:port, 'auto'), or "
                   "alone (put it after ARTICLES_DIR) for a local one on every core.")
@JSON_OPTION
def index_command(articles_dir, index_dir, rebuild, watch, merge, as_json, ray_address) -> None:
    """Sync ARTICLES_DIR (default: QA_ARTICLES_DIR or seeds/) into the index."""
    engine = _engine(index_dir)
    if ray_address is not None:
        from qa.engine import Engine
        from qa.ingest.ray_build import ray_embedder

        engine = Engine(settings=engine.settings, embedder=ray_embedder(engine.settings, ray_address))
    folder = articles_dir or engine.settings.articles_dir

    def show(report) -> None:
        if as_json:
            _dump(report)
            return
        click.echo(f"{folder} -> {engine.index_dir} (generation {report.generation}): {report.summary()}")
        for note in report.notes:
            click.echo(f"  note: {note}")
        for skipped in report.skipped:
            click.echo(f"  skipped {skipped.path}: {skipped.reason}")

    if not watch:
        show(engine.sync(folder, rebuild=rebuild))
        if merge:
            show(engine.merge())
        return
    from qa.ingest.watch import watch as watch_folder

    if rebuild:
        show(engine.sync(folder, rebuild=True))
    click.echo(f"watching {folder} (Ctrl+C to stop)", err=True)
    watch_folder(
        folder,
        lambda: engine.sync(folder),
        debounce_s=engine.settings.watch_debounce_s,
        on_report=lambda report: show(report) if report.changed or as_json else None,
        on_error=lambda exc: click.secho(f"error: {exc}", err=True, fg="red"),
    )


@main.command("search")
@click.argument("question")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=None, help="How many passages.")
@INDEX_OPTION
@JSON_OPTION
def search_command(question, k, index_dir, as_json) -> None:
    """The passages most relevant to QUESTION."""
    passages = _engine(index_dir).search(_question(question), k)
    if as_json:
        _dump(passages)
        return
    for rank, p in enumerate(passages, start=1):
        click.echo(f"{rank}. [{p.score:.3f}] {p.title} ({p.article_id}, chars {p.start}-{p.end})")
        click.echo("   " + " ".join(p.text.split())[:300])


@main.command("status")
@INDEX_OPTION
@click.option("--verify", is_flag=True, help="Also compare each file's checksum with the one recorded when it was written.")
@JSON_OPTION
def status_command(index_dir, verify, as_json) -> None:
    """What the index holds, and whether its files are intact (exit status 1 when they are not)."""
    from qa.store.index import damaged
    from qa.store.integrity import failures

    engine = _engine(index_dir)
    status = engine.status()
    if not status.exists:
        if as_json:
            _dump(status)
        else:
            click.echo(f"no index at {status.index_dir}; build one with `qa index`")
        return
    live, checks = engine.verify(full=verify)
    if as_json:
        _dump({**asdict(status), "note": live.note, "verified": verify, "files": [asdict(c) for c in checks]})
    else:
        click.echo(
            f"{status.index_dir}: generation {status.generation}, {status.articles} articles, {status.chunks} chunks, "
            f"embedder {status.embedder} ({status.dimension}-d), store {status.store}, last sync {status.last_sync}"
        )
        if live.note:
            click.echo(f"warning: {live.note}; the next `qa index` points CURRENT at it again", err=True)
        if verify:
            for check in checks:
                click.echo(f"  {'ok    ' if check.ok else 'FAILED'}  {check.name}: {check.detail}")
    problem = failures(checks)
    if problem:
        raise damaged(engine.index_dir / live.name, problem)


def _mark(sentence: str, start: int, end: int) -> str:
    """The sentence with the answer between » « markers, on one line."""
    marked = sentence[:start] + "»" + sentence[start:end] + "«" + sentence[end:]
    return " ".join(marked.split())


@main.command("ask")
@click.argument("question")
@INDEX_OPTION
@JSON_OPTION
def ask_command(question, index_dir, as_json) -> None:
    """Answer QUESTION from the articles, citing the article and sentence it came from."""
    answer = _engine(index_dir).ask(_question(question))
    if as_json:
        _dump(answer)
        return
    if answer.found:
        click.echo(f"{answer.text}  (confidence {answer.confidence:.0%})")
    else:
        click.echo(answer.text)
        if answer.unwritten:
            click.echo(f"  none of the closest articles mentions {' or '.join(answer.unwritten)}")
        if answer.yes_no:
            click.echo("  answers are words quoted from the articles, never a yes or no: "
                       "ask who, what, when, where or how")
        for alternative in answer.alternatives[:1]:
            click.echo(f"  closest guess, too unsure to give ({alternative.confidence:.0%} confidence): {alternative.text!r}")
    citations = answer.citations or [c for alt in answer.alternatives[:1] for c in alt.citations]
    for citation in citations:
        click.echo(f"\n  {citation.title} — {citation.article_id}, chars {citation.start}-{citation.end}")
        click.echo("  " + _mark(citation.sentence, citation.start - citation.sentence_start, citation.end - citation.sentence_start))


@main.command("train-reader")
@click.option("--squad", "squad_train", type=click.Path(path_type=Path, exists=True), default=None,
              help="SQuAD 1.1 train file (default: ../shared/data/squad/train-v1.1.json.gz).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Where to export the reader (default: the shipped folder).")
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("runs/reader"), show_default=True,
              help="Checkpoints and the features cache.")
@click.option("--hours", type=float, default=1.0, show_default=True, help="Time budget; rerun to resume.")
@click.option("--epochs", type=float, default=1.5, show_default=True)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--init-from", type=click.Path(path_type=Path), default=None,
              help="Continue from exported weights (e.g. the shipped reader) when no checkpoint exists.")
@click.option("--fine-tune", is_flag=True,
              help="With --init-from: a new schedule from step 0 and a fresh optimizer, not the weights' own schedule.")
@click.option("--steps", type=click.IntRange(1), default=None, help="The schedule's length in steps (instead of --epochs).")
@click.option("--schedule", type=click.Choice(["linear", "constant"]), default="linear", show_default=True,
              help="Learning rate after warm-up.")
@click.option("--warmup-share", type=click.FloatRange(0, 1), default=0.05, show_default=True)
@click.option("--near-miss-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Near-miss 'no answer' questions per training question (a name, number or date swapped).")
@click.option("--follow-up-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Chat follow-ups per training question ('who represented it? (earlier question answer)').")
@click.option("--follow-up-ellipsis", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Of the follow-ups whose shared words follow a preposition, the share that leaves them out.")
@click.option("--low-overlap-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="The share of questions worded least like their answer's sentence, read again (reworded questions).")
@click.option("--low-overlap-copies", type=click.IntRange(1), default=1, show_default=True,
              help="How many more times each of those is read.")
@click.option("--headline-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="The share of questions read again over their paragraph under a news-style headline.")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="'auto' uses a CUDA GPU when present.")
def train_reader_command(squad_train, out_dir, work_dir, hours, epochs, lr, seed, init_from, fine_tune, steps, schedule,
                         warmup_share, near_miss_share, follow_up_share, follow_up_ellipsis, low_overlap_share,
                         low_overlap_copies, headline_share, precision, device) -> None:
    """Fine-tune the extractive reader on SQuAD 1.1 (resumable; checkpoints every 10 minutes)."""
    from qa.answer.reader.factory import DEFAULT_READER_DIR
    from qa.train.reader import TrainConfig, train

    squad_train = squad_train or _shared() / "data" / "squad" / "train-v1.1.json.gz"
    if not squad_train.exists():
        raise click.UsageError(f"{squad_train} not found; pass --squad PATH")
    if fine_tune and init_from is None:
        raise click.UsageError("--fine-tune needs --init-from DIR (the weights to start from)")
    config = TrainConfig(
        squad_train=squad_train,
        out_dir=out_dir or DEFAULT_READER_DIR,
        work_dir=work_dir,
        init_from=init_from,
        time_budget_s=hours * 3600,
        epochs=epochs,
        steps=steps,
        schedule=schedule,
        warmup_share=warmup_share,
        fine_tune=fine_tune,
        near_miss_share=near_miss_share,
        follow_up_share=follow_up_share,
        follow_up_ellipsis=follow_up_ellipsis,
        low_overlap_share=low_overlap_share,
        low_overlap_copies=low_overlap_copies,
        headline_share=headline_share,
        lr=lr,
        seed=seed,
        precision=precision,
        device=device,
    )
    train(config, log=lambda message: click.echo(message, err=True))


@main.command("train-retriever")
@click.option("--squad", "squad_train", type=click.Path(path_type=Path, exists=True), default=None,
              help="SQuAD 1.1 train file (default: ../shared/data/squad/train-v1.1.json.gz).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("runs/retriever/model"),
              show_default=True, help="Where to export the embedder (a sentence-transformers folder, fp16).")
@click.option("--work", "work_dir", type=click.Path(path_type=Path), default=Path("runs/retriever"), show_default=True,
              help="Checkpoints and the pairs cache.")
@click.option("--hours", type=float, default=1.0, show_default=True, help="Time budget; rerun to resume.")
@click.option("--steps", type=click.IntRange(1), default=1500, show_default=True, help="The schedule's length.")
@click.option("--batch-size", type=click.IntRange(2), default=32, show_default=True)
@click.option("--lr", type=float, default=2e-5, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="'auto' uses a CUDA GPU when present.")
def train_retriever_command(squad_train, out_dir, work_dir, hours, steps, batch_size, lr, seed, precision,
                            device) -> None:
    """Fine-tune the bundled MiniLM as a question -> passage embedder on SQuAD 1.1 (hard negatives; resumable).

    Use the result with QA_EMBEDDER=OUT, then rebuild the index (an index refuses another embedder)."""
    from qa.train.retriever import RetrieverConfig, train_retriever

    squad_train = squad_train or _shared() / "data" / "squad" / "train-v1.1.json.gz"
    if not squad_train.exists():
        raise click.UsageError(f"{squad_train} not found; pass --squad PATH")
    config = RetrieverConfig(squad_train=squad_train, out_dir=out_dir, work_dir=work_dir, time_budget_s=hours * 3600,
                             steps=steps, batch_size=batch_size, lr=lr, seed=seed, precision=precision,
                             device=device)
    train_retriever(config, log=lambda message: click.echo(message, err=True))


@main.command("eval-reader")
@click.option("--reader", "reader_name", default=None, help="Model id or path (default: the shipped reader).")
@click.option("--squad", "squad_dev", type=click.Path(path_type=Path, exists=True), default=None,
              help="SQuAD 1.1 dev file (default: ../shared/data/squad/dev-v1.1.json.gz).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Score only the first N questions.")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="'auto' uses a CUDA GPU when present.")
@JSON_OPTION
def eval_reader_command(reader_name, squad_dev, limit, precision, device, as_json) -> None:
    """Score a reader on SQuAD 1.1 dev with the official EM/F1 normalisation."""
    from qa.eval.reader import evaluate_reader
    from qa.answer.reader.factory import make_reader

    squad_dev = squad_dev or _shared() / "data" / "squad" / "dev-v1.1.json.gz"
    if not squad_dev.exists():
        raise click.UsageError(f"{squad_dev} not found; pass --squad PATH")
    reader = make_reader(reader_name, precision=precision, device=device, batch_size=64)
    result = evaluate_reader(reader, squad_dev, limit=limit)
    result["reader"] = reader.name
    if as_json:
        _dump(result)
    else:
        click.echo(f"{reader.name}: EM {result['em']:.1f}  F1 {result['f1']:.1f}  on {result['questions']} questions "
                   f"({result['seconds']:.0f}s)")


def _shared() -> Path:
    """The read-only shared data folder that sits beside the project checkout."""
    return Path(__file__).resolve().parents[2] / "shared"


@main.command("eval")
@click.argument("questions_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@INDEX_OPTION
@click.option("--no-answers", is_flag=True, help="Score retrieval only (no reader).")
@click.option("--details", is_flag=True, help="With --json: include one record per question.")
@click.option("--report", "report_file", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE.md",
              help="Also write a Markdown report to FILE.md, with its plots beside it as FILE-calibration.png "
                   "(reliability diagram; not with --no-answers) and FILE-latency.png.")
@JSON_OPTION
def eval_command(questions_file, index_dir, no_answers, details, report_file, as_json) -> None:
    """Score a JSONL file of questions, conversations or ambiguous questions (formats in the README)."""
    from qa.eval.chat import file_kind
    from qa.eval.questions import evaluate, load_questions

    engine = _engine(index_dir)
    kind = file_kind(questions_file)
    if kind != "questions":
        _eval_chat(engine, kind, questions_file, details, report_file, as_json)
        return
    result = evaluate(engine, load_questions(questions_file), with_answers=not no_answers)
    if report_file is not None:
        from qa.eval.report import RunInfo, write_report

        info = RunInfo.from_engine(engine, questions_file, with_answers=not no_answers)
        for written in write_report(result, info, report_file):
            click.echo(f"wrote {written}", err=True)  # stderr: --json output stays parseable
    if as_json:
        data = result.to_dict()
        if not details:
            data.pop("per_question")
        _dump(data)
        return
    click.echo(f"{result.questions} questions ({result.answerable} answerable, {result.unanswerable} not in the articles)")
    click.echo(f"retrieval: hit@1 {result.hit_at_1:.3f}  hit@5 {result.hit_at_5:.3f}  hit@10 {result.hit_at_10:.3f}  MRR {result.mrr:.3f}")
    if not no_answers:
        declined = f"declined {result.declined_share:.0%} of unanswerable" if result.unanswerable else "none unanswerable"
        click.echo(f"answers:   EM {result.em:.1f}  F1 {result.f1:.1f}  answered {result.answered_share:.0%}  {declined}")
        if result.unanswerable:
            click.echo(f"all:       EM {result.em_all:.1f}  F1 {result.f1_all:.1f}  (SQuAD 2.0 style: declining an "
                       f"unanswerable question scores 100)")
        click.echo(f"given:     {result.given_right_share:.0%} of the answers given are right; best-guess F1 "
                   f"{result.best_f1:.1f} (the best candidate, shown or declined: what a perfect bar would reach)")
        click.echo(f"latency:   search p50 {result.search_p50_ms:.0f} ms p95 {result.search_p95_ms:.0f} ms; "
                   f"ask p50 {result.ask_p50_ms:.0f} ms p95 {result.ask_p95_ms:.0f} ms")
    else:
        click.echo(f"latency:   search p50 {result.search_p50_ms:.0f} ms p95 {result.search_p95_ms:.0f} ms")


def _eval_chat(engine, kind: str, path: Path, details: bool, report_file: Path | None, as_json: bool) -> None:
    from qa.eval.chat import evaluate_ambiguous, evaluate_conversations
    from qa.eval.chat_report import summary_lines, write_chat_report

    result = evaluate_conversations(engine, path) if kind == "conversations" else evaluate_ambiguous(engine, path)
    if report_file is not None:
        click.echo(f"wrote {write_chat_report(result, path, report_file)}", err=True)
    if as_json:
        data = result.to_dict()
        if not details:
            data.pop("per_turn", None)
            data.pop("per_question", None)
        _dump(data)
        return
    for line in summary_lines(result):
        click.echo(line)


@main.command("serve")
@INDEX_OPTION
@click.option("--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
              help="Articles folder the page syncs and uploads into (default: QA_ARTICLES_DIR or seeds/).")
@click.option("--host", default=None, help="Interface to bind (default: QA_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: QA_PORT or 7860).")
def serve_command(index_dir, articles_dir, host, port) -> None:
    """Start the web chat."""
    from qa.settings import Settings
    from qa.webapp.app import launch

    launch(Settings.from_env(index_dir=index_dir, articles_dir=articles_dir, host=host, port=port))
