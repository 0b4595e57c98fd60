"""A span of the wrong type is never the answer, however sure the reader is: what each kind of question accepts."""

import pytest

from qa.answer.answer_types import (
    agrees, asks_yes_or_no, before_relative_clause, converts, expected_type, is_amount, is_denied, is_the_agent,
    leaves_it_unnamed, level_or_change, name_start, wants_a_name, whole_date, whole_score, within_brackets,
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("how much is the deal worth?", "money"),
        ("how much does the mac mini cost", "money"),
        ("how much money will blackpool lose", "money"),
        ("how much of the club did he buy?", "quantity"),
        ("how many attackers were there?", "measure"),  # a count, never a sum
        ("what percentage of voters turned out?", "measure"),
        ("how old is jugnot", "measure"),
        ("how big is the deal?", "quantity"),  # may well be a sum
        ("when will the planes be delivered?", "time"),
        ("in what year did it open?", "time"),
        ("who is suing them?", "person"),
        ("what's her surname?", "surname"),
        ("What was his real name?", "full name"),
        ("what is her full name?", "full name"),
        ("what's the name of his dog?", None),
        ("which company won the auction?", "firm"),  # a firm has a name
        ("which group opposed the nominalists?", "organisation"),  # a group may be "realists"
        ("What agency announced the arrests?", "organisation"),
        ("and when?", "time"),
        ("So, how many were there?", "measure"),
        ("and who said that?", "person"),
        ("When John Fox left as head coach, who replaced him?", None),  # a clause that sets the scene, not a time
        ("where is he based?", "place"),
        ("in which cities?", "place"),  # plural too
        ("what minute?", "time"),  # "69th minute", not "Newcastle 2-1"
        ("what did he say?", "said"),
        ("what did labour say about voting lib dem?", "said"),
        ("What did the sign say on top of Jesus' cross?", None),  # the words on it: "Jesus of Nazareth, King of ..."
        ("where does Plymouth rank among UK cities?", None),  # a position ("30th"), not a place
        ("what is the process called?", None),  # SQuAD's answers to this are often lowercase terms
        ("What is the last name of the player who recovered the ball?", None),  # the name word must end the question
        ("which film was it", "title"),
        ("what album did he release?", "title"),
        ("what musical concept did Chopin exploit?", None),  # an adjective, not a musical
        ("which book of the series?", None),
        ("what single year did it use?", None),
    ],
)
def test_the_kind_of_answer_a_question_wants(question, kind):
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    "kind, span, ok",
    [
        ("quantity", "$4bn (£2.1bn)", True),
        ("quantity", "5.45m Euros (£3.77m)", True),
        ("quantity", "six men", True),
        ("quantity", "Tuesday", False),
        ("money", "$4bn (£2.1bn)", True),
        ("measure", "5.45m Euros", False),  # "how old is jugnot?"
        ("measure", "six men", True),
        ("measure", "15%", True),
        ("money", "two million pounds", True),
        ("money", "a halfpenny", True),
        ("money", "free", True),
        ("money", "much smaller", False),  # "how much money will blackpool lose?"
        ("money", "cheap for a Mac how does it compare to PCs", False),
        ("money", "more than 70 million passengers a year", False),  # a count of things, for "what does it cost?"
        ("money", "3,600 vehicles", False),
        ("money", "two million people", False),
        ("money", "570 rupees", True),
        ("money", "1.2 million Thalers", True),
        ("money", "70 million", True),  # no unit at all: nothing says it is not a sum
        ("time", "up to 10 times faster", False),  # a multiple, not a time
        ("time", "at times", True),
        ("time", "between 2008 and 2012", True),
        ("time", "Harbin", False),
        ("time", "£2.1bn", False),  # digits, but an amount
        ("time", "2,500", False),  # a count
        ("time", "70 Boeing 737-800", False),  # a count of a model, whose number is not a year
        ("time", "Flight 370", False),
        ("time", "476-550", True),  # years, however few their digits
        ("time", "In 711", True),
        ("time", "the 1990s", True),
        ("time", "AD 14", True),
        ("time", "2.5 billion years ago", True),
        ("time", "Sundays", True),
        ("time", "more than 70 million passengers a year", False),  # a rate, not a time
        ("time", "twice a year since 2001", True),
        ("time", "a year ago", True),
        ("quantity", "zero", True),
        ("person", "Ken Bates", True),
        ("person", "1,200", False),
        ("person", "£2.1bn", False),
        ("person", "$4bn (£2.1bn)", False),
        ("person", "3M", True),  # a company's name, not an amount
        ("person", "Larne's teenage star Robbie Weir is poised to join Sunderland after turning down", False),  # a sentence
        ("person", "the people who were living in the area before the war", True),  # long, but who they are
        # long, and an account of when: what happened, not who
        ("person", "Real Madrid's Bernabeu stadium on Sunday following a bomb scare during the game between the hosts",
         False),
        ("place", "1130p", False),  # a share price
        ("place", "1130p on Thursday", False),
        ("place", "Easter Island", True),
        ("place", "M25", True),  # a road
        ("place", "U.S.", True),
        ("place", "10 Downing Street", True),
        ("name", "Stephen Pound", True),
        ("name", "el-Brasai", True),
        ("name", "Ludwig van Beethoven", True),
        ("name", "Mr Pound says he rang Lucy", False),
        ("name", "his daughter", False),
        ("full name", "Ivan Korneyev", True),
        ("full name", "Deathifier", False),  # a player's nickname is not his real name
        ("organisation", "the Ugandan Media Council", True),
        ("organisation", "eBay", True),
        ("organisation", "Mr Fisher", False),
        ("organisation", "Dr. Smith", False),
        ("organisation", "left parties", True),
        ("firm", "Paion", True),
        ("firm", "the BBC", True),
        ("firm", "eBay", True),
        ("firm", "desmoteplase", False),  # "which company makes a drug from bat spit?": the drug, not its maker
        ("firm", "Mr Fisher", False),
        ("firm", "Yugansk was sold to a little known shell company which in turn was bought by Rosneft", False),
        ("organisation", "a shell company which in turn was bought by Rosneft in December last year", False),
        ("said", "Richard Nicholls", False),  # who said it, for "what did he say?"
        ("said", "Marion has steadfastly maintained her innocence", True),
        ("said", "let the Tories in", True),
        ("title", "Tears of the Sun", True),
        ("title", "At Last", True),
        ("title", "iTunes", True),
        ("title", '"Facts"', True),
        ("title", "2002", False),  # its year
        ("title", "2002 movie", False),
        ("title", "last November", False),
        (None, "anything at all", True),
    ],
)
def test_spans_of_the_wrong_kind_are_refused(kind, span, ok):
    assert agrees(kind, span) is ok


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("Budget airline Ryanair", "Ryanair"),
        ("US supermarket giant Wal-Mart", "Wal-Mart"),
        ("US playwright Eve Ensler", "Eve Ensler"),
        ("Will Smith's first romantic comedy, Hitch", "Hitch"),
        ("the capital, Kampala", "Kampala"),
        ("online auction site eBay", "eBay"),
        ("the Basque separatist group ETA", "ETA"),
        ("BBC chairman Gavyn Davies", "Gavyn Davies"),
        ("Dragons three-quarter Hal Luscombe", "Hal Luscombe"),  # a hyphenated head
        # not a descriptor and a name: kept whole
        ("Labour MP Stephen Pound", "Labour MP Stephen Pound"),
        ("Tirunesh Dibaba of Ethiopia", "Tirunesh Dibaba of Ethiopia"),
        ("Ludwig van Beethoven", "Ludwig van Beethoven"),
        ("the northern city of Harbin", "the northern city of Harbin"),
        ("police in London", "police in London"),
        ("Serbia's Ana Ivanovic", "Serbia's Ana Ivanovic"),
        ("12 suspected members", "12 suspected members"),
        ("the KNB", "the KNB"),
        ("Lemony Snicket novels", "Lemony Snicket novels"),
    ],
)
def test_a_name_after_its_descriptor_is_the_answer(answer, name):
    assert answer[name_start(answer):] == name


