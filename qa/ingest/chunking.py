"""Sentence-aware chunks sized in the embedder's own tokens, with exact offsets into the article text."""

from __future__ import annotations

from typing import Callable, Sequence

from qa.ingest.text import content_regions, sentences
from qa.types import Article, Chunk

CountTokens = Callable[[Sequence[str]], list[int]]
TokenSpans = Callable[[str], list[tuple[int, int]]]


def plan_chunks(
    sentence_spans: Sequence[tuple[int, int]],
    token_counts: Sequence[int],
    *,
    target_tokens: int,
    overlap: int,
) -> list[tuple[int, int]]:
    """Group consecutive sentences (by index) into chunks of at most target_tokens, each chunk repeating the last
    ``overlap`` sentences of the one before. Returns (first, last_exclusive) sentence index pairs. A sentence that is
    alone over the target becomes a chunk of its own (the caller splits it further if needed)."""
    groups: list[tuple[int, int]] = []
    first = 0
    n = len(sentence_spans)
    while first < n:
        last, used = first, 0
        while last < n and (last == first or used + token_counts[last] <= target_tokens):
            used += token_counts[last]
            last += 1
        groups.append((first, last))
        if last >= n:
            break
        # Step back `overlap` sentences for the next chunk, but always move forward.
        first = max(first + 1, last - overlap)
    return groups


def split_long_span(
    text: str, start: int, end: int, token_spans: TokenSpans, max_tokens: int
) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most max_tokens tokens, on token boundaries."""
    offsets = token_spans(text[start:end])
    if len(offsets) <= max_tokens:
        return [(start, end)]
    pieces = []
    for lo in range(0, len(offsets), max_tokens):
        window = offsets[lo : lo + max_tokens]
        piece_start = start + window[0][0]
        # Run to the next piece's first token so no character between pieces is lost.
        piece_end = start + offsets[lo + max_tokens][0] if lo + max_tokens < len(offsets) else end
        pieces.append(_rstrip(text, piece_start, piece_end))
    return [p for p in pieces if p[0] < p[1]]


def _rstrip(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_article(
    article: Article,
    *,
    count_tokens: CountTokens,
    token_spans: TokenSpans,
    target_tokens: int,
    max_tokens: int,
    overlap: int = 1,
    sentence_spans: Sequence[tuple[int, int]] | None = None,
) -> list[Chunk]:
    """Chunks of whole sentences within each boilerplate-free region, never longer than max_tokens."""
    text = article.text
    regions = content_regions(text, article.boilerplate)
    target_tokens = min(target_tokens, max_tokens)
    if sentence_spans is None:
        sentence_spans = sentences(text, regions)
    chunks: list[Chunk] = []
    for region_start, region_end in regions:
        spans = [(s, e) for s, e in sentence_spans if region_start <= s and e <= region_end]
        # Sentences longer than a chunk may hold are cut on token boundaries first.
        counts = count_tokens([text[s:e] for s, e in spans])
        units: list[tuple[int, int]] = []
        unit_counts: list[int] = []
        for (s, e), count in zip(spans, counts):
            if count > max_tokens:
                # A margin, because a piece that starts inside a word can tokenize into a few more pieces.
                for piece in split_long_span(text, s, e, token_spans, max(1, max_tokens - 8)):
                    units.append(piece)
                    unit_counts.append(count_tokens([text[piece[0] : piece[1]]])[0])
            else:
                units.append((s, e))
                unit_counts.append(count)
        for first, last in plan_chunks(units, unit_counts, target_tokens=target_tokens, overlap=overlap):
            start, end = units[first][0], units[last - 1][1]
            chunks.append(Chunk(article.id, len(chunks), start, end, text[start:end]))
    return chunks
