"""Does a span have the type of answer the question asks for? Only the checks that plain text settles reliably: "how
much does it cost/did they pay?" wants a sum (digits, a currency, a count; not "much smaller"); "how many/old/long"
and "what percentage" a count or a measure, never a sum ("5.45m Euros" for "how old is jugnot?"); "how much/big" and
"what amount" a quantity; "when did ...?" and "what year" a time (a date, a year or a time word, not "2,500", "$4bn"
or "Boeing 737"); "who" not a bare number nor a sentence ("Larne's teenage star Robbie Weir is poised to join ...");
"what's her surname?" a name (capitalised words); "what did he say?" not only a name (who said it); "which company
...?" a name, not a person ("Mr Fisher") nor a common noun ("desmoteplase", the drug it makes); "where ...?" and "in
which cities?" not someone the passage titles or quotes ("Ivan Korneyev", when it says "said Korneyev"), nor a bare
count ("At least 12") or time ("this weekend"); a time is not a rate ("70 million passengers a year") nor a multiple
("10 times faster"). An answer of any of these types ends where a relative clause runs on ("$4bn (£2.1bn) which
should lead to 2,500 new jobs"). A reader trained on SQuAD sometimes returns a weekday for "how much a month", a name
for "how many" or "£2.1bn" for "and when?"; a span of the wrong type is never the answer, however sure the reader is.
`scripts/check_answer_types.py` counts how often each check would refuse SQuAD's own gold answers (train / dev: sum
1.5% / 0%, count or measure 2.1% / 1.6%, other quantities 6.1% / 5.6%, time 2.3% / 1.3%, place 0.4% / 0.2%, company
1.1% / 0%, person 0.5% / 0% (golds that are whole sentences), what was said and organisation 0%; mostly vague golds
such as "little" or "under intense light", and for places questions that ask a ranking: "where did the state place on
the population chart?")."""

from __future__ import annotations

import re

_QUANTITY_QUESTION = re.compile(
    r"\b(how (much|many|old|long|far|big|large|tall|high|often|fast)|what (percentage|proportion|share|amount|"
    r"number|sum|price|age)|at what (price|age|rate))\b",
    re.IGNORECASE,
)
# "when did/was/will ...?", not "When John Fox left, who replaced him?" (a clause that sets the scene)
# "how much does it cost?", "how much did they pay?": a sum, not "much smaller" nor "a Mac"
_MONEY_QUESTION = re.compile(
    r"\bhow much\b.*\b(cost|costs|costing|pay|pays|paid|worth|spend|spends|spent|earn|earns|earned|raise|raised|"
    r"charge|charged|sell for|sold for|sells for|fine|fined|owe|owed|money|price|fee|salary|budget|invest|invested|"
    r"bid)\b|\bwhat (price|sum)\b",
    re.IGNORECASE,
)
# A count or a measure that is never a sum of money: "how old is jugnot?" is not "5.45m Euros"
_MEASURE_QUESTION = re.compile(
    r"\b(how (many|old|long|far|tall|high|often|fast)|what (percentage|proportion|age)|at what age)\b", re.IGNORECASE
)
_TIME_QUESTION = re.compile(
    r"^\s*(when(\s*'s|\s+(is|was|are|were|did|does|do|will|would|can|could|should|has|have|had|might|must|shall))\b"
    r"|when\W*$|(in |by |since |until )?what (year|month|day|date|time|minute|hour)\b)",
    re.IGNORECASE,
)
_PERSON_QUESTION = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)
_PLACE_QUESTION = re.compile(
    r"^\s*(where\b|(in|from|to) (what|which) (cit(y|ies)|countr(y|ies)|towns?|villages?|states?|regions?|places?)\b)",
    re.IGNORECASE,
)
# "where does Plymouth rank?" asks for a position ("30th"), not a place
_RANK_QUESTION = re.compile(r"\b(rank|ranks|ranked|ranking|finish|finished|placed|position)\b", re.IGNORECASE)
_NAME_QUESTION = re.compile(
    r"^\s*what(\s*'s|\s+is|\s+was|\s+are|\s+were)\b.*\b(surname|first name|last name|real name|full name|"
    r"maiden name|middle name|given name|family name|birth name)s?\W*$",
    re.IGNORECASE,
)
# Someone asked for by name: "what are the names of the two missing officials?", "what is the buyer called?"; not
# what someone has ("the name of the man's company")
PEOPLE_NOUNS = (r"man|men|woman|women|boys?|girls?|person|people|officials?|buyers?|sellers?|players?|singers?|"
           r"actors?|actress(es)?|directors?|ministers?|officers?|chiefs?|boss(es)?|leaders?|judges?|victims?|"
           r"spokes(man|men|woman|women|person)|suspects?|father|mother|sons?|daughters?|wife|husband|brothers?|"
           r"sisters?|founders?|owners?|winners?|managers?|coach(es)?|captains?|strikers?|authors?|writers?|"
           r"presenters?|hosts?|chairman|executives?|presidents?|candidates?|teenagers?|gamers?|viewers?|customers?|"
           r"workers?|pilots?|doctors?|lawyers?|hackers?|students?|teachers?|soldiers?|prisoners?|"
           r"barristers?|solicitors?|mps|mp|peers?|secretary|campaigners?|activists?|business(man|men|woman|women)|"
           r"tycoons?|moguls?|rappers?|novelists?|journalists?|reporters?|editors?|athletes?|sprinters?|drivers?|"
           r"defenders?|midfielders?|goalkeepers?|referees?|chairwoman|nurses?|patients?|pupils?|child|children|"
           r"grandmother|grandfather|pensioners?|residents?|fans?|dancers?|musicians?|comedians?|producers?|"
           r"designers?|entrepreneurs?|analysts?|investigators?|detectives?|governors?|mayors?|senators?")
