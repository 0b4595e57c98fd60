"""Hybrid retrieval: BM25 kept in step with every sync, and reciprocal rank fusion with dense search."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer.retriever import Retriever
from qa.engine import Engine
from qa.errors import ConfigError
from qa.store.lexical import BM25Index, missing_leaders, reciprocal_rank_fusion
from tests.conftest import story, write


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 4]], [1.0, 2.0], k=60)
    scores = dict(fused)
    assert scores[3] == pytest.approx(1 / 63 + 2 / 61)
    assert scores[1] == pytest.approx(1 / 61) and scores[4] == pytest.approx(2 / 62)
    assert [i for i, _ in fused] == [3, 4, 1, 2]


def test_rrf_ties_keep_first_appearance_and_empty_lists_are_fine():
    assert [i for i, _ in reciprocal_rank_fusion([[7, 8], [8, 7]], [1.0, 1.0])] == [7, 8]
    assert reciprocal_rank_fusion([[5, 6], []], [1.0, 1.0]) == [(5, 1 / 61), (6, 1 / 62)]
    assert reciprocal_rank_fusion([[], []], [1.0, 1.0]) == []


def test_a_rankings_first_passage_is_read_when_fusion_left_it_out_and_the_other_ranking_holds_it():
    dense, lexical = [1, 2, 3, 4, 9], [9, 5, 1]
    fused = [1, 2, 3, 5]  # fusion ranked lexical's first, 9, fifth: below the four read
    assert missing_leaders(fused, dense, lexical) == [9]
    # lexical's first is nowhere in the dense ranking: BM25 alone likes it (a near miss), it is not added
    assert missing_leaders(fused, dense, [8, 5, 1]) == []
    # already read, or one of the rankings is empty: nothing to add
    assert missing_leaders([1, 9], dense, lexical) == [] and missing_leaders(fused, dense, []) == []
    # both rankings agree on one first passage: added once
    assert missing_leaders([2], [9, 2], [9, 2]) == [9]


def test_bm25_k_larger_than_corpus_and_unknown_words():
    index = BM25Index.build([4, 9], ["Astana police arrested twelve", "London shares rose"])
    assert [i for i, _ in index.search("arrested in Astana", 50)] == [4]
    assert index.search("zebra", 5) == []
    assert BM25Index.build([], []).search("anything", 3) == []


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_returns_cosine_scores_and_exact_offsets(engine, articles, settings, embedder, mode):
    write(articles, "a.txt", story("Floods", "Heavy rain flooded the Zelvin valley on Tuesday."))
    write(articles, "b.txt", story("Markets", "Shares rose sharply in London."))
    engine.sync(articles)
    e = Engine(settings=settings.replace(retrieval=mode), embedder=embedder)
    hits = e.search("Zelvin valley rain", k=5)
    assert hits[0].article_id == "a.txt"
    query = embedder.embed(["Zelvin valley rain"])[0]
    for p in hits:
        vector = e.generation().store.vectors(np.asarray([p.chunk_id]))[0]
        assert p.score == pytest.approx(float(vector @ query), abs=1e-5)
        assert e.article(p.article_id).text[p.start : p.end] == p.text


def test_bm25_stays_in_step_through_add_edit_delete(engine, articles, settings, embedder):
    lexical = Engine(settings=settings.replace(retrieval="lexical"), embedder=embedder)
    write(articles, "a.txt", story("Floods", "The Quorvath river burst its banks."))
    engine.sync(articles)
    assert [p.article_id for p in lexical.search("Quorvath", 5)] == ["a.txt"]
    write(articles, "b.txt", story("Mayor", "Mayor Ostrenka opened the bridge."))
    engine.sync(articles)
    assert [p.article_id for p in lexical.search("Ostrenka", 5)] == ["b.txt"]
    write(articles, "a.txt", story("Floods", "The Dravinsk river burst its banks."))
    engine.sync(articles)
    assert lexical.search("Quorvath", 5) == [] and [p.article_id for p in lexical.search("Dravinsk", 5)] == ["a.txt"]
    (articles / "b.txt").unlink()
    engine.sync(articles)
    assert lexical.search("Ostrenka", 5) == []


def test_fusion_weights_reach_the_ranking(engine, articles, settings, embedder):
    for i in range(12):
        write(articles, f"n{i}.txt", story(f"Council {i}", f"The city council met {i} times to discuss the budget."))
    write(articles, "rare.txt", story("Appointment", "Vrbanic was named treasurer of the council."))
    engine.sync(articles)
    question = "what did the council discuss about the budget with Vrbanic"

    def ranking(**changes):
        e = Engine(settings=settings.replace(**changes), embedder=embedder)
        return [p.article_id for p in e.search(question, k=13)]

    assert ranking(retrieval="hybrid", fusion_lexical_weight=0.0) == ranking(retrieval="dense")
    assert ranking(retrieval="hybrid", fusion_dense_weight=0.0) == ranking(retrieval="lexical")
    assert ranking(retrieval="lexical")[0] == "rare.txt"  # the rare name dominates BM25


def test_rank_constant_decides_between_one_top_rank_and_two_middling_ones():
    # "a" is first in one list only; "b" is second in both. A small constant trusts top ranks, a large one agreement.
    dense, lexical = ["a", "b", "c"], ["d", "b", "e"]
    assert reciprocal_rank_fusion([dense, lexical], [1.0, 0.5], k=0)[0][0] == "a"
    assert reciprocal_rank_fusion([dense, lexical], [1.0, 0.5], k=60)[0][0] == "b"


def test_rank_constant_reaches_the_engine(engine, articles, settings, embedder, monkeypatch):
    write(articles, "a.txt", story("Budget", "The council met to discuss the budget."))
    engine.sync(articles)
    seen = []
    original = reciprocal_rank_fusion

    def spy(rankings, weights, *, k=60):
        seen.append((tuple(weights), k))
        return original(rankings, weights, k=k)

    monkeypatch.setattr("qa.store.index.reciprocal_rank_fusion", spy)
    Engine(settings=settings.replace(fusion_lexical_weight=0.25, fusion_rank_constant=7), embedder=embedder).search("budget")
    assert seen == [((1.0, 0.25), 7)]


def test_negative_fusion_settings_are_refused(settings):
    with pytest.raises(ConfigError):
        settings.replace(fusion_rank_constant=-1)
    with pytest.raises(ConfigError):
        settings.replace(fusion_lexical_weight=-0.5)


def test_bm25s_first_passage_is_read_when_only_it_holds_the_questions_rarest_word(engine, articles, embedder):
    # "Korneyev" in "who is Ivan Korneyev?": one article names him, and the meaning of the question alone ranks
    # other passages above it.
    for i in range(12):
        write(articles, f"n{i}.txt", story(f"Council {i}", f"The city council met {i} times to discuss the budget."))
    write(articles, "rare.txt", story("Appointment", "Vrbanic was named treasurer of the council."))
    engine.sync(articles)
    generation = engine.generation()
    question = "what did the city council discuss about the budget, the council budget, with Vrbanic?"

    def read(rarest: str | None) -> list[str]:
        found = generation.hybrid_search(question, embedder.embed([question])[0], 3, mode="hybrid",
                                         weights=(1.0, 0.1), depth=3, rank_constant=10, leaders=True, rarest=rarest)
        return [p.article_id for p in found]

    assert "rare.txt" not in read(None)
    assert read("vrbanic")[-1] == "rare.txt" and len(read("vrbanic")) == 4
    assert "rare.txt" not in read("council")  # the passages read hold it already
    assert "rare.txt" not in read("zzyzx")  # no article uses it: nothing holds it


def test_the_answerer_asks_for_the_holder_of_the_questions_rarest_word(engine, articles, settings):
    from qa.answer.answering import Answerer
    from qa.answer.calibration import Calibration
    from tests.fakes import PhraseReader

    write(articles, "rare.txt", story("Appointment", "Vrbanic was named treasurer of the council."))
    write(articles, "met.txt", story("Council", "The council met on Monday."))
    engine.sync(articles)
    retriever = Retriever(engine.generation(), engine.embedder, settings)
    asked = []
    search = retriever.search
    retriever.search = lambda query, k, **options: asked.append(options) or search(query, k, **options)
    Answerer(retriever, PhraseReader({}), engine.generation().cited_sentence, calibration=Calibration()).ask(
        "who did the council name, Vrbanic?")
    assert asked[0] == {"leaders": True, "rarest": "vrbanic"}  # not "who", which asks and names nothing


def test_a_name_the_question_gives_is_read_where_an_article_writes_it(engine, articles, settings, embedder):
    # "Jonny" and "Evans" are common apart (a rugby player, a DJ); one article writes "Jonny Evans", once
    for n in range(6):
        write(articles, f"other{n}.txt", story(f"Report {n}", "Jonny Wilkinson kicked well and Jonny scored." if n < 3
                                               else "DJ Chris Evans praised Evans on the radio."))
    write(articles, "mac.txt", story("Mac mini gets warm welcome", "The Mac mini has been welcomed by fans. "
                                     "It is brave, said Jonny Evans, news editor at Macworld magazine."))
    engine.sync(articles)
    retriever = Retriever(engine.generation(), embedder, settings)
    asking = frozenset(retriever.terms.terms("who is what"))
    others = retriever.search_within("jonny evans", [f"other{n}.txt" for n in range(6)], 5)
    for question in ("who is jonny evans", "who is Jonny Evans?"):
        found = retriever.phrase_passage(question, others, asking)
        assert found is not None and found.article_id == "mac.txt" and "Jonny Evans" in found.text
        assert retriever.phrase_passage(question, [*others, found], asking) is None  # read already
    # words typed together that no passage writes as a name add nothing: "kicked well" is no one's name
    assert retriever.phrase_passage("who kicked well?", retriever.search_within("mac", ["mac.txt"], 1), asking) is None
    # the answerer reads it beside what the search found
    from qa.answer.answering import Answerer
    from qa.answer.calibration import Calibration
    from tests.fakes import PhraseReader

    retriever.search = lambda query, k, **options: others[:k]
    answer = Answerer(retriever, PhraseReader({"news editor": 6.0}), engine.generation().cited_sentence,
                      calibration=Calibration()).ask("who is jonny evans")
    assert answer.text == "news editor" and answer.passages[-1].article_id == "mac.txt"