@pytest.mark.parametrize(
    ("question", "wants"),
    [("who is being sued?", True), ("which film topped the box office?", True), ("where is he based?", True),
     ("and who said that?", True), ("what is the show called?", True), ("how much was the fine?", False),
     ("what did they take?", False), ("when did it happen?", False)],
)
def test_which_questions_want_a_name(question, wants):
    assert wants_a_name(question) is wants


@pytest.mark.parametrize(
    ("span", "kept"),
    [
        ("(RPG", "RPG"),  # a bracket at the span's edge only
        ("DARPA)", "DARPA"),
        ("the retinohypothalamic tract (RHT", "the retinohypothalamic tract"),
        ("£2.1bn) which should lead to 2,500 new Ryanair jobs", "£2.1bn"),  # begun inside "$4bn (£2.1bn)"
        ("Fort Presque Isle (near present-day Erie, Pennsylvania", "Fort Presque Isle"),
        # brackets that pair up are part of the answer
        ("$4bn (£2.1bn)", "$4bn (£2.1bn)"),
        ("National Security Committee (KNB)", "National Security Committee (KNB)"),
        ("Astana and Almaty", "Astana and Almaty"),
        ("(", ""),
    ],
)
def test_an_answer_ends_at_a_bracket_it_does_not_pair(span, kept):
    start, end = within_brackets(span)
    assert span[start:end] == kept


