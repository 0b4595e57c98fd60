"""What a chat remembers: its earlier turns, the story it is about (its focus), and whether a new question leans on
them ("in which cities?", "who said that?") or stands on its own ("which Japanese tycoon was arrested?")."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from qa.errors import QAError
from qa.answer.answer_types import asks_for_currency, converts
from qa.answer.article_parts import tells_the_article
from qa.ingest.text import normalize_answer
from qa.types import Answer, Span

# Words that point back to an earlier turn: "where did it happen?", "what did they take?", "who made that decision?"
_ANAPHORA = frozenset({
    "it", "its", "he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "this", "that",
    "these", "those", "there", "then", "same", "such", "former", "latter", "each", "both",
})  # fmt: skip
# Openers of an elliptical follow-up: "and when?", "what about Almaty?", "in which cities?", "through which company?"
_FOLLOW_UP_OPENER = re.compile(
    r"^(and|also|so|but|what about|how about|why|in which|at which|through which|from which|by whom|for whom|"
    r"with whom|to whom|in what|since when|until when|how come)\b",
    re.IGNORECASE,
)
# Words that ask rather than say: they tell nothing about which story a question is about.
QUESTION_WORDS = frozenset({
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "much", "many", "long", "old", "does",
    "did", "do", "is", "are", "was", "were", "will", "would", "can", "could", "has", "have", "had", "name", "called",
    "kind", "type", "s", "be", "being", "been",
})  # fmt: skip


_FUNCTION_WORDS = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or", "as", "than", "so",
    "next", "first", "last", "now", "again", "else", "other", "there", "get", "got",
})  # fmt: skip


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: what was asked, what was answered, and which articles the chat was about after it."""

    question: str
    answer: str = ""
    article_ids: tuple[str, ...] = ()  # the articles the shown answer was cited in
    focus: tuple[str, ...] | None = None  # the chat's focus after this turn; None: take ``article_ids``
    stories: tuple[tuple[str, ...], ...] = ()  # a story-by-story answer: each story's articles, best first
    story_answers: tuple[str, ...] = ()  # and each story's answer, in the same order
    cited: tuple[tuple[str, int, int], ...] = ()  # where the shown answer stands: (article id, start, end)


def as_turns(history: Iterable | None) -> list[Turn]:
    """Accept Answers, their to_dict() output, Turns, {"question", "answer", "article_ids", "focus", "citations"}
    dicts or (question, answer) pairs."""
    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, Answer):
            shown = item.found and not item.stories
            ids = tuple(dict.fromkeys(c.article_id for c in item.citations)) if shown else ()
            stories = tuple(tuple(story.article_ids) for story in item.stories)
            said = tuple(story.text for story in item.stories)
            cited = tuple((c.article_id, c.start, c.end) for c in item.citations) if shown else ()
            turns.append(Turn(item.question, item.text if shown else "", ids, tuple(item.focus), stories, said, cited))
        elif isinstance(item, dict):
            focus = item.get("focus")
            answer, cited = str(item.get("answer", "") or ""), _cited(item.get("citations"))
            if "answer" not in item and "text" in item:  # an Answer.to_dict(), as the web API returns it
                answer = str(item["text"]) if item.get("found") and not item.get("stories") else ""
                cited = cited if answer else ()
            turns.append(
                Turn(
                    str(item.get("question", "")),
                    answer,
                    _ids(item.get("article_ids")) or tuple(dict.fromkeys(a for a, _, _ in cited)),
                    None if focus is None else _ids(focus),
                    _story_ids(item.get("stories")),
                    tuple(str(s.get("text", "")) for s in item.get("stories") or ()),
                    cited,
                )
            )
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            question, answer = item
            turns.append(Turn(str(question), str(answer or "")))
        else:
            raise QAError(f"a history item must be an Answer, a dict or a (question, answer) pair, not {type(item).__name__}")
    # "tell me more" or "where did you read that?" was told a sentence of the story: it asked nothing of it, so it is
    # no exchange a follow-up leans on (where it stands, ``cited``, still says how far the story has been told)
    return [replace(t, answer="") if tells_the_article(t.question) else t for t in turns if t.question.strip()]


