"""The chat as a spec: a conversation keeps its story in focus, a new question releases it, and a question several
stories answer is answered story by story. Fake embedder and reader, real index."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from qa.eval.chat import evaluate_ambiguous, evaluate_conversations, file_kind, shown_answer
from qa.answer.conversation import (
    Turn,
    about_every_story,
    as_turns,
    chat_focus,
    is_bare,
    is_the_referent,
    last_exchange,
    leans_on_chat,
    named_words,
    overlaps_last_answer,
    owns_last_answer,
    picked_story,
    reader_question,
    story_articles,
    thing_asked_about,
    topic_first,
    with_apostrophes,
    with_followed_stories,
)
from qa.answer.answering import NO_SOURCE_YET, PICK_A_STORY, STORY_TOLD, WHICH_STORY
from qa.answer.article_parts import asks_for_gist, asks_for_source
from qa.answer.focus import names_typed_in_lower_case
from qa.errors import QAError
from qa.types import Answer, Citation, Passage, Span, Story
from tests.conftest import story, write
from tests.fakes import PhraseReader

STRIKE = story(
    "Rail strike in Leeds",
    "Train drivers walked out in Leeds on Friday.",
    "The union said the strike was about pay.",
    "Services will resume in Bradford next week.",
)
STORM = story(
    "Storm closes a port",  # the fake reader finds a phrase once a passage: so the body holds it, not the title
    "A storm closed the port of Dover on Monday.",
    "Ferries to Calais were cancelled by the operator.",
)
MOGUL = story("Tycoon held", "The tycoon Yoshi Tsu was arrested in Tokyo for fraud.", "He denies wrongdoing.")
HACKER = story("Hacker held", "The hacker Nick Jay was arrested in October.", "He faces trial.")
RING = story("Drug ring", "Twelve suspected members were arrested in Astana.", "The agency said so.")
PHRASES = {
    "Train drivers": 6.0, "Leeds": 5.0, "Friday": 5.5, "pay": 5.0, "Bradford": 5.0,
    "Dover": 6.0, "Monday": 5.0, "Calais": 5.5, "the operator": 5.0,
    "Yoshi Tsu": 6.0, "Nick Jay": 6.0, "Twelve suspected members": 6.0,
}  # fmt: skip


@pytest.fixture
def chat(engine, articles):
    write(articles, "strike.txt", STRIKE)
    write(articles, "storm.txt", STORM)
    engine.sync(articles)
    engine._reader = PhraseReader(PHRASES)
    return engine


def test_a_follow_up_is_answered_from_the_story_in_focus(chat):
    first = chat.ask("who walked out in Leeds?")
    assert first.found and first.focus == ("strike.txt",)
    follow = chat.ask("when did they do it?", history=[first])
    assert follow.follow_up and follow.focus == ("strike.txt",)
    assert {c.article_id for c in follow.citations} == {"strike.txt"}
    assert all(p.article_id == "strike.txt" for p in follow.passages)
    # what the reader was asked carries the last exchange, and the Answer says so
    assert follow.understood_as.startswith("when did they do it?") and "who walked out in Leeds?" in follow.understood_as


def test_a_follow_up_the_story_does_not_answer_is_declined_not_answered_from_another_story(chat, engine):
    # Every phrase of the strike story reads as a weak answer; the storm story holds strong ones.
    engine._reader = PhraseReader({"Train drivers": -9.0, "Leeds": -9.0, "Friday": -9.0, "Dover": 6.0, "Calais": 6.0})
    follow = chat.ask("and where did they go next?", focus=["strike.txt"])
    assert follow.follow_up and not follow.found and follow.focus == ("strike.txt",)  # the story stays in focus
    assert follow.passages and all(p.article_id == "strike.txt" for p in follow.passages)
    assert {c.article_id for a in follow.alternatives for c in a.citations} <= {"strike.txt"}


def test_a_self_contained_question_releases_the_focus(chat):
    first = chat.ask("who walked out in Leeds?")
    other = chat.ask("which port did the storm close on Monday?", history=[first])
    assert not other.follow_up and other.text == "Dover"
    assert other.focus == ("storm.txt",)


def test_a_new_question_typed_in_lower_case_still_names_its_subject_and_releases_the_focus(chat, engine, articles):
    # three stories hold all of its words: without the name it would be an "open" question, kept on the chat's story
    for n, day in enumerate(("Monday", "Tuesday", "Wednesday")):
        write(articles, f"brown{n}.txt", story(f"Budget row {n}", f"Gordon Brown said on {day} that pay would rise.",
                                               "Mr Brown spoke in London."))
    engine.sync(articles)
    first = chat.ask("who walked out in Leeds?")
    other = chat.ask("what did gordon brown say about pay?", history=[first])
    assert not other.follow_up and {p.article_id for p in other.passages} & {"brown0.txt", "brown1.txt", "brown2.txt"}
    # a word the stories also write in lower case names nothing: "pay" is still asked of the strike story
    assert chat.ask("what was the pay dispute about?", history=[first]).follow_up


@pytest.mark.parametrize(
    "question, named",
    [
        ("what did tony blair say about the budget", ["blair"]),  # "Tony" only opens a sentence: it says nothing
        ("what do the mps want to do with the house of lords", ["mps", "lords"]),  # "house" is also written in lower case
        ("What did Blair say?", []),  # capitalised as typed: named_words has it
        ("who was arrested?", []),
    ],
)
def test_words_typed_in_lower_case_that_the_passages_write_as_names(question, named):
    text = ("Tony Blair said MPs in the House of Lords want reform. Prime Minister Blair said the house was old. "
            "Lords said so; 12 were arrested.")
    assert names_typed_in_lower_case(question, [Passage("a.txt", "", text, 0, len(text), 1.0)]) == named


def test_what_the_story_is_about_is_its_first_sentence_and_tell_me_more_goes_on_with_it(chat):
    new = chat.ask("what is the article about?")
    assert new.small_talk and not new.found and new.text == WHICH_STORY  # no story yet
    first = chat.ask("who walked out in Leeds?")
    history = [first]
    told = []
    for question in ("what is the article about?", "tell me more", "tell me more"):
        answer = chat.ask(question, history=history)
        assert answer.found and answer.follow_up and answer.focus == ("strike.txt",)
        (citation,) = answer.citations
        assert chat.article("strike.txt").text[citation.start : citation.end] == answer.text == citation.sentence
        told.append(answer.text)
        history.append(answer)
    assert told == ["Train drivers walked out in Leeds on Friday.", "The union said the strike was about pay.",
                    "Services will resume in Bradford next week."]  # never the headline
    done = chat.ask("more", history=history)
    assert done.small_talk and done.text == STORY_TOLD and done.focus == ("strike.txt",)
    # what it told is no exchange to lean on: "they" are still who walked out
    follow = chat.ask("when did they do it?", history=history)
    assert follow.understood_as == "when did they do it? (who walked out in Leeds? Train drivers)"


def test_where_an_answer_came_from_is_its_quoted_sentence(chat):
    assert chat.ask("where did you read that?").text == NO_SOURCE_YET  # nothing answered yet
    first = chat.ask("who walked out in Leeds?")
    source = chat.ask("where did you read that?", history=[first])
    (citation,) = source.citations
    assert source.found and source.text == "Train drivers walked out in Leeds on Friday." == citation.sentence
    assert (citation.article_id, citation.start, citation.end) == (
        first.citations[0].article_id, first.citations[0].sentence_start, first.citations[0].sentence_end)
    # no exchange to lean on: "they" are still who walked out
    follow = chat.ask("when did they do it?", history=[first, source])
    assert follow.understood_as == "when did they do it? (who walked out in Leeds? Train drivers)"


@pytest.mark.parametrize(
    "question, asks",
    [("where did you read that?", True), ("Source?", True), ("how do you know", True), ("where's that from?", True),
     ("which article says that?", True), ("where did you get it", True),
     ("where did they read it?", False), ("what is the source of the river?", False), ("how do you know him?", False)],
)
def test_questions_about_where_an_answer_came_from(question, asks):
    assert asks_for_source(question) is asks


def test_what_a_story_by_story_answer_is_about_asks_which_story(arrests):
    answer = arrests.ask("who was arrested?")
    about = arrests.ask("what happened?", history=[answer])
    assert about.small_talk and about.text == PICK_A_STORY and set(about.focus) == set(answer.focus)


@pytest.mark.parametrize(
    "question, gist",
    [
        ("what is the article about?", "lead"),
        ("What's it about", "lead"),
        ("what happened?", "lead"),
        ("summarise the story", "lead"),
        ("tell me more", "more"),
        ("Tell me more about it.", "more"),
        ("go on", "more"),
        ("what happened to the money?", None),  # a question of its own
        ("so what happened next in Leeds?", None),
        ("tell me more about the union", None),
    ],
)
def test_questions_about_the_story_itself(question, gist):
    assert asks_for_gist(question) == gist


def test_a_declined_follow_up_keeps_the_focus_for_the_turn_after(chat):
    first = chat.ask("who walked out in Leeds?")
    declined = Answer("what is their names?", "The articles don't say.", False, 0.1, focus=first.focus)
    after = chat.ask("when did it happen?", history=[first, declined])
    assert after.follow_up and {c.article_id for c in after.citations} == {"strike.txt"}


class SubjectReader(PhraseReader):
    """Finds "Friday" only when told who walked out: the chat's subject, which a bare "and when?" does not say."""

    def read(self, question, passages, **options):
        return [s for s in super().read(question, passages, **options) if s.text != "Friday" or "walked out" in question]