@pytest.mark.parametrize(
    ("text", "amount"),
    [("$4bn", True), ("£2.1bn", True), ("1,200", True), ("15%", True), ("$4bn (£2.1bn)", True),
     ("six", False), ("more than $322", False), ("Real Madrid", False)],
)
def test_an_amount_is_a_bare_number_or_sum(text, amount):
    assert is_amount(text) is amount


@pytest.mark.parametrize(
    ("span", "passage", "ok"),
    [
        # someone the passage quotes or titles is not a place
        ("Ivan Korneyev", "Taraz-based IT specialist Ivan Korneyev told Caravanserai. Payments go in, said Korneyev.", False),
        ("Andrew Fisher", "Andrew Fisher, from Omaha, is selling space. Mr Fisher has had 39 bids.", False),
        ("Taraz", "Taraz-based IT specialist Ivan Korneyev told Caravanserai. Payments go in, said Korneyev.", True),
        # a country or a city may "say" things in the news: one word alone is not taken for a person
        ("India", "India says the talks will go on.", True),
        ("Omaha, Nebraska", "Andrew Fisher, from Omaha, Nebraska, said he would do it.", True),
    ],
)
def test_a_place_is_not_someone_the_passage_quotes_or_titles(span, passage, ok):
    assert expected_type("where is he based?") == "place" == expected_type("in which city did it happen?")
    assert agrees("place", span, passage) is ok


@pytest.mark.parametrize(
    ("text", "first", "second", "same"),
    [
        ("worth $4bn (£2.1bn) in all", "$4bn", "£2.1bn", True),
        ("worth $4bn (£2.1bn) in all", "£2.1bn", "$4bn", True),  # either way round
        ("$5m (£2.6m) and $2m (£1m)", "£2.6m", "$2m", False),  # two sums, not one converted
        ("Dangerously in Love (2003)", "Dangerously in Love", "2003", False),
        ("70 planes (2,500 jobs)", "70", "2,500", False),  # numbers, not money
    ],
)
def test_a_sum_and_its_conversion_are_one_figure(text, first, second, same):
    a, b = text.index(first), text.index(second)
    assert converts(text, (a, a + len(first)), (b, b + len(second))) is same


@pytest.mark.parametrize(
    ("span", "ok"),
    [("Ivan Korneyev told Caravanserai", False), ("Taraz-based IT specialist Ivan Korneyev", False),
     ("the Ivan Korneyev Museum", True)],  # a place named after someone is still a place
)
def test_a_place_holds_no_one_the_passage_quotes(span, ok):
    passage = "Taraz-based IT specialist Ivan Korneyev told Caravanserai. Payments go in, said Korneyev."
    assert agrees("place", span, passage) is ok


