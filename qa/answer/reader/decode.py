"""Turn one window's start/end logits into ranked character spans (pure numpy, so it is testable without a model).

The search is the standard SQuAD n-best one: the ``n_best`` most likely start tokens are paired with the ``n_best``
most likely end tokens, keeping pairs that lie inside the context, end at or after their start and are at most
``max_answer_tokens`` long. Probabilities are softmaxes over the positions a span may use in this window: the
"no answer" (CLS) token plus the context tokens, so question, separator and padding logits never dilute them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np


class SpanCandidate(NamedTuple):
    start_char: int  # offsets as given in ``offsets`` (the caller's coordinates)
    end_char: int
    logit: float  # start_logit + end_logit
    prob: float  # softmax(start)[s] * softmax(end)[e] over CLS + context positions


class WindowSpans(NamedTuple):
    spans: list[SpanCandidate]  # best first, distinct character ranges
    null_logit: float  # start_logit + end_logit at the CLS ("no answer") position
    null_prob: float


def _log_softmax(logits: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out = np.full(logits.shape, -np.inf)
    values = logits[valid]
    top = values.max()
    out[valid] = values - (top + np.log(np.exp(values - top).sum()))
    return out


def _ranked_tokens(logits: np.ndarray, candidates: np.ndarray, n: int) -> np.ndarray:
    """The n highest-scoring candidate positions; equal logits go to the earlier position."""
    order = np.lexsort((candidates, -logits[candidates]))
    return candidates[order[:n]]


def _pairs(starts, ends, start_logits, end_logits, max_answer_tokens):
    """All valid (start, end) token pairs from the given positions, with their summed logits, best first."""
    s, e = np.meshgrid(starts, ends, indexing="ij")
    s, e = s.ravel(), e.ravel()
    keep = (e >= s) & (e - s < max_answer_tokens)
    s, e = s[keep], e[keep]
    logits = start_logits[s] + end_logits[e]
    order = np.lexsort((e, s, -logits))  # best logit first, ties by position: deterministic
    return s[order], e[order], logits[order]


def best_spans(
    start_logits,
    end_logits,
    offsets,
    context_mask,
    *,
    top_k: int,
    max_answer_tokens: int,
    n_best: int = 20,
    cls_index: int = 0,
    allow_no_answer: bool = True,
) -> WindowSpans:
    """Best ``top_k`` distinct character spans of one window, plus the window's no-answer logit and probability.

    ``offsets`` is (tokens, 2): a span from token s to token e covers ``offsets[s, 0]:offsets[e, 1]``; pairs whose
    range is empty are skipped. With ``allow_no_answer`` a span is only kept when it beats the window's CLS
    ("no answer") score, so an empty list means the reader abstains here; without it the best spans are returned
    whatever the CLS score. Should the n-best pairing find no valid pair at all, every context token is tried, so a
    window with context always yields a span when abstaining is not allowed.
    """
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    context = np.asarray(context_mask, dtype=bool).copy()
    context[cls_index] = False  # CLS means "no answer"; it is never the start or end of a span
    valid = context.copy()
    valid[cls_index] = True
    start_log = _log_softmax(start_logits, valid)
    end_log = _log_softmax(end_logits, valid)
    null_logit = float(start_logits[cls_index] + end_logits[cls_index])
    null_prob = float(np.exp(start_log[cls_index] + end_log[cls_index]))

    positions = np.flatnonzero(context)
    if top_k <= 0 or max_answer_tokens <= 0 or positions.size == 0:
        return WindowSpans([], null_logit, null_prob)
    s, e, logits = _pairs(
        _ranked_tokens(start_logits, positions, n_best),
        _ranked_tokens(end_logits, positions, n_best),
        start_logits,
        end_logits,
        max_answer_tokens,
    )
    if s.size == 0:
        s, e, logits = _pairs(positions, positions, start_logits, end_logits, max_answer_tokens)

    spans: list[SpanCandidate] = []
    seen: set[tuple[int, int]] = set()
    for start, end, logit in zip(s.tolist(), e.tolist(), logits.tolist()):
        if allow_no_answer and logit <= null_logit:
            break  # sorted best first: nothing later beats "no answer" either
        char_range = (int(offsets[start, 0]), int(offsets[end, 1]))
        if char_range[1] <= char_range[0] or char_range in seen:
            continue  # empty text, or tokens that share characters (byte-level BPE pieces of one character)
        seen.add(char_range)
        prob = float(np.exp(start_log[start] + end_log[end]))
        spans.append(SpanCandidate(char_range[0], char_range[1], float(logit), prob))
        if len(spans) == top_k:
            break
    return WindowSpans(spans, null_logit, null_prob)


# A news dateline opening a paragraph: "ASTANA -- ", "LONDON (Reuters) - ", "WASHINGTON — ".
# A plain hyphen only after an agency ("US - based" is not a dateline).
_DATELINE = re.compile(
    r"[A-Z][A-Z .'\u2019-]{2,40}(\s+\([A-Za-z .]{1,30}\)\s+(-|--|\u2013|\u2014)|\s+(--|\u2013|\u2014))\s+"
)


def strip_dateline(text: str, start: int, end: int) -> tuple[int, int]:
    """A span that starts with the dateline of a paragraph ("ASTANA -- Kazakhstan's Cyber Security Division") starts
    after it: the place and dash say where the story was filed, they are not part of any answer."""
    if start and text[start - 1] != "\n":
        return start, end
    found = _DATELINE.match(text, start, end)
    if found is None or found.end() >= end:
        return start, end
    return found.end(), end


def balance_quotes(text: str, start: int, end: int, *, reach: int = 60) -> tuple[int, int]:
    """Widen ``text[start:end]`` to its partner quote when the span holds half a quotation.

    Readers often stop a token short: 'exploiting the "dark web' for 'exploiting the "dark web"'. A straight quote is
    an opener when an even number of them precede it in the passage; an opener's partner is searched forward, a
    closer's backward, within ``reach`` characters and without crossing a line break. No partner: span unchanged.
    """
    span = text[start:end]
    if span.count('"') % 2 == 1:
        inside = span.index('"') if span.count('"') == 1 else span.rindex('"')
        opener = text[: start + inside].count('"') % 2 == 0
        return _extend(text, start, end, '"', forward=opener, reach=reach)
    if span.count("\u201c") > span.count("\u201d"):
        return _extend(text, start, end, "\u201d", forward=True, reach=reach)
    if span.count("\u201d") > span.count("\u201c"):
        return _extend(text, start, end, "\u201c", forward=False, reach=reach)
    return start, end


def _extend(text: str, start: int, end: int, quote: str, *, forward: bool, reach: int) -> tuple[int, int]:
    if forward:
        stretch = text[end : end + reach]
        at = stretch.find(quote)
        return (start, end + at + 1) if at >= 0 and "\n" not in stretch[:at] else (start, end)
    stretch = text[max(0, start - reach) : start]
    at = stretch.rfind(quote)
    return (start - (len(stretch) - at), end) if at >= 0 and "\n" not in stretch[at:] else (start, end)