def test_a_bare_follow_up_the_last_exchange_leaves_unanswered_is_read_with_the_one_before(chat, engine):
    engine._reader = SubjectReader(PHRASES)
    history = [{"question": "who walked out in Leeds?", "answer": "Train drivers", "article_ids": ["strike.txt"]},
               {"question": "what was the strike about?", "answer": "pay", "article_ids": ["strike.txt"]}]
    when = chat.ask("and when?", history=history)
    assert when.follow_up and when.found and when.text == "Friday"
    assert when.understood_as == "and when? (who walked out in Leeds? Train drivers)"
    # a question of its own words is not read again beside an older exchange: declined as the story leaves it
    assert not chat.ask("when will the strike end?", history=history).found


class DrawnByTheExchange(PhraseReader):
    """Read beside the last exchange, sees only that exchange's sentence: no "Bradford", as the real reader, beside
    a question about a stadium, took "Real Sociedad" from the stadium's sentence for who made a bomb threat."""

    def read(self, question, passages, **options):
        return [s for s in super().read(question, passages, **options) if "(" not in question or s.text != "Bradford"]


def test_a_follow_up_that_says_what_it_asks_about_is_read_without_the_exchange(chat, engine):
    engine._reader = DrawnByTheExchange({**PHRASES, "Bradford": 5.8})
    first = chat.ask("who walked out in Leeds?")
    named = chat.ask("where will the services resume?", history=[first])
    assert named.follow_up and named.focus == ("strike.txt",)  # still read in the story in focus
    assert named.understood_as == "where will the services resume?" and named.text == "Bradford"
    # one that points back still needs the exchange, to say what "they" are
    pointing = chat.ask("where did they walk out?", history=[first])
    assert pointing.understood_as == "where did they walk out? (who walked out in Leeds? Train drivers)"


@pytest.mark.parametrize(
    "typed, meant, bare",
    [
        ("whats second", "what's second", True),  # said in the chat's context: read beside the last exchange
        ("whos the boss there", "who's the boss there", True),
        ("Wheres the field", "Where's the field", True),
        ("what's the crowd", "what's the crowd", True),
        ("whatsoever happened to its sales", "whatsoever happened to its sales", False),  # no question word
    ],
)
def test_a_question_word_typed_without_its_apostrophe_is_still_one(typed, meant, bare):
    assert with_apostrophes(typed) == meant
    assert is_bare(with_apostrophes(typed)) is bare


def test_a_history_of_text_only_finds_its_story(chat):
    """API clients send {"question", "answer"} without article ids: the story is found from the exchange."""
    follow = chat.ask("when did they do it?", history=[{"question": "who walked out?", "answer": "Train drivers"}])
    assert follow.follow_up and follow.focus == ("strike.txt",)
    assert {c.article_id for c in follow.citations} == {"strike.txt"}


def test_an_explicit_focus_is_used_and_an_empty_one_clears_it(chat):
    chosen = chat.ask("when did it happen?", focus=["storm.txt"])
    assert chosen.follow_up and chosen.focus == ("storm.txt",)
    assert {c.article_id for c in chosen.citations} == {"storm.txt"}
    first = chat.ask("who walked out in Leeds?")
    cleared = chat.ask("which port did the storm close?", history=[first], focus=())
    assert not cleared.follow_up and cleared.text == "Dover"


@pytest.fixture
def arrests(engine, articles):
    for name, text in {"mogul.txt": MOGUL, "hacker.txt": HACKER, "ring.txt": RING, "storm.txt": STORM}.items():
        write(articles, name, text)
    engine.sync(articles)
    engine._reader = PhraseReader(PHRASES)
    return engine


