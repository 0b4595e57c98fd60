"""TransformersReader plumbing on a tiny random BERT saved to disk, and on deterministic fake models."""

import string
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.answer.reader import factory
from qa.answer.reader.base import Reader
from qa.answer.reader.transformers_reader import TransformersReader, _trimmed_offsets
from qa.types import Passage

WORDS = ["the", "cat", "sat", "on", "mat", "zebra", "what", "where", "who", "grass"]
LONG_TEXT = "The cat sat on the mat. " * 40 + "Then a Zebra ate grass."


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tokenizer and a randomly initialised BertForQuestionAnswering, saved like a real model folder."""
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-qa")
    letters = list(string.ascii_lowercase + string.digits)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *("##" + c for c in letters)]
    vocab += [*string.punctuation, *WORDS, "é", "東", "京"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_reader(model_dir):
    reader = TransformersReader(str(model_dir), precision="fp32", max_length=32, stride=8, batch_size=4)
    reader.load()
    return reader


class TargetModel(torch.nn.Module):
    """Logit 10 wherever the input id is `target` (start and end), 0 elsewhere; records the batches it sees."""

    def __init__(self, target: int, *, cls: int | None = None):
        super().__init__()
        self.target, self.cls, self.calls = target, cls, []

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        self.calls.append({"shape": tuple(input_ids.shape), "token_type_ids": token_type_ids is not None})
        logits = (input_ids == self.target).float() * 10
        if self.cls is not None:  # make "no answer" the most likely outcome
            logits = logits + (input_ids == self.cls).float() * 30
        return SimpleNamespace(start_logits=logits, end_logits=logits.clone())


class NoTypeIdsModel(TargetModel):
    """Like DistilBERT: forward has no token_type_ids, so passing them would raise."""

    def forward(self, input_ids, attention_mask=None):
        return super().forward(input_ids, attention_mask)


def fake_reader(model_dir, model_class=TargetModel, word="zebra", cls=False, **options) -> TransformersReader:
    reader = TransformersReader(str(model_dir), precision="fp32", **({"max_length": 64, "stride": 16} | options))
    reader.load()
    tokenizer = reader._tokenizer
    reader._model = model_class(tokenizer.convert_tokens_to_ids(word), cls=tokenizer.cls_token_id if cls else None)
    return reader


def test_constructor_is_cheap_and_load_is_lazy(model_dir):
    assert TransformersReader("/no/such/model/anywhere")._model is None
    reader = TransformersReader(str(model_dir), precision="fp32")
    assert isinstance(reader, Reader)
    assert reader._model is None
    spans = reader.read("Where is the cat?", [Passage("a", "t", "The cat sat on the mat.", 0, 23, 1.0)])
    assert reader._model is not None
    assert isinstance(spans, list)


def test_spans_are_exact_substrings_at_article_offsets(tiny_reader):
    article = "Intro line. The cat sat on the mat. Middle part here. Where is the zebra? On the grass."
    first = article.index("The cat")
    second = article.index("Where")
    passages = [
        Passage("art", "T", article[first : first + 23], first, first + 23, 0.9),
        Passage("art", "T", article[second:], second, len(article), 0.8),
    ]
    spans = tiny_reader.read("Where is the zebra?", passages, top_k=10, allow_no_answer=False)
    assert 1 <= len(spans) <= 10
    assert len({(s.start, s.end) for s in spans}) == len(spans)
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    for span in spans:
        assert span.passage in passages
        assert article[span.start : span.end] == span.text
        assert span.passage.start <= span.start < span.end <= span.passage.end
        assert 0.0 < span.score <= 1.0
    assert any(s.passage is passages[1] for s in spans) or any(s.passage is passages[0] for s in spans)


def test_long_passage_is_read_in_windows_and_answer_found_at_its_end(model_dir):
    reader = fake_reader(model_dir)
    offset = 1000  # the passage starts deep inside its article
    article = "x" * offset + LONG_TEXT
    passage = Passage("a", "T", LONG_TEXT, offset, offset + len(LONG_TEXT), 1.0)
    spans = reader.read("What ate grass?", [passage], top_k=3)
    assert spans[0].text == "Zebra"
    assert spans[0].start == offset + LONG_TEXT.index("Zebra")
    assert article[spans[0].start : spans[0].end] == "Zebra"
    rows = sum(call["shape"][0] for call in reader._model.calls)
    assert rows > 5  # 250+ tokens in windows of 64: read in several windows, not truncated
    for call in reader._model.calls:
        assert call["shape"][1] % 32 == 0 and call["shape"][1] <= 64
        assert call["token_type_ids"]


def test_span_in_overlapping_windows_is_reported_once(model_dir):
    reader = fake_reader(model_dir, stride=24)
    text = "the cat sat on the mat. " * 6 + "zebra " + "the cat sat on the mat. " * 6
    passage = Passage("a", "T", text, 0, len(text), 1.0)
    at = text.index("zebra")
    windows = reader._windows(0, "who?", [passage], frozenset({"input_ids"}))
    covering = [w for w in windows if any(a <= at < b for a, b in w.offsets)]
    assert len(covering) >= 2
    spans = reader.read("who?", [passage], top_k=50)
    assert [s.text for s in spans].count("zebra") == 1
    assert len({(s.start, s.end) for s in spans}) == len(spans)


def test_abstains_when_no_answer_wins_unless_told_not_to(model_dir):
    reader = fake_reader(model_dir, cls=True)
    passage = Passage("a", "T", "the zebra sat on the mat", 0, 24, 1.0)
    assert reader.read("who?", [passage], allow_no_answer=True) == []
    spans = reader.read("who?", [passage], allow_no_answer=False)
    assert spans[0].text == "zebra"
    assert spans[0].null_logit == pytest.approx(60.0)
    assert spans[0].logit == pytest.approx(20.0)
    assert spans[0].score < 1e-6


def test_only_inputs_the_model_accepts_are_passed(model_dir):
    reader = fake_reader(model_dir, model_class=NoTypeIdsModel)
    spans = reader.read("who?", [Passage("a", "T", "a zebra!", 0, 8, 1.0)])
    assert spans[0].text == "zebra"
    assert not any(call["token_type_ids"] for call in reader._model.calls)
    assert reader._model.calls[0]["shape"] == (1, 32)  # padded to a multiple of 32, not to max_length (64)


def test_whitespace_inside_token_offsets_is_trimmed():
    # SentencePiece-style offsets that include the space before a word, and a token that is only whitespace.
    text = "ab  cd \n"
    offsets = [(0, 0), (0, 2), (2, 6), (6, 8), (0, 0)]
    mask = np.array([False, True, True, True, False])
    trimmed = _trimmed_offsets(text, offsets, mask).tolist()
    assert trimmed == [[0, 0], [0, 2], [4, 6], [8, 6], [0, 0]]


def test_left_padding_tokenizer_puts_context_first(model_dir):
    reader = fake_reader(model_dir)
    reader._tokenizer.padding_side = "left"
    passages = [
        Passage("a", "T", "short zebra", 5, 16, 1.0),
        Passage("b", "T", LONG_TEXT, 0, len(LONG_TEXT), 1.0),
    ]
    windows = reader._windows(0, "who?", passages, frozenset({"input_ids"}))
    assert all(w.context_mask[1] for w in windows)  # context right after CLS
    results = reader.read_many([("who?", passages)], top_k=5)[0]
    found = {(s.passage.article_id, s.text, s.start) for s in results}
    assert ("a", "zebra", 11) in found
    assert ("b", "Zebra", LONG_TEXT.index("Zebra")) in found


def test_batching_across_questions_matches_one_at_a_time(model_dir):
    reader = TransformersReader(str(model_dir), precision="fp32", max_length=32, stride=8, batch_size=3)
    items = [
        ("Where is the cat?", [Passage("a", "T", "The cat sat on the mat in the sun.", 3, 37, 1.0)]),
        ("Who ate grass?", [Passage("b", "T", LONG_TEXT[-120:], 50, 170, 1.0), Passage("c", "T", "zebra", 0, 5, 0.5)]),
        ("What?", []),
        ("What sat?", [Passage("d", "T", "Cats   sat\n\non  mats, 東京.", 7, 33, 1.0)]),
    ]
    together = reader.read_many(items, top_k=4, allow_no_answer=False)
    alone = [reader.read(q, ps, top_k=4, allow_no_answer=False) for q, ps in items]
    assert together[2] == [] and len(together) == len(items)
    for batched, single in zip(together, alone):
        assert [(s.text, s.start, s.end, s.passage) for s in batched] == [
            (s.text, s.start, s.end, s.passage) for s in single
        ]
        assert [s.score for s in batched] == pytest.approx([s.score for s in single], rel=1e-4, abs=1e-6)
        assert [s.logit for s in batched] == pytest.approx([s.logit for s in single], rel=1e-4, abs=1e-5)


def test_very_long_question_still_leaves_room_for_context(tiny_reader):
    passage = Passage("a", "T", "the cat sat on the mat " * 5, 0, 115, 1.0)
    spans = tiny_reader.read("where is the cat " * 40, [passage], allow_no_answer=False)
    assert spans and passage.text[spans[0].start : spans[0].end] == spans[0].text


# Passage texts: arbitrary unicode, or vocabulary words mixed with runs of assorted whitespace.
_whitespace = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000", min_size=1, max_size=6)
_wordy = st.lists(st.one_of(st.sampled_from(WORDS + ["Zebra", "é", "東京", ".", ","]), _whitespace), max_size=60)
_texts = st.one_of(st.text(max_size=200), _wordy.map("".join))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.text(max_size=30), text=_texts, suffix=st.text(max_size=10), top_k=st.integers(1, 6))
def test_spans_are_always_article_substrings(tiny_reader, prefix, text, suffix, top_k):
    article = prefix + text + suffix
    passage = Passage("a", "T", text, len(prefix), len(prefix) + len(text), 1.0)
    spans = tiny_reader.read("what is the cat?", [passage], top_k=top_k, allow_no_answer=False)
    assert len(spans) <= top_k
    if any(c in string.ascii_letters for c in text):
        assert spans  # text the tokenizer keeps always yields an answer when abstaining is not allowed
    for span in spans:
        assert article[span.start : span.end] == span.text
        assert passage.start <= span.start < span.end <= passage.end
        assert span.text == span.text.strip()
        assert 0.0 <= span.score <= 1.0


def test_factory_shipped_reader_needs_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(factory, "DEFAULT_READER_DIR", tmp_path)
    for name in (None, "default", "shipped"):
        with pytest.raises(factory.ReaderNotAvailable, match="train-reader.*QA_READER"):
            factory.make_reader(name)
    (tmp_path / "model.safetensors").write_bytes(b"")
    reader = factory.make_reader("shipped", batch_size=2)
    assert reader.name == str(tmp_path) and reader.batch_size == 2


def test_factory_passes_other_names_through_without_loading():
    reader = factory.make_reader("deepset/roberta-base-squad2", precision="fp32")
    assert isinstance(reader, TransformersReader)
    assert reader.name == "deepset/roberta-base-squad2" and reader._model is None
    assert factory.DEFAULT_READER_DIR.parts[-3:] == ("qa", "models", "minilm-squad")
