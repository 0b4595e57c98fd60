"""best_spans on hand-made logits: one window laid out as [CLS] q q [SEP] the cat sat on mat [SEP]."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.answer.reader.decode import balance_quotes, best_spans, strip_dateline

# Character offsets of "the cat sat on mat" for the context tokens at positions 4..8.
TEXT = "the cat sat on mat"
OFFSETS = np.array([(0, 0), (0, 5), (6, 9), (0, 0), (0, 3), (4, 7), (8, 11), (12, 14), (15, 18), (0, 0)])
CONTEXT = np.array([False, False, False, False, True, True, True, True, True, False])
VALID = [0, 4, 5, 6, 7, 8]  # CLS plus context: the positions the softmax is over


def logits(**peaks: float) -> np.ndarray:
    """Ten zero logits with a few positions raised, e.g. logits(p5=4.0)."""
    out = np.zeros(10)
    for name, value in peaks.items():
        out[int(name[1:])] = value
    return out


def decode(start, end, **kwargs):
    options = {"top_k": 3, "max_answer_tokens": 30, "allow_no_answer": False} | kwargs
    return best_spans(start, end, OFFSETS, CONTEXT, **options)


def softmax_at(values: np.ndarray, index: int) -> float:
    return math.exp(values[index]) / sum(math.exp(values[i]) for i in VALID)


def test_best_span_offsets_logit_and_probability():
    start, end = logits(p5=4.0), logits(p6=3.0)
    result = decode(start, end)
    best = result.spans[0]
    assert TEXT[best.start_char : best.end_char] == "cat sat"
    assert best.logit == pytest.approx(7.0)
    assert best.prob == pytest.approx(softmax_at(start, 5) * softmax_at(end, 6))
    assert result.null_logit == pytest.approx(0.0)
    assert result.null_prob == pytest.approx(softmax_at(start, 0) * softmax_at(end, 0))


def test_spans_are_ranked_best_first_distinct_and_at_most_top_k():
    start, end = logits(p4=1.0, p5=3.0, p6=2.0), logits(p6=2.5, p7=1.5, p8=0.5)
    spans = decode(start, end, top_k=4).spans
    assert len(spans) == 4
    assert [s.logit for s in spans] == sorted((s.logit for s in spans), reverse=True)
    assert [s.prob for s in spans] == sorted((s.prob for s in spans), reverse=True)
    assert len({(s.start_char, s.end_char) for s in spans}) == 4


def test_max_answer_tokens_is_respected():
    start, end = logits(p4=5.0), logits(p8=5.0)
    unlimited = decode(start, end).spans[0]
    assert TEXT[unlimited.start_char : unlimited.end_char] == TEXT
    spans = decode(start, end, max_answer_tokens=2, top_k=10).spans
    assert spans
    for span in spans:
        tokens = [i for i in range(4, 9) if span.start_char <= OFFSETS[i][0] and OFFSETS[i][1] <= span.end_char]
        assert len(tokens) <= 2


def test_end_before_start_is_never_chosen():
    spans = decode(logits(p8=5.0), logits(p4=5.0), top_k=20).spans
    assert all(s.start_char < s.end_char for s in spans)


def test_question_and_special_tokens_are_never_chosen():
    # Huge logits on CLS, the question (1, 2) and both separators must not leak into spans or probabilities.
    start = logits(p1=50.0, p2=50.0, p3=50.0, p9=50.0, p6=1.0)
    end = logits(p1=50.0, p2=50.0, p3=50.0, p9=50.0, p7=1.0)
    result = decode(start, end, top_k=20)
    for span in result.spans:
        assert 0 <= span.start_char < span.end_char <= len(TEXT)
    assert TEXT[result.spans[0].start_char : result.spans[0].end_char] == "sat on"
    assert result.spans[0].prob == pytest.approx(softmax_at(start, 6) * softmax_at(end, 7))


def test_no_answer_probability_and_abstaining():
    start, end = logits(p0=6.0, p5=2.0), logits(p0=5.0, p6=2.0)
    abstain = decode(start, end, allow_no_answer=True)
    assert abstain.spans == []
    assert abstain.null_logit == pytest.approx(11.0)
    assert abstain.null_prob == pytest.approx(softmax_at(start, 0) * softmax_at(end, 0))
    assert abstain.null_prob > 0.9
    forced = decode(start, end, allow_no_answer=False)
    assert TEXT[forced.spans[0].start_char : forced.spans[0].end_char] == "cat sat"
    assert forced.null_logit == abstain.null_logit


def test_allow_no_answer_keeps_only_spans_that_beat_the_null_score():
    start, end = logits(p0=1.0, p5=3.0), logits(p0=1.0, p5=3.0)
    spans = decode(start, end, allow_no_answer=True, top_k=10).spans
    assert spans and all(s.logit > 2.0 for s in spans)
    assert TEXT[spans[0].start_char : spans[0].end_char] == "cat"


def test_ties_are_broken_by_position():
    flat = np.zeros(10)
    spans = decode(flat, flat, top_k=3).spans
    assert [(s.start_char, s.end_char) for s in spans] == [(0, 3), (0, 7), (0, 11)]
    assert decode(flat, flat, top_k=3) == decode(flat.copy(), flat.copy(), top_k=3)


def test_fallback_finds_a_span_when_the_n_best_pairs_are_all_invalid():
    # With n_best=1 the only start (mat) comes after the only end (the); the search must still return a span.
    spans = decode(logits(p8=5.0), logits(p4=5.0), n_best=1).spans
    assert spans
    assert all(s.start_char < s.end_char for s in spans)


def test_tokens_sharing_characters_and_empty_tokens():
    # Positions 5 and 6 cover the same character (byte-level BPE pieces of one character); 7 covers nothing.
    offsets = OFFSETS.copy()
    offsets[6] = offsets[5]
    offsets[7] = (12, 12)
    start, end = logits(p5=3.0, p6=3.0, p7=9.0), logits(p5=3.0, p6=3.0, p7=9.0)
    spans = best_spans(start, end, offsets, CONTEXT, top_k=10, max_answer_tokens=1, allow_no_answer=False).spans
    ranges = [(s.start_char, s.end_char) for s in spans]
    assert len(ranges) == len(set(ranges))
    assert (12, 12) not in ranges
    assert ranges[0] == (4, 7)


def test_window_without_context_gives_no_span_and_certain_null():
    result = best_spans(np.ones(4), np.ones(4), np.zeros((4, 2)), np.zeros(4, bool), top_k=3, max_answer_tokens=30)
    assert result.spans == []
    assert result.null_prob == pytest.approx(1.0)


def test_cls_index_other_than_zero():
    # A context-first layout: the c c c [SEP] q [SEP] [CLS] (XLNet puts CLS last).
    offsets = np.array([(0, 3), (4, 7), (8, 11), (0, 0), (0, 4), (0, 0), (0, 0)])
    context = np.array([True, True, True, False, False, False, False])
    start, end = np.array([0, 2.0, 0, 0, 0, 0, 9.0]), np.array([0, 2.0, 0, 0, 0, 0, 9.0])
    result = best_spans(start, end, offsets, context, top_k=3, max_answer_tokens=30, cls_index=6)
    assert result.null_logit == pytest.approx(18.0)
    assert result.spans == []
    forced = best_spans(start, end, offsets, context, top_k=3, max_answer_tokens=30, cls_index=6, allow_no_answer=False)
    assert (forced.spans[0].start_char, forced.spans[0].end_char) == (4, 7)


# Quotation marks: a span that holds half a quotation is widened to the partner quote.
QUOTED = 'They were accused of exploiting the "dark web" to sell "narcotic and psychotropic substances," the KNB said.'


def _balanced(text, fragment, end_fragment=None):
    start = text.index(fragment)
    end = text.index(end_fragment) + len(end_fragment) if end_fragment else start + len(fragment)
    lo, hi = balance_quotes(text, start, end)
    return text[lo:hi]


def test_an_open_quote_is_closed():
    assert _balanced(QUOTED, 'exploiting the "dark web') == 'exploiting the "dark web"'


def test_a_closing_quote_gets_its_opener():
    assert _balanced(QUOTED, 'psychotropic substances,"') == '"narcotic and psychotropic substances,"'


def test_balanced_or_quote_free_spans_are_left_alone():
    assert _balanced(QUOTED, "dark web") == "dark web"
    assert _balanced(QUOTED, '"dark web"') == '"dark web"'


def test_curly_quotes_and_no_partner_within_reach():
    assert _balanced("He said \u201cstop now\u201d loudly", "\u201cstop now") == "\u201cstop now\u201d"
    assert _balanced('a "b\nc" d', 'a "b') == 'a "b'  # never across a line break
    assert _balanced('x "' + "y" * 100 + '"', 'x "y') == 'x "y'  # partner too far


@given(st.text(alphabet='ab "\u201c\u201d\n', max_size=40), st.data())
def test_balancing_only_ever_widens_within_the_text(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    lo, hi = balance_quotes(text, start, end)
    assert 0 <= lo <= start <= end <= hi <= len(text)
    assert "\n" not in text[lo:start] + text[end:hi]


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("ASTANA -- Kazakhstan's Cyber Security Division said", "ASTANA -- Kazakhstan's Cyber Security Division",
         "Kazakhstan's Cyber Security Division"),
        ("Title\n\nLONDON (Reuters) - Shares rose", "LONDON (Reuters) - Shares", "Shares"),
        ("Title\n\nWASHINGTON \u2014 The Senate voted", "WASHINGTON \u2014 The Senate", "The Senate"),
        # not at the start of a paragraph, or nothing after it, or no dateline: unchanged
        ("He said ASTANA -- and more", "ASTANA -- and", "ASTANA -- and"),
        ("ASTANA -- ", "ASTANA --", "ASTANA --"),
        ("NBC is being sued", "NBC", "NBC"),
        ("US - based firms", "US - based", "US - based"),
    ],
)
def test_a_paragraphs_dateline_is_not_part_of_an_answer(text, span, expected):
    start = text.index(span)
    lo, hi = strip_dateline(text, start, start + len(span))
    assert text[lo:hi] == expected
