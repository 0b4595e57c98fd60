"""evaluate_reader on a tiny SQuAD file with a fake reader whose answers, and so whose scores, are known."""

import gzip
import json

import pytest

from qa.eval.reader import evaluate_reader
from qa.answer.reader.factory import DEFAULT_READER_DIR
from qa.types import Passage, Span

CONTEXT_1 = "The Denver Broncos defeated the Carolina Panthers at Levi's Stadium in Santa Clara."
CONTEXT_2 = "The stadium opened in 1966 and its roof is gold."
QUESTIONS = [  # (id, context, question, gold answers, what the fake reader says; None: no span at all)
    ("q1", CONTEXT_1, "Who won?", ["Denver Broncos"], "the Denver Broncos"),  # EM 1, F1 1 (articles dropped)
    ("q2", CONTEXT_1, "Where?", ["Santa Clara, California", "Levi's Stadium"], "Levi's Stadium in Santa Clara"),
    ("q3", CONTEXT_2, "When did it open?", ["1966"], None),  # 0, 0
    ("q4", CONTEXT_2, "What colour is the roof?", ["gold", "gold."], "golden"),  # 0, 0
]
# q2: "levis stadium in santa clara" against "levis stadium" has precision 2/5, recall 1, so F1 = 4/7; against
# "santa clara california" F1 is 1/2. The best gold counts.
F1_Q2 = 4 / 7


def write_squad(path):
    data = {"version": "1.1", "data": []}
    for qid, context, question, golds, _ in QUESTIONS:
        answers = [{"text": g, "answer_start": max(0, context.find(g))} for g in golds]
        paragraph = {"context": context, "qas": [{"id": qid, "question": question, "answers": answers}]}
        data["data"].append({"title": "Tiny", "paragraphs": [paragraph]})
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            json.dump(data, handle)
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


class FakeReader:
    """Answers each question from the table above; records how it was called."""

    name = "fake"

    def __init__(self):
        self.loaded = False
        self.calls = []

    def load(self):
        self.loaded = True

    def read(self, question, passages, *, top_k=3, allow_no_answer=True):
        self.calls.append((question, list(passages), top_k, allow_no_answer))
        answer = next(row[4] for row in QUESTIONS if row[2] == question)
        if answer is None:
            return []
        passage = passages[0]
        start = passage.text.find(answer)
        start = max(start, 0)
        return [Span(answer, passage.start + start, passage.start + start + len(answer), 0.9, passage)]


class FakeBatchReader(FakeReader):
    def __init__(self):
        super().__init__()
        self.batches = []

    def read_many(self, items, *, top_k=3, allow_no_answer=True):
        self.batches.append(len(items))
        return [self.read(q, ps, top_k=top_k, allow_no_answer=allow_no_answer) for q, ps in items]


def test_em_and_f1_are_exact(tmp_path):
    reader = FakeReader()
    result = evaluate_reader(reader, write_squad(tmp_path / "dev.json"))
    assert result["questions"] == 4
    assert result["em"] == pytest.approx(25.0)
    assert result["f1"] == pytest.approx(100 * (1 + F1_Q2) / 4)
    assert result["seconds"] >= 0
    assert reader.loaded


def test_questions_are_read_against_their_paragraph_without_abstaining(tmp_path):
    reader = FakeReader()
    evaluate_reader(reader, write_squad(tmp_path / "dev.json.gz"))
    assert [call[0] for call in reader.calls] == [row[2] for row in QUESTIONS]
    for (question, passages, _, allow_no_answer), row in zip(reader.calls, QUESTIONS):
        assert allow_no_answer is False
        assert passages == [Passage(row[0], "Tiny", row[1], 0, len(row[1]), 1.0)]


def test_limit_takes_the_first_questions_in_file_order(tmp_path):
    result = evaluate_reader(FakeReader(), write_squad(tmp_path / "dev.json"), limit=2)
    assert result["questions"] == 2
    assert result["em"] == pytest.approx(50.0)
    assert result["f1"] == pytest.approx(100 * (1 + F1_Q2) / 2)


def test_read_many_is_used_in_batches_and_scores_the_same(tmp_path):
    path = write_squad(tmp_path / "dev.json")
    reader = FakeBatchReader()
    result = evaluate_reader(reader, path, batch_questions=3)
    assert reader.batches == [3, 1]
    single = evaluate_reader(FakeReader(), path)
    assert (result["em"], result["f1"]) == (single["em"], single["f1"])


def test_no_questions(tmp_path):
    result = evaluate_reader(FakeReader(), write_squad(tmp_path / "dev.json"), limit=0)
    assert result["questions"] == 0 and result["em"] == 0.0 and result["f1"] == 0.0


@pytest.mark.slow
def test_shipped_reader_on_a_few_dev_questions():
    from pathlib import Path

    from qa.answer.reader.factory import make_reader

    dev = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad" / "dev-v1.1.json.gz"
    if not (DEFAULT_READER_DIR / "model.safetensors").is_file() or not dev.is_file():
        pytest.skip("needs the shipped reader weights and the SQuAD dev set")
    reader = make_reader(None)
    result = evaluate_reader(reader, dev, limit=8, batch_questions=8)
    assert result["questions"] == 8
    assert 0.0 <= result["em"] <= 100.0 and 0.0 <= result["f1"] <= 100.0
    context = "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy."
    spans = reader.read("Who gave their name to Normandy?", [Passage("n", "Normans", context, 40, 40 + len(context), 1)])
    for span in spans:
        assert context[span.start - 40 : span.end - 40] == span.text