def _ids(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise QAError(f"article_ids and focus in the history must be lists of article ids, not {type(value).__name__}")
    return tuple(str(v) for v in value)


def _cited(citations) -> tuple[tuple[str, int, int], ...]:
    """A saved answer's citations ({"article_id", "start", "end"}, as Answer.to_dict writes them); others are
    skipped."""
    out = []
    for c in citations or ():
        if isinstance(c, dict) and isinstance(c.get("start"), int) and isinstance(c.get("end"), int):
            out.append((str(c.get("article_id", "")), c["start"], c["end"]))
    return tuple(out)


def _story_ids(stories) -> tuple[tuple[str, ...], ...]:
    """The stories of an Answer given as a dict (``Answer.to_dict()``): each one's article ids."""
    if not stories:
        return ()
    if not isinstance(stories, (list, tuple)) or not all(isinstance(s, dict) for s in stories):
        raise QAError("stories in the history must be a list of {\"article_ids\": [...]} objects")
    return tuple(_ids(s.get("article_ids")) for s in stories)


def story_articles(stories: Iterable) -> tuple[str, ...]:
    """Every article of these stories, in order: Story objects, or tuples of article ids."""
    return tuple(a for story in stories for a in getattr(story, "article_ids", story))


def about_every_story(answer: Answer) -> bool:
    """Whether a story-by-story answer leaves the chat about all of its stories (none chosen yet)."""
    return bool(answer.stories) and set(answer.focus) == set(story_articles(answer.stories))


def stories_in_focus(turns: Sequence[Turn], focus: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """The stories of the chat's latest story-by-story answer while the chat is still about all of them (none chosen,
    a follow-up since declined at most): "how much does it cost?" after "what did Apple launch?" was answered story
    by story asks it of each of those stories."""
    latest = next((turn for turn in reversed(turns) if turn.stories), None)
    if latest is None or set(focus) != set(story_articles(latest.stories)):
        return ()
    return latest.stories


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "last": -1}
_PICK_ORDINAL = re.compile(
    r"^\s*((i\s+)?mean(t)?\s+|no,?\s+)?(the\s+)?(?P<which>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    r"tenth|last|(?P<nth>\d{1,2})(st|nd|rd|th))(\s+(one|story|answer|card))?(\s+please)?\W*$",
    re.IGNORECASE,
)
_PICK_NUMBER = re.compile(r"^\s*(story|number|no\.?|#|card)\s*(?P<n>\d{1,2})\W*$", re.IGNORECASE)
_PICK_NAMED = re.compile(r"^\s*((i\s+)?mean(t)?\s+|no,?\s+)?(the\s+one\s+(about|with|on)\s+|the\s+)?(?P<name>.+?)"
                         r"(\s+(one|story))?(\s+please)?\W*$", re.IGNORECASE)


def picked_story(message: str, answers: Sequence[str]) -> int | None:
    """Which of a story-by-story answer's stories (``answers``: theirs, best first) a typed message picks, as
    "Follow this story" would: "the second one", "story 3", "the last one", "the Khodorkovsky one"; its index, or
    None when the message picks none (a question of any kind picks none)."""
    found = _PICK_ORDINAL.match(message) or _PICK_NUMBER.match(message)
    if found:
        groups = found.groupdict()
        number = groups.get("n") or groups.get("nth")
        place = int(number) if number else _ORDINALS[groups["which"].lower()]  # counted from 1; -1 is the last
        index = len(answers) - 1 if place == -1 else place - 1
        return index if 0 <= index < len(answers) else None
    said = words(message)
    if not said or len(said) > 6 or "?" in message or set(said) & QUESTION_WORDS or has_anaphora(message):
        return None
    named = _PICK_NAMED.match(message)
    wanted = set(words(named.group("name"))) if named else set()
    if not wanted:
        return None
    matching = [i for i, answer in enumerate(answers) if wanted <= set(words(answer))]
    return matching[0] if len(matching) == 1 else None


def chat_focus(turns: Sequence[Turn]) -> tuple[str, ...]:
    """The articles the chat is about: the focus the latest turn left (a declined follow-up keeps the story)."""
    for turn in reversed(turns):
        if turn.focus is not None:
            return turn.focus
        if turn.article_ids:
            return turn.article_ids
    return ()


