"""Retrieval bound to one index generation: everything a question reads comes from the same generation, even if a
writer publishes a newer one meanwhile. Besides the collection-wide hybrid search it answers the chat's narrower
needs: the passages of the articles a conversation is about, and the best passage of every article that holds a
question's words (for a question many stories answer)."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from qa.answer.figures import figures
from qa.settings import Settings
from qa.types import Passage

MAX_POSTINGS = 50_000  # a term in more chunks than this is too common to pick stories by
MAX_PHRASE_CHUNKS = 200  # a run of words in more chunks than this is common: the passages found hold it already
_WORD = re.compile(r"[\w'’-]+")


class Retriever:
    def __init__(self, generation, embedder, settings: Settings):
        self.generation = generation
        self.embedder = embedder
        self.settings = settings
        self.terms = generation.lexical  # its tokenizer, stemmer and term statistics
        self._vectors: dict[str, np.ndarray] = {}
        self._article_terms: dict[str, frozenset[str]] = {}
        self._article_figures: dict[str, frozenset[str]] = {}
        self._chunk_articles: dict[int, str] = {}

    def embed(self, text: str) -> np.ndarray:
        vector = self._vectors.get(text)
        if vector is None:
            vector = self._vectors[text] = np.asarray(self.embedder.embed([text]), dtype=np.float32).reshape(1, -1)
        return vector

    def search(self, query: str, k: int, *, leaders: bool = False, rarest: str | None = None) -> list[Passage]:
        """Collection-wide: dense and BM25 rankings fused, as configured; ``leaders``: each ranking's first passage
        follows when fusion left it out of the k although the other ranking holds it too, or when it alone holds
        ``rarest``, the question's rarest word (qa.store.index.LoadedGeneration.hybrid_search)."""
        s = self.settings
        return self.generation.hybrid_search(
            query,
            self.embed(query),
            k,
            mode=s.retrieval,
            weights=(s.fusion_dense_weight, s.fusion_lexical_weight),
            depth=s.fusion_depth,
            rank_constant=s.fusion_rank_constant,
            leaders=leaders,
            rarest=rarest,
        )

    def search_within(self, query: str, article_ids: Sequence[str], k: int) -> list[Passage]:
        """The passages of these articles closest to the query, best first."""
        chunk_ids = self._chunks_of(article_ids)
        return self._ranked(query, chunk_ids, k)

    def article_terms(self, article_id: str) -> frozenset[str]:
        terms = self._article_terms.get(article_id)
        if terms is None:
            article = self.generation.article(article_id)
            text = f"{article.title}\n{article.text}" if article else ""
            terms = self._article_terms[article_id] = frozenset(self.terms.terms(text))
        return terms

    def article_figures(self, article_id: str) -> frozenset[str]:
        """The figures its headline and text write (qa.answer.figures)."""
        found = self._article_figures.get(article_id)
        if found is None:
            article = self.generation.article(article_id)
            found = self._article_figures[article_id] = figures(f"{article.title}\n{article.text}" if article else "")
        return found

    def articles_terms(self, article_ids: Iterable[str]) -> frozenset[str]:
        """The words of all these articles together."""
        return frozenset().union(*(self.article_terms(a) for a in article_ids))

    def coverage(self, question_terms: Sequence[str], article_ids: Iterable[str]) -> float:
        """The share of the question's information (IDF-weighted terms) found in these articles' words."""
        if not question_terms:
            return 1.0
        held = self.articles_terms(article_ids)
        weights = {t: self.terms.idf(t) for t in question_terms}
        total = sum(weights.values()) or 1.0
        return sum(w for t, w in weights.items() if t in held) / total

    def rarest(self, terms: Sequence[str]) -> str | None:
        """The term fewest chunks hold (one no chunk holds is rarest of all); None for no terms."""
        return max(terms, key=self.terms.idf) if terms else None

    def articles_with(self, term: str) -> set[str]:
        """The articles holding ``term`` in some chunk."""
        return set(self._article_of(self.terms.postings(term)).values())

    def articles_with_all(self, terms: Sequence[str]) -> set[str]:
        """The articles holding every one of these terms (each in some chunk)."""
        if not terms:
            return set()
        held: set[str] | None = None
        for term in sorted(terms, key=lambda t: -self.terms.idf(t)):  # rarest first: the sets only shrink
            if len(self.terms.postings(term)) > MAX_POSTINGS:
                continue  # in nearly every article: it tells nothing, and mapping it would cost
            articles = self.articles_with(term)
            held = articles if held is None else held & articles
            if not held:
                break
        return held or set()

    def sentences_with(self, question: str, terms: Sequence[str], *, per_article: int = 1, limit: int = 64,
                       min_coverage: float = 0.6) -> list[Passage]:
        """Sentences that hold most of the question's information (``min_coverage`` of its IDF-weighted terms,
        the rarest always), each with the sentence before it, as short passages: the earliest ``per_article`` of
        each article (news says the main thing first; the title line is skipped, a headline names no one), articles
        whose best chunk is closest to
        the question first, at most ``limit`` in all. A sentence costs a fraction of a chunk to read, so a
        question that many articles answer can be read in all of them."""
        if not terms:
            return []
        rarest = self.rarest(terms)
        weights = {t: self.terms.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        chunk_ids = self.terms.postings(rarest)
        if len(chunk_ids) > MAX_POSTINGS:
            return []
        chunks = self.generation.passages_for(chunk_ids.tolist(), self._cosines(question, chunk_ids).tolist())
        closest: dict[str, float] = {}  # each article's best chunk cosine: its sentences carry it as their score
        spans: dict[str, list[tuple[int, int]]] = {}
        for chunk in chunks:
            spans.setdefault(chunk.article_id, []).append((chunk.start, chunk.end))
            closest[chunk.article_id] = max(closest.get(chunk.article_id, -1.0), chunk.score)
        out: list[Passage] = []
        for article_id in sorted(spans, key=lambda a: -closest.get(a, 0.0)):
            article = self.generation.article(article_id)
            taken = 0
            sentences = self.generation.sentences(article_id)
            for i, (start, end) in enumerate(sentences):
                if taken >= per_article or len(out) >= limit:
                    break
                text = article.text[start:end]
                if text.strip() == article.title.strip() or not any(lo <= start < hi for lo, hi in spans[article_id]):
                    continue
                held = set(self.terms.terms(text))
                if rarest not in held or sum(w for t, w in weights.items() if t in held) / total < min_coverage:
                    continue
                taken += 1
                # With the sentence before it (unless that is the headline): who "he" is, what "the groups" are.
                if i > 0 and article.text[sentences[i - 1][0] : sentences[i - 1][1]].strip() != article.title.strip():
                    start = sentences[i - 1][0]
                out.append(Passage(article_id, article.title, article.text[start:end], start, end,
                                   closest.get(article_id, 0.0), -1, article.url, article.date, article.author))
            if len(out) >= limit:
                break
        return out

    def phrase_passage(self, question: str, passages: Sequence[Passage], asking: frozenset[str]) -> Passage | None:
        """When none of ``passages`` writes a name the question gives ("jonny evans" of "who is jonny evans": a run
        of its words that some passage writes capitalised), the passage closest to the question of those that write
        it: BM25 scores the words apart,
        and "Jonny" (Wilkinson) and "Evans" (Chris) are common; the one article that writes "Jonny Evans" was not
        among the passages read. Runs of two or three words that say what the question is about (not ``asking``:
        the stems of its question words), the longest first."""
        for phrase in self._phrases(question, asking):
            words = r"\s+".join(map(re.escape, phrase))
            pattern = re.compile(rf"(?<![\w'’-]){words}(?![\w'’-])", re.IGNORECASE)
            if any(pattern.search(p.text) for p in passages):
                return None  # read already
            chunk_ids: np.ndarray | None = None
            for term in dict.fromkeys(t for word in phrase for t in self.terms.terms(word)):
                held = self.terms.postings(term)
                chunk_ids = held if chunk_ids is None else np.intersect1d(chunk_ids, held)
            if chunk_ids is None or not 0 < len(chunk_ids) <= MAX_PHRASE_CHUNKS:
                continue
            cosines = self._cosines(question, chunk_ids)
            order = np.argsort(-cosines, kind="stable")
            found = self.generation.passages_for(chunk_ids[order].tolist(), cosines[order].tolist())
            # a name, as the text writes it ("Jonny Evans"), however it was typed: not "deal worth"
            writing = [p for p in found if any(all(w[:1].isupper() for w in m.group().split())
                                               for m in pattern.finditer(p.text))]
            if writing:
                return writing[0]
        return None

    def _phrases(self, question: str, asking: frozenset[str]) -> list[list[str]]:
        """Runs of two or three adjacent words of the question, each a term of the index other than a question
        word, longest first."""
        runs, run, last_end = [], [], -1
        for match in _WORD.finditer(question):
            terms = self.terms.terms(match.group())
            content = bool(terms) and not set(terms) <= asking
            if content and run and question[last_end : match.start()].isspace():
                run.append(match.group())
            else:
                if len(run) >= 2:
                    runs.append(run)
                run = [match.group()] if content else []
            last_end = match.end()
        if len(run) >= 2:
            runs.append(run)
        grams = [r[i : i + n] for n in (3, 2) for r in runs for i in range(len(r) - n + 1)]
        return grams

    # -- helpers ---------------------------------------------------------------------------------------------
    def _ranked(self, query: str, chunk_ids: np.ndarray, k: int) -> list[Passage]:
        if not len(chunk_ids):
            return []
        cosines = self._cosines(query, chunk_ids)
        order = np.argsort(-cosines, kind="stable")[:k]
        return self.generation.passages_for(chunk_ids[order].tolist(), cosines[order].tolist())

    def _cosines(self, query: str, chunk_ids: np.ndarray) -> np.ndarray:
        vectors = self.generation.vectors(np.asarray(chunk_ids, dtype=np.int64))
        return (vectors @ self.embed(query).reshape(-1)).astype(np.float32)

    def _chunks_of(self, article_ids: Sequence[str]) -> np.ndarray:
        return np.asarray(self.generation.chunks_of(sorted(set(article_ids))), dtype=np.int64)

    def _article_of(self, chunk_ids: np.ndarray) -> dict[int, str]:
        known = self._chunk_articles
        missing = [i for i in np.asarray(chunk_ids).tolist() if i not in known]
        if missing:
            known.update(self.generation.chunk_articles(missing))
        return {int(i): known[int(i)] for i in np.asarray(chunk_ids).tolist() if int(i) in known}
