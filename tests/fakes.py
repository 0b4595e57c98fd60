"""Fakes shared by tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from qa.answer.figures import figures
from qa.types import Span


def write_squad(folder: Path, articles: dict) -> Path:
    """A SQuAD 1.1 json.gz of ``{title: [(context, [(question, answer), ...]), ...]}``, each answer at its first
    occurrence in its context."""
    data = []
    for n, (title, paragraphs) in enumerate(articles.items()):
        entries = [{"context": context, "qas": [
            {"id": f"{n}-{p}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
            for i, (q, a) in enumerate(qas)]} for p, (context, qas) in enumerate(paragraphs)]
        data.append({"title": title, "paragraphs": entries})
    path = folder / "train.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"data": data, "version": "1.1"}, handle)
    return path


class PhraseReader:
    """Finds known phrases in passages; their logit margins say how sure it is."""

    name = "phrase-reader"

    def __init__(self, phrases: dict[str, float], *, every: bool = False):
        self.phrases = phrases
        self.every = every  # each occurrence in a passage, not only the first

    def load(self):
        pass

    def read(self, question, passages, *, top_k=3, allow_no_answer=True):
        spans = []
        for passage in passages:
            for phrase, margin in self.phrases.items():
                at = passage.text.find(phrase)
                while at >= 0:
                    start = passage.start + at
                    spans.append(Span(phrase, start, start + len(phrase), 0.9, passage, logit=margin, null_logit=0.0))
                    at = passage.text.find(phrase, at + 1) if self.every else -1
        return sorted(spans, key=lambda s: -s.logit)[: top_k * len(passages)]


class StaticRetriever:
    """A retriever that always returns the same passages and knows no terms (no question is open to stories)."""

    def __init__(self, passages):
        self.passages = list(passages)
        self.terms = _NoTerms()

    def search(self, query, k, *, leaders=False, rarest=None):
        return self.passages[:k]

    def phrase_passage(self, question, passages, asking):
        return None

    def search_within(self, query, article_ids, k):
        return [p for p in self.passages if p.article_id in article_ids][:k]

    def coverage(self, terms, article_ids):
        return 1.0

    def article_terms(self, article_id):
        return frozenset()

    def articles_terms(self, article_ids):
        return frozenset()

    def article_figures(self, article_id):
        return figures(" ".join(p.text for p in self.passages if p.article_id == article_id))

    def articles_with_all(self, terms):
        return set()

    def rarest(self, terms):
        return None


class _NoTerms:
    def terms(self, text):
        return []

    def idf(self, term):
        return 1.0