def test_a_question_several_stories_answer_is_answered_story_by_story(arrests):
    answer = arrests.ask("who was arrested?")
    assert answer.found and answer.text == "Several stories answer this (3)."
    assert sorted(s.text for s in answer.stories) == ["Nick Jay", "Twelve suspected members", "Yoshi Tsu"]
    for s in answer.stories:  # each story cites its own article, exactly
        (citation,) = s.citations
        assert s.article_ids == (citation.article_id,)
        assert arrests.article(citation.article_id).text[citation.start : citation.end] == s.text
    assert answer.stories == sorted(answer.stories, key=lambda s: -s.confidence)
    # about all of them until the person picks one: a follow-up is asked of each
    assert set(answer.focus) == {"mogul.txt", "hacker.txt", "ring.txt"}
    assert answer.alternatives == []


def test_picking_a_story_focuses_the_chat_on_it(arrests):
    answer = arrests.ask("who was arrested?")
    ring = next(s for s in answer.stories if s.text == "Twelve suspected members")
    follow = arrests.ask("who said so?", history=[answer], focus=ring.article_ids)
    assert follow.follow_up and all(p.article_id == "ring.txt" for p in follow.passages)
    # read with the chosen story's answer as the last exchange
    assert follow.understood_as == "who said so? (who was arrested? Twelve suspected members)"


def test_a_follow_up_before_a_story_is_picked_is_asked_of_each_of_the_stories(arrests, engine):
    engine._reader = PhraseReader({**PHRASES, "Tokyo": 6.0, "Astana": 6.0, "October": 6.0})
    answer = arrests.ask("who was arrested?")
    where = arrests.ask("where did it happen?", history=[answer])
    assert where.follow_up and where.stories and {"Tokyo", "Astana"} <= {s.text for s in where.stories}
    cited = {c.article_id for s in where.stories for c in s.citations}
    assert cited <= {"mogul.txt", "hacker.txt", "ring.txt"}  # never the storm story, which has answers too
    assert where.understood_as == "where did it happen? (who was arrested?)"
    # a follow-up none of them answers keeps the chat about all of them, so the next one is asked of each again
    declined = arrests.ask("how much did they pay?", history=[answer])
    assert not declined.found and set(declined.focus) == set(answer.focus)
    again = arrests.ask("where did it happen?", history=[answer, declined])
    assert again.stories and {"Tokyo", "Astana"} <= {s.text for s in again.stories}
    assert again.understood_as == "where did it happen? (who was arrested?)"  # the stories' question, not the declined one
    # only one of the stories says when: one answer, and the chat is about that story now
    when = arrests.ask("when did it happen?", history=[answer])
    assert when.follow_up and not when.stories and when.text == "October" and when.focus == ("hacker.txt",)
    # a question of its own still searches everything
    other = arrests.ask("which port did the storm close on Monday?", history=[answer])
    assert not other.follow_up and other.text == "Dover"


def test_a_follow_up_naming_what_only_one_of_the_stories_holds_is_asked_of_that_story(arrests, engine):
    engine._reader = PhraseReader({**PHRASES, "fraud": 6.0, "October": 6.0})
    answer = arrests.ask("who was arrested?")
    why = arrests.ask("why was Tsu held?", history=[answer])
    # only the tycoon's story names Tsu: as if its card were picked, read beside its answer
    assert why.found and why.text == "fraud" and not why.stories and why.focus == ("mogul.txt",)
    assert why.understood_as == "why was Tsu held? (who was arrested? Yoshi Tsu)"
    # a follow-up naming nothing of one story alone is still asked of each
    when = arrests.ask("when were they held?", history=[answer])
    assert set(when.focus) <= set(answer.focus) and all(p.article_id in answer.focus for p in when.passages)


@pytest.mark.parametrize("question, asked", [
    ("the guy auctioning his forehead, how many bids has he had",
     "how many bids has he had? (the guy auctioning his forehead)"),
    ("that oasis singer who got fined - how much did he pay?",
     "how much did he pay? (that oasis singer who got fined)"),
    ("back in september 2003, how many emails did the firm catch?", None),  # a time set first, no topic
    ("the guy auctioning his forehead, how many bids so far", None),  # nothing points back to the topic
    ("how many bids has he had?", None),
    ("back to bruce willis - who directed the film", "who directed the film? (bruce willis)"),  # a return to it
    ("as for biogen, how much did its shares fall", "how much did its shares fall? (biogen)"),
    ("about how many people died?", None),
])
def test_a_topic_said_first_is_read_after_the_question_about_it(question, asked):
    assert topic_first(question) == asked


def test_the_reader_reads_a_question_whose_topic_came_first_as_a_follow_up(engine, articles):
    write(articles, "a.txt", story("Man auctions ad space", "Mr Fisher has received 39 bids so far."))
    reader = RecordingReader({"39": 6.0})
    engine._reader = reader
    engine.sync(articles)
    answer = engine.ask("the guy auctioning his forehead, how many bids has he had")
    assert answer.text == "39" and answer.understood_as == "how many bids has he had? (the guy auctioning his forehead)"
    assert reader.questions[0] == answer.understood_as


def test_a_topic_named_first_that_the_story_never_mentions_leaves_the_story(chat):
    first = chat.ask("who walked out in Leeds?")
    # "its" would keep the chat on the strike; the question names Dover's storm first
    answer = chat.ask("as for the storm in Dover, which port did it close?", history=[first])
    assert not answer.follow_up and answer.text == "Dover" and answer.focus == ("storm.txt",)
    # a topic the story does mention keeps it
    kept = chat.ask("back to the strike in Leeds - when did they walk out?", history=[first, answer])
    assert kept.focus == ("strike.txt",)


class RecordingReader(PhraseReader):
    def __init__(self, phrases):
        super().__init__(phrases)
        self.passages_read = []
        self.questions = []

    def read(self, question, passages, **options):
        self.questions.append(question)
        self.passages_read.extend(passages)
        return super().read(question, passages, **options)


def test_a_follow_up_before_a_story_is_picked_reads_more_than_each_story_s_best_passage(engine, articles):
    # each story's passage that best matches "lawyer" is about its lawyers in general; its lawyer's name is further on
    lawyers = " ".join(f"Lawyers for the accused met the court on day {n} and the lawyers spoke." for n in range(12))
    mogul = story("Tycoon held", "The tycoon Yoshi Tsu was arrested in Tokyo for fraud.", lawyers,
                  " ".join(f"Shares fell on day {n} in Tokyo trading." for n in range(12)), "He hired the lawyer Ken Oda.")
    hacker = story("Hacker held", "The hacker Nick Jay was arrested in October.", lawyers,
                   " ".join(f"Police searched homes on day {n}." for n in range(12)), "He hired the lawyer Ann Bell.")
    write(articles, "mogul.txt", mogul)
    write(articles, "hacker.txt", hacker)
    engine.sync(articles)
    engine._reader = reader = RecordingReader({"Ken Oda": 5.5, "Ann Bell": 5.5})

    def told(name, article_id, text):
        at = text.index(name)
        return Story(name, 0.9, [Citation(article_id, "", at, at + len(name), name, at, at + len(name))], (article_id,))

    arrested = Answer("who was arrested?", "Several stories answer this (2).", True, 0.9,
                      stories=[told("Yoshi Tsu", "mogul.txt", mogul), told("Nick Jay", "hacker.txt", hacker)],
                      focus=("mogul.txt", "hacker.txt"))
    lawyer = engine.ask("who is their lawyer?", history=[arrested])
    assert lawyer.follow_up and sorted(s.text for s in lawyer.stories) == ["Ann Bell", "Ken Oda"]
    read = [p.article_id for p in reader.passages_read]
    assert read.count("mogul.txt") >= 2 and read.count("hacker.txt") >= 2  # not only each story's best passage