# Messages that ask nothing: a greeting, thanks, an acknowledgement. Every word of the message must be one of these.
_GREETING = frozenset({"hi", "hello", "hey", "hiya", "howdy", "greetings", "morning", "afternoon", "evening"})
_THANKS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "ta", "appreciated", "appreciate"})
_FAREWELL = frozenset({"bye", "goodbye", "cya", "farewell"})
_PLEASANTRY = _GREETING | _THANKS | _FAREWELL | frozenset({
    "ok", "okay", "great", "cool", "nice", "perfect", "awesome", "brilliant", "excellent", "wow", "interesting",
})  # fmt: skip
_CHATTER = _PLEASANTRY | frozenset({
    "k", "kk", "fine", "sure", "alright", "right", "yes", "yeah", "yep", "no", "nope", "got", "it", "understood",
    "lol", "haha", "hmm", "good", "very", "much", "so", "a", "lot", "you", "that's", "thats", "there", "all", "for",
    "now", "see", "later", "again", "the", "noted",
})  # fmt: skip


def small_talk(message: str) -> str | None:
    """The reply to a message that asks nothing ("hello", "thanks", "ok great"), or None for anything else. Such a
    message is not read as a question: "thanks" after an answer would otherwise be read as a bare follow-up and
    answered with some span of the story."""
    said = words(message)
    if not said or not all(w in _CHATTER for w in said) or "?" in message:
        return None
    if any(w in _THANKS for w in said):
        return "You're welcome. Ask another question about the articles whenever you like."
    if any(w in _FAREWELL for w in said):
        return "Goodbye. The articles will be here when you come back."
    if any(w in _GREETING for w in said):
        return "Hello! Ask me a question about the articles."
    return "Ask me another question about the articles."


# A few words, then a comma or a stop: "thanks, ...", "ok great! ..." (words apart by separators, so no backtracking)
_LEADING_CHATTER = re.compile(r"^\s*([\w']+(?:[\s,]+[\w']+){0,5})\s*[,.!]+\s+(?=\S)")


def without_chatter(question: str) -> str:
    """The question without the pleasantry it opens with ("thanks, who was arrested?" -> "who was arrested?")."""
    found = _LEADING_CHATTER.match(question)
    said = words(found.group(1)) if found else []
    # "so, what happened?" and "no, I mean ..." keep their opener: it is part of what is asked
    if said and all(w in _CHATTER for w in said) and any(w in _PLEASANTRY for w in said):
        return question[found.end():]
    return question


_UNMARKED_CONTRACTION = re.compile(r"\b(what|who|where|when|why|how)s\b", re.IGNORECASE)


# "the guy auctioning his forehead, how many bids has he had": a topic said first, then a question about it; also
# a return to it ("back to bruce willis - who directed the film?")
_TOPIC_FIRST = re.compile(
    r"^\s*(?:(?P<back>(going\s+)?back\s+to|about|as\s+for|regarding)\s+(?P<returned>[^,?:;]*?)|"
    r"(?P<topic>(the|that|this|these|those|a|an)\s+[^,?:;]*?))\s*(,|\s-+\s|:)\s*"
    r"(?P<ask>(who|whom|whose|what|which|when|where|why|how)\b[^?]*)\??\s*$",
    re.IGNORECASE,
)
_POINTS_TO_IT = re.compile(r"\b(he|she|it|they|him|her|them|his|its|their)\b", re.IGNORECASE)


def topic_first(question: str) -> str | None:
    """A question that names its topic first and then asks about it by a pronoun, as the reader reads a follow-up:
    "how many bids has he had? (the guy auctioning his forehead)". Read as typed, the reader's best span ("39")
    scored 17%, under the bar; so worded, 50%. So is a return to a topic: "back to bruce willis - who directed the
    film" -> "who directed the film? (bruce willis)". None for any other question ("back in september 2003, how
    many ...?" sets a time, it names no topic)."""
    topic = named_topic(question)
    return f"{_TOPIC_FIRST.match(question).group('ask').strip()}? ({topic})" if topic else None


def named_topic(question: str) -> str | None:
    """The topic a question names first ("the guy auctioning his forehead", "bruce willis" of "back to bruce
    willis - who directed the film"), as topic_first reads it; None when it names none first."""
    found = _TOPIC_FIRST.match(question)
    if found is None or not (found.group("back") or _POINTS_TO_IT.search(found.group("ask"))):
        return None
    return (found.group("topic") or found.group("returned")).strip()


