"""The Gradio page: chat with highlighted citations, an article viewer, the retrieved passages, index management,
and the `ask`/`search` API endpoints for gradio_client."""


import logging
import os
import threading
from pathlib import Path

from qa.answer.conversation import about_every_story
from qa.engine import Engine
from qa.errors import QAError
from qa.settings import Settings
from qa.webapp import render
from qa.webapp.assets import (
    CHAT_JS,
    CITE_JS,
    COUNTER_JS,
    CSS,
    HEADER_JS,
    PAGE_JS,
    VIEWER_JS,
)
from qa.webapp.service import (
    MAX_QUESTION_CHARS,
    ChatService,
    Outcome,
    load_turns,
    mark_followed,
    save_turns,
)
from qa.webapp.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES

log = logging.getLogger("qa.webapp")

STATUS_REFRESH_S = 2.0  # how often the page looks at the index (progress, article count, examples)
PROGRESS_S = 0.5  # how often a running sync's progress is shown under the Re-sync button
CHAT_HEIGHT = "68vh"  # the chat scrolls inside this, so the question box stays in view
RESYNC_LABEL = "Re-sync articles folder"
STORAGE_KEY = "qa-chat-v1"  # the chat kept in the browser's localStorage


def about_title(answer, earlier: dict | None, title_of) -> str:
    """What the "about:" line under an answer names: of a focus of several articles (the same story filed twice,
    or articles that gave the same answer), the one the answer quotes first, so that the line names the article
    the answer came from ("McIlroy wins 800m indoor title", not a preview of the race that named him too); the
    earlier turn's when the chat is about the same articles as after it and the answer quotes none of them (a
    declined follow-up keeps the story, or the stories); every story of a story-by-story answer until one is picked;
    else the focus's first article (``title_of(ids)`` when no citation gives its title)."""
    if not answer.focus:
        return ""
    if about_every_story(answer):
        if earlier is not None and earlier["answer"].focus == answer.focus:
            return earlier.get("about", "")
        return f"the {len(answer.stories)} stories above (pick one, or ask and each answers)"
    quoted = next((c.title for c in answer.citations if c.article_id in answer.focus and c.title), "")
    if quoted:
        return quoted
    if earlier is not None and earlier["answer"].focus == answer.focus:
        return earlier.get("about", "")
    cited = [*answer.citations, *(c for s in answer.stories for c in s.citations)]
    for c in cited:
        if c.article_id == answer.focus[0] and c.title:
            return c.title
    return title_of(answer.focus)


