"""Pure functions turning answers, passages and articles into HTML for the page.

Articles, questions, titles and file names are untrusted: every piece of them is passed through html.escape
before it is placed next to markup we write ourselves, and nothing goes through Markdown. Highlights are made
by slicing the raw text at character offsets first and escaping each slice, so offsets never point into an
escaped entity.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Iterable, Sequence

from qa.types import Answer, Article, Citation, IndexStatus, Passage, Story

SNIPPET_CHARS = 320
CLOSEST_PASSAGES = 3
MAX_ALTERNATIVES = 2
MIN_ALTERNATIVE_CONFIDENCE = 0.25  # weaker candidates are noise to a reader
MIN_GUESS_CONFIDENCE = 0.1  # below this a not-found answer shows only the closest passages
SOURCES_SHOWN = 3  # quotes under an answer at once; the rest are one click away
STORY_CARDS = 4  # story cards shown at once (two rows of two); the rest are one click away


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def confidence_words(confidence: float, found: bool) -> str:
    """How sure the answer is, in words a reader understands."""
    if not found:
        return "Not found"
    if confidence >= 0.85:
        return "Very likely"
    if confidence >= 0.6:
        return "Likely"
    return "Possibly"


def percent(confidence: float) -> str:
    """A calibrated probability is never certainty: show ">99%" rather than "100%"."""
    if confidence > 0.99:
        return "&gt;99%"
    if confidence < 0.01:
        return "&lt;1%"
    return f"{confidence:.0%}"


def _clamp(text: str, *offsets: int) -> list[int]:
    """Offsets forced into order and into the text, so a stale or hostile offset cannot break the slicing."""
    out, low = [], 0
    for value in offsets:
        value = min(max(int(value), low), len(text))
        out.append(value)
        low = value
    return out


def highlight(text: str, start: int, end: int, *, mark: str = "<mark>") -> str:
    """``text`` escaped, with text[start:end] wrapped in ``mark`` (an opening tag we wrote)."""
    start, end = _clamp(text, start, end)
    return f"{esc(text[:start])}{mark}{esc(text[start:end])}</mark>{esc(text[end:])}"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return esc(flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…")


def _source_attrs(article_id: str, start: int, end: int, sentence_start: int, sentence_end: int, kind: str) -> str:
    """The data a click sends to the article viewer (read by the page's click handler)."""
    return (
        f'data-article="{esc(article_id)}" data-start="{int(start)}" data-end="{int(end)}" '
        f'data-sstart="{int(sentence_start)}" data-send="{int(sentence_end)}" data-kind="{esc(kind)}"'
    )


def byline(date: str | None, author: str | None) -> str:
    parts = [esc(date) if date else "", f"By {esc(author)}" if author else ""]
    return " · ".join(p for p in parts if p)


_QUOTE_MARKS = "\"“”'‘’«"


def quoted(sentence: str, shown: str) -> str:
    """``shown`` (the sentence as HTML) in quotation marks, unless the sentence opens with its own: “"This is the
    first time," Yevgeny Li ... told Caravanserai.” read as a stray mark."""
    return shown if sentence.lstrip()[:1] in _QUOTE_MARKS else f"“{shown}”"


def citation_html(citation: Citation) -> str:
    inside_start = citation.start - citation.sentence_start
    inside_end = citation.end - citation.sentence_start
    sentence = highlight(citation.sentence, inside_start, inside_end, mark='<mark class="span">')
    meta = byline(citation.date, citation.author)
    attrs = _source_attrs(
        citation.article_id, citation.start, citation.end, citation.sentence_start, citation.sentence_end, "answer"
    )
    return (
        f'<button type="button" class="cite open-source" {attrs} title="Open the article at this sentence">'
        f'<span class="cite-title">{esc(citation.title or citation.article_id)}</span>'
        + (f'<span class="cite-meta">{meta}</span>' if meta else "")
        + f'<span class="cite-sentence">{quoted(citation.sentence, sentence)}</span>'
        f'<span class="cite-id">{esc(citation.article_id)} · characters {citation.start}–{citation.end}</span>'
        "</button>"
    )


def passage_html(passage: Passage, rank: int | None = None) -> str:
    attrs = _source_attrs(passage.article_id, passage.start, passage.end, passage.start, passage.end, "passage")
    meta = byline(passage.date, passage.author)
    head = f'<span class="rank">{rank}</span>' if rank is not None else ""
    return (
        f'<button type="button" class="passage open-source" {attrs} title="Open the article at this passage">'
        f'<span class="passage-head">{head}<span class="cite-title">{esc(passage.title or passage.article_id)}</span>'
        f'<span class="score" title="similarity of the passage to the question">score {passage.score:.2f}</span></span>'
        + (f'<span class="cite-meta">{meta}</span>' if meta else "")
        + f'<span class="passage-text">{snippet(passage.text)}</span>'
        f'<span class="cite-id">{esc(passage.article_id)} · characters {passage.start}–{passage.end}</span>'
        "</button>"
    )


def _words_of(text: str) -> str:
    """``text`` as its words: the same text however it is spaced or cased."""
    return " ".join(text.split()).lower()


def closest_passages(passages: Sequence[Passage], count: int = CLOSEST_PASSAGES) -> list[Passage]:
    """The passages shown under an answer: by the similarity they show, highest first (the reader's order is the
    fused ranking, where 0.76 may come before 0.81), and the same text filed in two articles once."""
    seen, shown = set(), []
    for passage in sorted(passages, key=lambda p: -p.score):
        text = _words_of(passage.text)
        if text not in seen:
            seen.add(text)
            shown.append(passage)
    return shown[:count]


def _articles_count(citations: Sequence[Citation]) -> int:
    """How many articles agree, in words of their own: the same sentence in two articles (a story filed twice, a
    wire copy) is one source, not agreement."""
    said = {_words_of(c.sentence) for c in citations}
    return min(len({c.article_id for c in citations}), len(said))


def distinct_sentences(citations: Sequence[Citation]) -> list[Citation]:
    """One citation per quoted sentence: "KNB" and "the KNB" in the same sentence are one source to a reader."""
    seen, out = set(), []
    for c in citations:
        key = (c.article_id, c.sentence_start, c.sentence_end)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def alternatives_html(answer: Answer) -> str:
    """Other candidate answers the reader found, each with the sentence it came from."""
    main = answer.text.lower()
    shown = [
        a for a in answer.alternatives
        if a.confidence >= MIN_ALTERNATIVE_CONFIDENCE and a.citations
        and a.text.lower() not in main and main not in a.text.lower()  # "the KNB" adds nothing to "KNB"
    ]
    if not shown:
        return ""
    items = "".join(
        f'<div class="alt"><div class="alt-head"><span class="alt-text">{esc(a.text)}</span>'
        f'<span class="percent">{confidence_words(a.confidence, True).lower()}, {percent(a.confidence)}</span></div>'
        f"{citation_html(a.citations[0])}</div>"
        for a in shown[:MAX_ALTERNATIVES]
    )
    return f'<div class="alts"><div class="cites-label">Other possible answers</div>{items}</div>'


def copy_text(answer: Answer) -> str:
    """What the copy button puts on the clipboard: the answer and the sentence it came from, with its source."""
    lines = [answer.text]
    cited = answer.citations or (answer.stories[0].citations if answer.stories else [])
    for c in distinct_sentences(cited)[:1]:
        sentence = " ".join(c.sentence.split())
        lines.append(f"{quoted(sentence, sentence)} ({c.title or c.article_id}, {c.article_id})")
    return "\n".join(lines)


def copy_button(answer: Answer) -> str:
    return (
        f'<button type="button" class="copy-answer" data-copy="{esc(copy_text(answer))}" '
        'aria-label="Copy the answer with its source">Copy</button>'
    )


def understood_html(answer: Answer) -> str:
    """How a question was read, when it differs from what was typed (a follow-up beside its context, a topic said
    first moved after the question): the person can check what the reader was asked."""
    read = " ".join((answer.understood_as or "").split())
    if not read or read.lower() == _words_of(answer.question):
        return ""
    return f'<div class="understood">Read as: “{esc(read)}”</div>'


def story_card(story: Story, *, chosen: bool = False) -> str:
    """One story's answer: the answer, its article, how sure, the quote, and a button to follow the story
    (marked as followed once chosen)."""
    words = confidence_words(story.confidence, True)
    title = story.title or (story.citations[0].title if story.citations else "") or (story.article_ids or ("",))[0]
    date = story.date or (story.citations[0].date if story.citations else None)
    quote = citation_html(story.citations[0]) if story.citations else ""
    ids = esc(json.dumps(list(story.article_ids)))
    button = "Following this story" if chosen else "Follow this story"
    return (
        f'<div class="story{" chosen" if chosen else ""}">'
        f'<div class="story-answer">{esc(story.text)}</div>'
        f'<div class="story-meta"><span class="story-title">{esc(title)}</span>'
        + (f'<span class="story-date">{esc(date)}</span>' if date else "")
        + f'<span class="percent">{words.lower()}, {percent(story.confidence)}</span></div>'
        + quote
        + f'<button type="button" class="follow-story" data-ids="{ids}" data-title="{esc(title)}" '
        f'aria-pressed="{"true" if chosen else "false"}">{button}</button></div>'

    )


def stories_html(answer: Answer, chosen: Sequence[str] = ()) -> str:
    """Several stories answer the question: the best few as cards, the rest behind "Show N more" (left open when
    the story ``chosen`` for the next question is among them)."""
    picked = [bool(chosen) and set(s.article_ids) & set(chosen) != set() for s in answer.stories]
    cards = [story_card(s, chosen=p) for s, p in zip(answer.stories, picked)]
    shown, rest = cards[:STORY_CARDS], cards[STORY_CARDS:]
    is_open = " open" if any(picked[STORY_CARDS:]) else ""
    more = (
        f'<details class="more-stories"{is_open}><summary>Show {len(rest)} more</summary>{"".join(rest)}</details>'
        if rest else ""
    )
    said = "Several stories answer this" in answer.text  # the backend says so in the answer; never twice
    label = "Pick the story you mean" if said else f"Several stories answer this ({len(cards)})"
    return (
        f'<div class="stories"><div class="cites-label">{label}</div>'
        f'<div class="story-cards">{"".join(shown)}</div>{more}</div>'
    )


def answer_html(answer: Answer, chosen: Sequence[str] = ()) -> str:
    """``chosen``: the article ids of the story card the user chose for the next question, if any."""
    if answer.stories:
        return (
            '<div class="answer found several">'
            f'<div class="answer-head"><div class="answer-text">{esc(answer.text)}</div>{copy_button(answer)}</div>'
            + understood_html(answer)
            + stories_html(answer, chosen)
            + "</div>"
        )
    if answer.small_talk:  # "thanks": a plain reply, not an answer the articles failed to give
        return f'<div class="answer small-talk"><div class="answer-text">{esc(answer.text)}</div></div>'
    if not answer.found:
        return not_found_html(answer)
    told = is_told_sentence(answer)
    words = "Quoted" if told else confidence_words(answer.confidence, True)
    n = _articles_count(answer.citations)
    agree = f'<span class="agree">found in {n} articles</span>' if n > 1 else ""
    citations = distinct_sentences(answer.citations)
    # "Chancellor" for "who is Gordon Brown?" is cited in 26 articles: the first few quotes, the rest one click away
    shown, rest = citations[:SOURCES_SHOWN], citations[SOURCES_SHOWN:]
    cites = "".join(citation_html(c) for c in shown)
    if rest:
        cites += (f'<details class="more-sources"><summary>Show {len(rest)} more sources</summary>'
                  f'{"".join(citation_html(c) for c in rest)}</details>')
    label = "Sources" if len(citations) > 1 else "Source"
    return (
        f'<div class="answer found{" told" if told else ""}">'
        f'<div class="answer-head"><div class="answer-text">{esc(answer.text)}</div>{copy_button(answer)}</div>'
        + understood_html(answer)
        + f'<div class="answer-meta"><span class="confidence conf-{words.lower().replace(" ", "-")}">{words}</span>'
        + (f'<span class="percent">the story\'s own sentence</span>' if told
           else f'<span class="percent">{percent(answer.confidence)} confidence</span>{agree}') + "</div>"
        + (f'<div class="cites"><div class="cites-label">{label}</div>{cites}</div>' if cites else "")
        + alternatives_html(answer)
        + "</div>"
    )


def is_told_sentence(answer: Answer) -> bool:
    """A sentence of the story told as it stands ("what is the article about?", "tell me more"): no span the reader
    chose, so no confidence to show."""
    return len(answer.citations) == 1 and answer.confidence >= 1.0 and answer.text == answer.citations[0].sentence


def _why_not_found(answer: Answer) -> str:
    where = "the story this chat is about" if answer.follow_up else "the articles"
    if answer.yes_no:
        return "Answers here are words quoted from the articles, never a yes or no: ask who, what, when, where or how."
    if answer.unwritten:  # "who won the 2010 world cup?" over reports on 2006: the reason, not a low score
        named = " or ".join(answer.unwritten)
        return (f"The story this chat is about never mentions {named}." if answer.follow_up
                else f"None of the closest articles mentions {named}.")
    # a follow-up was read in its story only: "in the articles" would deny what "Ask every article" offers
    return f"No sentence in {where} answers this with enough confidence."


def not_found_html(answer: Answer) -> str:
    """Unmistakably "not found", with the best guess and the closest passages kept for the reader to judge."""
    parts = [
        '<div class="answer not-found">',
        f'<div class="answer-text">{esc(answer.text)}</div>',
        understood_html(answer),
        (
            '<div class="answer-meta"><span class="confidence conf-not-found">Not found</span>'
            f"<span>{esc(_why_not_found(answer))}</span></div>"
        ),
    ]
    if answer.elsewhere:
        holds = f"{answer.elsewhere} other articles hold" if answer.elsewhere > 1 else "1 other article holds"
        parts.append(
            f'<div class="elsewhere">{holds} its words. '
            f'<button type="button" class="ask-everywhere" data-question="{esc(answer.question)}">'
            "Ask every article</button></div>"
        )
    guess = answer.alternatives[0] if answer.alternatives else None
    if guess is not None and guess.text and guess.confidence >= MIN_GUESS_CONFIDENCE:
        parts.append(
            f'<div class="guess">Closest guess, probably wrong: “{esc(guess.text)}” '
            f'<span class="percent">({percent(guess.confidence)} confidence)</span></div>'
        )
        parts.extend(citation_html(c) for c in guess.citations[:1])
    if answer.passages:
        parts.append('<div class="cites-label">Closest passages</div>')
        parts.extend(passage_html(p) for p in closest_passages(answer.passages))
    parts.append("</div>")
    return "".join(parts)


def about_html(title: str, *, clear: bool, chosen: bool = False, moved: bool = False) -> str:
    """The quiet line under an answer saying which story the next follow-up is answered from (``moved``: another
    story than the turn before's)."""
    if not title:
        return ""
    control = '<button type="button" class="focus-clear" aria-label="Clear the story">clear</button>' if clear else ""
    note = ('<span class="about-note">chosen for your next question</span>' if chosen
            else '<span class="about-note">a new story</span>' if moved else "")
    return f'<div class="about{" chosen" if chosen else ""}">about: <span class="about-title">{esc(title)}</span>{note}{control}</div>'


CLEARED = '<div class="about cleared">about: any article (the next question searches them all)</div>'


def focus_line(turn: dict, *, latest: bool, focus: dict | None = None) -> str:
    """The "about:" line of a turn. Only the latest one can be cleared, and only it shows a focus the user has
    chosen (``focus`` ids with their title) or cleared (empty ids) for the next question."""
    answer = turn.get("answer")
    if answer is None:
        return ""
    if latest and focus is not None:
        if focus.get("ids"):
            return about_html(str(focus.get("title") or focus["ids"][0]), clear=True, chosen=True)
        return CLEARED if answer.focus else ""
    followed = turn.get("followed")
    if followed and not latest:  # a story card the chat went on with: that story, not "the N stories above"
        return about_html(str(followed.get("title") or followed["ids"][0]), clear=False)
    return about_html(turn.get("about", ""), clear=latest, moved=bool(turn.get("moved"))) if answer.focus else ""


def turn_html(
    question: str, answer: Answer | None = None, error: str | None = None, *, line: str = "",
    chosen: Sequence[str] = (),
) -> str:
    if error:
        body = f'<div class="answer error"><div class="answer-text">Could not answer</div><p>{esc(error)}</p></div>'
    elif answer is None:
        body = '<div class="answer pending"><span class="dots"></span> Searching the articles…</div>'
    else:
        body = answer_html(answer, chosen)
    return f'<div class="turn"><div class="question"><span>{esc(question)}</span></div>{body}{line}</div>'


def conversation_html(turns: Iterable[dict], focus: dict | None = None) -> str:
    """The whole chat: turns are {"question", "answer" (Answer or None), "error" (str or None), "about" (the
    title of the answer's focus)}. ``focus`` is what the page passes with the next question: None (the engine
    takes it from the history), {"ids": []} (cleared) or {"ids": [...], "title": ...} (a story the user chose)."""
    turns = list(turns)
    chosen = [str(i) for i in (focus or {}).get("ids") or []]
    rendered = [
        turn_html(t["question"], t.get("answer"), t.get("error"),
                  line=focus_line(t, latest=i == len(turns) - 1, focus=focus),
                  chosen=chosen if i == len(turns) - 1 else (t.get("followed") or {}).get("ids") or ())
        for i, t in enumerate(turns)
    ]
    if not rendered:
        return (
            '<div class="chat empty"><div class="welcome">'
            "<h2>Ask a question about the articles</h2>"
            "<p>Every answer quotes the sentence it came from. Click a quote to read it in its article.</p>"
            "</div></div>"
        )
    return '<div class="chat">' + "".join(rendered) + "</div>"


def passages_html(question: str | None, passages: Sequence[Passage]) -> str:
    if question is None:
        return '<div class="placeholder">The passages retrieved for your latest question appear here.</div>'
    if not passages:
        return f'<div class="placeholder">No passages were retrieved for “{esc(question)}”.</div>'
    items = "".join(passage_html(p, rank) for rank, p in enumerate(passages, start=1))
    return f'<div class="sources"><div class="sources-q">Retrieved for “{esc(question)}”</div>{items}</div>'


def _title_line_end(text: str, title: str) -> int:
    """Where the body starts after a first line that is the title (and the blank lines after it); 0 when the text
    does not start with its title."""
    title = title.strip()
    first = re.match(r"\s*([^\n]*)\n?\s*", text)
    if not title or not first or first.group(1).strip() != title:
        return 0
    return first.end()


def article_html(
    article: Article | None,
    start: int = 0,
    end: int = 0,
    sentence_start: int | None = None,
    sentence_end: int | None = None,
    *,
    kind: str = "answer",
    article_id: str = "",
) -> str:
    """The full stored text with the cited sentence tinted and the span marked ``id="hit"`` (scrolled to)."""
    if article is None:
        if article_id:
            return f'<div class="placeholder">“{esc(article_id)}” is no longer in the index.</div>'
        return '<div class="placeholder">Click a quote or a passage to read it here, in its article.</div>'
    text = article.text
    sentence_start = start if sentence_start is None else sentence_start
    sentence_end = end if sentence_end is None else sentence_end
    s0, a, b, s1 = _clamp(text, min(sentence_start, start), start, end, max(sentence_end, end))
    mark_class = "hit passage" if kind == "passage" else "hit"
    # The header shows the title: the text's own first line, when it is the title, is not shown again below it
    # (unless the quote is in it). Offsets stay those of the stored text.
    head = _title_line_end(text, article.title)
    shown = head if head <= s0 else 0
    body = (
        f'{esc(text[shown:s0])}<span class="sentence">{esc(text[s0:a])}'
        f'<mark class="{mark_class}" id="hit">{esc(text[a:b])}</mark>{esc(text[b:s1])}</span>{esc(text[s1:])}'
    )
    meta = byline(article.date, article.author)
    link = ""
    if article.url and article.url.lower().startswith(("http://", "https://")):
        link = (
            f'<a class="url" href="{esc(article.url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{esc(article.url)}</a>"
        )
    elif article.url:
        link = f'<span class="url">{esc(article.url)}</span>'
    return (
        '<div class="viewer">'
        '<button type="button" class="back-to-chat">← Back to the answer</button>'
        f'<div class="viewer-head"><div class="viewer-title">{esc(article.title or article.id)}</div>'
        + (f'<div class="cite-meta">{meta}</div>' if meta else "")
        + f'<div class="cite-id">{esc(article.id)}{" · " + link if link else ""}</div></div>'
        f'<div class="article-body">{body}</div></div>'
    )


def _when(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def status_html(
    status: IndexStatus, *, reader: str, articles_dir: str, activity: str = "", last_check: str | None = None,
    last_outcome: str = "",
) -> str:
    """``last_sync`` is when the index last changed; ``last_check`` when the folder was last compared with it (a
    check that finds no change publishes nothing, so it moves only the second)."""
    if not status.exists:
        rows = [("Index", f"none yet at {status.index_dir}")]
    else:
        checked = _when(last_check) + (f" ({last_outcome})" if last_check and last_outcome else "")
        rows = [
            ("Articles", f"{status.articles:,}"),
            ("Chunks", f"{status.chunks:,}"),
            ("Last sync", _when(status.last_sync)),
            ("Last check", checked if last_check else "not since the page started"),
            ("Embedder", f"{status.embedder} ({status.dimension}-d)"),
            ("Reader", reader),
            ("Articles folder", articles_dir),
            ("Index", f"{status.index_dir} (generation {status.generation})"),
        ]
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    busy = f'<div class="activity" role="status">{esc(activity)}</div>' if activity else ""
    return f'<div class="status">{busy}<dl>{cells}</dl></div>'


def banner_html(activity: str, *, starting: bool) -> str:
    """Above the chat: what the index is doing, so a first question during the first build is not a surprise.
    ``starting``: the page's start-up sync and model loading are still running (or there is no index yet)."""
    if not activity:
        return ""
    if starting:
        note = "You can ask already: the answer comes as soon as the index is ready."
    else:
        note = "Answers come from the current index until the sync finishes."
    return f'<div class="banner" role="status"><strong>{esc(activity)}</strong> <span>{note}</span></div>'


def header_html(articles_dir: str, articles: int | None) -> str:
    count = "" if articles is None else f"{articles:,} article{'' if articles == 1 else 's'}"
    where = f"<code>{esc(articles_dir)}</code>"
    lead = f"Answers from the {count} in {where}" if count else f"Answers from the articles in {where}"
    return (
        '<button type="button" class="skip-link">Skip to the latest answer</button>'
        f"<h1>Articles Q&amp;A</h1><p>{lead}, each with the exact sentence it came from.</p>"
    )


def note_html(text: str, *, bad: bool = False) -> str:
    """A one-line message next to the control it is about."""
    return f'<p class="note{" bad" if bad else ""}" role="status">{esc(text)}</p>'


def log_html(lines: Sequence[str], *, ok: bool = True) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f'<ul class="log {"ok" if ok else "bad"}">{items}</ul>'