# the head of its phrase: "the man" of "the man who ...", not "official" of "the official residence"
_SOMEONE = (rf"(the\s+|this\s+|that\s+|these\s+|those\s+|his\s+|her\s+|their\s+)?([\w-]+\s+){{0,3}}?({PEOPLE_NOUNS})"
            r"(?=\W*$|\s+(who|whom|whose|that|in|at|of|from|on|for|with|behind|by|to|[a-z]+ed)\b)")
_PERSON_NAME_QUESTION = re.compile(
    rf"^\s*what(\s*'s|\s+is|\s+was|\s+are|\s+were)\s+(the\s+names?\s+of\s+{_SOMEONE}|{_SOMEONE}\s+called\W*$|"
    r"(his|her|their)\s+names?\W*$)",
    re.IGNORECASE,
)
_ORGANISATION_NOUNS = (
    r"company|companies|firm|business|corporation|organi[sz]ation|agency|bank|network|broadcaster|party|website|"
    r"newspaper|club|team|group|band|university|college|school|airline|manufacturer|channel|station|magazine|label|"
    r"studio"
)
# The noun a passage puts before a firm's name ("website eBay", "carmaker Fiat"): what follows is no place
_FIRM_BEFORE = re.compile(r"\b(website|company|firm|corporation|broadcaster|network|newspaper|magazine|airline|"
                          r"manufacturer|carmaker|bank|channel|label|studio|agency|retailer|group)\s+$", re.IGNORECASE)
_ORGANISATION_WORD = re.compile(rf"\b({_ORGANISATION_NOUNS})\b", re.IGNORECASE)
_ORGANISATION_QUESTION = re.compile(rf"^\s*(which|what)\s+({_ORGANISATION_NOUNS})\b", re.IGNORECASE)
# Which kind of name: a surname is someone's last name (the text writes it after a first name or a title: "Stephen
# Pound", "Mr Pound"; "Lucy", a daughter the article names by first name only, is not her surname), a real or full
# name has at least two words ("Deathifier", a player's nickname, is not his real name).
_SURNAME = re.compile(r"\b(surname|last name|family name)s?\W*$", re.IGNORECASE)
_FULL_NAME = re.compile(r"\b(real name|full name|birth name)s?\W*$", re.IGNORECASE)
# Of those, the ones whose answer is a proper name ("which group ...?" is often "realists" or "left parties")
_FIRM_QUESTION = re.compile(
    r"^\s*(which|what)\s+(company|companies|firm|firms|corporation|bank|banks|airline|airlines|manufacturer|carmaker|"
    r"broadcaster|newspaper|magazine|studio|university)\b",
    re.IGNORECASE,
)
# A work with a title: "which film was it?" is answered "Tears of the Sun", never "2002" (its year)
_TITLE_QUESTION = re.compile(
    r"^\s*(which|what)\s+(\w+\s+)?(films?|movies?|books?|albums?|songs?|singles?|tracks?|show|play|operas?|"
    r"sitcoms?|documentar(y|ies))(?=\s+(is|was|are|were|did|does|do|has|have|had|will|would|can|could)\b|\W*$)",
    re.IGNORECASE,
)
# "what did he say?", "what did Labour say about ...?": what was said, never only who said it
_SAID_QUESTION = re.compile(
    r"^\s*what\s+(did|does|do|will|would)\s+.*\b(say|tell|claim|warn|argue|admit|add)(\s+about\b.*)?\W*$",
    re.IGNORECASE,
)
# How a person is titled before their name ("Mr Fisher", "Lady Thatcher")
HONORIFICS = ("mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "dame")
_PERSON_TITLE = re.compile(rf"^({'|'.join(HONORIFICS)})\b\.?\s", re.IGNORECASE)
_NAME_CONNECTORS = frozenset({
    "of", "the", "de", "da", "di", "van", "von", "der", "la", "le", "du", "al", "bin", "y", "and", "&",
    "ibn", "bint", "ben", "abu", "el", "arap", "bij", "ter", "ten", "zu", "dos", "das", "del", "della", "dei", "den",
    "des", "op", "aan", "lo",
})  # fmt: skip

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    "million|millions|billion|billions|trillion|dozen|dozens|half|quarter|third|double|twice|several|few|many|"
    "all|none|no|single|once|a|an|zero|nothing|little|much|more|most|less|least|fewer|fold|tenfold|"
    "seconds|minutes|hours|days|weeks|months|years|decades|centuries"
)
_QUANTITY = re.compile(rf"\d|\b({_NUMBER_WORDS})\b|[£$€¥%]", re.IGNORECASE)
# A sum says how much: digits, a currency, a count ("two million"), "free"; not "much smaller" nor "a Mac"
_SUM = re.compile(
    rf"\d|[£$€¥%]|\b(free|nothing|\w*(pence|penny|pennies)|dollars?|pounds?|euros?|cents?|shillings?|francs?|yen|"
    rf"rupees?|guineas?)\b|\b((?!(a|an|much|more|most|less|least|fewer|many|all|none|no|little|few)\b)({_NUMBER_WORDS}))\b",
    re.IGNORECASE,
)
# A sum is counted in money, not in things: "more than 70 million passengers a year" for "how much does each plane
# cost?" is a figure of something else
_MONEY_WORD = re.compile(
    r"[£$€¥]|\b(\w*(pence|penny|pennies)|dollars?|pounds?|euros?|cents?|shillings?|francs?|yen|yuan|rupees?|guineas?|"
    r"sterling|marks?|lire|lira|roubles?|rubles?|pesos?|won|dinars?|dirhams?|rand|thalers?|ducats?|florins?|crowns?|"
    r"shekels?|riyals?|rials?|baht|kron(e|er|a|or)|zloty|forints?|ringgit|rupiah)\b",
    re.IGNORECASE,
)
_THINGS_COUNTED = re.compile(r"(\d[\d.,]*|\b(" + _NUMBER_WORDS + r"))\s*(m|bn|k|million|billion|thousand|hundred)?\s+"
                             r"((?!(times|years|months|weeks|days|hours|minutes|seconds)\b)[a-z]+s|people|men|women|"
                             r"children)\b", re.IGNORECASE)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|"
    "jul|aug|sep|sept|oct|nov|dec"
)
_TIME_WORDS = re.compile(
    rf"\b({_MONTHS}|(mon|tues|wednes|thurs|fri|satur|sun)days?|today|yesterday|tomorrow|tonight|weekends?|"
    r"weeks?|months?|years?|decades?|century|centuries|millennium|epoch|era|age|ages|spring|summer|autumn|fall|"
    r"winter|morning|afternoon|evening|night|christmas|easter|recently|soon|later|earlier|ago|next|last|previous|"
    r"early|late|mid|since|until|before|after|during|when|while|whenever|once|season|period|time|times|end|"
    r"beginning|start)\b",
    re.IGNORECASE,
)
# Digits that say when: a year, a decade, a clock time, a day of the month, a date; not "2,500" or "$4bn"
_DATE_DIGITS = re.compile(
    r"(?<![\d,.])c?\d{3,4}s?(?![\d,]\d)|'\d{2}s?\b|\b(ad|bp|yr)\b|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}(st|nd|rd|th)\b|"
    r"\b\d{1,4}\s*(ad|bc|bce|ce|am|pm|a\.m\.|p\.m\.)|\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b",
    re.IGNORECASE,
)
# A model number is not a year: "Boeing 737-800", "Flight 370" (three digits after a name); "January 2005",
# "In 711", "AD 711" and "476-550" still say when.
_MODEL_NUMBER = re.compile(
    rf"\b(?!(?i:{_MONTHS}|in|from|since|until|by|before|after|around|circa|c|ad|bc)\b)[A-Z][A-Za-z]+[ -]\d{{3}}\b"
    r"(?![\d,.])(-\d{3}\b)?"
)
_SCALE = r"(bn|m|k|million|billion|trillion)"
# "$4bn (£2.1bn)" has digits, but it is an amount, not a time
_MONEY = re.compile(rf"[£$€¥%]|\d\s*{_SCALE}\b|\b(dollars?|pounds?|euros?|cents?|percent)\b", re.IGNORECASE)
# A bare number or an amount ("1,200", "£2.1bn", "$4bn (£2.1bn)"): never who did something
# "$4bn", "1,200", "15%", and a sum named after its number: "5.45m Euros", "300 dollars"
_AMOUNT = (rf"([£$€¥]\s*[\d.,]+\s*{_SCALE}?|[\d.,]*\d[\d.,]*\s*{_SCALE}?\s*(euros?|dollars?|pounds?|yen|yuan|rupees?|"
           rf"francs?)|[\d.,%-]+)")