def test_an_elliptical_follow_up_to_a_story_by_story_answer_is_completed_before_it_is_asked_of_each(arrests):
    answer = arrests.ask("who was arrested?")
    assert len(answer.stories) == 3
    arrests_in = replace(answer, question="who was arrested in Tokyo?")
    follow = arrests.ask("and in Astana?", history=[arrests_in])
    assert follow.understood_as.startswith("who was arrested in Astana? (")


def test_a_story_picked_by_typing_is_followed_as_its_card_would_be(arrests):
    answer = arrests.ask("who was arrested?")
    second = answer.stories[1]
    for history in ([answer], [answer.to_dict()]):  # Answers, or their JSON from the web API
        picked = arrests.ask("the second one", history=history)
        assert picked.found and picked.text == second.text and picked.citations == second.citations
        assert picked.focus == second.article_ids and picked.question == "who was arrested?"
        assert picked.understood_as == "who was arrested? (story 2 of 3)"
    # the chat is about that story now: a follow-up reads beside its answer, in its article
    follow = arrests.ask("where was he held?", history=[answer, picked])
    assert follow.follow_up and follow.understood_as == f"where was he held? (who was arrested? {second.text})"
    assert {p.article_id for p in follow.passages} <= set(second.article_ids)
    by_name = arrests.ask("the Nick Jay one", history=[answer])
    assert by_name.text == "Nick Jay"


@pytest.mark.parametrize(
    "message, index",
    [
        ("the second one", 1), ("Second", 1), ("story 3", 2), ("#4", 3), ("the last one", 3), ("the 2nd", 1),
        ("i meant the first", 0), ("khodorkovsky", 1), ("the Chen Jiulin one", 3), ("the one about jacobsen", 2),
        ("the fifth one", None),  # there are four
        ("who was arrested?", None), ("in which cities?", None), ("thanks", None), ("more", None), ("it", None),
        ("chen", 3), ("lee", 2), ("the man", None),  # one name's word picks its story; a word no answer has, none
    ],
)
def test_which_story_a_typed_message_picks(message, index):
    answers = ["Arash Sigarchi", "Mr Khodorkovsky", "Nicholas Lee Jacobsen", "Chen Jiulin"]
    assert picked_story(message, answers) == index


def test_a_story_only_guessed_at_does_not_hold_a_question_of_its_own(arrests, engine):
    # "tell me a joke" reads as nothing but a weak guess from the storm story, which holds none of its words.
    engine._reader = PhraseReader({"Dover": -9.0})
    hello = arrests.ask("tell me a joke")
    assert not hello.found and hello.focus == ("storm.txt",)  # the guess's story, for a follow-up that leans on it
    engine._reader = PhraseReader(PHRASES)
    arrested = arrests.ask("who was arrested?", history=[hello])
    assert not arrested.follow_up and len(arrested.stories) == 3  # asked of every story, not of the guess
    where = arrests.ask("where is it?", history=[hello])
    assert where.follow_up and where.focus == ("storm.txt",)  # a follow-up said as one still reads the guess
    # A declined question whose words the story holds, or an answer from it, puts the chat on the story: the same
    # question is asked of that story.
    engine._reader = PhraseReader({"Dover": -9.0})
    declined = arrests.ask("what did the storm close on Monday?")
    engine._reader = PhraseReader(PHRASES)
    port = arrests.ask("which port did the storm close on Monday?")
    assert not declined.found and port.found and declined.focus == port.focus == ("storm.txt",)
    for history in ([declined], [port]):
        held = arrests.ask("who was arrested?", history=history)
        assert held.follow_up and not held.stories and held.focus == ("storm.txt",)


def test_small_talk_is_replied_to_and_the_chat_stays_on_its_story(chat):
    first = chat.ask("who walked out in Leeds?")
    thanks = chat.ask("thanks", history=[first])
    # a reply, not a span of the story read as an answer to "thanks"
    assert thanks.small_talk and not thanks.found and "welcome" in thanks.text and not thanks.citations
    assert thanks.focus == first.focus == ("strike.txt",)
    assert chat.ask("Hello!").small_talk and chat.ask("ok great", history=[first]).focus == ("strike.txt",)
    # the follow-up after it reads with the last answered exchange, not with "thanks"
    follow = chat.ask("when did they do it?", history=[first, thanks])
    assert follow.follow_up and follow.understood_as == "when did they do it? (who walked out in Leeds? Train drivers)"
    # a pleasantry before a question is not part of it
    opened = chat.ask("thanks, and when did they do it?", history=[first, thanks])
    assert not opened.small_talk and opened.understood_as.startswith("and when did they do it? (")
    assert chat.ask("so, when?", history=[first]).understood_as.startswith("so, when?")
    for question in ("who?", "what now?", "thanks for what?", "no, the other strike"):
        assert not chat.ask(question, history=[first]).small_talk



def test_looking_for_a_pleasantry_takes_no_time_on_a_long_question():
    import time

    from qa.answer.conversation import without_chatter

    started = time.perf_counter()
    for question in ("word " * 2000 + "?", "a" * 10_000, "ok " * 3000 + ", who?"):
        without_chatter(question)
    assert time.perf_counter() - started < 1.0  # a backtracking pattern took minutes on the first one


