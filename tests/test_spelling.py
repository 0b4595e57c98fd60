"""A word no article uses is spelled as the articles found for the question spell it, and nothing else changes."""

from __future__ import annotations

from hypothesis import given, strategies as st

from qa.answer.spelling import dictionary, respelled, unknown_words
from tests.conftest import story, write

ARTICLE = ("At least 12 suspected members were arrested for selling drugs online in Astana and Almaty, "
           "the agency announced. Arrests followed a tournament.")


class Lexicon:
    """The index's terms as the answerer sees them: lower-cased words, each with how many chunks hold it."""

    def __init__(self, text: str):
        self.known = {w.lower() for w in text.replace(",", " ").replace(".", " ").split()}

    def terms(self, text):
        return [w.lower() for w in text.split()]

    def frequency(self, term):
        return int(term in self.known)


LEXICON = Lexicon(ARTICLE + " who was for which when does the start thai")
WORDS = frozenset({"who", "was", "were", "where", "arrested", "selling", "drugs", "online", "which", "agency", "when",
                   "does", "the", "start", "thai", "tournament", "sold", "razors", "surname"})


def test_a_mistyped_word_is_spelled_as_the_articles_spell_it():
    assert respelled("who was arested for selling drugs onlne?", LEXICON, [ARTICLE], WORDS) == \
        "who was arrested for selling drugs online?"
    assert respelled("when does the thai Tournement start", LEXICON, [ARTICLE], WORDS) == "when does the thai Tournament start"


def test_words_are_left_alone_when_no_article_word_is_plainly_the_same():
    assert respelled("who was arrested?", LEXICON, [ARTICLE], WORDS) == "who was arrested?"  # nothing unknown
    assert respelled("who sold the Gillette razors?", LEXICON, [ARTICLE], WORDS) == "who sold the Gillette razors?"
    assert respelled("who was areste?", LEXICON, [], WORDS) == "who was areste?"  # no article to spell it from
    assert respelled("which agensy?", LEXICON, [ARTICLE], WORDS) == "which agency?"
    assert respelled("which aganst?", LEXICON, [ARTICLE], WORDS) == "which aganst?"  # not like any word enough
    # an English word is no slip, though no article uses it: "where" is not "were", nor "surname" anything else
    assert respelled("where were they? what surname?", LEXICON, ["They were here. The surnames."], WORDS) == \
        "where were they? what surname?"
    assert respelled("who was arested?", LEXICON, [ARTICLE], frozenset()) == "who was arested?"  # no dictionary


def test_the_dictionary_is_the_shipped_reader_s_whole_words():
    words = dictionary()
    assert {"where", "surname", "arrested", "online"} <= words and not {"arested", "onlne", "##ing"} & words


@given(st.lists(st.sampled_from(sorted(LEXICON.known)), min_size=1, max_size=8))
def test_a_question_of_known_words_is_never_changed(words):
    question = " ".join(words) + "?"
    assert not unknown_words(question, LEXICON, WORDS)
    assert respelled(question, LEXICON, [ARTICLE], WORDS) == question


def test_a_mistyped_new_question_leaves_the_chat_s_story(engine, articles):
    from tests.fakes import PhraseReader

    write(articles, "strike.txt", story("Rail strike", "Train drivers walked out in Leeds on Friday."))
    write(articles, "ring.txt", story("Drug ring", "Twelve suspected members were arrested for selling drugs online."))
    engine.sync(articles)
    engine._reader = PhraseReader({"Train drivers": 6.0, "Twelve suspected members": 6.0})
    first = engine.ask("who walked out in Leeds?")
    typed = engine.ask("who was arested for selling drugs onlne?", history=[first])
    assert typed.question == "who was arrested for selling drugs online?"
    assert typed.text == "Twelve suspected members" and not typed.follow_up
