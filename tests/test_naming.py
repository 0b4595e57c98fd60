"""Names in answers: an organisation's whole name, and who a story's opening sentence describes ("US man" answered
with the name the next sentence gives)."""

from __future__ import annotations

import pytest

from qa.answer.naming import (
    asks_for_someone, describes_a_person, indefinite_person, name_after, name_given_next, rest_of_name,
)
from tests.fakes import PhraseReader
from tests.conftest import story, write

FISHER = ("Andrew Fisher, from Omaha, Nebraska, said he would have a logo tattooed on his head for 30 days. "
          "Mr Fisher has received 39 bids so far.")


@pytest.mark.parametrize("answer, before", [
    ("US man", "A 20-year-old "),
    ("A 20-year-old US man", ""),
    ("blind student", "A "),
    ("ex-chief financial officer at Boeing", "An "),
    ("senior barrister", "A "),
    ("Japanese mogul", "The "),
])
def test_a_described_person_as_the_subject_of_the_sentence(answer, before):
    assert describes_a_person(answer, before)


@pytest.mark.parametrize("answer, before", [
    ("US man", "Police said a "),  # not the sentence's subject
    ("Andrew Fisher", ""),  # already a name
    ("A US TV network", ""),  # no person
    ("12 suspected members of the groups", "At least "),
])
def test_what_is_no_description_of_the_subject(answer, before):
    assert not describes_a_person(answer, before)


@pytest.mark.parametrize("following, name", [
    (FISHER, "Andrew Fisher"),
    ("The Californian man, Nicholas Lee Jacobsen, was arrested in October. Mr Jacobsen said nothing.",
     "Nicholas Lee Jacobsen"),
    ("Dr Brian Gibbons said he would act. Dr Gibbons was appointed on Monday.", "Brian Gibbons"),
    ("Ian MacDonald QC quit when the government failed. Mr MacDonald told BBC News.", "Ian MacDonald"),
])
def test_the_name_the_next_sentence_opens_with(following, name):
    bounds = name_given_next(following, following)
    assert bounds is not None and following[bounds[0] : bounds[1]] == name


@pytest.mark.parametrize("following", [
    "Sir Alan Budd's inquiry linked the ex-home secretary to the case.",  # a possessive: not the person named
    "New York Attorney General Elliot Spitzer said the firm had lied.",  # a title run into a name
    "State-owned Rosneft bought the unit for $9.3bn.",  # a firm: nothing speaks of it as a person
    "The Kremlin last year seized the firm.",
    "He said he would have a logo tattooed on his head.",
])
def test_no_name_where_the_next_sentence_does_not_open_with_a_persons_name(following):
    assert name_given_next(following, following) is None


def test_who_is_answered_with_the_name_of_the_person_the_lead_describes(engine, articles):
    text = story("Man auctions ad space on forehead",
                 "A 20-year-old US man is selling advertising space on his forehead on website eBay.", FISHER)
    write(articles, "forehead.txt", text)
    engine._reader = PhraseReader({"US man": 6.0})
    engine.sync(articles)
    answer = engine.ask("who is selling advertising space on his forehead?")
    assert answer.found and answer.text == "Andrew Fisher"
    (citation,) = answer.citations
    assert text[citation.start : citation.end] == "Andrew Fisher"
    assert citation.sentence.startswith("Andrew Fisher, from")
    assert engine.ask("which man is selling space on his forehead?").text == "Andrew Fisher"
    # only for a question a person's name answers
    assert engine.ask("what is happening to his forehead?").text == "US man"


@pytest.mark.parametrize("question, expected", [
    ("who is selling advertising space?", True),
    ("which student ran the website?", True),
    ("which 20-year-old man is selling space?", True),
    ("which company won the auction?", False),
    ("where is he from?", False),
    ("what is he selling?", False),
])
def test_questions_a_persons_name_answers(question, expected):
    assert asks_for_someone(question) is expected


