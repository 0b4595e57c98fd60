"""The `qa` command line. Domain errors become one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import json
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


@main.command("index")
@click.argument("articles_dir", required=False, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--rebuild", is_flag=True, help="Re-embed everything into a fresh generation.")
@click.option("--watch", is_flag=True, help="Keep syncing as files change, until interrupted.")
@JSON_OPTION
def index_command(articles_dir, index_dir, rebuild, watch, as_json) -> None:
    """Sync ARTICLES_DIR (default: QA_ARTICLES_DIR or seeds/) into the index."""
    engine = _engine(index_dir)
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
        return
    from qa.watch import watch as watch_folder

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
    passages = _engine(index_dir).search(question, k)
    if as_json:
        _dump(passages)
        return
    for rank, p in enumerate(passages, start=1):
        click.echo(f"{rank}. [{p.score:.3f}] {p.title} ({p.article_id}, chars {p.start}-{p.end})")
        click.echo("   " + " ".join(p.text.split())[:300])


@main.command("status")
@INDEX_OPTION
@JSON_OPTION
def status_command(index_dir, as_json) -> None:
    """What the index holds."""
    status = _engine(index_dir).status()
    if as_json:
        _dump(status)
    elif not status.exists:
        click.echo(f"no index at {status.index_dir}; build one with `qa index`")
    else:
        click.echo(
            f"{status.index_dir}: generation {status.generation}, {status.articles} articles, {status.chunks} chunks, "
            f"embedder {status.embedder} ({status.dimension}-d), store {status.store}, last sync {status.last_sync}"
        )
