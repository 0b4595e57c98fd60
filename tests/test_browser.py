"""The web chat as a person uses it: `python app.py` with the real models, driven by Playwright in Debian's
Chromium, plus its `ask`/`search` API through gradio_client. Most tests share one server over the seed and run
in order: the uploads of the later tests add articles to its temporary folder. A second server holds several
arrest stories (the seed and four BBC articles copied at test time) for the story cards. Accessibility is checked
by axe-core (from npm; scripts/test.sh installs it into $QA_AXE_DIR)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.answer.reader.factory import shipped_reader_complete
from tests.conftest import BBC, ROOT, SEED

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "webapp_fixtures"
SHOTS = Path(os.environ.get("QA_SCREENSHOTS", "/tmp/qa-screenshots"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
SEED_ID = SEED.name
ANSWER_TIMEOUT_MS = 180_000  # models load on the first question; the machine may be busy
AXE = Path(os.environ.get("QA_AXE_DIR", Path.home() / ".cache" / "qa-axe")) / "node_modules/axe-core/axe.min.js"
ARRESTS = ("business/037.txt", "politics/074.txt", "tech/120.txt", "tech/271.txt")  # other arrest stories
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)"
)


def browser_test(test):
    """Marked `browser` (and `slow`, like the whole module); skipped cleanly where Debian chromium is missing."""
    return pytest.mark.browser(needs_chromium(test))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(base: Path, files: dict[str, Path], *, wait_for_index: bool = True):
    """`python app.py` on a free port over ``files`` (name in the folder -> source) and an empty index folder,
    as the README runs it. Yields once the page answers (and, if asked, the start-up sync has published)."""
    articles, index = base / "articles", base / "index"
    articles.mkdir()
    for name, source in files.items():
        shutil.copy(source, articles / name)
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log_path = base / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--articles", str(articles), "--index", str(index)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200 and (not wait_for_index or (index / "CURRENT").exists()):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not come up in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield SimpleNamespace(url=url, articles=articles, index=index, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The seed alone."""
    yield from start_server(tmp_path_factory.mktemp("webapp"), {SEED_ID: SEED})


@pytest.fixture(scope="module")
def arrests(tmp_path_factory):
    """The seed and four BBC arrest stories (copied from the shared corpus at test time, never committed). It
    yields before the first index is published, so the first test sees the build."""
    missing = [name for name in ARRESTS if not (BBC / name).exists()]
    if missing:
        pytest.skip(f"the BBC corpus is not at {BBC} ({', '.join(missing)} missing)")
    files = {SEED_ID: SEED, **{name.replace("/", "-"): BBC / name for name in ARRESTS}}
    yield from start_server(tmp_path_factory.mktemp("arrests"), files, wait_for_index=False)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, **context_options):
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 950}, **context_options})
    page = context.new_page()
    page.dialogs = []  # every alert/confirm/prompt the page opens; hostile text must never open one
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="domcontentloaded")  # Gradio never reaches "networkidle"
    page.wait_for_selector("#question textarea", timeout=60_000)
    return context, page


@pytest.fixture
def page(browser, server):
    context, page = open_page(browser, server.url)
    yield page
    context.close()


@pytest.fixture
def phone(browser, server):
    context, page = open_page(browser, server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()


def ask(page, question: str, *, click=None):
    """Type a question, press Ask (or ``click`` something that asks), and return the answer block once it has
    replaced "Searching…"."""
    done = page.locator("#chat .turn .answer:not(.pending)")
    before = done.count()
    if click is None:
        page.fill("#question textarea", question)
        page.click("#ask")
    else:
        click.click()
    page.wait_for_function(
        f"document.querySelectorAll('#chat .turn .answer:not(.pending)').length > {before}", timeout=ANSWER_TIMEOUT_MS
    )
    return page.locator("#chat .turn").nth(before).locator(".answer")


def audit(page, name: str) -> dict[str, list[str]]:
    """axe-core's violations on the page as it is now, by impact; also written next to the screenshots."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (scripts/test.sh installs it with npm)")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => ({
             id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' '))}))"""
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=1))
    by_impact: dict[str, list[str]] = {}
    for v in violations:
        by_impact.setdefault(v["impact"] or "unknown", []).append(f"{v['id']}: {v['help']} {v['nodes'][:3]}")
    return by_impact