_ONLY_NUMBER = re.compile(rf"^[\s(]*{_AMOUNT}[\s)]*(\({_AMOUNT}\))?$", re.IGNORECASE)


def is_amount(text: str) -> bool:
    """A sum of money or a bare number: "$4bn", "£2.1bn", "5.45m Euros", "1,200", "15%"."""
    return bool(_ONLY_NUMBER.match(text.strip()))


# "$4bn (£2.1bn)": a sum and its conversion into another currency, one figure said twice
_CONVERSION_GAP = re.compile(r"\s*[()]\s*")
_CURRENCY = re.compile(r"\b(pounds?|sterling|dollars?|euros?|yen|yuan|rupees?|francs?|currency|converted)\b|[£$€¥]",
                       re.IGNORECASE)


def sum_of_money(text: str) -> bool:
    return is_amount(text) and bool(_CURRENCY.search(text))


def asks_for_currency(question: str) -> bool:
    """"how much is that in pounds?": the conversion is what is asked for."""
    return bool(_CURRENCY.search(question))


def converts(text: str, first: tuple[int, int], second: tuple[int, int], *, base: int = 0) -> bool:
    """The two spans are one sum of money and its conversion in brackets, either way round. ``text`` starts at
    offset ``base`` of the spans' coordinates (a passage or a sentence of the article); spans outside it are not."""
    (a0, a1), (b0, b1) = sorted([(first[0] - base, first[1] - base), (second[0] - base, second[1] - base)])
    return 0 <= a0 and a1 <= b0 and b1 <= len(text) and bool(_CONVERSION_GAP.fullmatch(text[a1:b0])) \
        and sum_of_money(text[a0:a1]) and sum_of_money(text[b0:b1])


_SUM_BEFORE_BRACKET = re.compile(rf"({_AMOUNT})\s*\(\s*$", re.IGNORECASE)