@pytest.mark.parametrize(
    "span, ok",
    [("At least 12", False), ("six", False), ("1.4 million", False), ("this weekend", False), ("on Monday", False),
     ("Gateshead", True), ("E3 2005", True), ("Labour's spring conference in Gateshead", True),
     ("12 Downing Street", True)],
)
def test_a_place_is_neither_a_count_nor_a_time(span, ok):
    # "in which cities?" was answered "At least 12", and "where are the talks taking place?" "this weekend"
    assert agrees("place", span, "") is ok


def test_a_number_that_is_part_of_a_model_in_its_passage_is_not_a_time():
    passage = "Ryanair ordered 70 Boeing 737-800 planes for delivery in 2008. It flew 800 times in 2004."
    assert not agrees("time", "800", passage, passage.index("800"))  # of "Boeing 737-800"
    assert not agrees("time", "737", passage, passage.index("737"))
    assert agrees("time", "800", passage, passage.rindex("800"))  # a number standing alone may be a year
    assert agrees("time", "2008", passage, passage.index("2008"))
    assert agrees("time", "800")  # without its passage, the answer alone decides
    far = "x" * 100 + passage  # where the passage stands does not matter
    assert not agrees("time", "800", far, far.index("800")) and agrees("time", "2008", far, far.index("2008"))


@pytest.mark.parametrize(
    "span, kept",
    [
        ("$4bn (£2.1bn) which should lead to 2,500 new Ryanair jobs", "$4bn (£2.1bn)"),
        ("Ken Bates, who has owned Chelsea", "Ken Bates"),
        ("between 2008 and 2012", "between 2008 and 2012"),
        ("the company that makes it", "the company that makes it"),  # "that" without a verb after it: no clause cut
        ("which was", "which was"),  # nothing before it: kept whole
    ],
)
def test_an_answer_ends_where_a_relative_clause_runs_on(span, kept):
    assert span[: before_relative_clause(span)] == kept


RAT_STUNT = "A US TV network is being sued for $2.5m by a viewer. A spokesman for NBC said it had no comment."


@pytest.mark.parametrize(
    "question, span, context, unnamed",
    [
        ("which TV network is being sued?", "US", RAT_STUNT, True),  # qualifies an unnamed network
        ("which TV network is being sued?", "US TV network", RAT_STUNT, True),
        ("which network is being sued?", "US TV network is being sued for $2.5m by a viewer", RAT_STUNT, True),
        ("which TV network is being sued?", "NBC", RAT_STUNT, False),
        ("which magazine named her?", "Forbes", "Forbes magazine named her.", False),  # a name before the noun
        ("which bank was it?", "Bank of China", "The pair worked at Bank of China.", False),
        ("what kind of team left?", "earthquake relief", "An earthquake relief team left.", False),  # asks the kind
        ("who is suing them?", "US", RAT_STUNT, False),  # asks for no kind of organisation
    ],
)
def test_an_answer_that_only_qualifies_an_unnamed_organisation_does_not_name_it(question, span, context, unnamed):
    assert leaves_it_unnamed(question, span, context, context.index(span)) is unnamed


FINED = 'Wenger was fined £15,000 and "severely reprimanded" by the Football Association.'


@pytest.mark.parametrize(
    "question, span, agent",
    [
        ("which firm was fined?", "the Football Association", True),  # who fined, not who was fined
        ("which firm was fined?", "Football Association", True),
        ("which firm was fined?", "Wenger", False),
        ("who was the manager fined by?", "Football Association", False),  # asks "by whom": the agent is it
        ("who fined him?", "Football Association", False),  # an active question
    ],
)
def test_a_passive_question_is_not_answered_by_who_did_it(question, span, agent):
    assert is_the_agent(question, span, FINED, FINED.index(span)) is agent


BOUGHT = "Rossignol shares jumped on speculation that it will be bought by US surfwear firm Quiksilver, and Nike."


@pytest.mark.parametrize("span, agent", [
    ("Quiksilver", True),  # a description between "by" and the agent's name
    ("Rossignol", False),
    ("Nike", False),  # after "and": not in the "by" phrase
])
def test_the_agent_is_found_after_its_description(span, agent):
    assert is_the_agent("which company was bought?", span, BOUGHT, BOUGHT.index(span)) is agent