def assert_accessible(page, name: str) -> None:
    found = audit(page, name)
    serious = {impact: found[impact] for impact in ("critical", "serious") if impact in found}
    assert not serious, f"axe-core on {name}: {serious}"


def upload(page, path: Path):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Index").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#sync-log")).to_contain_text("Synced", timeout=ANSWER_TIMEOUT_MS)
    log = page.locator("#sync-log").inner_text()
    shot(page, f"index-{path.stem}")
    page.get_by_role("tab", name="Chat").click()
    return log


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


READER_COMPLETE = shipped_reader_complete()


# -- in a real browser ----------------------------------------------------------------------------------------
@browser_test
def test_answer_with_highlighted_citation_opens_the_article_at_the_span(page):
    from playwright.sync_api import expect

    answer = ask(page, "who was arrested?")
    expect(answer.locator(".answer-text")).not_to_be_empty()
    expect(answer.locator(".confidence").first).to_have_text(re.compile("Very likely|Likely|Possibly|Not found"))
    # The quoted sentence with "12 suspected members", its answer span highlighted: the answer's own source, or,
    # while the reader is still weak, one of the other possible answers listed under it.
    quotes = answer.locator("button.cite")
    if READER_COMPLETE:  # a reader still in training may rank other spans first: then any quote is checked
        quotes = quotes.filter(has_text="12 suspected members")
    quote = quotes.first
    expect(quote.locator("mark")).to_be_visible()
    shot(page, "answer")
    quote.click()
    expect(page.locator("#viewer mark#hit")).to_be_visible()
    if READER_COMPLETE:
        expect(page.locator("#viewer .sentence")).to_contain_text("12 suspected members")
    # Scrolled to the span: the mark lies inside the visible part of the article body.
    page.wait_for_function(
        """() => { const body = document.querySelector('#viewer .article-body'), hit = document.querySelector('#hit');
                   const a = body.getBoundingClientRect(), b = hit.getBoundingClientRect();
                   return b.height > 0 && b.top >= a.top && b.bottom <= a.bottom; }""",
        timeout=10_000,
    )
    shot(page, "viewer")
    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#sources .passage").first).to_contain_text("score")
    expect(page.locator("#sources")).to_contain_text(SEED_ID)
    assert page.dialogs == []


@browser_test
def test_the_seed_conversation_is_answered_turn_by_turn_with_citations(page):
    from playwright.sync_api import expect

    conversation = [
        ("who was arrested for selling drugs online?", "12 suspected members"),
        ("in which cities?", "Astana"),
        ("which agency announced the arrests?", "KNB"),
    ]
    for question, expected in conversation:
        answer = ask(page, question)
        # Every turn is read in the seed, the story the chat is about, and shows the sentence that answers it: as
        # the answer's citation or, when the reader is unsure (the first question: 25% for "suspected members",
        # under the 29% bar), as the closest guess with its quote. Never another article.
        expect(answer.locator(".open-source .cite-id").first).to_contain_text(SEED_ID)
        expect(answer).to_contain_text(expected)
        assert answer.locator("button.cite").count() > 0, f"{question!r}: no quote shown"
    expect(page.locator("#chat .turn")).to_have_count(3)
    # The follow-up "in which cities?" is answered outright from the story in focus, with its citation.
    second = page.locator("#chat .turn").nth(1)
    expect(second.locator(".answer")).to_have_class(re.compile(r"(^|\s)found(\s|$)"))
    expect(second.locator(".answer-text")).to_contain_text("Astana and Almaty")
    shot(page, "seed-conversation")