def converted_from(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the sum stands that ``text[start:end]`` converts, when it is that sum's conversion in brackets right
    after it: "£2.31m" of "3.35m Euros (£2.31m)" -> the span of "3.35m Euros", the figure the article gives."""
    found = _SUM_BEFORE_BRACKET.search(text, max(0, start - 40), start)
    if found is None or not converts(text, found.span(1), (start, end)):
        return None
    return found.span(1)


_OPENER = re.compile(r"^\s*((and|but|so|also|then|ok|okay|well)\b[\s,]*)+", re.IGNORECASE)


def expected_type(question: str) -> str | None:
    """'money', 'measure' (a count or size, never a sum), 'quantity', 'time', 'person', 'person name', 'name'
    ('surname', 'full name'), 'place', 'said', 'firm', 'organisation', 'title' (of a film, a book, a show) or None
    (anything goes).
    A chat's opener does not change what is asked: "and when?" wants a time as "when?" does."""
    question = _OPENER.sub("", question)
    if _MONEY_QUESTION.search(question):
        return "money"
    if _MEASURE_QUESTION.search(question):
        return "measure"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    if _TIME_QUESTION.search(question):
        return "time"
    if _PERSON_QUESTION.search(question):
        return "person"
    if _PERSON_NAME_QUESTION.search(question):
        return "person name"
    if _NAME_QUESTION.search(question):
        return "surname" if _SURNAME.search(question) else "full name" if _FULL_NAME.search(question) else "name"
    if _PLACE_QUESTION.search(question) and not _RANK_QUESTION.search(question):
        return "place"
    if _SAID_QUESTION.search(question):
        return "said"
    if _FIRM_QUESTION.search(question):
        return "firm"
    if _ORGANISATION_QUESTION.search(question):
        return "organisation"
    if _TITLE_QUESTION.search(question):
        return "title"
    return None


# "has it been pulled?", "will prisoners still be allowed to smoke?": a yes or no, which no quoted span is; not a
# choice ("was it high-voltage or low-voltage?"), "is there / are there any ...?" (a list), nor a wh-question inside
# one ("do you know who won?"), nor a request ("can you name the airline?", "does anyone know the price?")
_YES_NO = re.compile(
    r"^\s*(is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|shall|may|might|must|won't|can't)"
    r"(n't)?\s+(?!(there|you|u|i|anyone|anybody|someone|somebody)\b)",
    re.IGNORECASE,
)
_WH_WORD = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b|\bor\b", re.IGNORECASE)


def asks_yes_or_no(question: str) -> bool:
    question = _OPENER.sub("", question)
    return bool(_YES_NO.match(question)) and not _WH_WORD.search(question)


def _is_name(answer: str) -> bool:
    """Capitalised words ("Stephen Pound", "el-Brasai"), joined by the small words names use ("of", "van")."""
    words = answer.split()
    return bool(words) and all(w.lower() in _NAME_CONNECTORS or _name_word(w) or not w[0].isalpha() for w in words)


# The text shows a name is a person's: "Mr Korneyev", "Korneyev said", "said Korneyev", "Korneyev, who told ..."
_SPEECH = r"(said|says|told|tells|explained|added|adds|warned|argued|insisted|stressed|admitted|claimed|wrote)"
_TITLE = "(" + "|".join(h.capitalize() for h in HONORIFICS) + ")"


def names_a_person(answer: str, context: str) -> bool:
    """The answer holds someone the context speaks of as a person: a surname it titles ("Mr Korneyev"), or a first
    name and surname whose surname says something ("Ivan Korneyev" and "said Korneyev"; one word alone may be a
    country: "India says")."""
    words = [w.strip(".,;:'\"()") for w in answer.split()]
    for i, word in enumerate(words):
        if not word[:1].isupper() or (i + 1 < len(words) and _name_word(words[i + 1])):
            continue  # not a name, or part of a longer one ("Nikola Tesla Museum")
        name = re.escape(word)
        if re.search(rf"\b{_TITLE}\.? {name}\b", context):
            return True
        # "Korneyev said", "Korneyev, who told", "said Korneyev"; not "from Omaha, Nebraska, said" (an aside)
        speaks = rf"\b{name}( |, who ){_SPEECH}\b|\b{_SPEECH} {name}\b"
        if i and _name_word(words[i - 1]) and re.search(speaks, context):
            return True
    return False


# "who said that?": who said what the chat just quoted, by any verb of saying
_SAYING = (r"(said|says|told|tells|explained|added|adds|warned|argued|insisted|insists|stressed|admitted|claimed|claims|"
           r"wrote|confirmed|confirms|announced|announces|reported|reports|stated|states|revealed|denied|believes)")
_WHO_SAID_IT = re.compile(rf"^\s*(and\s+)?who\s+{_SAYING}\s+(that|this|so|it)\W*$", re.IGNORECASE)


def _stands_at(answer: str, context: str, at: int | None) -> bool:
    """``at`` says where ``answer`` stands in ``context`` (the checks that look around it need both)."""
    return at is not None and context[at : at + len(answer)] == answer


def said_by(question: str, answer: str, context: str, at: int | None) -> bool:
    """For "who said that?", whether the passage gives the answer as a speaker, beside a verb of saying ("said
    Korneyev", "Li said", "Yevgeny Li ..., told Caravanserai", "according to the KNB"); true for other questions.
    "Budget airline Ryanair has placed an order ..." says nothing of who said it. SQuAD asks no such question, so
    check_answer_types.py has nothing to count it on; the dev and walk conversations are unchanged by it."""
    if not _WHO_SAID_IT.match(question) or not _stands_at(answer, context, at):
        return True
    before, after = context[max(0, at - 30) : at], context[at + len(answer) : at + len(answer) + 80]
    return bool(re.search(rf"\b({_SAYING}|according to)\s+$", before, re.IGNORECASE)
                or re.match(rf"[^.;\"“”]*?\b{_SAYING}\b", after, re.IGNORECASE))


def _says_when(answer: str, context: str, at: int | None) -> bool:
    """Digits in the answer that say when: not part of a model number, in the answer ("Boeing 737") or, when ``at``
    says where the answer stands in ``context``, around it ("800" of "Boeing 737-800")."""
    if not _stands_at(answer, context, at):
        return bool(_DATE_DIGITS.search(_MODEL_NUMBER.sub(" ", answer)))
    models = [m.span() for m in _MODEL_NUMBER.finditer(context, max(0, at - 40), at + len(answer) + 10)]
    return any(not any(a <= at + d.start() and at + d.end() <= b for a, b in models)
               for d in _DATE_DIGITS.finditer(answer))


# A count as a whole word: "12", "1.4", "30th", "£2.1bn", "six"; not "E3" or "Boeing 737"'s model number
_COUNT = re.compile(rf"^([£$€¥]?\d[\d.,]*(st|nd|rd|th|s|m|bn|k|%)?|({_NUMBER_WORDS}))$", re.IGNORECASE)
# Words that only qualify a count or a time: "at least 12", "this weekend", "early next year"
_QUALIFIERS = frozenset(
    "at least most about around nearly almost over under up to some more than less fewer roughly approximately "
    "this next last the on in of by early late".split()
)


# A count per unit of time: "70 million passengers a year", "£5 an hour", "twice per week"
_RATE = re.compile(r"\b(a|an|per|each|every)\s+(year|month|week|day|hour|minute|second|season)\b", re.IGNORECASE)
# A multiple, not a time: "up to 10 times faster", "three times"
_MULTIPLE = re.compile(rf"(\d[\d.,]*|\b({_NUMBER_WORDS}))\s+times\b", re.IGNORECASE)


# Who someone is takes a few words; more, with a finite verb of its own, is a sentence
MAX_PERSON_WORDS = 8
_FINITE = re.compile(r"(?<!\bwho )(?<!\bwhich )(?<!\bthat )\b(is|are|was|were|has|have|had|will|would|said|says)\b",
                     re.IGNORECASE)  # not in a relative clause: "the people who were living in the area ..."


_WHEN_PHRASE = re.compile(r"\bon\s+(mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(during|following)\s", re.IGNORECASE)


def _words(answer: str) -> list[str]:
    """The answer's words but its qualifiers ("at least", "this")."""
    words = [w.strip(".,") for w in re.findall(r"[\w£$€¥%.,'-]+", answer)]
    return [w for w in words if w and w.lower() not in _QUALIFIERS]


def _only(pattern: re.Pattern, answer: str) -> bool:
    """Every word of the answer is one ``pattern`` matches, or a qualifier, and one is not a qualifier."""
    kept = _words(answer)
    return bool(kept) and all(pattern.search(w) for w in kept)


def agrees(question_type: str | None, answer: str, context: str = "", at: int | None = None) -> bool:
    """``context``: the passage the answer was read in (a place is not someone it says things of); ``at``: where
    the answer starts in it."""
    if question_type == "place":
        # a place is neither a count ("At least 12" for "in which cities?") nor a time ("this weekend" for "where
        # are the talks taking place?"), nor someone the passage titles or quotes
        # nor a figure with a unit ("1130p on Thursday", a share price, for "where's the field?"): some word of a
        # place starts with a letter and says no time ("U.S.", "E3 2005", "M25")
        # nor what the passage calls a firm: "eBay" of "on website eBay" for "where is he from?", whether the answer
        # starts at the name or at the noun before it ("website eBay", later cut to its name)
        return (not (_only(_COUNT, answer) or _only(_TIME_WORDS, answer) or names_a_person(answer, context))
                and any(w[0].isalpha() and not _TIME_WORDS.search(w) for w in _words(answer))
                and not (_stands_at(answer, context, at) and _FIRM_BEFORE.search(context, max(0, at - 40), at))
                and not _FIRM_BEFORE.search(answer, 0, name_start(answer)))
    if question_type == "quantity":
        return bool(_QUANTITY.search(answer))
    if question_type == "measure":
        return bool(_QUANTITY.search(answer)) and not sum_of_money(answer)
    if question_type == "money":
        return bool(_SUM.search(answer)) and (bool(_MONEY_WORD.search(answer)) or not _THINGS_COUNTED.search(answer))
    if question_type == "time":
        # "70 million passengers a year" is a rate and "up to 10 times faster" a multiple, not a time
        said = _MULTIPLE.sub(" ", _RATE.sub(" ", answer))
        return bool(_TIME_WORDS.search(said)) or (_says_when(answer, context, at) and not _MONEY.search(answer))
    if question_type == "person":
        # nor a sentence: "Larne's teenage star Robbie Weir is poised to join Sunderland after ..." for "who made it?"
        # or an account of when: "Real Madrid's Bernabeu stadium on Sunday following a bomb scare during the game
        # between the hosts and Real Sociedad" for "who was suspected of making the threat?"
        clause = len(answer.split()) > MAX_PERSON_WORDS and (_FINITE.search(answer) or _WHEN_PHRASE.search(answer))
        return not _ONLY_NUMBER.match(answer.strip()) and not clause
    if question_type == "name":
        return _is_name(answer.strip())
    if question_type == "person name":
        # a person's name is no firm's: "Bank of China" (nor "Bank of China in the northern city of Harbin") for
        # "what are the names of the two missing officials?", nor a count ("Two", capitalised as a sentence opens)
        return _is_name(answer.strip()) and not _ORGANISATION_WORD.search(answer) and not _COUNT.match(answer.strip())
    if question_type == "full name":
        return _is_name(answer.strip()) and len(answer.split()) >= 2
    if question_type == "surname":
        return _is_name(answer.strip()) and _written_as_surname(answer.strip(), context)
    # nor, for an organisation, a sentence: "Yugansk was sold to a little known shell company which in turn was
    # bought by Rosneft" for "which company was bought?"
    clause = len(answer.split()) > MAX_PERSON_WORDS and bool(_FINITE.search(answer))
    if question_type == "organisation":
        return not _PERSON_TITLE.match(answer.strip()) and not clause
    if question_type == "title":
        # a title is capitalised, with a word that says no time ("Tears of the Sun", "At Last"): not "2002" (its
        # year) nor "2002 movie"; a title that is a number ("1984") is lost (see check_answer_types.py)
        words = [w.strip(".,;:'\"()“”‘’") for w in answer.split()]
        return any(_name_word(w) and not _TIME_WORDS.fullmatch(w) for w in words)
    if question_type == "said":
        # "Richard Nicholls" for "what did he say?" is who said it
        return not _is_name(answer.strip())
    if question_type == "firm":
        # a company, a bank, a newspaper has a name: "Paion", "the BBC", "eBay"; not "desmoteplase", the drug it
        # makes ("which company makes a drug from bat spit?")
        return not _PERSON_TITLE.match(answer.strip()) and any(_name_word(w) for w in answer.split()) and not clause
    return True


_SENTENCE_OPENERS = frozenset("""a an and as after at before but by for from if in it its of on once since so that the
then there these this those though to until when where whether which while who with yet""".split())


def _written_as_surname(answer: str, context: str) -> bool:
    """The text writes ``answer`` after a first name or a title somewhere ("Stephen Pound", "Mr Pound"); no
    ``context``: not known, so true."""
    if not context:
        return True
    if len(answer.split()) > 1:  # "Stephen Pound" given whole: the answer itself holds the first name
        return True
    for found in re.finditer(rf"\b({_TITLE}\.?|[A-Z][\w'-]*[a-z])\s+{re.escape(answer)}\b", context):
        # a first name, not a capitalised word opening a sentence ("When Lucy wrote ...")
        if found.group(2) or found.group(1).lower() not in _SENTENCE_OPENERS:
            return True
    return False


# "which TV network ...?": the noun that says what kind of organisation is asked for
_ASKED_NOUN = re.compile(rf"^\s*(?:which|what)\s+((?:[A-Za-z][\w-]*\s+){{0,2}}?)({_ORGANISATION_NOUNS})\b",
                         re.IGNORECASE)


# "what kind of team ...?" asks for a modifier; "what is an organization that ...?" for a definition
_KIND = re.compile(r"\b(kind|kinds|type|types|sort|sorts|form|is|was|are|were|does|did|do)\b", re.IGNORECASE)


def asked_organisation(question: str) -> frozenset[str] | None:
    """The words of a "which TV network ...?" question that say what kind of organisation it asks for ({"tv",
    "network"}); None for other questions, and for "what kind of team ...?", which asks for a modifier."""
    found = _ASKED_NOUN.match(_OPENER.sub("", question))
    if found is None or _KIND.search(found.group(1)):
        return None
    return frozenset(w.lower() for w in (found.group(1) + " " + found.group(2)).split())


def leaves_it_unnamed(question: str, answer: str, context: str, at: int | None) -> bool:
    """For "which company/network/bank ...?", the answer only qualifies an unnamed one: "US" in "A US TV network is
    being sued", or "US TV network" itself, while the network's name (NBC) comes later. A name never follows "a" or
    "an" with the asked noun after it ("a Swiss bank"), where "the BBC network" or "Forbes magazine" would."""
    asked = asked_organisation(question)
    if asked is None or not _stands_at(answer, context, at):
        return False
    before, after = context[max(0, at - 4) : at], context[at + len(answer) : at + len(answer) + 40]
    indefinite = re.match(r"(a|an)\s", answer, re.IGNORECASE) or re.search(r"\b(a|an)\s+$", before, re.IGNORECASE)
    following = re.match(r"\s+([a-z][\w-]*)", after) or re.match(r"\s+([A-Z]{2,3})\s", after)
    # the asked noun heads the indefinite phrase the answer opens: it ends the answer's first words or follows them
    first = [w.strip(".,;:").lower() for w in answer.split()[:3]]
    return bool(indefinite) and (bool(set(first) & asked) or (following is not None and following.group(1).lower() in asked))


# "which firm was fined?", "who was arrested?": a passive question, whose answer is who it was done to
_PASSIVE_QUESTION = re.compile(
    r"^\s*(who|whom|which|what)\b[^?]*?\b(was|were|is|are|has been|have been|had been|will be|being)\s+"
    r"([a-z]+ed|[a-z]+en|held|sold|bought|paid|won|hit|led|left|built|caught|struck|sent|set|cut|shut|found|made|"
    r"taken|given|told)\b",
    re.IGNORECASE,
)


def passive_participle(question: str) -> str | None:
    """The participle of a passive question ("fined" of "which firm was fined?"), else None."""
    found = _PASSIVE_QUESTION.match(_OPENER.sub("", question))
    return found.group(3) if found else None


def _sentence(context: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence of ``context`` holding ``[start, end)`` (a cheap cut at ". ")."""
    after = context.find(". ", end)
    return max(context.rfind(". ", 0, start), 0), after if after >= 0 else len(context)


def is_the_agent(question: str, answer: str, context: str, at: int | None) -> bool:
    """For "which firm was fined?", the answer is not who did it: "the Football Association" of "... was fined
    £15,000 by the Football Association" is who fined. A span right after "by", in a sentence that says the
    question's participle before it, is the agent (unless the question asks "by whom"). Refuses 9 of SQuAD train's
    4,115 golds to such questions and 1 of dev's 486, mostly passives the question's pattern misread
    (scripts/check_answer_types.py)."""
    participle = passive_participle(question)
    if participle is None or at is None or re.search(r"\bby\b", question, re.IGNORECASE):
        return False
    # right after "by", or after a description of the agent there ("bought by US surfwear firm Quiksilver")
    if not re.search(r"\bby\s+((the|a|an)\s+)?((?!(and|or|but|with|for|to|of|in|on|at|after|before)\b)[\w&'’-]+\s+)"
                     r"{0,4}$", context[max(0, at - 50) : at], re.IGNORECASE):
        return False
    start, _ = _sentence(context, at, at + len(answer))
    return re.search(rf"\b{re.escape(participle)}\b", context[start:at], re.IGNORECASE) is not None


def is_denied(question: str, answer: str, context: str, at: int | None) -> bool:
    """For "which firm was fined?", not one its sentence says was not ("The media giant was not fined by the
    Securities and Exchange Commission"). Refuses 4 of SQuAD train's 4,919 golds to passive questions and none of
    dev's 583 (scripts/check_answer_types.py)."""
    participle = passive_participle(question)
    if participle is None or at is None or re.search(r"\b(not|never|n't)\b", question, re.IGNORECASE):
        return False
    start, end = _sentence(context, at, at + len(answer))
    return re.search(rf"\b(not|never|n't)\s+(been\s+|being\s+)?{re.escape(participle)}\b", context[start:end],
                     re.IGNORECASE) is not None


# "which film ...?", "where ...?", "who ...?": questions whose answer is the name of something.
_NAMING_QUESTION = re.compile(r"^\s*(who|whom|which|where)\b|\b(called|named)\W*$", re.IGNORECASE)
# Words that end a descriptor only as part of a phrase, never as its head noun: "the city of Harbin" and "arrested in
# London" are not "<descriptor> <name>", and "of Harbin" alone is not the answer.
_NOT_A_HEAD = frozenset({
    "of", "in", "at", "on", "to", "for", "by", "with", "from", "into", "near", "as", "than", "against", "about",
    "over", "under", "after", "before", "between", "and", "or", "but", "nor", "the", "a", "an", "its", "his", "her",
    "their", "our", "my", "your", "this", "that", "these", "those", "who", "which", "whose", "said", "says", "told",
    "called", "named", "including", "like", "such", "both", "each", "per", "via", "vs", "v", "across", "through",
    "throughout", "around", "within", "toward", "towards", "beyond", "among", "along", "upon", "onto", "inside",
    "outside", "behind", "below", "above", "beside", "despite", "since", "until", "amid", "one", "two", "three",
    "four", "five", "six", "seven", "eight", "nine", "ten", "many", "several", "some", "all", "other", "another",
    # a direction is part of a place ("southern Italy", "western Tibet"), not a descriptor of it
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "north-east",
    "north-west", "south-east", "south-west", "northeast", "northwest", "southeast", "southwest", "north-eastern",
    "north-western", "south-eastern", "south-western", "northeastern", "northwestern", "southeastern",
    "southwestern", "upper", "lower", "inner", "outer", "greater", "mainland", "downtown",
})  # fmt: skip


def _name_word(word: str) -> bool:
    """A word of a proper name: capitalised ("Ryanair", "Wal-Mart") or with a capital inside ("eBay", "iTunes")."""
    letters = word.strip(".,;:'\"()")
    return bool(letters) and any(c.isupper() for c in letters)


def wants_a_name(question: str) -> bool:
    return bool(_NAMING_QUESTION.search(_OPENER.sub("", question)))


def name_start(answer: str) -> int:
    """Where the name starts in an answer made of a descriptor and a name ("budget airline Ryanair", "US playwright
    Eve Ensler", "Will Smith's first romantic comedy, Hitch", "the capital, Kampala"): the name is the answer, the
    descriptor is what the cited sentence is for. 0 when the answer is not of that shape ("Tirunesh Dibaba of
    Ethiopia", "12 suspected members", "police in London")."""
    words = list(re.finditer(r"\S+", answer))
    i = len(words)
    while i > 0:  # the run of name words at the end, through the small words names use ("Bank of England")
        if _name_word(words[i - 1].group()):
            i -= 1
            continue
        j = i
        while j > 0 and words[j - 1].group().lower() in _NAME_CONNECTORS:
            j -= 1
        if j < i and j > 0 and _name_word(words[j - 1].group()) and i < len(words):
            i = j
            continue
        break
    if i == 0 or i == len(words):
        return 0
    head = words[i - 1].group()
    bare = head.rstrip(",").strip("'\"()")
    if not bare.replace("-", "").isalpha() or not bare.islower() or bare in _NOT_A_HEAD or bare in _NAME_CONNECTORS:
        return 0  # "2 Fast 2 Furious", "arrested in London", "von Staupitz": not a descriptor's head
    descriptor = answer[: words[i].start()]
    if re.search(r"\b(and|or)\b|[&;(]", descriptor):
        return 0  # "Hou Xian and the Buddhist monk Zhi Guang" names two
    return words[i].start()


# A relative clause that runs on from a complete answer: "$4bn (£2.1bn), which should lead to 2,500 new jobs"
_RELATIVE_CLAUSE = re.compile(
    r",?\s+(which|who|that|where)\s+(should|will|would|could|can|may|might|is|was|are|were|has|have|had)\b",
    re.IGNORECASE,
)


_BARE_MONTH = re.compile(rf"^({_MONTHS})(\s+\d{{4}})?$", re.IGNORECASE)
_DAY_BEFORE = re.compile(r"(?<![\w,])\d{1,2}(st|nd|rd|th)?\s+$")
_DAY_AFTER = re.compile(r"^\s+\d{1,2}(st|nd|rd|th)?(?!\w|,\d)(,?\s+\d{4}(?!\w))?")
_MONTH_OR_YEAR_QUESTION = re.compile(r"\b(month|year)s?\b", re.IGNORECASE)


def whole_date(question: str, answer: str, before: str, after: str) -> tuple[int, int]:
    """For a question asking when, the characters of ``before`` and ``after`` (the text around the answer) that
    make a bare month a date: "February" of "on 6 February" -> "6 February", of "on February 6, 2005" -> "February
    6, 2005"; (0, 0) when the answer is no bare month, or the question asks for the month or year."""
    if not _BARE_MONTH.match(answer.strip()) or _MONTH_OR_YEAR_QUESTION.search(question):
        return 0, 0
    day_before, day_after = _DAY_BEFORE.search(before), _DAY_AFTER.match(after)
    if day_before and not day_after:
        return len(before) - day_before.start(), 0
    if day_after and not day_before and not answer.strip()[-1].isdigit():
        return 0, day_after.end()
    return 0, 0


# A tennis score is its sets together: "6-4" of "beat Greg Rusedski 4-6 7-6 (8-6) 6-4" is the last set's
_SCORE = r"\(?\d{1,2}-\d{1,2}\)?"
_ONLY_SCORE = re.compile(rf"^{_SCORE}(\s+{_SCORE})*$")
_SCORES_BEFORE = re.compile(rf"(?:(?<=\s)|^)({_SCORE}\s+)+$")
_SCORES_AFTER = re.compile(rf"^(\s+{_SCORE})+(?![\w-])")


def whole_score(answer: str, before: str, after: str) -> tuple[int, int]:
    """The characters of ``before`` and ``after`` that are the rest of the run of set scores an answer of scores is
    part of: "6-4" -> "4-6 7-6 (8-6) 6-4"; (0, 0) for any other answer. None of SQuAD's golds (1 score in dev, 6
    in train) stands in such a run."""
    if not _ONLY_SCORE.match(answer.strip()):
        return 0, 0
    left, right = _SCORES_BEFORE.search(before), _SCORES_AFTER.match(after)
    return (len(before) - left.start() if left else 0), (right.end() if right else 0)


# "what did crude fall to?" asks for the level, "how much did it fall by?" for the change: of "$2.86 to $41.32 a
# barrel" (it fell $2.86 to $41.32 a barrel), the part the question asks for
_MOVED = (r"(fall|falls|fell|fallen|drop|drops|dropped|rise|rises|rose|risen|climb|climbs|climbed|jump|jumps|jumped|"
          r"slip|slips|slipped|sink|sinks|sank|slide|slides|slid|increase|increased|decrease|decreased|grow|grew|"
          r"grown|cut|reduce|reduced|raise|raised|soar|soared|plunge|plunged|tumble|tumbled|edge|edged)")
_MOVED_TO = re.compile(rf"\b{_MOVED}\s+((up|down|back)\s+)?to\b", re.IGNORECASE)
_MOVED_BY = re.compile(rf"\b{_MOVED}\s+((up|down|back)\s+)?by\b", re.IGNORECASE)
_CHANGE_TO_LEVEL = re.compile(r"^(?P<by>.*?\d.*?)\s+to\s+(?P<to>\S*\d.*)$")


def level_or_change(question: str, answer: str) -> tuple[int, int]:
    """The bounds within ``answer`` of what a question about a move asks for: "$41.32 a barrel" of "$2.86 to $41.32
    a barrel" for "what did it fall to?", "$2.86" for "how much did it fall by?"; the whole answer otherwise.
    None of SQuAD's golds to such questions (46 in dev, 243 in train) is a change and a level together."""
    found = _CHANGE_TO_LEVEL.match(answer) if expected_type(question) != "time" else None  # "2008 to 2012": a span
    if found and _MOVED_TO.search(question):
        return found.span("to")
    if found and _MOVED_BY.search(question):
        return found.span("by")
    return 0, len(answer)


def before_relative_clause(answer: str) -> int:
    """Where an answer of a known type ends when the reader ran on into a relative clause: "$4bn (£2.1bn) which
    should lead to 2,500 new Ryanair jobs" -> "$4bn (£2.1bn)"; its whole length when it does not. The cut shortens 22
    of SQuAD train's 29,324 gold answers to typed questions (0.08%) and 2 of dev's 3,612 (scripts/check_answer_types.py)."""
    found = _RELATIVE_CLAUSE.search(answer)
    return found.start() if found and found.start() > 0 else len(answer)


def within_brackets(answer: str) -> tuple[int, int]:
    """The part of an answer that does not cross a bracket it does not close or open: "(RPG" -> "RPG", "the
    retinohypothalamic tract (RHT" -> "the retinohypothalamic tract", "£2.1bn) which should lead to 2,500 new jobs" ->
    "£2.1bn" (a span begun inside "$4bn (£2.1bn)"). (start, end) into ``answer``; the whole of it when its brackets
    pair up."""
    opened: list[int] = []
    for i, ch in enumerate(answer):
        if ch == "(":
            opened.append(i)
        elif ch == ")":
            if opened:
                opened.pop()
            else:  # closes a bracket opened before the span: what is inside it is the answer
                return _trimmed(answer, 0, i)
    if opened:
        first = opened[0]
        if answer[:first].strip():
            return _trimmed(answer, 0, first)
        return _trimmed(answer, first + 1, len(answer))  # "(RPG": the bracket is only the span's edge
    return 0, len(answer)


def _trimmed(answer: str, start: int, end: int) -> tuple[int, int]:
    part = answer[start:end]
    start += len(part) - len(part.lstrip(" ,;:"))
    end -= len(part) - len(part.rstrip(" ,;:"))
    return start, max(start, end)