def test_who_someone_is_is_one_answer_however_many_articles_describe_them(engine, articles):
    write(articles, "budget.txt", story("Budget", "Chancellor Gordon Brown set out the budget.", "Tony Blair agreed."))
    write(articles, "union.txt", story("Strike", "Union leader Bob Crow met Gordon Brown on Friday."))
    write(articles, "speech.txt", story("Speech", "The Chancellor, Gordon Brown, spoke in Leeds."))
    write(articles, "fife.txt", story("Fife", "Gordon Brown, the Labour MP, spoke in Fife."))
    engine.sync(articles)
    engine._reader = PhraseReader({"Chancellor": 6.0, "Union leader": 5.5, "Tony Blair": 5.5, "Labour MP": 5.0})
    answer = engine.ask("who is Gordon Brown?")
    assert answer.found and not answer.stories and answer.text == "Chancellor"
    assert {c.article_id for c in answer.citations} == {"budget.txt", "speech.txt"}  # every article saying it
    assert set(answer.focus) == {"budget.txt", "speech.txt"}
    # other descriptions stand beside his name; "Union leader" describes Bob Crow, who met him
    assert [a.text for a in answer.alternatives] == ["Labour MP"]
    # in a chat about another story, it is a new question, not one that names no story of its own
    engine._reader = PhraseReader({"Chancellor": 6.0, "Union leader": 5.0, "Tony Blair": 5.5, "Dover": 6.0})
    write(articles, "storm.txt", STORM)
    engine.sync(articles)
    port = engine.ask("which port did the storm close on Monday?")
    assert port.found and port.focus == ("storm.txt",)
    again = engine.ask("who is Gordon Brown?", history=[port])
    assert not again.follow_up and again.text == "Chancellor"
    # the same articles, asked what several stories answer differently: story by story
    engine._reader = PhraseReader({"Bob Crow": 6.0, "Tony Blair": 5.5, "The Chancellor": 5.0})
    assert engine.ask("who was with Gordon Brown?").stories


@pytest.mark.parametrize("question, defining", [
    ("who is Gordon Brown?", True), ("who is gordon brown", True), ("what is Yukos?", True),
    ("who is Mohammed Ali?", True), ("who was arrested?", False), ("who is being sued?", False),
    ("who is the chancellor?", False), ("who is he?", False), ("what is happening?", False),
    ("who is suing them?", False), ("who resigned?", False), ("who was with Gordon Brown?", False),
])
def test_a_question_that_asks_what_one_named_thing_is(question, defining):
    from qa.answer.conversation import asks_what_it_is

    assert asks_what_it_is(question) is defining


def test_the_page_says_a_chat_is_about_every_story_only_until_one_is_chosen():
    stories = [Story("A", 0.9, [], ("a.txt", "a2.txt"), "T", None), Story("B", 0.8, [], ("b.txt",), "U", None)]
    assert story_articles(stories) == ("a.txt", "a2.txt", "b.txt") == story_articles([("a.txt", "a2.txt"), ("b.txt",)])
    several = Answer("q", "Several stories answer this (2).", True, 0.9, stories=stories, focus=story_articles(stories))
    assert about_every_story(several)
    assert not about_every_story(Answer("q", "t", True, 0.9, stories=stories, focus=("b.txt",)))  # one chosen
    assert not about_every_story(Answer("q", "A", True, 0.9, focus=("a.txt",)))  # an ordinary answer


def test_a_specific_question_is_one_answer_with_alternatives_from_its_own_story_only(arrests):
    answer = arrests.ask("which tycoon was arrested in Tokyo for fraud?")
    assert not answer.stories and answer.text == "Yoshi Tsu"
    assert all(c.article_id == "mogul.txt" for a in answer.alternatives for c in a.citations)


def test_history_items_are_checked_with_a_clear_message():
    turns = as_turns([{"question": "q", "answer": "a", "article_ids": ["x.txt"]}, ("q2", "a2")])
    assert chat_focus(turns) == ("x.txt",)
    with pytest.raises(QAError, match="lists of article ids"):
        as_turns([{"question": "q", "article_ids": 7}])
    with pytest.raises(QAError, match="history item"):
        as_turns([42])


def test_follow_up_wording():
    assert leans_on_chat("where did it happen?") and leans_on_chat("in which cities?") and leans_on_chat("and when?")
    assert leans_on_chat("who said that?") and leans_on_chat("why?")
    assert not leans_on_chat("which Japanese tycoon was arrested for fraud?")
    assert reader_question("who said that?", [Turn("how are dealers paid?", "crypto-currency")]) == (
        "who said that? (how are dealers paid? crypto-currency)"
    )



def test_a_follow_up_that_names_an_earlier_subject_is_read_with_the_exchange_that_said_it():
    chat = [Turn("how much money went missing at the Chinese bank?", "$120m"), Turn("which bank was it?", ""),
            Turn("in which city?", "Harbin")]
    # "that bank" is not the city of the last exchange: the reader is told of the bank
    assert reader_question("which former head of that bank was jailed?", chat) == (
        "which former head of that bank was jailed? (how much money went missing at the Chinese bank? $120m)"
    )
    # a description the last exchange says, or none at all: the last exchange, as before
    assert reader_question("what is the city's population?", chat).endswith("(in which city? Harbin)")
    assert reader_question("who runs it?", chat).endswith("(in which city? Harbin)")
    # nor an earlier exchange that was declined: it said nothing of the bank
    assert reader_question("who runs that bank?", chat[1:]).endswith("(in which city? Harbin)")


STADIUM = "The game at Real Madrid's Bernabeu stadium was stopped after a bomb threat. Real Sociedad led 1-0."


def _span_of(words: str, text: str = STADIUM, offset: int = 100) -> Span:
    passage = Passage("sport/245.txt", "", text, offset, offset + len(text), 0.5)
    at = text.index(words)
    return Span(words, offset + at, offset + at + len(words), 0.9, passage)


def test_a_follow_up_answer_is_not_what_the_last_answer_stands_in():
    at = 100 + STADIUM.index("Bernabeu stadium")
    last = Turn("which stadium was evacuated because of a bomb threat?", "Bernabeu stadium",
                cited=(("sport/245.txt", at, at + len("Bernabeu stadium")),))
    # "they" are not the stadium but whose it is: Real Madrid is who the question is about
    assert owns_last_answer("who were they playing?", _span_of("Real Madrid"), last)
    assert owns_last_answer("who were they playing?", _span_of("Real Madrid's"), last)
    assert not owns_last_answer("who owns it?", _span_of("Real Madrid"), last)  # "it" is the stadium: its owner
    assert not owns_last_answer("who were they playing?", _span_of("Real Sociedad"), last)
    # a span across the last answer's ends, or inside it, points back at it; one that holds it whole says more
    assert overlaps_last_answer(_span_of("Real Madrid's Bernabeu"), last)
    assert overlaps_last_answer(_span_of("Bernabeu"), last)
    assert not overlaps_last_answer(_span_of("Real Madrid's Bernabeu stadium"), last)
    assert not overlaps_last_answer(_span_of("Real Sociedad"), last)


class ScriptedEngine:
    """Answers from a script, recording the history each question was asked with."""

    def __init__(self, answers: dict[str, Answer], ids=("a.txt", "b.txt")):
        self.answers, self.ids, self.histories = answers, list(ids), []

    def ask(self, question, history=None):
        self.histories.append(list(history or []))
        return self.answers[question]

    def article_ids(self):
        return self.ids

    def articles_containing(self, snippet):
        return []


def cite(article_id: str) -> Citation:
    return Citation(article_id, "", 0, 1, "", 0, 1)