def with_apostrophes(question: str) -> str:
    """A question word's contraction typed without its apostrophe, as people type in a chat: "whats second" ->
    "what's second", so that it reads as a question word and not as a word of what is asked about."""
    return _UNMARKED_CONTRACTION.sub(r"\1's", question)


def words(question: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", question.lower())


def points_back(question: str) -> bool:
    """A pronoun that points back ("who said that?") or an elliptical opener ("and when?", "in which city?")."""
    return has_anaphora(question) or opens_as_follow_up(question)


def has_anaphora(question: str) -> bool:
    return bool({w.split("'")[0] for w in words(question)} & _ANAPHORA)


def opens_as_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP_OPENER.match(question.strip()))


# "the threat", "that deal", "these planes": a definite description. When its noun is one the chat has already said,
# it names that thing again ("who was suspected of making the threat?" after "...because of a bomb threat?").
_DEFINITE = re.compile(r"\b(?:the|that|this|these|those)\s+(?:same\s+|other\s+)?([a-z][a-z'-]*)", re.IGNORECASE)


def definite_nouns(question: str) -> list[str]:
    """The words right after "the", "that", "this", "these", "those" (the head of a short description)."""
    return [m.group(1).split("'")[0] for m in _DEFINITE.finditer(question)]


def with_followed_stories(turns: Sequence[Turn]) -> list[Turn]:
    """A story-by-story answer after which the chat went on with one of its stories (the next turn is about that
    story alone) said that story's answer: "who is replacing him?" two turns after following the "David Blunkett"
    card of "who resigned?" is about Blunkett, and he is not the answer."""
    out = list(turns)
    for i, turn in enumerate(turns[:-1]):
        after = set(turns[i + 1].focus or ())
        if not turn.stories or not after:
            continue
        followed = [k for k, ids in enumerate(turn.stories) if set(ids) & after]
        if len(followed) == 1 and followed[0] < len(turn.story_answers):
            k = followed[0]
            out[i] = replace(turn, answer=turn.story_answers[k], article_ids=turn.stories[k], stories=())
    return out


def said_in_chat(turns: Sequence[Turn]) -> str:
    """Everything the chat has said so far: its questions and the answers it showed."""
    return " ".join(exchange_text(turn) for turn in turns)


def is_bare(question: str) -> bool:
    """At most one word that says what the question is about ("what is the buyer called?", "who resigned?")."""
    tokens = [w.split("'")[0] for w in words(question)]
    return len([w for w in tokens if w not in QUESTION_WORDS and w not in _FUNCTION_WORDS]) <= 1


# "who is Gordon Brown?", "what was Yukos?": who or what, a form of "be", then one to four words.
_DEFINING = re.compile(r"^\s*(who|what)(\s*'s|\s+(is|was|are|were))\s+([\w'.&-]+(\s+[\w'.&-]+){0,3})\s*\??\s*$",
                       re.IGNORECASE)
_NOT_A_NAME = _ANAPHORA | frozenset({
    "the", "a", "an", "i", "you", "we", "my", "your", "our", "here", "happening", "next", "new", "there", "wrong",
    "with", "for", "in", "on", "at", "by", "from", "to", "about", "behind", "against", "after", "before", "under",
    "over", "like", "into", "not",
})  # fmt: skip


def defined_name(question: str) -> str | None:
    """The name a question asks about ("Gordon Brown" in "who is Gordon Brown?"): one person or thing, described in
    many articles, not a question that several stories answer differently ("who was arrested?", "who is the
    chancellor?", "who is being sued?"). A capitalised word is a name as typed; in lower case, a word ending like a
    verb form ("arrested", "suing", "chosen") is not one. None when the question is not of that kind."""
    found = _DEFINING.match(question)
    if not found:
        return None
    said = found.group(4).split()
    if any(w.lower().strip("'.") in _NOT_A_NAME for w in said):
        return None
    if any(w[0].isupper() for w in said) or not any(w.lower().endswith(("ed", "ing", "en")) for w in said):
        return " ".join(said)
    return None


