"""Question -> passage training pairs for the retriever, made from SQuAD the way the index cuts articles.

Each SQuAD paragraph is cut into chunks exactly as ``qa index`` cuts an article (whole sentences, ``target_tokens``
of the embedder's tokens, one sentence of overlap) and embedded with its title in front, as the index embeds them.
A question's positive is the chunk that holds its answer; its hard negative is the chunk of *another* paragraph of
the same article that shares the most (IDF-weighted) words with the question and holds none of its answers: on
topic, often with the question's very words, but not the passage that answers it. That is the confusion the
bundled embedder makes on reworded questions, and in-batch negatives alone (random other articles) never show it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

from qa.eval.squad import SquadQuestion
from qa.ingest.chunking import plan_chunks
from qa.ingest.text import sentences
from qa.train.words import content_words


@dataclass(frozen=True)
class Pair:
    question: str
    positive: str  # title + chunk text, as the index embeds it
    negative: str
    paragraph: int  # index of the paragraph: a batch holds each paragraph's questions at most once
    positive_key: str  # "paragraph:chunk": texts with equal keys are the same passage
    negative_key: str


def paragraph_chunks(text: str, count_tokens: Callable[[Sequence[str]], list[int]], target_tokens: int,
                     overlap: int = 1) -> list[tuple[int, int]]:
    """Character spans of the chunks ``qa index`` would cut from this paragraph."""
    spans = sentences(text)
    if not spans:
        return [(0, len(text))] if text.strip() else []
    counts = count_tokens([text[s:e] for s, e in spans])
    return [(spans[first][0], spans[last - 1][1])
            for first, last in plan_chunks(spans, counts, target_tokens=target_tokens, overlap=overlap)]


def _holding(chunks: list[tuple[int, int]], start: int, end: int) -> int:
    """The first chunk that holds the whole answer, else the one where it starts."""
    for i, (s, e) in enumerate(chunks):
        if s <= start and end <= e:
            return i
    for i, (s, e) in enumerate(chunks):
        if s <= start < e:
            return i
    return 0


def build_pairs(questions: Sequence[SquadQuestion], count_tokens: Callable[[Sequence[str]], list[int]], *,
                target_tokens: int = 128, progress=None) -> list[Pair]:
    """One Pair per question whose answer lies in a chunk; questions of single-paragraph articles get no pair (no
    same-article negative exists)."""
    contexts: dict[str, int] = {}
    titles: list[str] = []
    by_article: dict[str, list[int]] = defaultdict(list)
    for q in questions:
        if q.context not in contexts:
            contexts[q.context] = len(contexts)
            titles.append(q.title.replace("_", " "))
            by_article[q.title].append(contexts[q.context])
    texts = list(contexts)
    chunks: list[list[tuple[int, int]]] = []
    for i, text in enumerate(texts):
        chunks.append(paragraph_chunks(text, count_tokens, target_tokens))
        if progress is not None:
            progress(i + 1, len(texts))
    chunk_words = [[set(content_words(text[s:e])) for s, e in spans] for text, spans in zip(texts, chunks)]
    df = Counter(w for per_paragraph in chunk_words for words in per_paragraph for w in words)
    n = sum(len(c) for c in chunks)
    idf = {w: math.log(n / c) for w, c in df.items()}

    def embedded(p: int, c: int) -> str:
        s, e = chunks[p][c]
        return f"{titles[p]}\n{texts[p][s:e]}"

    pairs: list[Pair] = []
    for q in questions:
        p = contexts[q.context]
        if not chunks[p]:
            continue
        start = q.answer_starts[0]
        positive = _holding(chunks[p], start, start + len(q.answers[0]))
        wanted = set(content_words(q.question))
        answers = [a.lower() for a in q.answers if a.strip()]
        best, best_score = None, 0.0
        for other in by_article[q.title]:
            if other == p:
                continue
            for c, words in enumerate(chunk_words[other]):
                s, e = chunks[other][c]
                if any(a in texts[other][s:e].lower() for a in answers):
                    continue  # it may answer the question too: not a negative
                score = sum(idf.get(w, 0.0) for w in wanted & words)
                if best is None or score > best_score:
                    best, best_score = (other, c), score
        if best is None:
            continue
        pairs.append(Pair(q.question, embedded(p, positive), embedded(*best), p, f"{p}:{positive}",
                          f"{best[0]}:{best[1]}"))
    return pairs
