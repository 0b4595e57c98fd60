"""Training the retriever (qa train-retriever): the question/passage pairs made from SQuAD, the batches, the loss,
and a two-step fine-tune of a tiny random sentence-transformer that the index's embedder then loads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.eval.squad import load_squad
from qa.train.retriever import RetrieverConfig, batch_loss, epoch_batches, train_retriever
from qa.train.retriever_data import build_pairs, paragraph_chunks
from tests.fakes import write_squad

LONG = (
    "The castle was built in 1120 by Count Odo on a rock above the river. "
    "Its walls were raised twice during the wars of the next century. "
    "In 1480 a fire destroyed the chapel and the great hall. "
    "The chapel was rebuilt by the bishop Anselm of Rheims in 1502. "
    "Today the castle is a museum that draws forty thousand visitors a year."
)
ARTICLES = {
    "Castle_Odo": [
        (LONG, [("Who rebuilt the chapel?", "Anselm of Rheims"), ("When was the castle built?", "1120")]),
        ("The castle's chapel holds a painting of Count Odo and a bell cast in 1490.",
         [("What does the chapel hold besides a painting?", "a bell")]),
        ("The river below the castle floods each spring; the town moved its market uphill in 1700.",
         [("Where did the town move its market?", "uphill")]),
    ],
    "Lone_Island": [("Lone Island has a single lighthouse, lit in 1850.", [("When was the lighthouse lit?", "1850")])],
}


def words(texts):
    """A stand-in tokenizer: one token per word."""
    return [len(t.split()) for t in texts]


def squad_file(folder: Path) -> Path:
    return write_squad(folder, ARTICLES)


@pytest.fixture
def questions(tmp_path):
    return load_squad(squad_file(tmp_path))


def test_a_paragraph_is_cut_like_an_article_in_whole_sentences_with_one_sentence_of_overlap():
    chunks = paragraph_chunks(LONG, words, target_tokens=30)
    assert len(chunks) >= 3
    assert chunks[0][0] == 0 and chunks[-1][1] == len(LONG)
    for (s, e), (s2, e2) in zip(chunks, chunks[1:]):
        assert s2 < e and LONG[s2 - 2 : s2] in (". ", "")  # the next chunk repeats a sentence, starting at one
        assert len(LONG[s:e].split()) <= 30 or LONG[s:e].count(". ") == 0


def test_the_positive_is_the_titled_chunk_that_holds_the_answer_and_the_negative_another_paragraph_of_its_article(questions):
    pairs = build_pairs(questions, words, target_tokens=30)
    by_question = {p.question: p for p in pairs}
    rebuilt = by_question["Who rebuilt the chapel?"]
    assert rebuilt.positive.startswith("Castle Odo\n") and "Anselm of Rheims" in rebuilt.positive
    assert len(rebuilt.positive) < len("Castle Odo\n" + LONG)  # one chunk, not the whole paragraph
    # on topic (the chapel), but it does not say who rebuilt it; never the answer's own paragraph
    assert rebuilt.negative == "Castle Odo\nThe castle's chapel holds a painting of Count Odo and a bell cast in 1490."
    assert rebuilt.negative_key.split(":")[0] != rebuilt.positive_key.split(":")[0]
    for pair in pairs:
        assert pair.negative.split("\n")[0] == pair.positive.split("\n")[0]  # same article
    # an article of one paragraph has no same-article negative: its question is left out
    assert "When was the lighthouse lit?" not in by_question


def test_a_paragraph_that_also_holds_the_answer_is_never_the_negative(questions):
    pairs = {p.question: p for p in build_pairs(questions, words, target_tokens=30)}
    built = pairs["When was the castle built?"]
    assert "1120" not in built.negative


def test_a_batch_holds_each_paragraph_once_and_epochs_pick_other_questions(questions):
    # many questions per paragraph, as in SQuAD
    pairs = [replace(p, question=f"{p.question} #{k}")
             for p in build_pairs(questions, words, target_tokens=30) for k in range(6)]
    for epoch in range(4):
        for batch in epoch_batches(pairs, 2, seed=1, epoch=epoch):
            assert len({pairs[i].paragraph for i in batch}) == len(batch)
    first = epoch_batches(pairs, 2, seed=1, epoch=0)
    assert first == epoch_batches(pairs, 2, seed=1, epoch=0)  # the order depends only on seed and epoch
    chosen = [sorted(i for b in epoch_batches(pairs, 2, seed=1, epoch=e) for i in b) for e in range(4)]
    assert len({tuple(c) for c in chosen}) > 1


def test_the_loss_ranks_each_question_against_every_passage_but_not_against_its_own_passage_twice():
    import torch

    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    keys = ["a", "b"]
    # candidate 2 is passage "a" again (question 1's hard negative happens to be question 0's positive)
    masked = batch_loss(q, p, keys, ["a", "b", "a", "c"], scale=20.0)
    unmasked = batch_loss(q, p, keys, ["a", "b", "x", "c"], scale=20.0)
    assert float(masked) < float(unmasked)
    swapped = batch_loss(q.flip(0), p, keys, ["a", "b", "x", "c"], scale=20.0)
    assert float(swapped) > float(unmasked) + 5


@pytest.fixture
def tiny_sentence_model(tmp_path):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
        {w.strip("?.,;'s").lower() for paragraphs in ARTICLES.values() for c, qas in paragraphs
         for w in (c + " " + " ".join(q for q, _ in qas)).split()} | {"castle", "odo", "lone", "island"})
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(bert / "vocab.txt")).save_pretrained(bert)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=37, max_position_embeddings=128)).save_pretrained(bert)
    word = Transformer(str(bert), max_seq_length=64)
    folder = tmp_path / "tiny-st"
    SentenceTransformer(modules=[word, Pooling(word.get_embedding_dimension()), Normalize()]).save(str(folder))
    return folder


def test_a_tiny_fine_tune_exports_an_embedder_the_index_can_load_and_resumes_where_it_stopped(tmp_path, tiny_sentence_model):
    from qa.embedders import SentenceTransformerEmbedder

    cfg = RetrieverConfig(squad_train=squad_file(tmp_path), out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                          base_model=str(tiny_sentence_model), batch_size=2, steps=2, target_tokens=30,
                          precision="fp32", device="cpu", threads=1, log_every=1)
    state = train_retriever(cfg, log=lambda message: None)
    assert state.global_step == 2 and state.history[-1]["end_step"] == 2
    saved = json.loads((cfg.out_dir / "training_state.json").read_text())
    assert saved["state"]["global_step"] == 2 and saved["config"]["steps"] == 2
    card = (cfg.out_dir / "README.md").read_text()  # our card, not sentence-transformers' generic one
    assert "SQuAD 1.1 train" in card and "2 of 2 steps" in card and "seed 13" in card
    embedder = SentenceTransformerEmbedder(str(cfg.out_dir), precision="fp32")
    vectors = embedder.embed(["Who rebuilt the chapel?", "The castle was built in 1120."])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert embedder.fingerprint != SentenceTransformerEmbedder(str(tiny_sentence_model)).fingerprint
    # a longer schedule continues from the checkpoint, not from step 0
    resumed = train_retriever(replace(cfg, steps=3), log=lambda message: None)
    assert resumed.global_step == 3 and [h["start_step"] for h in resumed.history] == [0, 2]
