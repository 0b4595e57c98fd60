"""Turn a reader's raw span scores into a calibrated probability that the answer is right.

A small logistic regression over features of the best span, fitted by scripts/calibrate_reader.py on SQuAD dev
(right answers vs wrong ones, plus questions paired with passages that do not hold their answer) and saved as
calibration.json beside the reader's weights. Without that file a plain sigmoid of (span logit - no-answer logit)
is used, which ranks the same way but is not fitted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.types import Span

FEATURES = ("margin", "log_prob", "retrieval")


def span_features(span: Span, *, retrieval: bool = True) -> list[float]:
    """``retrieval=False`` for fitting: the passage's cosine is on the embedder's own scale, so a weight fitted on it
    is wrong for any other embedder (QA_EMBEDDER), and it added nothing held out (README, "The reader"). The shipped
    calibration is fitted without it; a zero column gets weight 0 exactly."""
    return [
        span.logit - span.null_logit,  # how much the span beats "no answer" in its window
        math.log(max(span.score, 1e-9)),  # the span's probability within its window
        float(span.passage.score) if retrieval else 0.0,  # how close the passage was to the question
    ]


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...] = (1.0, 0.0, 0.0)
    bias: float = 0.0
    threshold: float = 0.5
    fitted_on: str = "not fitted: sigmoid(span logit - no-answer logit)"

    def confidence(self, span: Span) -> float:
        return self.confidence_from_features(span_features(span))

    def confidence_from_features(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, folder: str | Path | None, entry: str | None = None) -> "Calibration":
        """The reader's calibration; ``entry`` names a more specific one in the same file (e.g. "follow_up"), used
        when present, else the main one."""
        path = Path(folder) / "calibration.json" if folder else None
        if path is None or not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        if entry and isinstance(data.get(entry), dict):
            data = data[entry]
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]), data.get("fitted_on", ""))

    def save(self, folder: str | Path, extra: dict | None = None) -> None:
        data = {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "fitted_on": self.fitted_on,
            **(extra or {}),
        }
        (Path(folder) / "calibration.json").write_text(json.dumps(data, indent=2))


def fit_logistic(x: Sequence[Sequence[float]], y: Sequence[int], *, l2: float = 1e-3, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method for L2-regularised logistic regression; few features, so this is exact and fast."""
    X = np.hstack([np.asarray(x, dtype=np.float64), np.ones((len(x), 1))])
    t = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -50, 50)))
        gradient = X.T @ (p - t) + l2 * np.r_[w[:-1], 0.0]
        hessian = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def _arrays(x, right, answerable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.asarray(x, dtype=np.float64), np.asarray(right, dtype=bool), np.asarray(answerable, dtype=bool)


def _confidences(x: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x @ weights + bias, -50, 50)))


def decision_rates(confidence: np.ndarray, right: np.ndarray, answerable: np.ndarray,
                   threshold: "float | np.ndarray") -> tuple[float, float]:
    """(share of right answers given, share of reads without the answer declined) at ``threshold`` (one for all,
    or one per read)."""
    given = ((confidence >= threshold) & right).sum() / max(1, right.sum())
    declined = ((confidence < threshold) & ~answerable).sum() / max(1, (~answerable).sum())
    return float(given), float(declined)


def fit_calibration(x, right, answerable) -> tuple[np.ndarray, float, float]:
    """Weights, bias and the threshold that maximises the mean of "right answers given" and "absent answers
    declined". ``right``: the read's best span is right; ``answerable``: the gold passage was in the pool."""
    x, right, answerable = _arrays(x, right, answerable)
    weights, bias = fit_logistic(x, right.astype(int))
    confidence = _confidences(x, weights, bias)
    threshold = max(np.linspace(0.05, 0.95, 91), key=lambda t: sum(decision_rates(confidence, right, answerable, t)))
    return weights, bias, float(threshold)


def held_out_rates(x, right, answerable, groups, *, folds: int = 2, seed: int = 0) -> tuple[float, float]:
    """The two decision rates on reads the fit did not see: each fold is scored by weights and a threshold fitted
    on the others, with all reads of one question (``groups``) in one fold. A fit's own figures flatter it."""
    x, right, answerable = _arrays(x, right, answerable)
    names = sorted(set(groups))
    np.random.default_rng(seed).shuffle(names)
    fold_of = {name: i % folds for i, name in enumerate(names)}
    fold = np.asarray([fold_of[g] for g in groups])
    confidence, thresholds = np.zeros(len(x)), np.zeros(len(x))
    for k in range(folds):
        train, test = fold != k, fold == k
        weights, bias, threshold = fit_calibration(x[train], right[train], answerable[train])
        confidence[test], thresholds[test] = _confidences(x[test], weights, bias), threshold
    return decision_rates(confidence, right, answerable, thresholds)
