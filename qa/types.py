"""The typed values that cross module boundaries. Every start/end is a character offset into Article.text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    """One article exactly as stored; ``text`` is never rewritten, so offsets into it stay valid."""

    id: str
    text: str
    title: str = ""
    url: str | None = None
    date: str | None = None
    author: str | None = None
    # Character ranges of text that is not article prose (repeated captions, comment widgets). They stay in
    # ``text`` so offsets hold, but no passage is made from them.
    boilerplate: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article: ``article.text[start:end] == text``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its place in the original article."""

    article_id: str
    title: str
    text: str
    start: int
    end: int
    score: float
    chunk_id: int = -1
    url: str | None = None
    date: str | None = None
    author: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    """An answer span a reader found in one passage, in article coordinates."""

    text: str
    start: int
    end: int
    score: float  # the reader's probability for this span in its window, 0-1
    passage: Passage
    logit: float = 0.0  # start_logit + end_logit of the span
    null_logit: float = 0.0  # start_logit + end_logit of CLS ("no answer") in the same window


@dataclass(frozen=True)
class Citation:
    article_id: str
    title: str
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    url: str | None = None
    date: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Story:
    """One story's answer to a question that several stories answer differently ("who was arrested?"). A story is
    one article, or a group of near-duplicate articles about the same event (``article_ids``, best first)."""

    text: str
    confidence: float
    citations: list[Citation]
    article_ids: tuple[str, ...]
    title: str = ""
    date: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """``alternatives`` are other answers within the same story; ``stories`` are the answers of different stories
    when several answer the question (then ``text`` says so and ``stories[0]`` is the best). ``understood_as`` is
    the question as it was read (a follow-up reads with the chat's context) and ``focus`` the articles the chat is
    about after this answer: the next follow-up is answered from them first. ``elsewhere``: for a question the
    chat's story did not answer, how many other articles hold all its words (asked again with the story cleared, it
    is read in them). ``small_talk``: the message asked nothing ("hello", "thanks"), or nothing the chat can answer
    without being told more ("who wrote the article?" in a new chat); ``text`` replies to it and the chat's focus is
    unchanged. ``unwritten``: for a declined question, the figures it names that none of the articles read ever
    writes ("2010" of "who won the 2010 world cup?" over reports on 2006): why nothing was found. ``yes_no``: the
    question asks for a yes or no ("has it been pulled?"), which no span quoted from an article is: it is declined,
    with the closest passages."""

    question: str
    text: str
    found: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    alternatives: list["Answer"] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    understood_as: str = ""
    focus: tuple[str, ...] = ()
    follow_up: bool = False
    elsewhere: int = 0
    small_talk: bool = False  # the message asked nothing ("thanks"): ``text`` is a reply, not an answer
    unwritten: tuple[str, ...] = ()
    yes_no: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "sport/199.txt: decoded as latin-1"
    chunks_embedded: int = 0
    generation: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{self.unchanged} unchanged",
        ]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return f"{', '.join(parts)}; {self.chunks_embedded} chunks embedded in {self.seconds:.1f}s"


@dataclass(frozen=True)
class IndexStatus:
    index_dir: str
    exists: bool
    generation: int = 0
    articles: int = 0
    chunks: int = 0
    last_sync: str | None = None
    embedder: str | None = None
    dimension: int | None = None
    store: str | None = None
    segments: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def answer_from_dict(data: dict) -> Answer:
    """An Answer back from Answer.to_dict() (as kept in the browser); unknown keys are ignored."""

    def citation(c: dict) -> Citation:
        return Citation(**{k: c.get(k) for k in Citation.__dataclass_fields__ if k in c})

    def passage(p: dict) -> Passage:
        return Passage(**{k: p.get(k) for k in Passage.__dataclass_fields__ if k in p})

    def story(s: dict) -> Story:
        return Story(
            text=str(s.get("text", "")), confidence=float(s.get("confidence", 0.0)),
            citations=[citation(c) for c in s.get("citations") or []],
            article_ids=tuple(s.get("article_ids") or ()), title=str(s.get("title") or ""), date=s.get("date"),
        )

    return Answer(
        question=str(data.get("question", "")),
        text=str(data["text"]),
        found=bool(data["found"]),
        confidence=float(data.get("confidence", 0.0)),
        citations=[citation(c) for c in data.get("citations") or []],
        alternatives=[answer_from_dict(a) for a in data.get("alternatives") or []],
        passages=[passage(p) for p in data.get("passages") or []],
        stories=[story(s) for s in data.get("stories") or []],
        understood_as=str(data.get("understood_as") or ""),
        focus=tuple(data.get("focus") or ()),
        follow_up=bool(data.get("follow_up")),
        elsewhere=int(data.get("elsewhere") or 0),
        small_talk=bool(data.get("small_talk")),
        unwritten=tuple(str(f) for f in data.get("unwritten") or ()),
        yes_no=bool(data.get("yes_no")),
    )
