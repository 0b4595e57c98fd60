"""What the rest of the project needs from an extractive reader, independent of the library behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from qa.types import Passage, Span


@runtime_checkable
class Reader(Protocol):
    """Finds answer spans for a question in retrieved passages.

    ``read`` returns at most ``top_k`` distinct spans over all passages, best (highest ``Span.score``) first, in
    article coordinates: ``passage.text[span.start - passage.start : span.end - passage.start] == span.text``.
    With ``allow_no_answer`` a span is only returned when it beats its window's "no answer" score, so an empty list
    means the reader abstains; without it the best spans are returned regardless.
    """

    name: str

    def load(self) -> None:
        """Load weights now (``read`` also does it on first use); calling it again does nothing."""
        ...

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        top_k: int = 3,
        allow_no_answer: bool = True,
    ) -> list[Span]: ...
