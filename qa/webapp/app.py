"""The Gradio page: chat with highlighted citations, an article viewer, the retrieved passages, index management,
and the `ask`/`search` API endpoints for gradio_client."""


import logging
import os
from pathlib import Path

from qa.engine import Engine
from qa.errors import QAError
from qa.settings import Settings
from qa.webapp import render
from qa.webapp.assets import CHAT_JS, CITE_JS, CSS, VIEWER_JS
from qa.webapp.service import ChatService, Outcome
from qa.webapp.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES

log = logging.getLogger("qa.webapp")

# Questions the seed article answers; shown as one-click examples.
EXAMPLES = (
    "Who was arrested?",
    "When did the KNB report the operation?",
    "Who dismantled the crime ring?",
)
STATUS_REFRESH_S = 5.0
CHAT_HEIGHT = "68vh"  # the chat scrolls inside this, so the question box stays in view


def build_app(engine: Engine, settings: Settings, *, service: ChatService | None = None):
    """The page as a gr.Blocks, not yet launched. ``service`` defaults to one over ``engine``."""
    import gradio as gr

    service = service or ChatService(settings, engine=engine)

    def status_now() -> str:
        return render.status_html(
            service.status(),
            reader=service.reader_name,
            articles_dir=str(service.articles_dir),
            activity=service.activity,
        )

    # -- chat ------------------------------------------------------------------------------------------------
    def start_turn(question: str, turns: list[dict]):
        """Show the question at once; the answer replaces the "Searching…" line when it is ready."""
        question = " ".join((question or "").split())
        if not question:
            return gr.skip(), gr.skip(), gr.skip()
        turns = [*turns, {"question": question, "answer": None, "error": None}]
        return render.conversation_html(turns), turns, ""

    def finish_turns(turns: list[dict]):
        turns = [dict(t) for t in turns]
        latest = None
        for i, turn in enumerate(turns):
            if turn["answer"] is not None or turn["error"] is not None:
                continue
            history = [t["answer"] for t in turns[:i] if t["answer"] is not None]
            try:
                turn["answer"] = service.ask(turn["question"], history)
            except QAError as exc:
                turn["error"] = str(exc)
            except Exception as exc:  # never leave a turn "Searching…" forever
                log.exception("ask failed")
                turn["error"] = f"unexpected error: {exc}"
            latest = turn
        if latest is None:
            return gr.skip(), gr.skip(), gr.skip()
        passages = latest["answer"].passages if latest["answer"] else []
        return render.conversation_html(turns), turns, render.passages_html(latest["question"], passages)

    def new_chat():
        return render.conversation_html([]), [], render.passages_html(None, []), render.article_html(None)

    def open_source(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        article_id = str(data.get("article") or "")
        try:
            start, end = int(data.get("start", 0)), int(data.get("end", 0))
            s_start, s_end = int(data.get("sentence_start", start)), int(data.get("sentence_end", end))
        except (TypeError, ValueError):
            return gr.skip(), gr.skip()
        article = service.article(article_id) if article_id else None
        kind = "passage" if data.get("kind") == "passage" else "answer"
        viewer_html = render.article_html(article, start, end, s_start, s_end, kind=kind, article_id=article_id)
        return viewer_html, gr.Tabs(selected="article")

    # -- index -----------------------------------------------------------------------------------------------
    def article_choices():
        return gr.Dropdown(choices=service.article_ids(), value=None)

    def after(outcome: Outcome):
        return render.log_html(outcome.lines, ok=outcome.ok), status_now(), article_choices()

    def resync(progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Syncing")
        return after(service.resync(progress=True))

    def add_files(paths: list[str] | None, progress=gr.Progress(track_tqdm=True)):
        files = [(Path(p).name, Path(p)) for p in (paths or [])]
        progress(0, desc="Adding")
        return (*after(service.add_files(files, progress=True)), None)

    def remove(article_id: str | None):
        return after(service.remove(article_id))

    # -- API for gradio_client -----------------------------------------------------------------------------
    def ask(question: str, history: list[dict] | None = None) -> dict:
        """Answer a question from the articles. history: earlier {"question", "answer"} turns, oldest first.
        Returns the answer with its citations (article, character offsets, sentence), alternatives and passages."""
        try:
            turns = [turn for turn in history or [] if isinstance(turn, dict)]
            return service.ask(question, turns).to_dict()
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def search(question: str, k: int = 5) -> list[dict]:
        """The k passages most relevant to the question, best first, with offsets into their articles."""
        try:
            return [p.to_dict() for p in service.search(question, k)]
        except QAError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    # -- layout ----------------------------------------------------------------------------------------------
    private = {"api_visibility": "private"}
    with gr.Blocks(title="Articles Q&A", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML(
            "<h1>Articles Q&amp;A</h1><p>Answers from the articles in "
            f"<code>{render.esc(service.articles_dir)}</code>, each with the exact sentence it came from.</p>",
            elem_id="header",
            js_on_load=None,
        )
        with gr.Tabs(selected="chat"):
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chat = gr.HTML(
                            render.conversation_html([]), elem_id="chat", js_on_load=CHAT_JS,
                            max_height=CHAT_HEIGHT,
                        )
                        with gr.Row(elem_id="ask-row"):
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="Ask a question about the articles…",
                                elem_id="question",
                                scale=8,
                                max_lines=4,
                                autofocus=True,
                                max_length=500,
                                container=False,
                            )
                            ask_button = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=90)
                        with gr.Row(elem_id="examples"):
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes="example") for q in EXAMPLES
                            ]
                            clear_button = gr.Button("New chat", size="sm", variant="secondary", elem_id="new-chat")
                    with gr.Column(scale=2, min_width=360):
                        with gr.Tabs(selected="article") as side:
                            with gr.Tab("Article", id="article"):
                                viewer = gr.HTML(render.article_html(None), elem_id="viewer", js_on_load=VIEWER_JS)
                            with gr.Tab("Sources", id="sources"):
                                sources = gr.HTML(render.passages_html(None, []), elem_id="sources", js_on_load=CITE_JS)
            with gr.Tab("Index", id="index"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        gr.HTML('<p class="panel-title">Index</p>', js_on_load=None)
                        status = gr.HTML(status_now, elem_id="status", js_on_load=None)
                        with gr.Row():
                            resync_button = gr.Button("Re-sync articles folder", variant="primary", elem_id="resync")
                        sync_log = gr.HTML("", elem_id="sync-log", js_on_load=None)
                    with gr.Column(scale=2):
                        gr.HTML(
                            '<p class="panel-title">Add articles</p><p class="panel-note">'
                            f"{' '.join(ALLOWED_SUFFIXES)} files up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB each; "
                            "they are saved into the articles folder and synced.</p>",
                            js_on_load=None,
                        )
                        upload = gr.File(
                            file_count="multiple", file_types=list(ALLOWED_SUFFIXES), type="filepath",
                            show_label=False, elem_id="upload",
                        )
                        gr.HTML('<p class="panel-title">Remove an article</p>', js_on_load=None)
                        remove_choice = gr.Dropdown(choices=[], label="Article", elem_id="remove-choice")
                        remove_button = gr.Button("Remove article", variant="stop", elem_id="remove")

        # Chat: Enter, the Ask button and the examples all add a turn, then answer it.
        def wire(event, inputs):
            event(start_turn, inputs, [chat, turns, question], show_progress="hidden", **private).then(
                finish_turns, [turns], [chat, turns, sources], show_progress="hidden", **private
            )

        wire(question.submit, [question, turns])
        wire(ask_button.click, [question, turns])
        for button, text in zip(example_buttons, EXAMPLES):
            wire(button.click, [gr.State(text), turns])
        clear_button.click(new_chat, None, [chat, turns, sources, viewer], **private)
        chat.cite(open_source, None, [viewer, side], show_progress="hidden", **private)
        sources.cite(open_source, None, [viewer, side], show_progress="hidden", **private)

        index_outputs = [sync_log, status, remove_choice]
        on_log = {"concurrency_id": "sync", "show_progress_on": sync_log, **private}  # the bar under the buttons
        resync_button.click(resync, None, index_outputs, **on_log)
        upload.upload(add_files, [upload], [*index_outputs, upload], **on_log)
        remove_button.click(remove, [remove_choice], index_outputs, **on_log)
        gr.Timer(STATUS_REFRESH_S).tick(status_now, None, status, show_progress="hidden", **private)
        demo.load(article_choices, None, remove_choice, **private)

        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")
    return demo


def theme():
    import gradio as gr

    # System fonts only: the page must not reach for web fonts offline.
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
    )


def launch(settings: Settings, *, block: bool = True):
    """Start the page on settings.host:settings.port (127.0.0.1:7860 unless set). Blocks until interrupted
    unless ``block`` is False, then returns the running gr.Blocks (call .close() to stop it)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    engine = Engine(settings=settings)
    service = ChatService(settings, engine=engine)
    service.start()
    demo = build_app(engine, settings, service=service)
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        prevent_thread_lock=not block,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        show_error=True,
        inbrowser=False,
        max_file_size=2 * MAX_UPLOAD_BYTES,  # uploads.py gives the precise message below this
        footer_links=["api"],
    )
    return demo