def test_a_passive_question_is_not_answered_by_one_its_sentence_says_was_not():
    text = "The media giant was not fined by the SEC. Monsanto was fined $1.5m."
    assert is_denied("which firm was fined?", "The media giant", text, 0)
    assert not is_denied("which firm was fined?", "Monsanto", text, text.index("Monsanto"))
    assert not is_denied("which firm was not fined?", "The media giant", text, 0)  # asked so


def test_a_sum_read_in_the_brackets_that_convert_another_is_that_other():
    from qa.answer.answer_types import converted_from

    text = "Depardieu made 3.35m Euros (£2.31m) in 2004."
    at = text.index("£2.31m")
    start, end = converted_from(text, at, at + len("£2.31m"))
    assert text[start:end] == "3.35m Euros"
    assert converted_from(text, text.index("3.35m"), text.index("3.35m") + 11) is None  # the original itself
    assert converted_from("He paid (£2.31m) in all.", 9, 15) is None  # no sum before the bracket


ORDER = "Budget airline Ryanair has placed an order for 70 planes. Ryanair chairman David Bonderman said it was cheap."
SEED_LINES = 'the drug dealers likely built their own delivery system, Li said. "[They] recruit online," he said.'


@pytest.mark.parametrize(
    "question, span, context, speaker",
    [
        ("who said that?", "Ryanair", ORDER, False),  # placed an order: it said nothing
        ("who said that?", "David Bonderman", ORDER, True),
        ("and who said so?", "Li", SEED_LINES, True),
        ("who placed the order?", "Ryanair", ORDER, True),  # not asking who said it: no check
    ],
)
def test_who_said_that_is_answered_by_a_speaker(question, span, context, speaker):
    from qa.answer.answer_types import said_by

    assert said_by(question, span, context, context.index(span)) is speaker


@pytest.mark.parametrize(
    "question, yes_no",
    [
        ("has it been pulled", True),
        ("will prisoners still be allowed to smoke?", True),
        ("and is he married?", True),
        ("won't they pay?", True),
        ("was it high-voltage or low-voltage?", False),  # a choice, which a span answers
        ("are there any regions where it applies?", False),  # a list
        ("do you know who won?", False),  # a wh-question inside
        ("can you name the airline that ordered the planes?", False),  # a request
        ("could you give me the price", False),
        ("does anyone know the score?", False),
        ("can I see the figures?", False),
        ("Will Smith stars in what film?", False),
        ("who was arrested?", False),
    ],
)
def test_a_yes_or_no_question_is_told_from_one_a_span_answers(question, yes_no):
    assert asks_yes_or_no(question) is yes_no


LONG_LOST = ("Mr Pound found out about it last year. That happened when Lucy wrote to his office. When Lucy met "
             "Stephen Pound, the Ealing North MP, they were finishing each other's sentences.")


@pytest.mark.parametrize(
    "answer, context, agreed",
    [
        ("Pound", LONG_LOST, True),  # after a first name, and after "Mr"
        ("Lucy", LONG_LOST, False),  # only ever a first name ("When Lucy" opens a sentence)
        ("Lucy", "His daughter Lucy Smith wrote.", False),  # her first name; "Smith" is the surname
        ("Smith", "His daughter Lucy Smith wrote.", True),
        ("Stephen Pound", LONG_LOST, True),  # given whole
        ("his daughter", LONG_LOST, False),  # not a name at all
        ("Pound", "", True),  # without the text nothing says otherwise
    ],
)
def test_a_surname_is_one_the_text_writes_after_a_first_name_or_a_title(answer, context, agreed):
    assert agrees("surname", answer, context) is agreed


@pytest.mark.parametrize(
    "answer, context, agreed",
    [
        ("eBay", "He is selling space on his forehead on website eBay.", False),  # a firm, as the passage says
        ("Omaha", "Andrew Fisher, from Omaha, Nebraska, said he would.", True),
        ("Turin", "Carmaker Fiat is based in Turin.", True),
        ("Fiat", "Carmaker Fiat is based in Turin.", False),
        # read with the noun before it (the answer is cut to its name only after the checks)
        ("website eBay", "He is selling space on his forehead on website eBay.", False),
        ("on website eBay", "He is selling space on his forehead on website eBay.", False),
        ("the capital, Kampala", "They met in the capital, Kampala.", True),
    ],
)
def test_a_place_is_not_what_the_passage_names_as_a_firm(answer, context, agreed):
    assert agrees("place", answer, context, context.index(answer)) is agreed