def test_conversation_scores_turns_follow_ups_and_declines(tmp_path):
    path = tmp_path / "chats.jsonl"
    chat = {"id": "c1", "turns": [
        {"question": "q1", "answers": ["Ryanair"], "doc": "a.txt"},
        {"question": "q2", "answers": ["$4bn"], "doc": "a.txt"},
        {"question": "q3", "answers": [], "doc": "a.txt"},
        {"question": "q4", "answers": ["2008"], "doc": "a.txt"},
    ]}  # fmt: skip
    path.write_text(json.dumps(chat) + "\n")
    answers = {
        "q1": Answer("q1", "Ryanair", True, 0.9, [cite("a.txt")]),
        "q2": Answer("q2", "$4bn deal", True, 0.8, [cite("a.txt")], follow_up=True),  # F1 2/3
        "q3": Answer("q3", "The articles don't say.", False, 0.1, follow_up=True),
        "q4": Answer("q4", "The articles don't say.", False, 0.2, follow_up=True),  # declined answerable: 0
    }
    engine = ScriptedEngine(answers)
    result = evaluate_conversations(engine, path)
    assert file_kind(path) == "conversations"
    assert result.turns == 4 and result.answerable_turns == 3 and result.unanswerable_turns == 1
    assert result.turn_f1 == pytest.approx(100 * (1 + 2 / 3 + 0) / 3)
    assert result.follow_up_f1 == pytest.approx(100 * (2 / 3) / 2)
    assert result.first_turn_f1 == 100 and result.declined_share == 1.0
    assert result.answered_share == pytest.approx(2 / 3)
    # each turn was asked with the system's own earlier answers (after the warm-up question)
    assert [len(h) for h in engine.histories[1:]] == [0, 1, 2, 3]
    assert engine.histories[-1][0] is answers["q1"]


def test_ambiguous_questions_score_story_recall(tmp_path):
    path = tmp_path / "amb.jsonl"
    item = {"id": "a1", "question": "who was arrested?", "stories": [
        {"doc": "a.txt", "answers": ["Yoshi Tsu"]}, {"doc": "b.txt", "answers": ["Nick Jay"]},
        {"doc": "c.txt", "answers": ["Twelve suspected members"]},
    ]}  # fmt: skip
    path.write_text(json.dumps(item) + "\n")
    stories = [
        Story("Yoshi Tsu", 0.9, [cite("a.txt")], ("a.txt",)),
        Story("Nick Jay", 0.8, [cite("a.txt")], ("a.txt",)),  # right words, wrong article: not recalled
        Story("suspected members", 0.7, [cite("c.txt")], ("c.txt",)),  # F1 0.8 in its own article: recalled
    ]
    answer = Answer("who was arrested?", "Several stories answer this (3).", True, 0.9, stories[0].citations,
                    stories=stories)
    engine = ScriptedEngine({"who was arrested?": answer}, ids=("a.txt", "b.txt", "c.txt"))
    result = evaluate_ambiguous(engine, path)
    assert file_kind(path) == "ambiguous"
    assert result.story_recall == pytest.approx(2 / 3) and result.questions_with_two_stories == 1
    assert shown_answer(answer) == "Yoshi Tsu"


def test_a_question_reads_one_generation_even_when_a_writer_publishes_meanwhile(articles, settings, embedder):
    """Passages and citations come from the generation the question started on. Here a writer publishes a
    generation without the article after ask() has resolved its generation and before it retrieves (when it
    fetches the reader): the answer still cites the article, from the generation it read. (Before, ask() resolved
    the generation twice and retrieved from the newer one while citing from the older.)"""
    from qa.engine import Engine

    write(articles, "strike.txt", STRIKE)
    write(articles, "storm.txt", STORM)
    writer = Engine(settings=settings, embedder=embedder)
    writer.sync(articles)

    class PublishingEngine(Engine):
        @property
        def reader(self):
            if (articles / "strike.txt").exists():
                (articles / "strike.txt").unlink()
                writer.sync(articles)
            return PhraseReader({"Train drivers": 6.0, "Dover": 1.0})

    engine = PublishingEngine(settings=settings, embedder=embedder)
    before = engine.generation().number
    answer = engine.ask("who walked out in Leeds?")
    assert engine.generation().number == before + 1  # the writer did publish during the question
    assert answer.found and answer.text == "Train drivers"
    (citation,) = answer.citations
    assert citation.article_id == "strike.txt" and citation.sentence == "Train drivers walked out in Leeds on Friday."
    assert {p.article_id for p in answer.passages} <= {"strike.txt", "storm.txt"}
    assert "strike.txt" not in engine.article_ids()  # gone from the live generation, cited from the one read


def test_a_bare_question_the_story_never_speaks_of_is_a_new_question(chat):
    first = chat.ask("who walked out in Leeds?")
    # "port" is nowhere in the strike story: "which port?" is asked of the whole collection
    other = chat.ask("which port?", history=[first])
    assert not other.follow_up and other.text == "Dover"
    # a bare question the story does speak of stays with it
    pay = chat.ask("what about pay?", history=[first])
    assert pay.follow_up and pay.focus == ("strike.txt",)


def test_a_definite_description_of_what_the_chat_said_keeps_the_story(chat):
    # Most of the question's words are the storm story's, but "the union" is the one the chat has just spoken of.
    said = {"question": "what did the union say?", "answer": "the strike was about pay", "article_ids": ["strike.txt"]}
    follow = chat.ask("which ferries to Calais did the union cancel on Monday?", history=[said])
    assert follow.follow_up and follow.focus == ("strike.txt",)
    # Where the chat never spoke of a union, the same question is a new one, asked of the whole collection.
    other = {"question": "what was the strike about?", "answer": "pay", "article_ids": ["strike.txt"]}
    new = chat.ask("which ferries to Calais did the union cancel on Monday?", history=[other])
    assert not new.follow_up and {c.article_id for c in new.citations} == {"storm.txt"}


def add_stories(engine, articles, names, sentence: str, phrase: str) -> None:
    """One-sentence stories beside the chat's (``sentence`` formats ``{event}``: the file's name), and a reader that
    also finds ``phrase``."""
    for name in names:
        write(articles, name, story(f"{name} news", sentence.format(event=name[:-4])))
    engine.sync(articles)
    engine._reader = PhraseReader({**PHRASES, phrase: 6.0})


CONCERTS = ("gig.txt", "tour.txt", "festival.txt")


def test_a_follow_up_that_points_back_is_not_offered_to_every_article(chat, articles, engine):
    add_stories(engine, articles, CONCERTS, "Organisers of the {event} said 5,000 tickets were sold.", "5,000")
    engine._reader = PhraseReader({phrase: -9.0 for phrase in PHRASES})  # the strike story answers nothing now
    first = {"question": "who walked out in Leeds?", "answer": "Train drivers", "article_ids": ["strike.txt"]}
    # "that" is the strike story's: every article that says "said" cannot answer it
    said = chat.ask("who said that?", history=[first])
    assert said.follow_up and not said.found and said.elsewhere == 0
    # a question of its own words is offered to the three concert stories that hold them
    sold = chat.ask("how many tickets were sold?", history=[first])
    assert sold.follow_up and not sold.found and sold.elsewhere == 3