def moved_story(answer, earlier: dict | None) -> bool:
    """The chat went on to another story than the earlier turn's, none of whose articles it shares: the "about:"
    line says so, since a new story's answers are read from other articles than the ones just quoted."""
    if earlier is None or answer.small_talk or not answer.focus or not earlier["answer"].focus:
        return False
    return not set(answer.focus) & set(earlier["answer"].focus)


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
            last_check=service.last_check,
            last_outcome=service.last_outcome,
        )

    def header_now() -> str:
        status = service.status()
        return render.header_html(str(service.articles_dir), status.articles if status.exists else None)

    def banner_now() -> str:
        starting = service.preparing.is_set() or not service.status().exists
        return render.banner_html(service.activity, starting=starting)

    # -- chat ------------------------------------------------------------------------------------------------
    def start_turn(question: str, turns: list[dict]):
        """Show the question at once; the answer replaces the "Searching…" line when it is ready."""
        question = " ".join((question or "").split())
        if not question:
            return gr.skip(), gr.skip(), gr.skip()
        if len(question) > MAX_QUESTION_CHARS:  # said, not cut: the question stays in the box to be shortened
            error = f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}. Shorten it."
            turns = [*turns, {"question": question, "answer": None, "error": error, "about": ""}]
            return render.conversation_html(turns), turns, gr.skip()
        turns = [*turns, {"question": question, "answer": None, "error": None, "about": ""}]
        return render.conversation_html(turns), turns, ""

    def finish_turns(turns: list[dict], focus: dict | None):
        turns = [dict(t) for t in turns]
        latest = None
        for i, turn in enumerate(turns):
            if turn["answer"] is not None or turn["error"] is not None:
                continue
            history = [t["answer"] for t in turns[:i] if t["answer"] is not None]
            chosen = None if focus is None else tuple(focus.get("ids") or ())
            if chosen:  # the story card it came from keeps saying which story the chat followed
                mark_followed(turns[:i], chosen, str((focus or {}).get("title") or ""))
            try:
                turn["answer"] = service.ask(turn["question"], history, focus=chosen)
                earlier = None if chosen is not None else next(
                    (t for t in reversed(turns[:i]) if t["answer"] is not None), None)
                turn["about"] = about_title(turn["answer"], earlier, service.title)
                if moved_story(turn["answer"], earlier):
                    turn["moved"] = True
                focus = None  # used: the answer's own focus now carries the chat on
            except QAError as exc:
                turn["error"] = str(exc)
            except Exception as exc:  # never leave a turn "Searching…" forever
                log.exception("ask failed")
                turn["error"] = f"unexpected error: {exc}"
            latest = turn
        if latest is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        passages = latest["answer"].passages if latest["answer"] else []
        return (
            render.conversation_html(turns, focus), turns, render.passages_html(latest["question"], passages),
            focus, save_turns(turns),
        )

    def follow(turns: list[dict], evt: gr.EventData):
        """A story card's "Follow this story" (ids) or the "about:" line's "clear" (no ids), for the next turn."""
        data = getattr(evt, "_data", None) or {}
        ids = [str(i) for i in data.get("ids") or [] if isinstance(i, (str, int))][:20]
        focus = {"ids": ids, "title": str(data.get("title") or "")[:300]}
        return render.conversation_html(turns, focus), focus

    def ask_everywhere(turns: list[dict], evt: gr.EventData):
        """A follow-up its story did not answer, asked again of every article ("Ask every article"): the story is
        cleared for it, as the about line's "clear" does, and the question is a new turn."""
        data = getattr(evt, "_data", None) or {}
        question = " ".join(str(data.get("question") or "").split())
        if not question or len(question) > MAX_QUESTION_CHARS:
            return gr.skip(), gr.skip(), gr.skip()
        turns = [*turns, {"question": question, "answer": None, "error": None, "about": ""}]
        return render.conversation_html(turns), turns, {"ids": [], "title": ""}

    def start_example(question: str, turns: list[dict]):
        """An example is a question of its own, made from one article: asked of every article, never read as a
        follow-up of the chat's story ("When did Manchester United reveal this?" clicked after another example was
        read inside that example's story, and declined)."""
        html, turns_after, _ = start_turn(question, turns)
        if not isinstance(turns_after, list):  # nothing to ask
            return gr.skip(), gr.skip(), gr.skip()
        return html, turns_after, {"ids": [], "title": ""}

    def restore(saved):
        """The chat kept in this browser, shown again after a reload."""
        turns = load_turns(saved)
        if not turns:
            return gr.skip(), gr.skip(), gr.skip()
        latest = turns[-1]
        passages = latest["answer"].passages if latest["answer"] else []
        return render.conversation_html(turns), turns, render.passages_html(latest["question"], passages)

    def new_chat():
        return (
            render.conversation_html([]), [], render.passages_html(None, []), render.article_html(None), None, [],
        )

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

    # -- what the page shows of the index, refreshed on a timer --------------------------------------------------
    def examples_update():
        return [gr.Button(value=q, visible=True) for q in service.examples(len(example_buttons))]

    def refresh(seen: dict | None):
        """Status and the Re-sync button every tick; the header, examples and article list only when the index
        generation changed (they cost a read of every article, and wait while a question is read)."""
        seen = dict(seen or {})
        status = service.status()
        generation = status.generation if status.exists else -1
        busy = service.syncing
        changed = seen.get("generation") != generation
        button = gr.Button(value="Syncing…" if busy else RESYNC_LABEL, interactive=not busy)
        seen.update(generation=generation)
        stale = changed
        return (
            status_now(),
            button if seen.get("busy") != busy else gr.skip(),
            header_now() if stale else gr.skip(),
            *(examples_update() if stale else [gr.skip()] * len(example_buttons)),
            article_choices() if stale else gr.skip(),
            {**seen, "busy": busy},
        )

    # -- index -----------------------------------------------------------------------------------------------
    def article_choices():
        return gr.Dropdown(choices=service.article_choices(), value=None)

    def after(outcome: Outcome):
        return render.log_html(outcome.lines, ok=outcome.ok), status_now(), article_choices(), header_now()

    def with_progress(action):
        """Run an index action in a thread and show the service's progress line under the buttons meanwhile."""
        result: list[Outcome] = []
        worker = threading.Thread(target=lambda: result.append(action()), daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(PROGRESS_S)
            if worker.is_alive():
                yield render.log_html([service.activity or "Working…"]), gr.skip(), gr.skip(), gr.skip()
        yield after(result[0] if result else Outcome(["the action failed; see the server log"], ok=False))

    def resync():
        yield from with_progress(service.resync)

    def add_files(paths: list[str] | None):
        files = [(Path(p).name, Path(p)) for p in (paths or [])]
        for update in with_progress(lambda: service.add_files(files)):
            yield (*update, gr.skip())
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), None

    def ask_remove(article_id: str | None):
        """The first click on Remove: say what will go, and ask for a second click to confirm."""
        if not article_id:
            return render.note_html("Choose an article in the list first.", bad=True), gr.Row(visible=False)
        label = {v: k for k, v in service.article_choices()}.get(article_id, article_id)
        source = article_id.split("#", 1)[0]
        return (
            render.note_html(f"Remove “{label}”? Its file {source} is deleted from the articles folder."),
            gr.Row(visible=True),
        )

    def remove(article_id: str | None):
        return (*after(service.remove(article_id)), "", gr.Row(visible=False))

    def cancel_remove():
        return "", gr.Row(visible=False)

    # -- API for gradio_client -----------------------------------------------------------------------------
    def ask(question: str, history: list[dict] | None = None, focus: list[str] | None = None) -> dict:
        """Answer a question from the articles. history: earlier {"question", "answer"} turns, or the answers this
        endpoint returned, oldest first.
        focus: article ids to answer from first (a story's article_ids); None takes it from the history, [] clears it.
        Returns the answer with its citations (article, character offsets, sentence), alternatives, passages and,
        when several stories answer it, stories."""
        try:
            turns = [turn for turn in history or [] if isinstance(turn, dict)]
            chosen = None if focus is None else [str(i) for i in focus]
            return service.ask(question, turns, focus=chosen).to_dict()
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
        focus = gr.State(None)  # None: the engine takes it from the history; {"ids", "title"}: chosen or cleared
        seen = gr.State({})
        saved = gr.BrowserState([], storage_key=STORAGE_KEY)
        header = gr.HTML(header_now(), elem_id="header", js_on_load=HEADER_JS)
        gr.HTML('<div id="announce" class="sr-only" aria-live="polite"></div>', elem_id="live", js_on_load=None)
        with gr.Tabs(selected="chat"):
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        with gr.Row(elem_id="chat-tools"):
                            # empty until the page loads: a value given here is the moment the app was built, and every
                            # page opened later showed "Checking the articles folder…" until its first refresh
                            banner = gr.HTML("", elem_id="banner", js_on_load=None)
                            clear_button = gr.Button(
                                "New chat", size="sm", variant="secondary", elem_id="new-chat", scale=0, min_width=96
                            )
                        chat = gr.HTML(
                            render.conversation_html([]), elem_id="chat", js_on_load=CHAT_JS,
                            max_height=CHAT_HEIGHT,
                        )
                        with gr.Row(elem_id="ask-row"):
                            question = gr.Textbox(
                                label="Question",
                                show_label=False,
                                placeholder="Ask about the articles…",
                                elem_id="question",
                                scale=8,
                                lines=1,
                                max_lines=4,
                                autofocus=True,
                                container=False,
                            )
                            ask_button = gr.Button("Ask", variant="primary", elem_id="ask", scale=0, min_width=72)
                        gr.HTML(
                            '<span class="q-count" aria-live="polite"></span>', elem_id="q-count",
                            js_on_load=COUNTER_JS.replace("MAX_CHARS", str(MAX_QUESTION_CHARS)),
                        )
                        with gr.Row(elem_id="examples"):
                            gr.HTML('<span class="examples-label">Try</span>', elem_id="examples-label", js_on_load=None)
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes="example")
                                for q in service.examples(3)
                            ]
                    with gr.Column(scale=2, min_width=320):
                        with gr.Tabs(selected="article") as side:
                            with gr.Tab("Article", id="article"):
                                viewer = gr.HTML(render.article_html(None), elem_id="viewer", js_on_load=VIEWER_JS)
                            with gr.Tab("Sources", id="sources"):
                                sources = gr.HTML(render.passages_html(None, []), elem_id="sources", js_on_load=CITE_JS)
            with gr.Tab("Index", id="index"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        gr.HTML('<h2 class="panel-title">Index</h2>', js_on_load=None)
                        status = gr.HTML(status_now, elem_id="status", js_on_load=None)
                        with gr.Row():
                            resync_button = gr.Button(
                                RESYNC_LABEL, variant="primary", elem_id="resync", interactive=not service.syncing
                            )
                        sync_log = gr.HTML("", elem_id="sync-log", js_on_load=None)
                    with gr.Column(scale=2):
                        gr.HTML(
                            '<h2 class="panel-title">Add articles</h2><p class="panel-note">'
                            f"{' '.join(ALLOWED_SUFFIXES)} files up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB each; "
                            "they are saved into the articles folder and synced.</p>",
                            js_on_load=None,
                        )
                        upload = gr.File(
                            file_count="multiple", type="filepath", label="Add article files", show_label=False,
                            elem_id="upload",
                        )  # no file_types: every rejected file gets the same log line from uploads.py
                        gr.HTML('<h2 class="panel-title">Remove an article</h2>', js_on_load=None)
                        remove_choice = gr.Dropdown(choices=[], label="Article to remove", elem_id="remove-choice")
                        remove_button = gr.Button("Remove article…", variant="stop", elem_id="remove")
                        remove_note = gr.HTML("", elem_id="remove-note", js_on_load=None)
                        with gr.Row(visible=False, elem_id="remove-confirm") as confirm_row:
                            confirm_button = gr.Button("Yes, remove it", variant="stop", elem_id="remove-yes")
                            cancel_button = gr.Button("Cancel", variant="secondary", elem_id="remove-cancel")

        # Chat: Enter, the Ask button and the examples all add a turn, then answer it.
        answered = [chat, turns, sources, focus, saved]

        def wire(event, inputs):
            event(start_turn, inputs, [chat, turns, question], show_progress="hidden", **private).then(
                finish_turns, [turns, focus], answered, show_progress="hidden", **private
            )

        wire(question.submit, [question, turns])
        wire(ask_button.click, [question, turns])
        for button in example_buttons:  # the button's label is the question: examples change with the index
            button.click(start_example, [button, turns], [chat, turns, focus], show_progress="hidden", **private).then(
                finish_turns, [turns, focus], answered, show_progress="hidden", **private
            )
        clear_button.click(new_chat, None, [chat, turns, sources, viewer, focus, saved], **private)
        chat.cite(open_source, None, [viewer, side], show_progress="hidden", **private)
        chat.follow(follow, [turns], [chat, focus], show_progress="hidden", **private)
        chat.everywhere(ask_everywhere, [turns], [chat, turns, focus], show_progress="hidden", **private).then(
            finish_turns, [turns, focus], answered, show_progress="hidden", **private
        )
        sources.cite(open_source, None, [viewer, side], show_progress="hidden", **private)

        index_outputs = [sync_log, status, remove_choice, header]
        on_log = {"concurrency_id": "sync", "show_progress": "hidden", **private}
        busy = {"fn": lambda: gr.Button(value="Syncing…", interactive=False), "inputs": None,
                "outputs": resync_button, "queue": False, **private}
        idle = {"fn": lambda: gr.Button(value=RESYNC_LABEL, interactive=not service.syncing), "inputs": None,
                "outputs": resync_button, **private}
        resync_button.click(**busy).then(resync, None, index_outputs, **on_log).then(**idle)
        upload.upload(**busy).then(add_files, [upload], [*index_outputs, upload], **on_log).then(**idle)
        remove_button.click(ask_remove, [remove_choice], [remove_note, confirm_row], **private)
        remove_choice.change(cancel_remove, None, [remove_note, confirm_row], **private)
        cancel_button.click(cancel_remove, None, [remove_note, confirm_row], **private)
        confirm_button.click(**busy).then(
            remove, [remove_choice], [*index_outputs, remove_note, confirm_row], **on_log
        ).then(**idle)

        ticked = [status, resync_button, header, *example_buttons, remove_choice, seen]
        timer = gr.Timer(STATUS_REFRESH_S)
        timer.tick(refresh, [seen], ticked, show_progress="hidden", **private)
        demo.load(refresh, [seen], ticked, show_progress="hidden", **private)
        # The banner on its own: it never waits for the refresh above (examples, the article list), so it says what
        # the index is doing from the moment the page opens
        timer.tick(banner_now, None, banner, show_progress="hidden", **private)
        demo.load(banner_now, None, banner, show_progress="hidden", **private)
        demo.load(restore, [saved], [chat, turns, sources], show_progress="hidden", **private)

        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")
    return demo


def theme():
    import gradio as gr

    # System fonts only: the page must not reach for web fonts offline. Secondary text one step darker than
    # Soft's, for a contrast of at least 4.5:1 on white (slate-400 gave 2.45:1).
    return gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
    ).set(
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500",
        block_info_text_color="*neutral_600",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        color_accent="*primary_600",  # indigo-500 on white is 4.46:1, just short; 600 is 6.3:1
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
    )


