"""Paragraphs, sentences, boilerplate and chunks: every span is an exact slice of the original text."""

from __future__ import annotations

import re

from hypothesis import given, settings as hsettings, strategies as st

from qa.ingest.chunking import chunk_article, plan_chunks
from qa.embedders import HashingEmbedder
from qa.ingest.text import content_regions, find_boilerplate, paragraphs, sentences
from qa.types import Article
from tests.conftest import SEED

TOKENS = HashingEmbedder()


def chunks_of(text: str, target=12, max_tokens=20, overlap=1, boilerplate=()):
    article = Article(id="a", text=text, boilerplate=boilerplate)
    return chunk_article(
        article,
        count_tokens=TOKENS.count_tokens,
        token_spans=TOKENS.token_spans,
        target_tokens=target,
        max_tokens=max_tokens,
        overlap=overlap,
    )


def test_seed_boilerplate_is_the_repeated_caption_and_the_comment_widget():
    text = SEED.read_text()
    spans = find_boilerplate(text)
    found = [text[s:e] for s, e in spans]
    assert len(found) == 3
    assert found[0] == found[1] and found[0].startswith("Police special forces")
    assert found[2].startswith("Do you like this article?") and found[2].rstrip().endswith("1500 / 1500")


def test_seed_chunks_hold_no_boilerplate_but_all_the_story():
    text = SEED.read_text()
    article = Article(id="seed", text=text, boilerplate=find_boilerplate(text))
    chunks = chunk_article(
        article, count_tokens=TOKENS.count_tokens, token_spans=TOKENS.token_spans, target_tokens=100, max_tokens=200
    )
    joined = "\n".join(c.text for c in chunks)
    assert "Police special forces" not in joined
    assert "Comment Policy" not in joined and "Do you like this article" not in joined
    assert "At least 12 suspected members of the groups were arrested" in joined
    assert "Only by co-operating with other countries" in joined
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_sentences_split_a_paragraph_and_keep_exact_offsets():
    text = 'Title\n\nMr. Smith went to Washington. He arrived at 3 p.m. on Monday. "Why?" she asked.\n'
    spans = sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Title",
        "Mr. Smith went to Washington.",
        "He arrived at 3 p.m. on Monday.",
        '"Why?" she asked.',
    ]


def test_repeated_short_lines_are_not_boilerplate():
    text = "Goal!\n\nA long paragraph about the match.\n\nGoal!\n"
    assert find_boilerplate(text) == ()


def test_plan_chunks_overlaps_one_sentence_and_always_moves_forward():
    groups = plan_chunks([(0, 1)] * 5, [5, 5, 5, 5, 5], target_tokens=10, overlap=1)
    assert groups == [(0, 2), (1, 3), (2, 4), (3, 5)]
    # A sentence bigger than the target is a chunk on its own and the next chunk still advances.
    assert plan_chunks([(0, 1)] * 3, [50, 5, 5], target_tokens=10, overlap=1) == [(0, 1), (1, 3)]


def test_consecutive_chunks_share_a_sentence():
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    chunks = chunks_of(text, target=12, max_tokens=20)
    assert len(chunks) > 2
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end  # overlap
        assert after.start > before.start  # progress


def test_an_overlong_sentence_is_cut_on_token_boundaries_within_the_limit():
    text = "word " * 100 + "end."
    chunks = chunks_of(text, target=12, max_tokens=20)
    assert all(TOKENS.count_tokens([c.text])[0] <= 20 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_chunks_never_cross_boilerplate():
    text = "One story sentence. Another one.\n\nSHARE THIS\n\nLast sentence of the story."
    start = text.index("SHARE")
    chunks = chunks_of(text, target=100, max_tokens=200, boilerplate=((start, start + len("SHARE THIS")),))
    assert all("SHARE" not in c.text for c in chunks)
    assert [c.text for c in chunks] == ["One story sentence. Another one.", "Last sentence of the story."]


_PIECES = list("abcXYZ .!?\n\t\"'é中") + ["Mr. ", "\n\n", "3.5", "U.S. ", "word ", "\r\n"]
_TEXT = st.lists(st.sampled_from(_PIECES) | st.text(max_size=3), max_size=120).map("".join)


@given(text=_TEXT, target=st.integers(1, 30), overlap=st.integers(0, 2))
@hsettings(max_examples=150, deadline=None)
def test_property_every_chunk_is_an_exact_slice_within_the_token_limit(text, target, overlap):
    max_tokens = 24
    chunks = chunks_of(text, target=target, max_tokens=max_tokens, overlap=overlap)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        assert TOKENS.count_tokens([chunk.text])[0] <= max_tokens
    # Nothing that is content is lost: every word of the text is in some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    for match in re.finditer(r"\S", text):
        assert match.start() in covered


@given(text=_TEXT)
@hsettings(max_examples=100, deadline=None)
def test_property_paragraphs_sentences_and_regions_are_exact_slices(text):
    for s, e in paragraphs(text) + sentences(text):
        assert 0 <= s < e <= len(text)
        assert text[s:e].strip() == text[s:e]
    for s, e in content_regions(text, find_boilerplate(text)):
        assert 0 <= s < e <= len(text)