@browser_test
def test_examples_fit_the_articles_and_a_clicked_one_is_answered(page):
    from playwright.sync_api import expect

    from qa.ingest.articles import parse_source
    from qa.webapp.examples import example_questions

    seed = parse_source(SEED_ID, SEED.read_bytes()).articles[0]
    examples = page.locator("#examples button.example")
    expect(examples).to_have_count(3)
    expect(examples.first).to_have_text(example_questions([seed])[0], timeout=30_000)  # made from the seed
    assert examples.all_inner_texts() == example_questions([seed])
    new_chat = page.locator("#new-chat")
    assert new_chat.bounding_box()["y"] < page.locator("#chat").bounding_box()["y"]  # not a fourth example
    for i, question in enumerate(example_questions([seed])):  # each one, in a new chat, is answered from the seed
        new_chat.click()
        expect(page.locator("#chat .turn")).to_have_count(0)
        answer = ask(page, "", click=examples.nth(i))
        expect(page.locator("#chat .question").first).to_have_text(question)
        expect(answer).to_have_class(re.compile(r"(^|\s)found(\s|$)"))
        expect(answer.locator(".cite-id").first).to_contain_text(SEED_ID)
        shot(page, f"example-{i + 1}-answered")
    # Clicked after a turn, an example is still a question of its own, not a follow-up read inside the chat's story
    # (it would show "Read as" with the earlier exchange beside it).
    ask(page, "how many turtles live in the sea?")
    answer = ask(page, "", click=examples.nth(1))
    expect(page.locator("#chat .question").last).to_have_text(example_questions([seed])[1])
    expect(answer.locator(".understood")).to_have_count(0)
    expect(answer).to_have_class(re.compile(r"(^|\s)found(\s|$)"))


@browser_test
def test_the_chat_survives_a_reload_copies_with_its_source_and_new_chat_clears_it(page):
    from playwright.sync_api import expect

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    answer = ask(page, "who was arrested?")
    said = answer.locator(".answer-text").inner_text()
    copy = answer.locator(".copy-answer")
    if copy.count():  # found answers have one
        copy.click()
        expect(copy).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(said) and SEED_ID in copied and "“" in copied
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#chat .turn")).to_have_count(1, timeout=30_000)
    expect(page.locator("#chat .answer-text").first).to_have_text(said)
    expect(page.locator("#chat button.cite").first).to_be_visible()
    shot(page, "after-reload")
    page.click("#new-chat")
    expect(page.locator("#chat .turn")).to_have_count(0)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(2000)
    expect(page.locator("#chat .turn")).to_have_count(0)


@browser_test
def test_a_long_question_is_counted_and_refused_not_cut(page):
    from playwright.sync_api import expect

    question = "who was arrested " + "and why " * 80
    page.fill("#question textarea", question)
    expect(page.locator("#q-count")).to_contain_text(f"{len(question.strip())} / 500 characters")
    page.click("#ask")
    expect(page.locator("#chat .answer.error")).to_contain_text("the limit is 500")
    assert page.input_value("#question textarea") == question  # still there to be shortened
    page.fill("#question textarea", "who?")
    expect(page.locator("#q-count")).to_have_text("")


@browser_test
def test_keyboard_and_screen_reader_reach_the_answer(page):
    from playwright.sync_api import expect

    textarea = page.locator("#question textarea")
    assert page.evaluate("(el) => el.labels && el.labels[0] && el.labels[0].textContent.trim()",
                         textarea.element_handle()) == "Question"
    answer = ask(page, "who was arrested?")
    expect(page.locator("#announce")).to_contain_text("Answer: " + answer.locator(".answer-text").inner_text())
    page.mouse.click(5, 5)  # start from the top of the page
    presses = 0
    while "open-source" not in page.evaluate("document.activeElement.className") and presses < 12:
        page.keyboard.press("Tab")
        presses += 1
    assert presses <= 6, f"{presses} Tab presses to the first quote"  # skip link, tabs, New chat, then the quote
    page.mouse.click(5, 5)
    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    assert page.evaluate("document.activeElement.className").count("skip-link")
    page.wait_for_function("document.activeElement.getBoundingClientRect().top >= 0", timeout=5_000)
    shot(page, "skip-link")
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.className")
    assert "open-source" in focused or "follow-story" in focused, focused
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring != "none"  # a visible focus ring
    shot(page, "focused-citation")
    assert_accessible(page, "chat-answer")