@pytest.mark.parametrize(
    "question, kind",
    [
        ("what are the names of the two missing officials?", "person name"),
        ("what was the name of the player who scored?", "person name"),
        ("what is the buyer called?", "person name"),
        ("what's the new boss called?", "person name"),
        ("what's his name?", "person name"),  # after "what did its boss say?": no sentence of the story is his name
        ("what are their names?", "person name"),
        ("what is the name of his company?", None),
        # not someone: what someone has, or a person noun that only describes the thing named
        ("what is the name of the man's company?", None),
        ("what is the name of the official residence in Belgrade?", None),
        ("what is the show called?", None),
    ],
)
def test_asking_the_name_of_someone_wants_a_person_name(question, kind):
    assert expected_type(question) == kind


@pytest.mark.parametrize(
    "answer, agreed",
    [
        ("Wang Xuebing", True),
        ("Deathifier", True),
        ("Bank of China", False),  # a firm's name
        ("Bank of China in the northern city of Harbin", False),
        ("the pair", False),  # no name at all
        ("Two", False),  # a count, capitalised as it opens a sentence
        ("Ten", False),
    ],
)
def test_a_person_name_is_a_name_and_no_firm(answer, agreed):
    assert agrees("person name", answer) is agreed


@pytest.mark.parametrize("question, answer, before, after, date", [
    ("what date is the game", "February", "held on 6 ", " in Jacksonville", "6 February"),
    ("when is it?", "February", "on ", " 6, 2005, in Florida", "February 6, 2005"),
    ("when did it happen?", "February 2005", "on 6 ", " in Florida", "6 February 2005"),
    ("what month is the game?", "February", "on 6 ", " in Florida", "February"),  # the month was asked for
    ("when did it open?", "March", "in ", " 2005", "March"),  # no day
    ("when did they march?", "March", "in ", " 6,000 people marched", "March"),  # a count, not a day
    ("when did it open?", "last March", "on 6 ", " x", "last March"),  # not a bare month
])
def test_a_bare_month_is_read_as_the_date_it_is_part_of(question, answer, before, after, date):
    left, right = whole_date(question, answer, before, after)
    assert before[len(before) - left :] + answer + after[:right] == date


@pytest.mark.parametrize("answer, before, after, score", [
    ("6-4", "beat Greg Rusedski 4-6 7-6 (8-6) ", " at the Dubai", "4-6 7-6 (8-6) 6-4"),
    ("4-6", "beat Greg Rusedski ", " 7-6 (8-6) 6-4 at the Dubai", "4-6 7-6 (8-6) 6-4"),
    ("2-1", "Chelsea won ", " at home", "2-1"),  # a football score stands alone
    ("1998-99", "in ", " 6-4", "1998-99"),  # no score
])
def test_a_set_score_is_read_with_the_sets_around_it(answer, before, after, score):
    left, right = whole_score(answer, before, after)
    assert before[len(before) - left :] + answer + after[:right] == score


@pytest.mark.parametrize("question, answer, part", [
    ("what did us light crude fall to on nymex?", "$2.86 to $41.32 a barrel", "$41.32 a barrel"),
    ("how much did crude fall by?", "$2.86 to $41.32 a barrel", "$2.86"),
    ("what did profits rise to?", "£3.8bn", "£3.8bn"),  # one figure: nothing to choose
    ("how much is the deal worth?", "$2.86 to $41.32", "$2.86 to $41.32"),  # not a move
    ("when did prices fall to their lowest?", "2008 to 2012", "2008 to 2012"),  # a span of time
])
def test_a_question_about_a_move_gets_the_level_or_the_change_it_asks_for(question, answer, part):
    start, end = level_or_change(question, answer)
    assert answer[start:end] == part
