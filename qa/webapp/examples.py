"""Example questions that fit the articles on disk, made from their titles and lead sentences by a few plain rules.

No model is involved: the rules only turn sentence shapes that news leads use all the time into questions the
reader can answer from that same sentence ("... were arrested" -> "Who was arrested?"; "The KNB dismantled a
crime ring ..." -> "Who dismantled a crime ring ...?"; "..., the KNB reported November 3." -> "When did the KNB
report the news?"). The headline comes last: its words are often not in the body. The newest articles come first (by ``date``, else by
their order in the index), and the examples are spread over different articles when there are several.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from qa.errors import QAError
from qa.types import Article

GENERIC = ("What happened?", "Who was involved?", "Where did it happen?")
RECENT_ARTICLES = 12  # the examples come from this many of the newest articles
LEAD_SENTENCES = 6
MAX_WORDS = 12  # longer questions read like a sentence pasted back
CHECKED = 12  # at most this many candidates are asked, once per index generation

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”']?\s+(?=[A-Z\"“'])")
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{1,40}\s+(--|—|–|-)\s+")  # "ASTANA -- "
_PASSIVE = re.compile(
    r"\b(?:was|were|has been|have been|had been|is being|are being)\s+"
    r"(arrested|detained|held|charged|convicted|sentenced|jailed|killed|injured|elected|appointed|named|"
    r"released|fined|sacked|accused|rescued|hired|fired|awarded|acquitted|questioned|extradited)\b"
    r"(\s+(?:for|of|over|with)\s+[^,.;:]+)?",
    re.IGNORECASE,
)
# Past-tense verbs that are not usually adjectives: a capitalised subject directly followed by one of these
# (or by any lowercase word in -ed) is an "X did Y" lead.
_IRREGULAR = {
    "won", "lost", "made", "took", "gave", "found", "held", "sold", "bought", "told", "said", "hit", "led", "left",
    "built", "caught", "struck", "broke", "began", "paid", "ran", "beat", "brought", "sent", "set", "cut", "shut",
}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}"
_DAY = r"(?:on )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# "..., the KNB reported November 3." -> "When did the KNB report the news?"
_REPORTED = re.compile(
    rf"\b((?:the )?[A-Z][\w.&-]*(?: [A-Z][\w.&-]*){{0,3}}) (reported|announced|said|confirmed|revealed) "
    rf"(?:on )?(?:{_MONTH}|{_DAY})\b"
)
_BASE = {"reported": "report", "announced": "announce", "said": "say", "confirmed": "confirm", "revealed": "reveal"}
_NOT_VERBS = {"said", "told"}  # "X said ..." makes "Who said ...?", which every article answers
_SUBJECT_WORD = re.compile(r"^(?:[A-Z][\w'’.&-]*[\w'’.)]|[A-Z]|\([A-Z][\w.&-]*\)|and|of|the|for|de|'s)$")
_FUNCTION_WORDS = {
    "to", "is", "are", "was", "were", "will", "would", "has", "have", "had", "be", "not", "that", "which", "who",
    "it", "they", "he", "she", "we", "i", "you", "this", "there", "in", "on", "at", "by", "with", "from", "as",
}
_NOT_OBJECTS = {"that", "to", "on", "in", "at", "by", "is", "are", "was", "were", "as"}
_PARTICIPLE = re.compile(r"^[a-z]+ed$")
_TITLE_VERB_END = ("s", "ed")
_PREPOSITIONS = {"for", "over", "in", "after", "at", "on", "by", "with", "from", "as", "to", "amid", "during"}


def example_questions(articles: Iterable[Article], n: int = 3,
                      answered: Callable[[str], bool] | None = None) -> list[str]:
    """``n`` questions from the newest of ``articles`` (one per article first, then more from the same ones);
    GENERIC fills in when the articles give fewer. ``answered``: keep only questions it says the articles answer (an
    example that gets "The articles don't say." teaches the wrong thing), trying at most CHECKED of them."""
    recent = newest(list(articles))[:RECENT_ARTICLES]
    picked: list[str] = []
    tried = 0

    def take(question: str) -> None:
        nonlocal tried
        if answered is not None:
            if tried >= CHECKED:
                return
            tried += 1
            if not answered(question):
                return
        picked.append(question)

    # The leads' questions first, a headline's only when they run short: a headline is telegraphic ("Who drops banks
    # from court bid?"), and its words are often only in it, where an answer is never taken from.
    for per_article in ([questions_for(a, titles=False) for a in recent], [questions_for(a) for a in recent]):
        for round_ in range(max((len(q) for q in per_article), default=0)):
            for questions in per_article:
                if round_ < len(questions) and questions[round_].lower() not in {p.lower() for p in picked}:
                    take(questions[round_])
                if len(picked) == n:
                    return picked
    picked += [q for q in GENERIC if q not in picked][: n - len(picked)]
    return picked


def examples_from(engine, n: int = 3, answered: Callable[[str], bool] | None = None) -> list[str]:
    """Examples for what ``engine`` (anything with article_ids() and article(id)) holds; GENERIC when it holds
    nothing or cannot be read yet. ``answered``: see example_questions."""
    try:
        ids = engine.article_ids()
        articles = [a for a in (engine.article(i) for i in ids[-2000:]) if a is not None]
    except (QAError, OSError):  # no index yet, or one being swapped: the page still needs its examples
        return list(GENERIC[:n])
    return example_questions(articles, n, answered)


def newest(articles: Sequence[Article]) -> list[Article]:
    """Newest first by date; articles without a readable date keep their index order, after the dated ones."""
    dated = [(when, i, a) for i, a in enumerate(articles) if (when := _date(a.date)) is not None]
    dated.sort(key=lambda item: (-item[0].timestamp(), item[1]))
    undated = [a for a in articles if _date(a.date) is None]
    return [a for _, _, a in dated] + undated


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    for attempt in (text, text[:10]):
        try:
            when = datetime.fromisoformat(attempt)
        except ValueError:
            continue
        return when if when.tzinfo else when.replace(tzinfo=None).astimezone()
    return None


def questions_for(article: Article, *, titles: bool = True) -> list[str]:
    """The questions one article suggests, best first: its lead's "X did Y" and "... was arrested" sentences,
    then (``titles``) its title."""
    out: list[str] = []
    for sentence in lead_sentences(article):
        for question in (active_question(sentence), passive_question(sentence), when_question(sentence)):
            if question and question.lower() not in {q.lower() for q in out}:
                out.append(question)
    title = title_question(article.title) if titles else None
    if title and title.lower() not in {q.lower() for q in out}:
        out.append(title)
    return out


def lead_sentences(article: Article, limit: int = LEAD_SENTENCES) -> list[str]:
    """The first sentences of the body: the title, bylines, captions and repeated lines are left out."""
    seen = {article.title.strip()}
    sentences: list[str] = []
    for line in article.text.splitlines():
        line = " ".join(line.split())
        if not line or line in seen or line.startswith("By ") or len(line.split()) < 8:
            continue
        seen.add(line)
        if line.endswith("]"):  # a photo caption: "... in Astana. [Interior Ministry]"
            continue
        for sentence in _SENTENCE_END.split(_DATELINE.sub("", line)):
            sentences.append(sentence.strip())
            if len(sentences) >= limit:
                return sentences
    return sentences


def passive_question(sentence: str) -> str | None:
    """"At least 12 members were arrested and accused ..." -> "Who was arrested?"."""
    match = _PASSIVE.search(sentence)
    if not match:
        return None
    tail = _words(match.group(2) or "")
    question = f"Who was {match.group(1).lower()}"
    if tail and len(tail) <= 6:
        question += " " + " ".join(tail)
    return _finish(question)


def when_question(sentence: str) -> str | None:
    """"... in Astana and Almaty, the KNB reported November 3." -> "When did the KNB report the news?"."""
    match = _REPORTED.search(sentence)
    if not match:
        return None
    subject = match.group(1)
    if subject.split()[0] in {"He", "She", "It", "They", "We", "I"}:
        return None
    # "the news", not "this": clicked in a new chat, "When did Manchester United reveal this?" named nothing
    return _finish(f"When did {subject} {_BASE[match.group(2)]} the news")


def active_question(sentence: str) -> str | None:
    """"The KNB dismantled a crime ring selling drugs online, authorities said" -> "Who dismantled a crime ring
    selling drugs online?": a capitalised subject, a past-tense verb, and the object up to the first comma."""
    words = sentence.split()
    for i, word in enumerate(words[:14]):
        if i and (_PARTICIPLE.match(word) or word in _IRREGULAR) and word not in _NOT_VERBS:
            subject = words[:i]
            if not all(_subject_word(w) for w in subject) or not subject[0][:1].isupper() or sum(w.islower() for w in subject) > 3:
                return None  # "Operation Firewall, led by ...": a comma ends the subject before the verb
            rest = re.split(r"[,;:]|\.(?:\s|$)", " ".join(words[i + 1 :]), maxsplit=1)[0].split()
            if not rest or rest[0].lower() in _NOT_OBJECTS:  # "said that", "rose to 5%", "arrested are"
                return None
            return _finish("Who " + " ".join([word, *rest]))
        if i and not _subject_word(word):
            return None  # the subject ended without a verb we know
    return None


