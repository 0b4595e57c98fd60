"""Does a span have the type of answer the question asks for? Only the checks that plain text settles reliably:
"how much/many/old/long" and "what percentage" want a quantity, "when"/"what year" a time, "who" not a bare number,
"what's her surname?" a name (capitalised words), "which company ...?" not a person ("Mr Fisher"). Each check was
counted against SQuAD (train and dev: of 74 name questions, the gold answer is capitalised in all but a few noisy
ones; of 1,376 "which company/agency/bank/party/..." questions, no gold answer starts with Mr, Mrs, Dr or the like).
A reader trained on SQuAD sometimes returns a weekday for "how much a month" or a name for "how many"; a span of
the wrong type is never the answer, however sure the reader is."""

from __future__ import annotations

import re

_QUANTITY_QUESTION = re.compile(
    r"\b(how (much|many|old|long|far|big|large|tall|high|often|fast)|what (percentage|proportion|share|amount|"
    r"number|sum|price|age)|at what (price|age|rate))\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(r"^\s*(when\b|(in |by |since |until )?what (year|month|day|date|time)\b)", re.IGNORECASE)
_PERSON_QUESTION = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)
_NAME_QUESTION = re.compile(
    r"^\s*what(\s*'s|\s+is|\s+was|\s+are|\s+were)\b.*\b(surname|first name|last name|real name|full name|"
    r"maiden name|middle name|given name|family name|birth name)s?\W*$",
    re.IGNORECASE,
)
_ORGANISATION_QUESTION = re.compile(
    r"^\s*(which|what)\s+(company|companies|firm|business|corporation|organi[sz]ation|agency|bank|network|"
    r"broadcaster|party|website|newspaper|club|team|group|band|university|college|school|airline|manufacturer|"
    r"channel|station|magazine|label|studio)\b",
    re.IGNORECASE,
)
_PERSON_TITLE = re.compile(r"^(mr|mrs|ms|miss|dr|sir|lord|lady|dame)\b\.?\s", re.IGNORECASE)
_NAME_CONNECTORS = frozenset({"of", "the", "de", "da", "di", "van", "von", "der", "la", "le", "du", "al", "bin", "y", "and", "&"})

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    "million|millions|billion|billions|trillion|dozen|dozens|half|quarter|third|double|twice|several|few|many|"
    "all|none|no|single|once|a|an"
)
_QUANTITY = re.compile(rf"\d|\b({_NUMBER_WORDS})\b|[£$€¥%]", re.IGNORECASE)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|"
    "jul|aug|sep|sept|oct|nov|dec"
)
_TIME = re.compile(
    rf"\d|\b({_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow|tonight|"
    r"week|weeks|month|months|year|years|decade|century|spring|summer|autumn|fall|winter|morning|afternoon|evening|"
    r"night|christmas|easter|recently|soon|later|earlier|ago|next|last|previous|early|late|since|until|before|after|"
    r"during|season|period|time)\b",
    re.IGNORECASE,
)
_ONLY_NUMBER = re.compile(r"^[\d\s.,%£$€¥-]+$")


def expected_type(question: str) -> str | None:
    """'quantity', 'time', 'person', 'name', 'organisation' or None (anything goes)."""
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    if _TIME_QUESTION.search(question):
        return "time"
    if _PERSON_QUESTION.search(question):
        return "person"
    if _NAME_QUESTION.search(question):
        return "name"
    if _ORGANISATION_QUESTION.search(question):
        return "organisation"
    return None


def _is_name(answer: str) -> bool:
    """Capitalised words ("Stephen Pound", "el-Brasai"), joined by the small words names use ("of", "van")."""
    words = answer.split()
    return bool(words) and all(
        w.lower() in _NAME_CONNECTORS or any(c.isupper() for c in w) or not w[0].isalpha() for w in words
    )


def agrees(question_type: str | None, answer: str) -> bool:
    if question_type == "quantity":
        return bool(_QUANTITY.search(answer))
    if question_type == "time":
        return bool(_TIME.search(answer))
    if question_type == "person":
        return not _ONLY_NUMBER.match(answer.strip())
    if question_type == "name":
        return _is_name(answer.strip())
    if question_type == "organisation":
        return not _PERSON_TITLE.match(answer.strip())
    return True
