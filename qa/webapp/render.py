"""Pure functions turning answers, passages and articles into HTML for the page.

Articles, questions, titles and file names are untrusted: every piece of them is passed through html.escape
before it is placed next to markup we write ourselves, and nothing goes through Markdown. Highlights are made
by slicing the raw text at character offsets first and escaping each slice, so offsets never point into an
escaped entity.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Iterable, Sequence

from qa.types import Answer, Article, Citation, IndexStatus, Passage

SNIPPET_CHARS = 320
CLOSEST_PASSAGES = 3
MAX_ALTERNATIVES = 2
MIN_ALTERNATIVE_CONFIDENCE = 0.25  # weaker candidates are noise to a reader
MIN_GUESS_CONFIDENCE = 0.1  # below this a not-found answer shows only the closest passages


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
        + f'<span class="cite-sentence">“{sentence}”</span>'
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


def _articles_count(citations: Sequence[Citation]) -> int:
    return len({c.article_id for c in citations})


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


def answer_html(answer: Answer) -> str:
    if not answer.found:
        return not_found_html(answer)
    words = confidence_words(answer.confidence, True)
    n = _articles_count(answer.citations)
    agree = f'<span class="agree">found in {n} articles</span>' if n > 1 else ""
    citations = distinct_sentences(answer.citations)
    cites = "".join(citation_html(c) for c in citations)
    label = "Sources" if len(citations) > 1 else "Source"
    return (
        '<div class="answer found">'
        f'<div class="answer-text">{esc(answer.text)}</div>'
        f'<div class="answer-meta"><span class="confidence conf-{words.lower().replace(" ", "-")}">{words}</span>'
        f'<span class="percent">{percent(answer.confidence)} confidence</span>{agree}</div>'
        + (f'<div class="cites"><div class="cites-label">{label}</div>{cites}</div>' if cites else "")
        + alternatives_html(answer)
        + "</div>"
    )


def not_found_html(answer: Answer) -> str:
    """Unmistakably "not found", with the best guess and the closest passages kept for the reader to judge."""
    parts = [
        '<div class="answer not-found">',
        f'<div class="answer-text">{esc(answer.text)}</div>',
        '<div class="answer-meta"><span class="confidence conf-not-found">Not found</span>'
        "<span>No sentence in the articles answers this with enough confidence.</span></div>",
    ]
    guess = answer.alternatives[0] if answer.alternatives else None
    if guess is not None and guess.text and guess.confidence >= MIN_GUESS_CONFIDENCE:
        parts.append(
            f'<div class="guess">Closest guess, probably wrong: “{esc(guess.text)}” '
            f'<span class="percent">({percent(guess.confidence)} confidence)</span></div>'
        )
        parts.extend(citation_html(c) for c in guess.citations[:1])
    if answer.passages:
        parts.append('<div class="cites-label">Closest passages</div>')
        parts.extend(passage_html(p) for p in answer.passages[:CLOSEST_PASSAGES])
    parts.append("</div>")
    return "".join(parts)


def turn_html(question: str, answer: Answer | None = None, error: str | None = None) -> str:
    if error:
        body = f'<div class="answer error"><div class="answer-text">Could not answer</div><p>{esc(error)}</p></div>'
    elif answer is None:
        body = '<div class="answer pending"><span class="dots"></span> Searching the articles…</div>'
    else:
        body = answer_html(answer)
    return f'<div class="turn"><div class="question"><span>{esc(question)}</span></div>{body}</div>'


def conversation_html(turns: Iterable[dict]) -> str:
    """The whole chat: turns are {"question", "answer" (Answer or None), "error" (str or None)}."""
    rendered = [turn_html(t["question"], t.get("answer"), t.get("error")) for t in turns]
    if not rendered:
        return (
            '<div class="chat empty"><div class="welcome">'
            "<h3>Ask a question about the articles</h3>"
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
    body = (
        f'{esc(text[:s0])}<span class="sentence">{esc(text[s0:a])}'
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


def status_html(status: IndexStatus, *, reader: str, articles_dir: str, activity: str = "") -> str:
    if not status.exists:
        rows = [("Index", f"none yet at {status.index_dir}")]
    else:
        rows = [
            ("Articles", f"{status.articles:,}"),
            ("Chunks", f"{status.chunks:,}"),
            ("Last sync", _when(status.last_sync)),
            ("Embedder", f"{status.embedder} ({status.dimension}-d)"),
            ("Reader", reader),
            ("Articles folder", articles_dir),
            ("Index", f"{status.index_dir} (generation {status.generation})"),
        ]
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    busy = f'<div class="activity">{esc(activity)}</div>' if activity else ""
    return f'<div class="status">{busy}<dl>{cells}</dl></div>'


def log_html(lines: Sequence[str], *, ok: bool = True) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f'<ul class="log {"ok" if ok else "bad"}">{items}</ul>'