def _subject_word(word: str) -> bool:
    """A word of a news subject: a name ("Kazakhstan's", "(KNB)") or a plain lowercase noun ("The harbour
    council"); a comma, a number or a function word ends the subject."""
    return bool(_SUBJECT_WORD.match(word)) or (word.isalpha() and word.islower() and word not in _FUNCTION_WORDS)


def title_question(title: str) -> str | None:
    """"US hacker breaks into T-Mobile" -> "Who breaks into T-Mobile?"; "Japanese mogul arrested for fraud" ->
    "Who was arrested for fraud?" (a headline's bare participle is passive)."""
    words = _words(title)
    for i, word in enumerate(words[1:8], start=1):
        if not word.islower() or not word.isalpha():
            continue
        rest = words[i + 1 :]
        if words[i - 1].lower() == "to":
            return None  # "Tsunami 'to hit Sri Lanka banks'": something expected, and its subject is no "who"
        if rest and word not in {"is", "was", "has"} and (word in _IRREGULAR or word.endswith(_TITLE_VERB_END)):
            passive = (word.endswith("ed") or word == "held") and (not rest or rest[0].lower() in _PREPOSITIONS)
            return _finish(("Who was " if passive else "Who ") + " ".join([word, *rest]))
    return None


def _words(text: str) -> list[str]:
    return [w.strip("'\"“”‘’") for w in text.split() if w.strip("'\"“”‘’")]


def _finish(question: str) -> str | None:
    words = question.rstrip(" .,;:!?").split()
    if len(words) < 2 or len(words) > MAX_WORDS:
        return None
    return " ".join(words) + "?"