def test_a_question_that_names_no_story_of_its_own_stays_with_the_chats_story(chat, articles, engine):
    # Three concert stories hold every word of "how many tickets were sold?"; the strike story holds none of them.
    add_stories(engine, articles, CONCERTS, "Organisers of the {event} said 5,000 tickets were sold.", "5,000")
    first = chat.ask("who walked out in Leeds?")
    tickets = chat.ask("how many tickets were sold?", history=[first])
    # in a chat about the strike, a concert's ticket sales are not the answer: the strike story is read, and it
    # does not say
    assert tickets.follow_up and not tickets.found and tickets.focus == ("strike.txt",)
    assert all(p.article_id == "strike.txt" for p in tickets.passages)
    assert tickets.elsewhere == 3  # the concerts hold its words: the page offers to ask them
    # asked on its own, or with the focus cleared, the concerts answer it
    alone = chat.ask("how many tickets were sold?")
    assert alone.found and not alone.follow_up and "strike.txt" not in alone.focus and alone.elsewhere == 0
    cleared = chat.ask("how many tickets were sold?", history=[first], focus=())
    assert cleared.found and not cleared.follow_up


def test_a_question_the_story_shares_no_word_with_is_declined_there_unread(chat, articles, engine):
    # Three other stories tell of a resignation over money; the strike story never speaks of either.
    add_stories(engine, articles, ("minister.txt", "coach.txt", "chief.txt"),
                "The {event} Sam Hill resigned on Tuesday over money.", "Sam Hill")
    first = chat.ask("who walked out in Leeds?")
    resigned = chat.ask("who resigned over money?", history=[first])
    # read in the strike story, "Train drivers" would come back confidently: it is not an answer to this question
    assert resigned.follow_up and not resigned.found and not resigned.alternatives
    assert resigned.focus == ("strike.txt",) and all(p.article_id == "strike.txt" for p in resigned.passages)
    assert resigned.elsewhere == 3  # the page offers to ask the stories that hold its words
    # Questions that lean on the chat are read in the story, whatever words it uses for what they ask: a definite
    # description presumes the thing is known ("what's the money for?" of a story that says "raise funds"), and a
    # bare question is said in the story's context ("how fast?" of tickets "sold within 50 minutes").
    for question in ("what was the money for?", "who was hurt?"):
        read = chat.ask(question, history=[first])
        assert read.follow_up and read.found and {c.article_id for c in read.citations} == {"strike.txt"}


def test_a_declined_new_question_moves_the_chat_only_to_a_story_that_holds_most_of_its_words(chat, engine):
    first = chat.ask("who walked out in Leeds?")
    # every phrase now reads unsure, the storm story's least so: its guesses lead
    engine._reader = PhraseReader({phrase: -4.0 if phrase in STORM else -8.0 for phrase in PHRASES})
    # asked of every article (it names Calais), declined; its guess is in the storm story, which holds a few of its
    # words: the chat stays on the strike
    stray = chat.ask("which ferries sailed to Calais yesterday afternoon?", history=[first])
    assert not stray.found and not stray.follow_up and stray.alternatives
    assert stray.focus == ("strike.txt",)
    # the storm story holds all of these words: the declined question's story is where the chat goes on
    moved = chat.ask("which ferries to Calais were cancelled?", history=[first])
    assert not moved.found and moved.focus == ("storm.txt",)


def test_a_question_naming_what_the_story_never_mentions_is_a_new_question(chat, articles, engine):
    add_stories(engine, articles, CONCERTS, "Coldplay said 5,000 tickets were sold for the {event}.", "5,000")
    first = chat.ask("who walked out in Leeds?")
    # its words are in many stories, so it could be a question about the strike, but it names a band the strike
    # story never mentions
    named = chat.ask("how many tickets did Coldplay sell?", history=[first])
    assert not named.follow_up and named.found and named.text == "5,000" and "strike.txt" not in named.focus


def test_an_opener_makes_a_follow_up_only_of_a_question_the_story_speaks_of(chat):
    first = chat.ask("who walked out in Leeds?")
    # "in which ..." opens a follow-up ("in which city?"), but this one is about ferries the strike story never
    # mentions: it is asked of every article
    other = chat.ask("in which port were ferries to calais cancelled by the operator?", history=[first])
    assert not other.follow_up and {c.article_id for c in other.citations} == {"storm.txt"}
    # nor when the story holds a word or two of it ("China" in a story about video games, for "in which river is
    # china's controversial dam?")
    few = chat.ask("in which port were ferries to calais cancelled by the operator for train drivers?",
                   history=[first])
    assert not few.follow_up and {c.article_id for c in few.citations} == {"storm.txt"}
    again = chat.ask("and when did the drivers walk out?", history=[first])
    assert again.follow_up and again.focus == ("strike.txt",)


def test_a_question_leaves_the_story_for_the_best_article_read_not_only_the_first(chat, articles, engine):
    from qa.answer.focus import StoryFocus
    from qa.answer.retriever import Retriever

    write(articles, "market.txt", story("Where will shares trade", "Where will shares trade? Shares trade here."))
    write(articles, "paion.txt", story("Drug firm to float", "Paion shares will trade in Frankfurt."))
    for i in range(8):  # words most stories use say little of which story a question is about
        name = f"markets-{i}.txt"
        write(articles, name, story(f"{name} news", "Shares trade higher as traders buy shares."))
    engine.sync(articles)
    generation = engine.generation()
    rules = StoryFocus(Retriever(generation, engine.embedder, engine.settings))
    question = "where will paion shares trade?"
    terms = rules.question_terms(question)
    read = {p.article_id: p for p in engine.search(question, k=10)}
    # ranked first, the market story explains little of it (not "paion"), no better than the strike story; the
    # Paion story, read further down, explains all of it: the question is not about the strike
    assert rules.about_focus(terms, ("strike.txt",), [read["market.txt"]])
    assert not rules.about_focus(terms, ("strike.txt",), [read["market.txt"], read["paion.txt"]])


def test_what_a_question_names_of_its_own():
    assert named_words("who won I'm a Celebrity in 2004?") == ["Celebrity"]
    assert named_words("Who is Gordon Brown?") == ["Gordon", "Brown"]
    assert named_words("what's the money for?") == [] == named_words("who resigned? I wonder")


