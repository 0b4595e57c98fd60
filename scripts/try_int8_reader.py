"""What int8 weights would do to the shipped reader on this CPU: torch dynamic quantisation of its linear layers
(all of them per tensor; all but the span head per channel; or only the feed-forward ones per channel), timed against
fp32 on one question over 20 passages (qa.precision.time_candidates: interleaved rounds, medians) and scored on the
first SQuAD 1.1 dev questions (F1, share of the same best span, mean change of the span's margin over "no answer",
which the calibration reads).

    .venv/bin/python scripts/try_int8_reader.py [--limit 400] [--rounds 5]

Not shipped (README, "The reader"): the speed-up was paid for in F1 and in margins the calibration was not fitted on.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

    from qa.answer.reader.factory import DEFAULT_READER_DIR
    from qa.answer.reader.transformers_reader import TransformersReader
    from qa.eval.squad import best_over_golds, f1_score, load_squad
    from qa.precision import SAMPLE_QUESTION, SAMPLE_TEXT, cpu_name, time_candidates
    from qa.types import Passage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # torch.ao's deprecation notice, once per layer

    reader = TransformersReader(str(DEFAULT_READER_DIR), precision="fp32")
    reader.load()
    fp32 = reader._model
    linear = [name for name, module in fp32.named_modules() if isinstance(module, torch.nn.Linear)]

    def quantised(keep, qconfig=per_channel_dynamic_qconfig) -> torch.nn.Module:
        spec = {name: qconfig for name in linear if keep(name)}
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32), spec, dtype=torch.qint8)

    models = {
        "fp32": fp32,
        "int8 per tensor, all": quantised(lambda n: True, default_dynamic_qconfig),
        "int8, all but the span head": quantised(lambda n: "qa_outputs" not in n),
        "int8, feed-forward only": quantised(
            lambda n: ("intermediate" in n or "output.dense" in n) and "attention" not in n),
    }
    text = SAMPLE_TEXT + " " + SAMPLE_TEXT
    passages = [Passage(f"check/{i}", "", text, 0, len(text), 0.5) for i in range(20)]
    medians = time_candidates(
        {name: (lambda m=model: reader._read_many([(SAMPLE_QUESTION, passages)], 3, True, m))
         for name, model in models.items()},
        args.rounds,
    )

    questions = load_squad(args.squad)[: args.limit]
    best = {}
    for name, model in models.items():
        spans = []
        for i in range(0, len(questions), 16):
            chunk = questions[i : i + 16]
            items = [(q.question, [Passage("squad", "", q.context, 0, len(q.context), 0.5)]) for q in chunk]
            spans += [found[0] if found else None for found in reader._read_many(items, 1, False, model)]
        best[name] = spans

    print(f"CPU: {cpu_name()}; {args.limit} SQuAD dev questions; 1 question over 20 passages, {args.rounds} rounds")
    print("| weights | read ms (median) | vs fp32 | SQuAD F1 | same span as fp32 | mean margin change |")
    print("|---|---|---|---|---|---|")
    base_ms = medians["fp32"]
    for name in models:
        f1 = sum(best_over_golds(f1_score, s.text if s else "", q.answers) for s, q in zip(best[name], questions))
        pairs = [(a, b) for a, b in zip(best["fp32"], best[name]) if a and b]
        same = sum(a.text == b.text for a, b in pairs)
        shift = statistics.mean(abs((a.logit - a.null_logit) - (b.logit - b.null_logit)) for a, b in pairs)
        ms = medians[name]
        print(f"| {name} | {1000 * ms:.0f} | {base_ms / ms:.2f}x | {100 * f1 / len(questions):.1f} | "
              f"{same / len(questions):.0%} | {shift:.2f} |")


if __name__ == "__main__":
    main()