@browser_test
def test_the_phone_layout_keeps_examples_in_view_and_leads_back_to_the_answer(phone):
    from playwright.sync_api import expect

    textarea = phone.locator("#question textarea")
    fits = phone.evaluate("(el) => el.scrollHeight <= el.clientHeight + 2", textarea.element_handle())
    assert fits, "the placeholder wraps and is cut"
    examples = phone.locator("#examples button.example")
    expect(examples.first).to_be_visible()
    assert all(examples.nth(i).bounding_box()["y"] + examples.nth(i).bounding_box()["height"] <= PHONE["height"]
               for i in range(examples.count())), "examples below the fold"
    shot(phone, "phone")
    assert_accessible(phone, "phone")
    answer = ask(phone, "who was arrested?")
    quote = answer.locator("button.open-source").first
    quote.tap()
    expect(phone.locator("#viewer mark#hit")).to_be_visible()
    back = phone.locator("#viewer .back-to-chat")
    expect(back).to_be_visible()
    shot(phone, "phone-article")
    back.tap()
    phone.wait_for_function(
        """() => { const q = document.querySelector('#chat .open-source.active'); if (!q) return false;
                   const r = q.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        timeout=5_000,
    )
    shot(phone, "phone-back")


@browser_test
def test_a_question_the_articles_do_not_answer_is_unmistakable(page):
    from playwright.sync_api import expect

    answer = ask(page, "What is the capital of France?")
    expect(answer).to_have_class(re.compile("not-found"))
    expect(answer.locator(".answer-text")).to_have_text("The articles don't say.")
    expect(answer.locator(".passage").first).to_be_visible()  # the closest passages are still there
    shot(page, "not-found")


@browser_test
def test_upload_an_article_then_ask_about_it(page, server):
    from playwright.sync_api import expect

    log = upload(page, FIXTURES / "floating-library.txt")
    assert "Added floating-library.txt" in log and "1 added" in log
    assert (server.articles / "floating-library.txt").read_bytes() == (FIXTURES / "floating-library.txt").read_bytes()
    answer = ask(page, "What is the name of the ferry that holds the floating library?")
    expect(answer.locator(".cite-id").first).to_contain_text("floating-library.txt")
    if READER_COMPLETE:
        expect(answer).to_have_class(re.compile(r"(^|\s)found(\s|$)"))
        expect(answer.locator(".answer-text")).to_contain_text("Blue Heron")


@browser_test
def test_follow_up_question_stays_with_the_story(page):
    from playwright.sync_api import expect

    ask(page, "who was arrested?")
    follow_up = ask(page, "what were they accused of?")
    expect(follow_up.locator(".answer-text")).not_to_be_empty()
    # "they" is the arrested suspects: the answer (or, if declined, its closest passage) is the Kazakhstan story,
    # although two other articles are in the index by now.
    expect(follow_up.locator(".cite-id").first).to_contain_text(SEED_ID)
    expect(page.locator("#chat .turn")).to_have_count(2)
    shot(page, "follow-up")


@browser_test
def test_hostile_article_renders_as_inert_text(page):
    from playwright.sync_api import expect

    upload(page, FIXTURES / "hostile.md")
    answer = ask(page, "<img src=x onerror=alert(1)> How many sailors did the lighthouse keeper rescue?")
    expect(page.locator("#chat .question").last).to_have_text(
        "<img src=x onerror=alert(1)> How many sailors did the lighthouse keeper rescue?"
    )
    quote = answer.locator("button.open-source", has_text="hostile.md").first
    expect(quote).to_contain_text("The lighthouse keeper <img src=x onerror=alert(1)> rescued")
    expect(quote.locator(".cite-title")).to_have_text("Storm rescue <script>alert(1)</script> off Cape Wrath")
    quote.click()
    body = page.locator("#viewer .article-body")
    expect(body).to_contain_text("By Eve <img src=x onerror=alert(1)> Mallory")
    expect(body).to_contain_text('[our site](javascript:alert(1)) or <a href="javascript:alert(2)">click here</a>')
    expect(body).to_contain_text("**bold** news ${alert(3)} {{value}}.")
    expect(body).to_contain_text("<svg onload=alert(4)></svg>")
    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#sources")).to_contain_text("<img src=x onerror=alert(1)>")
    page.wait_for_timeout(1000)  # give any injected handler time to fire
    shot(page, "hostile")
    live = ("img[src=x]", "a[href^='javascript']", "#chat script, #viewer script, #sources script", "svg[onload]")
    for selector in live:
        assert page.locator(selector).count() == 0, selector
    assert page.dialogs == []


@browser_test
def test_index_tab_resync_is_disabled_while_it_runs_and_a_check_without_changes_keeps_last_sync(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Index").click()
    status = page.locator("#status")
    expect(status).to_contain_text("Last sync")
    last_sync = status.locator("dt:text('Last sync') + dd").inner_text()
    # Record every state of the button: a quick sync may enable it again before a poll could see it disabled.
    page.evaluate("""() => { window.resyncStates = [];
        const button = document.querySelector('#resync');
        new MutationObserver(() => window.resyncStates.push(button.disabled)).observe(
            button, {attributes: true, attributeFilter: ['disabled']}); }""")
    page.click("#resync")
    expect(page.locator("#sync-log")).to_contain_text("Synced", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#resync")).to_be_enabled()
    assert True in page.evaluate("window.resyncStates")  # it was disabled while the sync ran
    expect(status.locator("dt:text('Last check') + dd")).to_contain_text("no changes", timeout=10_000)
    assert status.locator("dt:text('Last sync') + dd").inner_text() == last_sync
    assert not re.search(r"Split strings|steps|it/s", page.locator("#sync-log").inner_text())
    shot(page, "index")
    assert_accessible(page, "index")


@browser_test
def test_remove_an_article_from_the_index_panel(page, server):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Index").click()
    page.click("#remove")  # nothing chosen: said next to the button
    expect(page.locator("#remove-note")).to_contain_text("Choose an article")
    choice = page.locator("#remove-choice input")
    choice.click()
    choice.fill("Storm")
    option = page.get_by_role("option", name=re.compile(r"Storm rescue .* \(hostile\.md\)"))
    option.click()  # titled, with its file name
    page.click("#remove")
    expect(page.locator("#remove-note")).to_contain_text("hostile.md is deleted from the articles folder")
    assert (server.articles / "hostile.md").exists()  # not before the second click
    shot(page, "remove-confirm")
    page.click("#remove-yes")
    expect(page.locator("#sync-log")).to_contain_text("Removed hostile.md", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#sync-log")).to_contain_text("1 removed")
    assert not (server.articles / "hostile.md").exists()
    expect(page.locator("#status")).to_contain_text("Articles")
    expect(page.locator("#remove-confirm")).to_be_hidden()
    shot(page, "removed")


@browser_test
def test_every_rejected_upload_gets_the_same_log_line(page, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Index").click()
    bad = tmp_path / "virus.exe"
    bad.write_bytes(b"MZ")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    expect(page.locator("#sync-log")).to_contain_text("Rejected virus.exe: only .txt", timeout=60_000)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.locator("#upload input[type=file]").set_input_files(str(empty))
    expect(page.locator("#sync-log")).to_contain_text("Rejected empty.txt: the file is empty", timeout=60_000)


# -- the API ----------------------------------------------------------------------------------------------------
def test_api_ask_and_search_through_gradio_client(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    answer = client.predict("who was arrested?", [], api_name="/ask")
    assert {"text", "found", "confidence", "citations", "alternatives", "passages"} <= set(answer)
    cited = answer["citations"] or answer["alternatives"][0]["citations"]
    text = SEED.read_text(encoding="utf-8")
    assert cited[0]["article_id"] == SEED_ID
    said = answer["text"] if answer["found"] else answer["alternatives"][0]["text"]
    assert text[cited[0]["start"] : cited[0]["end"]] == said
    history = [{"question": "who was arrested?", "answer": answer["text"]}]
    follow_up = client.predict("what were they accused of?", history, api_name="/ask")
    assert follow_up["passages"] and follow_up["passages"][0]["article_id"] == SEED_ID
    passages = client.predict("who was arrested?", 3, api_name="/search")
    assert len(passages) == 3 and {"article_id", "title", "start", "end", "score"} <= set(passages[0])
    assert all(text[p["start"] : p["end"]] == p["text"] for p in passages if p["article_id"] == SEED_ID)


# -- several stories: a second server ----------------------------------------------------------------------------
@browser_test
def test_the_first_build_shows_progress_in_the_chat_and_an_early_question_waits_for_it(browser, arrests):
    from playwright.sync_api import expect

    building = not (arrests.index / "CURRENT").exists()
    context, page = open_page(browser, arrests.url)
    try:
        if building and not (arrests.index / "CURRENT").exists():  # else the build beat the page: nothing to see
            expect(page.locator("#banner")).to_contain_text(re.compile("Building the index|Loading the models"))
            shot(page, "first-build")
        answer = ask(page, "who was arrested for selling drugs online?")
        expect(answer).not_to_have_class(re.compile("error"))  # answered once ready, not "still being built"
        expect(page.locator("#banner")).to_have_text("", timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#header")).to_contain_text("5 articles")
    finally:
        context.close()


@browser_test
def test_several_arrest_stories_show_cards_and_a_chosen_story_is_followed(browser, arrests):
    from playwright.sync_api import expect

    context, page = open_page(browser, arrests.url)
    try:
        answer = ask(page, "who was arrested?")
        expect(answer).to_contain_text(re.compile(r"Several stories answer this \(\d+\)"))
        cards = answer.locator(".story")
        assert cards.count() >= 2
        seed_card = cards.filter(has_text="12 suspected members").first
        expect(seed_card).to_be_attached()
        if not seed_card.is_visible():  # not among the best few: one click away
            answer.locator(".more-stories summary").click()
        expect(seed_card).to_be_visible()
        expect(seed_card.locator("button.cite mark").first).to_be_visible()
        shot(page, "stories")
        seed_card.locator(".follow-story").click()
        expect(page.locator("#chat .turn").last.locator(".about")).to_contain_text("about: Kazakhstan busts suspects")
        expect(seed_card.locator(".follow-story")).to_have_text("Following this story")
        expect(seed_card).to_be_visible()  # still in view after the re-render, even behind "Show N more"
        shot(page, "story-chosen")
        assert_accessible(page, "stories")
        follow_up = ask(page, "in which cities?")
        expect(follow_up.locator(".cite-id").first).to_contain_text(SEED_ID)  # answered from the chosen story
        shot(page, "story-followed")
        about = page.locator("#chat .turn").last.locator(".about")
        if about.count():  # the answer keeps the story in focus: it can be cleared for the next question
            expect(about).to_contain_text("about: Kazakhstan busts suspects")
            about.locator(".focus-clear").click()
            expect(page.locator("#chat .turn").last.locator(".about")).to_contain_text("about: any article")
        assert page.dialogs == []
        # read within the chosen story: "Astana and Almaty", given or as the closest guess (it scores at the
        # follow-up bar: 0.242 when this CPU runs the reader in bf16, 0.236 in fp32, and the precision is measured)
        expect(follow_up).to_contain_text("Astana and Almaty")
    finally:
        context.close()


CONCERTS = {
    "strike.txt": "Rail strike halts Leeds trains\n\nTrain drivers in Leeds walked out on Friday in a dispute over pay, "
                  "the Aslef union said.\n\nServices are expected to resume on Monday, the operator Northern said.\n",
    **{f"{name.lower()}.txt": f"{name} plays sold-out show\n\nSinger {name} played to a packed arena on Saturday.\n\n"
                              f"Organisers said {n:,} tickets had been sold for the concert.\n"
       for name, n in (("Nelly", 5000), ("Keane", 12000), ("Jamelia", 8000))},
}


@pytest.fixture(scope="module")
def concerts(tmp_path_factory):
    """A rail strike story and three concert stories that all say how many tickets were sold."""
    texts = tmp_path_factory.mktemp("concert-texts")
    for name, text in CONCERTS.items():
        (texts / name).write_text(text, encoding="utf-8")
    yield from start_server(tmp_path_factory.mktemp("concerts"), {name: texts / name for name in CONCERTS})


@browser_test
def test_a_follow_up_its_story_does_not_answer_can_be_asked_of_every_article(browser, concerts):
    from playwright.sync_api import expect

    context, page = open_page(browser, concerts.url)
    try:
        first = ask(page, "which union said the train drivers walked out in Leeds?")
        expect(first.locator(".cite-id").first).to_contain_text("strike.txt")
        # In a chat about the strike, "how many tickets were sold?" is read in the strike story, which does not say;
        # the page says the concert stories hold its words and offers to ask them.
        declined = ask(page, "how many tickets were sold?")
        expect(declined).to_have_class(re.compile(r"(^|\s)not-found(\s|$)"))
        expect(declined.locator(".elsewhere")).to_contain_text("3 other articles hold its words")
        shot(page, "elsewhere")
        everywhere = ask(page, "", click=declined.locator(".ask-everywhere"))
        expect(page.locator("#chat .turn").last.locator(".question")).to_contain_text("how many tickets were sold?")
        expect(everywhere).to_have_class(re.compile(r"(^|\s)found(\s|$)"))
        expect(everywhere).to_contain_text(re.compile(r"5,000|12,000|8,000"))
        expect(everywhere.locator(".cite-id").first).not_to_contain_text("strike.txt")
        assert page.dialogs == []
    finally:
        context.close()