def test_a_name_is_answered_without_its_descriptor_and_cited_at_its_own_characters(engine, articles):
    write(articles, "order.txt", story("Plane order", "Budget airline Ryanair has ordered 70 new Boeing planes."))
    engine.sync(articles)
    engine._reader = PhraseReader({"Budget airline Ryanair": 6.0, "70 new Boeing planes": 5.0})
    answer = engine.ask("which airline ordered new planes?")
    assert answer.found and answer.text == "Ryanair"
    (citation,) = answer.citations
    assert engine.article("order.txt").text[citation.start : citation.end] == "Ryanair"
    assert citation.sentence == "Budget airline Ryanair has ordered 70 new Boeing planes."
    # a question that does not ask for a name keeps the whole span (this reader finds the same span for any question)
    what = engine.ask("what did the airline order?")
    assert what.text == "Budget airline Ryanair"


def test_a_follow_up_is_not_answered_with_the_last_answers_sum_in_another_currency(engine, articles):
    write(articles, "order.txt", story("Plane order", "Ryanair has ordered planes worth $4bn (£2.1bn) from Boeing.",
                                       "The planes will arrive between 2008 and 2012."))
    engine.sync(articles)
    engine._reader = PhraseReader({"$4bn": 6.0, "£2.1bn) from Boeing": 5.8, "£2.1bn": 5.5, "between 2008 and 2012": -9.0})
    worth = engine.ask("how much is the deal worth?")
    assert worth.found and worth.text == "$4bn"
    assert [a.text for a in worth.alternatives] == []  # "£2.1bn" is not another possible answer, only a conversion
    # "£2.1bn" is the same sum converted: it does not say what each plane costs (nor does a span begun inside the
    # bracket, which ends where the bracket does)
    each = engine.ask("how much does each plane cost?", history=[worth])
    assert each.follow_up and each.text != "£2.1bn" and not each.found
    # a history saved as a dict (an API client's) carries the citation too
    saved = worth.to_dict() | {"answer": worth.text}
    assert engine.ask("how much does each plane cost?", history=[saved]).text != "£2.1bn"
    # asked for in pounds, the conversion is the answer
    pounds = engine.ask("how much is that in pounds?", history=[worth])
    assert pounds.follow_up and pounds.found and pounds.text == "£2.1bn"


def test_where_is_not_answered_with_someone_the_article_quotes(engine, articles):
    write(articles, "dark.txt", story("Dark web", "Taraz-based IT specialist Ivan Korneyev told reporters of the trade.",
                                      "Dealers take crypto-currency, said Korneyev."))
    engine.sync(articles)
    engine._reader = PhraseReader({"Ivan Korneyev": 6.0, "Taraz": 5.0})
    assert engine.ask("where is the IT specialist based?").text == "Taraz"
    assert engine.ask("who is the IT specialist?").text == "Ivan Korneyev"


@pytest.mark.parametrize(
    "question, answer, referent",
    [
        ("who did he take over from", "Lord Callaghan of Cardiff", True),  # "he" is Callaghan himself
        ("who did he take over from", "chancellor ... and became Lord Callaghan", True),
        ("who did he take over from", "Harold Wilson", False),
        ("who did he take over from", "the prime minister", False),  # not a name
        ("who said that?", "Lord Callaghan", False),  # no "he": the speaker may well be him
    ],
)
def test_a_question_about_him_is_not_answered_with_him(question, answer, referent):
    turns = [Turn("how old was jim callaghan when he died", ""), Turn("when did he become prime minister?", "1976")]
    assert is_the_referent(question, answer, turns) is referent


@pytest.mark.parametrize(
    "question, thing",
    [
        ("what is the cell chip", "cell chip"),
        ("what's a mac mini?", "mac mini"),
        ("what is the show called?", None),  # asks for a name, of the story's show
        ("what is it?", None),
        ("what are the names of the two missing officials?", None),
        ("who is gordon brown?", None),
    ],
)
def test_the_thing_a_what_is_question_asks_about(question, thing):
    assert thing_asked_about(question) == thing


def test_a_follow_up_leans_on_the_declined_question_that_moved_the_chat():
    weir = Turn("which club is robbie weir joining", "Sunderland", ("sport/130.txt",), focus=("sport/130.txt",))
    # declined, but its best guess's story holds its words: the chat is now about the chip
    chip = Turn("what is the cell chip", "", (), focus=("tech/320.txt",))
    assert last_exchange([weir, chip]) is chip
    # a declined follow-up that leaves the chat where it was says nothing of what "it" is
    stayed = Turn("who else wanted him", "", (), focus=("sport/130.txt",))
    assert last_exchange([weir, stayed]) is weir


def test_an_elliptical_follow_up_is_read_as_the_whole_question(chat):
    first = chat.ask("who walked out in Leeds?")
    follow = chat.ask("and in Bradford?", history=[first])
    assert follow.follow_up and follow.understood_as.startswith("who walked out in Bradford? (")
    when = chat.ask("and when?", history=[first])  # "who" is the subject: no whole question to make of it
    assert when.understood_as.startswith("and when? (")


def test_a_bare_what_is_question_stays_with_the_story_a_longer_one_leaves_it(arrests):
    port = arrests.ask("which port did the storm close on Monday?")
    assert port.text == "Dover" and port.focus == ("storm.txt",)
    # "what was the crowd?" in a match report that never says "crowd": a terse follow-up, read in the story
    bare = arrests.ask("what was the arrest?", history=[port])
    assert bare.follow_up and bare.focus == ("storm.txt",)
    # "what is the cell chip?" in a football chat: words of its own that the story never says
    longer = arrests.ask("what was the hacker arrest?", history=[port])
    assert not longer.follow_up and "storm.txt" not in longer.focus


def test_a_followed_story_is_what_the_story_by_story_turn_said():
    resigned = Turn("who resigned?", "Several stories answer this (2).", ("a.txt", "b.txt"), focus=("a.txt", "b.txt"),
                    stories=(("a.txt",), ("b.txt",)), story_answers=("David Blunkett", "Alan Milburn"))
    why = Turn("why did he go", "home secretary", ("a.txt",), focus=("a.txt",))  # the Blunkett card was followed
    followed = with_followed_stories([resigned, why])
    assert followed[0].answer == "David Blunkett" and not followed[0].stories and followed[1] == why
    # so "who is replacing him?" is not answered with him
    assert is_the_referent("who is replacing him", "David Blunkett", followed)
    # while the chat is still about both stories, neither was followed
    both = Turn("and when?", "", (), focus=("a.txt", "b.txt"))
    assert with_followed_stories([resigned, both])[0] == resigned


def test_a_figure_in_the_same_currency_is_not_the_last_answer_again():
    from qa.answer.conversation import repeats

    made = Turn("how much did he make", "5.45m Euros")
    assert not repeats("3.35m Euros", made)  # Depardieu's, not Jugnot's again
    assert repeats("5.45m Euros", made) and repeats("5.45m", made)
