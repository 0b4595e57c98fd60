"""articles-qa: question answering over a collection of articles, with exact citations.

Importing this package is cheap: models load on first use.
"""

from qa.engine import Engine
from qa.errors import QAError
from qa.settings import Settings
from qa.types import Answer, Article, Chunk, Citation, IndexStatus, Passage, Span, Story, SyncReport

__all__ = [
    "Answer",
    "Article",
    "Chunk",
    "Citation",
    "Engine",
    "IndexStatus",
    "Passage",
    "QAError",
    "Settings",
    "Span",
    "Story",
    "SyncReport",
]