# A capitalised word names something ("I'm a Celebrity", "Wal-Mart"), except the first word and "I".
_CAPITALISED = re.compile(r"(?<![\w'’-])([A-Z][\w'’&.-]*)")


def named_words(question: str) -> list[str]:
    """The words a question capitalises after its first one: what it names of its own ("who won I'm a Celebrity
    in 2004?" -> ["Celebrity"]). People typing in lower case name nothing here, and nothing follows from that."""
    found = []
    for match in _CAPITALISED.finditer(question.strip()):
        word = re.split(r"['’]", match.group(1))[0].rstrip(".")
        if match.start() > 0 and word and word != "I":
            found.append(word)
    return found


_WHAT_IS = re.compile(r"^\s*what(\s*'s|\s+(is|are|was|were))\s+((the|a|an)\s+)?([\w'.&-]+(\s+[\w'.&-]+){0,2})\s*\??\s*$",
                      re.IGNORECASE)


def thing_asked_about(question: str) -> str | None:
    """The thing a "what is ...?" question asks to be told about, in lower case as typed ("cell chip" in "what is the
    cell chip?"); None for other questions and for "what is the show called?" or "what is it?"."""
    found = _WHAT_IS.match(question)
    if not found:
        return None
    said = found.group(5).split()
    if any(w.lower().strip("'.") in _NOT_A_NAME or w.lower().endswith("ed") for w in said):
        return None
    return " ".join(said)


def asks_what_it_is(question: str) -> bool:
    return defined_name(question) is not None


def leans_on_chat(question: str) -> bool:
    """Said the way a follow-up is said: it points back, or it is bare."""
    return points_back(question) or is_bare(question)


def last_exchange(turns: Sequence[Turn]) -> Turn | None:
    """The exchange a follow-up leans on: the latest one that was answered, by one answer or story by story (a
    declined turn says nothing of what "it" is), or a later declined one that moved the chat to another story ("what
    is the cell chip?" in a chat about a football transfer: "who made it?" is the chip's maker), else the latest."""
    for i in range(len(turns) - 1, -1, -1):
        turn = turns[i]
        if turn.answer or turn.stories:
            return turn
        if i > 0 and turn.focus is not None and turns[i - 1].focus is not None and turn.focus != turns[i - 1].focus:
            return turn
    return turns[-1] if turns else None


def exchange_named(question: str, turns: Sequence[Turn]) -> Turn | None:
    """The exchange a follow-up leans on: the last one (``last_exchange``), unless the question names what it means
    by a description the last one does not say and an earlier answered one does: "which former head of that bank
    was jailed?" after "how much money went missing at the Chinese bank?" and a turn about the city."""
    previous = last_exchange(turns)
    nouns = {n.lower().removesuffix("s") for n in definite_nouns(question)} - QUESTION_WORDS
    if previous is None or not nouns or nouns & _said_words(previous):
        return previous
    for turn in reversed(turns):
        if (turn.answer or turn.stories) and nouns & _said_words(turn):
            return turn
    return previous


def _said_words(turn: Turn) -> set[str]:
    said = set(re.findall(r"[a-z][a-z'-]*", exchange_text(turn).lower()))
    return said | {w[:-1] for w in said if w.endswith("s")}


def context_query(question: str, turns: Sequence[Turn]) -> str:
    """The question with the chat's last exchange beside it, so that "where did it happen?" finds the passages
    about what "it" was."""
    previous = exchange_named(question, turns)
    if previous is None:
        return question
    return " ".join(part for part in (question, previous.question, previous.answer) if part)


def exchange_before(turns: Sequence[Turn], turn: Turn | None) -> Turn | None:
    """The latest answered exchange before ``turn`` in the chat, if any."""
    index = next((i for i in range(len(turns) - 1, -1, -1) if turns[i] is turn), None)
    if index is None:
        return None
    return next((t for t in reversed(turns[:index]) if t.answer or t.stories), None)


def reader_question(question: str, turns: Sequence[Turn], exchange: Turn | None = None) -> str:
    """What the reader is asked for a follow-up that points back, is elliptical or bare: the question first (its
    wording decides the answer's type), the last exchange (or ``exchange``) after it in brackets to say what "it"
    and "they" are. Chosen over the question alone and over the exchange put first by their turn F1 on the
    conversation dev file (qa eval conversations_dev.jsonl). A follow-up that says what it asks about is read alone
    (Answerer._ask_in_focus)."""
    previous = exchange or exchange_named(question, turns)
    if previous is None:
        return question
    return f"{question} ({exchange_text(previous)})"


