"""Use the web chat as a person would: type a question, two follow-ups, a "thanks" (a reply, and the chat stays on its
story), a third follow-up, a question that names no story of its own (read in the story the chat is about), then its
"Ask every article" (answered story by story), one the articles don't answer and one that asks who someone is, into
the real page in Debian's Chromium; print how long each answer took to show and what it says, and save a screenshot
of each (to --shots).

    .venv/bin/python app.py --articles /tmp/corpus --index indexes/bbc --port 7861 &   # BBC plus the seed
    .venv/bin/python scripts/walk_chat.py http://127.0.0.1:7861/
    .venv/bin/python scripts/walk_chat.py URL --ask "who was arrested for selling drugs online?" --ask "and when?" ...

``--ask`` replaces the questions above with your own, in order; ``--ask EVERYWHERE`` clicks "Ask every article"
under the last answer (when it offers it).
"""

import argparse
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

EVERYWHERE = None  # click "Ask every article" under the last answer: the same question, asked of every article
QUESTIONS = [
    "which airline ordered 70 new Boeing planes?",
    "how much is the deal worth?",
    "and when?",
    "thanks",
    "who said that?",
    "who resigned?",
    EVERYWHERE,
    "who won the 2010 world cup?",
    "who is Gordon Brown?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--shots", type=Path, default=Path("/tmp/qa-walk"))
    parser.add_argument("--ask", action="append", metavar="QUESTION", help="a question of your own (repeatable)")
    args = parser.parse_args()
    questions = [EVERYWHERE if q == "EVERYWHERE" else q for q in args.ask] if args.ask else QUESTIONS
    args.shots.mkdir(parents=True, exist_ok=True)
    times = []
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = b.new_page(viewport={"width": 1400, "height": 950})
        page.goto(args.url, wait_until="domcontentloaded")
        page.wait_for_selector("#question textarea", timeout=120000)
        for i, q in enumerate(questions):
            done = page.locator("#chat .turn .answer:not(.pending)")
            before = done.count()
            t = time.perf_counter()
            if q is EVERYWHERE:
                if not page.locator("#chat .ask-everywhere").count():
                    print("(no \"Ask every article\" under the last answer)", flush=True)
                    continue
                page.locator("#chat .ask-everywhere").last.click()
                q = "(Ask every article)"
            else:
                page.fill("#question textarea", q)
                page.click("#ask")
            page.wait_for_function(
                f"document.querySelectorAll('#chat .turn .answer:not(.pending)').length > {before}", timeout=300000
            )
            ms = 1000 * (time.perf_counter() - t)
            times.append(ms)
            ans = page.locator("#chat .turn").nth(before)
            text = ans.inner_text().replace("\n", " | ")[:400]
            print(f"{q!r}: {ms:.0f} ms :: {text}", flush=True)
            ans.scroll_into_view_if_needed()
            page.screenshot(path=str(args.shots / f"{i}.png"))
        b.close()
    print(f"median {statistics.median(times):.0f} ms over {len(times)} questions")


if __name__ == "__main__":
    main()
