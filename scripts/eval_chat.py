"""The chat's figures in one run: conversations (the dev file's, and the chats of the browser walks in
eval/walks/), ambiguous questions, the seed among the stories for "who was
arrested?", and the single-question files it must not make worse, with latency medians.

    .venv/bin/python scripts/eval_chat.py --index indexes/bbc [--eval-dir ../shared/eval] [--json OUT.json]

The index is the BBC corpus plus the seed (see the README's "Evaluation" section for how to build it). Prints one
table and, with --json, writes every figure and per-turn record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from qa.eval.chat import evaluate_ambiguous, evaluate_conversations
    from qa.engine import Engine
    from qa.eval.questions import evaluate, load_questions
    from qa.precision import cpu_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "bbc")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-single", action="store_true", help="only the chat files")
    args = parser.parse_args()

    engine = Engine(index_dir=args.index)
    figures: dict = {"cpu": cpu_name(), "index": str(args.index)}
    conversations = evaluate_conversations(engine, args.eval_dir / "conversations_dev.jsonl")
    ambiguous = evaluate_ambiguous(engine, args.eval_dir / "ambiguous_dev.jsonl")
    figures["conversations"] = conversations.to_dict()
    figures["ambiguous"] = ambiguous.to_dict()
    # chats typed in the browser by walks over articles no dev file uses (eval/walks/README.md)
    walks = {path.stem: evaluate_conversations(engine, path) for path in sorted((ROOT / "eval" / "walks").glob("*.jsonl"))}
    figures["walks"] = {name: result.to_dict() for name, result in walks.items()}

    seed_ids = set(engine.articles_containing("At least 12 suspected members of the groups were arrested"))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        arrested = engine.ask("who was arrested?")
        timings.append(1000 * (time.perf_counter() - started))
    seed_story = next((s for s in arrested.stories if set(s.article_ids) & seed_ids), None)
    figures["who_was_arrested"] = {
        "stories": len(arrested.stories),
        "seed_story": None if seed_story is None else {"text": seed_story.text, "confidence": seed_story.confidence,
                                                        "rank": arrested.stories.index(seed_story) + 1},
        "ask_p50_ms": statistics.median(timings),
    }
    if not args.skip_single:
        for name in ("bbc_dev", "bbc_paraphrase_dev", "seed_dev"):
            path = args.eval_dir / f"{name}.jsonl"
            result = evaluate(engine, load_questions(path))
            stories = sum(1 for r in result.per_question if str(r.get("answer", "")).startswith("Several stories"))
            figures[name] = {k: v for k, v in result.to_dict().items() if k != "per_question"} | {"story_answers": stories}

    c, a, w = conversations, ambiguous, figures["who_was_arrested"]
    rows = [
        ("conversations_dev: turn F1", f"{c.turn_f1:.1f}", ">= 70"),
        ("conversations_dev: follow-up-turn F1", f"{c.follow_up_f1:.1f}", ">= 65"),
        ("conversations_dev: unanswerable turns declined", f"{c.declined_share:.0%}", ">= 80%"),
        *((f"walks/{name}: turn F1 / follow-ups / declined", f"{r.turn_f1:.1f} / {r.follow_up_f1:.1f} / "
                                                             f"{r.declined_share:.0%}", "-") for name, r in walks.items()),
        ("ambiguous_dev: story recall", f"{a.story_recall:.2f}", ">= 0.5"),
        ("ambiguous_dev: questions showing >= 2 gold stories", f"{a.questions_with_two_stories} of {a.questions}", ">= 5 of 6"),
        ('"who was arrested?": seed among the stories', "yes, rank %d of %d (%s)" % (w["seed_story"]["rank"], w["stories"], w["seed_story"]["text"]) if w["seed_story"] else f"no ({w['stories']} stories)", "yes"),
        ("ask p50, answered story by story (ambiguous_dev)", f"{a.ask_p50_ms:.0f} ms", "<= 600 ms"),
        ("ask p50, conversation turns / follow-ups", f"{c.ask_p50_ms:.0f} / {c.follow_up_p50_ms:.0f} ms", "<= 150 / <= 200 ms"),
    ]  # fmt: skip
    if not args.skip_single:
        for name in ("bbc_dev", "bbc_paraphrase_dev", "seed_dev"):
            r = figures[name]
            rows.append((f"{name}: F1 / answered / declined / ask p50",
                         f"{r['f1']:.1f} / {r['answered_share']:.0%} / {r['declined_share']:.0%} / {r['ask_p50_ms']:.0f} ms",
                         "no worse"))
            rows.append((f"{name}: given answers right / best-guess F1",
                         f"{r['given_right_share']:.0%} / {r['best_f1']:.1f}", "-"))
    width = max(len(r[0]) for r in rows)
    print(f"CPU: {figures['cpu']}")
    print(f"{'figure':{width}}  {'measured':30}  goal")
    for name, value, goal in rows:
        print(f"{name:{width}}  {value:30}  {goal}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