@pytest.mark.parametrize("answer, after, rest", [
    ("Friends", " Reunited. Lucy's mother", " Reunited"),
    ("Real", " Madrid's Bernabeu stadium", " Madrid"),  # not the possessive
    ("NBC", " over its programme", ""),
    ("the KNB", " said.", ""),
    ("Ryanair.", " Boeing said", ""),  # the sentence ended
    ("budget airline", " Ryanair", ""),  # no name to finish
])
def test_the_rest_of_a_name_the_answer_stops_inside(answer, after, rest):
    assert after[: rest_of_name(answer, after)] == rest


def test_a_question_for_an_organisation_gets_its_whole_name(engine, articles):
    text = story("MP's shock at long lost daughter",
                 "She found a reference to Mr Pound on Friends Reunited. She wrote.")
    write(articles, "pound.txt", text)
    engine._reader = PhraseReader({"Friends": 6.0})
    engine.sync(articles)
    answer = engine.ask("which website did she find him on?")
    assert answer.text == "Friends Reunited"
    assert text[answer.citations[0].start : answer.citations[0].end] == "Friends Reunited"
    assert engine.ask("what did she find him on?").text == "Friends"  # not an organisation's name asked for


@pytest.mark.parametrize("answer, after, name", [
    ("GM chief executive", " Rick Wagoner.", "Rick Wagoner"),
    ("Newcastle boss", " Graeme Souness is said to", "Graeme Souness"),
    ("Ryanair chief executive", " Michael O'Leary said", "Michael O'Leary"),
    ("GM chief executive", ", Rick Wagoner, said", ""),  # an aside: the next-sentence rule's, not this one's
    ("the carmaker", " Fiat said", ""),  # no person described
    ("the boss", " Fiat's plans", ""),  # "Fiat's" is no one's full name
])
def test_the_name_right_after_a_description_of_someone(answer, after, name):
    assert after[1 : name_after(answer, after)] == name


def test_who_is_answered_with_the_name_right_after_the_description(engine, articles):
    text = story("GM pays Fiat", '"We needed scale in Europe," said GM chief executive Rick Wagoner. Talks ended.')
    write(articles, "gm.txt", text)
    engine._reader = PhraseReader({"GM chief executive": 6.0})
    engine.sync(articles)
    answer = engine.ask("who said GM needed scale in Europe?")
    assert answer.text == "Rick Wagoner" and text[answer.citations[0].start : answer.citations[0].end] == "Rick Wagoner"
    # who he is, asked by name, is the description (2 of SQuAD train's "who" golds: "Energy Minister" Doris Leuthard)
    assert engine.ask("who is Rick Wagoner?").text == "GM chief executive"


@pytest.mark.parametrize("answer, before, indefinite", [
    ("a viewer", "A US TV network is being sued by ", True),
    ("viewer", "A US TV network is being sued by a ", True),
    ("the viewer", "It was sued by ", False),  # already known to the reader
    ("a network", "It was sued by ", False),  # no person
])
def test_someone_described_but_not_yet_identified(answer, before, indefinite):
    assert indefinite_person(answer, before) is indefinite


@pytest.mark.parametrize("opening, named", [
    ("", True),  # the lead: its next sentence names the viewer
    ("The show is popular. ", False),  # further in, the next sentence may name anyone
])
def test_someone_the_lead_leaves_unnamed_is_named_by_the_next_sentence(engine, articles, opening, named):
    write(articles, "rats.txt", story("US show sued for rat-eating stunt",
                                      opening + "A US TV network is being sued by a viewer who was disgusted.",
                                      "Austin Aitken is taking action against NBC. Mr Aitken lives in Cleveland."))
    engine._reader = PhraseReader({"a viewer": 6.0})
    engine.sync(articles)
    assert engine.ask("who is suing the network?").text == ("Austin Aitken" if named else "a viewer")
