"""Turn SQuAD questions into fixed-size training windows, stored as flat numpy arrays (no pickle).

A question whose context is longer than one window yields several windows; a window that does not contain the
answer is labelled with the CLS position (0, 0), which teaches the reader to abstain. On top of those natural
negatives, a share of questions is also paired with another paragraph of the same article (a hard negative: same
topic, no answer), and, with ``near_miss_share``, near misses (qa/train/near_miss.py) are added: a question with one
name, number, year or ordinal swapped for one its paragraph lacks, paired with that paragraph and labelled (0, 0)
in every window (the hardest negative: same paragraph, a span of the right type is there, the fact asked is not).
With ``follow_up_share``, follow-ups (qa/train/follow_ups.py) are added too, worded as a chat reads them ("which
team represented the NFC at it? (which event ... Super Bowl 50)", or, with ``follow_up_ellipsis``, "which team
represented the NFC? (...)"): labelled with their answer in their own paragraph,
and, for ``negative_share`` of them, paired with another paragraph of the article as (0, 0). With
``low_overlap_share``, the questions worded least like their answer's sentence (qa/train/low_overlap.py) are read
``low_overlap_copies`` more times, labelled with their answer. With ``headline_share``, that share of questions is
read again over its paragraph with a news-style headline on top (qa/train/headlines.py), labelled with the answer in
the body, and for ``negative_share`` of them paired with another paragraph of the article as (0, 0).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.eval.squad import SquadQuestion
from qa.train.follow_ups import follow_ups
from qa.train.headlines import headlined
from qa.train.low_overlap import least_overlapping
from qa.train.near_miss import near_misses


@dataclass
class FeatureSet:
    """Variable-length windows packed into flat arrays; window i is ids[offsets[i]:offsets[i+1]]."""

    ids: np.ndarray  # int32, flat token ids
    type_ids: np.ndarray  # int8, flat segment ids
    offsets: np.ndarray  # int64, n+1 boundaries
    starts: np.ndarray  # int32, start token (0 = no answer)
    ends: np.ndarray  # int32, end token (0 = no answer)

    def __len__(self) -> int:
        return len(self.starts)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def save(self, folder: Path, meta: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("ids", "type_ids", "offsets", "starts", "ends"):
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, folder: Path, meta: dict) -> "FeatureSet | None":
        meta_path = folder / "meta.json"
        if not meta_path.exists() or json.loads(meta_path.read_text()) != meta:
            return None
        arrays = {
            name: np.load(folder / f"{name}.npy", allow_pickle=False)
            for name in ("ids", "type_ids", "offsets", "starts", "ends")
        }
        return cls(**arrays)


def _label_window(offsets, sequence_ids, answer_start: int, answer_end: int) -> tuple[int, int]:
    """Token positions of the answer inside one window, or (0, 0) when the window does not hold all of it."""
    context_tokens = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context_tokens[0], context_tokens[-1]
    if offsets[first][0] > answer_start or offsets[last][1] < answer_end:
        return 0, 0
    start = first
    while start <= last and offsets[start][1] <= answer_start:
        start += 1
    end = last
    while end >= first and offsets[end][0] >= answer_end:
        end -= 1
    if start > end:
        return 0, 0
    return start, end


def build_features(
    questions: list[SquadQuestion],
    tokenizer,
    *,
    max_length: int,
    stride: int,
    negative_share: float,
    seed: int,
    near_miss_share: float = 0.0,
    follow_up_share: float = 0.0,
    follow_up_ellipsis: float = 0.0,
    low_overlap_share: float = 0.0,
    low_overlap_copies: int = 1,
    headline_share: float = 0.0,
    batch: int = 1000,
) -> FeatureSet:
    """Windows of every question over its own paragraph (labelled with the answer, or (0, 0) where a window lacks
    it), the other-paragraph negatives (``negative_share`` of questions), then ``near_miss_share`` x len(questions)
    near misses over their own paragraph, all windows (0, 0). Deterministic for a seed; the near misses draw from
    their own random stream, so adding them leaves the other windows as they were."""
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = {}
    for q in questions:
        contexts = by_title.setdefault(q.title, [])
        if not contexts or contexts[-1] != q.context:
            contexts.append(q.context)

    ids: list[np.ndarray] = []
    type_ids: list[np.ndarray] = []
    starts: list[int] = []
    ends: list[int] = []

    def add(encoding, index, start, end):
        ids.append(np.asarray(encoding["input_ids"][index], dtype=np.int32))
        type_ids.append(np.asarray(encoding["token_type_ids"][index], dtype=np.int8))
        starts.append(start)
        ends.append(end)

    def add_answered(asked: list[tuple[str, SquadQuestion]], negatives_rng: random.Random, *,
                     negatives: bool = True) -> None:
        """Windows of each (reader input, question) over the question's own paragraph, labelled with its answer (or
        (0, 0) where a window lacks it), then, for ``negative_share`` of them, one over another paragraph of the
        same article, labelled (0, 0)."""
        for lo in range(0, len(asked), batch):
            chunk = asked[lo : lo + batch]
            enc = tokenizer(
                [text for text, _ in chunk],
                [q.context for _, q in chunk],
                truncation="only_second",
                max_length=max_length,
                stride=stride,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            for i, owner in enumerate(enc["overflow_to_sample_mapping"]):
                q = chunk[owner][1]
                answer_start = q.answer_starts[0]
                answer_end = answer_start + len(q.answers[0])
                start, end = _label_window(enc["offset_mapping"][i], enc.sequence_ids(i), answer_start, answer_end)
                add(enc, i, start, end)
            if not negatives:
                continue
            pairs = []
            for text, q in chunk:
                others = [c for c in by_title[q.title] if c != q.context]
                if others and negatives_rng.random() < negative_share:
                    pairs.append((text, negatives_rng.choice(others)))
            if pairs:
                neg = tokenizer([n[0] for n in pairs], [n[1] for n in pairs], truncation="only_second",
                                max_length=max_length)
                for i in range(len(pairs)):
                    add(neg, i, 0, 0)

    add_answered([(q.question.lstrip(), q) for q in questions], rng)

    made = near_misses(questions, round(near_miss_share * len(questions)), random.Random(f"near-miss:{seed}"))
    for lo in range(0, len(made), batch):
        chunk = made[lo : lo + batch]
        enc = tokenizer(
            [m.question.lstrip() for m in chunk],
            [m.source.context for m in chunk],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
        )
        for i in range(len(enc["input_ids"])):
            add(enc, i, 0, 0)

    asked = follow_ups(questions, round(follow_up_share * len(questions)), random.Random(f"follow-up:{seed}"),
                       ellipsis_share=follow_up_ellipsis)
    add_answered([(f.reader_input, f.source) for f in asked], random.Random(f"follow-up-negatives:{seed}"))

    # Reworded questions read again, answered only: their point is that few shared words is no reason to abstain.
    reworded = least_overlapping(questions, low_overlap_share)
    for _ in range(low_overlap_copies if reworded else 0):
        add_answered([(q.question.lstrip(), q) for q in reworded], rng, negatives=False)

    # The first passage of an article starts with its headline: context to read, never where the answer is.
    titled = headlined(questions, headline_share, random.Random(f"headline:{seed}"))
    add_answered([(q.question.lstrip(), q) for q in titled], random.Random(f"headline-negatives:{seed}"))

    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    return FeatureSet(
        ids=np.concatenate(ids),
        type_ids=np.concatenate(type_ids),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        starts=np.asarray(starts, dtype=np.int32),
        ends=np.asarray(ends, dtype=np.int32),
    )