def exchange_text(turn: Turn) -> str:
    return " ".join(part for part in (turn.question, turn.answer) if part)


# Words a figure shares with any other figure: the same currency is not the same sum
_UNITS = frozenset("euro euros dollar dollars pound pounds pence cents yen yuan per cent percent m bn million billion "
                   "thousand".split())


def repeats(answer: str, previous: Turn) -> bool:
    """A follow-up asks for something new: an answer made of the last exchange's words, or half made of the last
    answer's ("Real Madrid's Bernabeu stadium" again for "who were they playing?"), is the reader echoing the
    context, not answering."""
    words = [w for w in normalize_answer(answer).split() if w not in _UNITS]  # "3.35m Euros" after "5.45m Euros"
    if not words:
        return False
    said = set(normalize_answer(exchange_text(previous)).split())
    last = set(normalize_answer(previous.answer).split())
    return all(w in said for w in words) or sum(w in last for w in words) * 2 >= len(words)


# "who did he take over from?": a question about someone the chat has named, by a pronoun
_ABOUT_SOMEONE = re.compile(r"^\s*(who|whom)\b.*\b(he|she|him|her|his)\b", re.IGNORECASE)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "dame", "prof", "president", "minister"})


def is_the_referent(question: str, answer: str, turns: Sequence[Turn]) -> bool:
    """"who did he take over from?" in a chat about Jim Callaghan is not answered "Lord Callaghan (of Cardiff)":
    "he" is the person the chat has named (in a question typed or an answer shown), so an answer holding a name the
    chat has said is about that person again ("... and became Lord Callaghan" too)."""
    if not _ABOUT_SOMEONE.search(question):
        return False
    said = set(normalize_answer(said_in_chat(turns)).split())
    names = [normalize_answer(w) for w in answer.split()
             if w[:1].isupper() and w.strip(".,'\"").lower() not in _TITLES]
    return any(name in said for name in names if name)


_PLURAL_PRONOUN = re.compile(r"\b(they|them|their)\b", re.IGNORECASE)


def owns_last_answer(question: str, span: Span, previous: Turn) -> bool:
    """"who were they playing?" after "which stadium was evacuated?" -> "Bernabeu stadium", cited in "Real Madrid's
    Bernabeu stadium": "they" is not the stadium (one thing) but whose it is, so "Real Madrid" is who the question
    is about, not its answer. ("who owns it?" asks for the owner: only "they", "them" and "their" point past it.)"""
    if not _PLURAL_PRONOUN.search(question):
        return False
    passage = span.passage
    for article_id, start, _ in previous.cited:
        if article_id == passage.article_id and passage.start <= span.end <= start <= passage.end:
            # "Real Madrid" or "Real Madrid's", right before it
            between = passage.text[span.end - passage.start : start - passage.start]
            if re.fullmatch(r"(['’]s?)?\s*", between) and re.search(r"['’]s?\s+$", span.text + between):
                return True
    return False


def overlaps_last_answer(span: Span, previous: Turn) -> bool:
    """A follow-up asks for something new: a span inside the characters the last answer was cited at, or across
    one of their ends ("Real Madrid's Bernabeu" after "Bernabeu stadium", for "who were they playing?"), is the
    reader pointing back at it. One that holds it whole says more ("Uganda's Media Council" after "Uganda")."""
    article_id = span.passage.article_id
    return any(a == article_id and span.start < end and start < span.end
               and not (span.start <= start and end <= span.end) for a, start, end in previous.cited)


def restates(question: str, span: Span, previous: Turn) -> bool:
    """A follow-up asks for something new: the conversion of the last answer's sum ("£2.1bn" after "$4bn" in
    "$4bn (£2.1bn)", for "how much does each plane cost?") is the same figure again, unless the question asks for
    another currency."""
    passage = span.passage
    return not asks_for_currency(question) and any(
        article_id == passage.article_id
        and converts(passage.text, (start, end), (span.start, span.end), base=passage.start)
        for article_id, start, end in previous.cited
    )