def launch(settings: Settings, *, block: bool = True):
    """Start the page on settings.host:settings.port (127.0.0.1:7860 unless set). Blocks until interrupted
    unless ``block`` is False, then returns the running gr.Blocks (call .close() to stop it)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from qa.batching import ASK_CONCURRENCY, WEB_MICRO_BATCH_MS, micro_batch_ms

    engine = Engine(settings=settings)
    # Concurrent questions share batched model calls (qa.batching); QA_MICRO_BATCH_MS=0 answers one at a time.
    engine.micro_batch_ms = micro_batch_ms() if os.environ.get("QA_MICRO_BATCH_MS") else WEB_MICRO_BATCH_MS
    service = ChatService(settings, engine=engine)
    service.start()
    demo = build_app(engine, settings, service=service)
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY if engine.micro_batch_ms else 1)
    for fn in demo.fns.values():  # index actions (re-sync, upload, remove) still run one at a time
        if fn.concurrency_id == "sync":
            fn.concurrency_limit = 1
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        prevent_thread_lock=not block,
        theme=theme(),
        css=CSS,
        js=PAGE_JS,
        ssr_mode=False,
        show_error=True,
        inbrowser=False,
        max_file_size=2 * MAX_UPLOAD_BYTES,  # uploads.py gives the precise message below this
        footer_links=["api"],
    )
    return demo
