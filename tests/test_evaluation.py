"""`qa eval` scoring: which article counts as gold, and exact retrieval figures on a tiny index."""

from qa.eval.questions import EvalQuestion, article_rank, evaluate, gold_articles
from tests.conftest import story, write

FERRY = story("Ferry strike halts crossings", "Dock workers in Calais walked out on Monday.", "Crossings resume on Friday.")
BANK = story("Bank raises rates", "The central bank raised rates to 5%.", "Markets fell.")


def _question(qid, doc, sentence=None, answers=("x",)):
    return EvalQuestion(qid, "who walked out in Calais?", tuple(answers), doc, sentence)


def test_gold_is_found_by_name_under_a_folder_or_by_its_sentence_when_renamed(engine, articles):
    write(articles, "news/ferry-strike.txt", FERRY)
    write(articles, "bank.txt", BANK)
    engine.sync(articles)
    questions = [
        _question("by-name", "bank.txt"),
        _question("by-suffix", "ferry-strike.txt"),
        # The eval file names the article as it was published; here it was saved under another name.
        _question("renamed", "000_original.txt", "Dock workers in Calais walked out on Monday."),
        _question("unknown", "000_gone.txt", "This sentence is in no article."),
        _question("absent", None, answers=()),
    ]
    assert gold_articles(engine, questions) == {
        "by-name": {"bank.txt"},
        "by-suffix": {"news/ferry-strike.txt"},
        "renamed": {"news/ferry-strike.txt"},
        "unknown": set(),
    }


def test_article_rank_counts_distinct_articles():
    retrieved = ["a.txt", "a.txt", "b.txt", "c/d.txt"]
    assert article_rank(retrieved, "d.txt") == 3
    assert article_rank(retrieved, {"b.txt"}) == 2
    assert article_rank(retrieved, {"z.txt"}) is None
    assert article_rank(retrieved, set()) is None


def test_retrieval_figures_on_a_tiny_index_are_exact(engine, articles):
    write(articles, "ferry.txt", FERRY)
    write(articles, "bank.txt", BANK)
    engine.sync(articles)
    questions = [
        EvalQuestion("q1", "dock workers Calais walked out", ("Dock workers",), "ferry.txt"),
        EvalQuestion("q2", "central bank raised rates", ("5%",), "bank.txt"),
        EvalQuestion("q3", "central bank raised rates", ("Dock workers",), "ferry.txt"),  # gold ranks second
        EvalQuestion("q4", "who won the cup?", (), None),
    ]
    result = evaluate(engine, questions, with_answers=False)
    ranks = {r["id"]: r["rank"] for r in result.per_question}
    assert ranks == {"q1": 1, "q2": 1, "q3": 2, "q4": None}
    assert (result.answerable, result.unanswerable) == (3, 1)
    assert (result.hit_at_1, result.hit_at_5, result.hit_at_10) == (2 / 3, 1.0, 1.0)
    assert result.mrr == (1 + 1 + 0.5) / 3
