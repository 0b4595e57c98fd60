"""How often each answer-type check would refuse SQuAD's own gold answers (train and dev; a place is checked against
its paragraph, which must not speak of it as a person): the checks in
qa/answer/answer_types.py must almost never refuse a right answer. Also, for questions that want a name, how often
cutting a descriptor off ("budget airline Ryanair" -> "Ryanair") changes a gold answer, and the F1 that cut gold still
scores against all of that question's golds (SQuAD's official normalisation). How often a gold answer has a bracket
it does not pair (the reader's spans are cut there: "(RPG" -> "RPG") and what the cut one scores. And, for pairs of
questions on one paragraph (the first as a chat's last exchange, the second as its follow-up), how often the
second's gold answer restates the first's (qa.answer.conversation.restates: a sum's conversion in brackets,
"$4bn (£2.1bn)"): a follow-up answer that does is dropped.

    .venv/bin/python scripts/check_answer_types.py [--squad ../shared/data/squad] [--show 5]
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from qa.answer.answer_types import (agrees, asked_organisation, before_relative_clause, expected_type, is_denied,
                                        is_the_agent, leaves_it_unnamed, name_start, passive_participle,
                                        wants_a_name, within_brackets)
    from qa.answer.conversation import Turn, restates
    from qa.ingest.text import sentences
    from qa.eval.squad import best_over_golds, f1_score
    from qa.types import Passage, Span

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad")
    parser.add_argument("--show", type=int, default=0, help="print this many refused questions per type")
    args = parser.parse_args()
    print("| split | type | questions | gold answer refused |\n|---|---|---|---|")
    for split in ("train", "dev"):
        data = json.load(gzip.open(args.squad / f"{split}-v1.1.json.gz"))
        read = [(qa["question"], [a["text"] for a in qa["answers"]], paragraph["context"],
                 [a["answer_start"] for a in qa["answers"]])
                for article in data["data"] for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
        questions = [(q, golds) for q, golds, _, _ in read]
        for kind in ("money", "measure", "quantity", "time", "person", "person name", "name", "said", "firm",
                     "organisation", "title", "place"):
            report(split, kind, [item for item in read if expected_type(item[0]) == kind],
                   lambda q, g, context, at, kind=kind: not agrees(kind, g, context, at), args.show)
        # an answer of a known type is cut where a relative clause runs on ("$4bn, which should lead to ...")
        typed = [(q, golds) for q, golds in questions if expected_type(q)]
        run_on = [(q, golds, golds[0][: before_relative_clause(golds[0])]) for q, golds in typed
                  if all(before_relative_clause(g) < len(g) for g in golds)]
        kept = sum(best_over_golds(f1_score, trimmed, golds) for _, golds, trimmed in run_on)
        print(f"| {split} | typed: cut at a relative clause | {len(typed)} | {len(run_on)} "
              f"({len(run_on) / max(1, len(typed)):.2%}); F1 of the cut gold {100 * kept / max(1, len(run_on)):.1f} |")
        for q, golds, trimmed in run_on[: args.show]:
            print(f"|  |  | {q} | {golds[0]} -> {trimmed} |")
        # "which TV network ...?" is not answered by what qualifies an unnamed one ("US" of "A US TV network")
        report(split, "which company/network/...: gold qualifies an unnamed one",
               [item for item in read if asked_organisation(item[0]) is not None], leaves_it_unnamed, args.show)
        # "which firm was fined?" is not answered by who fined ("... fined by the Football Association"), nor by one
        # its sentence says was not ("The media giant was not fined by the SEC")
        passive = [item for item in read if passive_participle(item[0])]
        report(split, "passive question: gold is the agent",
               [item for item in passive if " by " not in f" {item[0].lower()} "], is_the_agent, args.show)
        report(split, "passive question: gold's sentence denies it", passive, is_denied, args.show)
        naming = [(q, golds) for q, golds in questions if wants_a_name(q)]
        cut = [(q, golds, g[name_start(g):]) for q, golds in naming for g in golds[:1] if name_start(g)]
        kept = sum(best_over_golds(f1_score, trimmed, golds) for _, golds, trimmed in cut) / max(1, len(cut))
        print(f"| {split} | name: descriptor cut | {len(naming)} | {len(cut)} ({len(cut) / max(1, len(naming)):.1%}); "
              f"F1 of the cut gold {100 * kept:.1f} |")
        for q, golds, trimmed in cut[: args.show]:
            print(f"|  |  | {q} | {golds[0]} -> {trimmed} |")
        cut_at_bracket = [(q, golds, g[slice(*within_brackets(g))]) for q, golds in questions for g in golds[:1]
                          if within_brackets(g) != (0, len(g))]
        kept = sum(best_over_golds(f1_score, trimmed, golds) for _, golds, trimmed in cut_at_bracket)
        share, kept = len(cut_at_bracket) / len(questions), 100 * kept / max(1, len(cut_at_bracket))
        print(f"| {split} | any: cut at an unpaired bracket | {len(questions)} | {len(cut_at_bracket)} ({share:.2%}); "
              f"F1 of the cut gold {kept:.1f} |")
        for q, golds, trimmed in cut_at_bracket[: args.show]:
            print(f"|  |  | {q} | {golds[0]} -> {trimmed} |")
        pairs, restating = 0, []
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                passage = Passage("p", "", context, 0, len(context), 1.0)
                golds = [(qa["question"], qa["answers"][0]) for qa in paragraph["qas"]]
                for first, (_, a) in enumerate(golds):
                    last = Turn("q", a["text"], cited=(("p", a["answer_start"], a["answer_start"] + len(a["text"])),))
                    for second, (q, b) in enumerate(golds):
                        if first == second or b["text"] == a["text"]:
                            continue  # the same answer twice is the other rule's case (repeats)
                        pairs += 1
                        span = Span(b["text"], b["answer_start"], b["answer_start"] + len(b["text"]), 1.0, passage)
                        if restates(q, span, last):
                            restating.append((q, a["text"], b["text"]))
        print(f"| {split} | follow-up restates the last answer | {pairs} pairs | {len(restating)} "
              f"({len(restating) / max(1, pairs):.2%}) |")
        for q, a, b in restating[: args.show]:
            print(f"|  |  | {q} (after {a}) | {b} |")
        # an answer is read within one sentence (qa.answer.answering drops spans that cross the index's bounds)
        crossing = [(q, golds[0]) for q, golds, context, starts in read
                    if not any(s <= starts[0] and starts[0] + len(golds[0]) <= e for s, e in sentences(context))]
        print(f"| {split} | any: gold crosses a sentence bound | {len(read)} | {len(crossing)} "
              f"({len(crossing) / max(1, len(read)):.2%}) |")
        for q, gold in crossing[: args.show]:
            print(f"|  |  | {q} | {gold} |")
    headline, golds = headline_golds(args.squad.parent.parent)
    print(f"| eval files | gold sentence is its article's headline | {golds} | {headline} |")


def report(split: str, label: str, asked: list, refuses, show: int) -> None:
    """A table row: of the ``asked`` questions ((question, golds, context, gold starts)), how many have every gold
    answer refused by ``refuses(question, gold, context, start)``; then ``show`` of them."""
    refused = [(q, golds) for q, golds, context, starts in asked
               if all(refuses(q, g, context, at) for g, at in zip(golds, starts))]
    print(f"| {split} | {label} | {len(asked)} | {len(refused)} ({len(refused) / max(1, len(asked)):.2%}) |")
    for q, golds in refused[:show]:
        print(f"|  |  | {q} | {golds[0]} |")


def headline_golds(shared: Path) -> tuple[int, int]:
    """(gold sentences that are their article's headline, gold sentences) over ../shared/eval/*_dev.jsonl: answers
    are never taken from a headline alone (qa.answer.answering)."""
    headline = total = 0
    for path in sorted((shared / "eval").glob("*_dev.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for item in row.get("turns") or row.get("stories") or [row]:
                docs = [shared / folder / item["doc"] for folder in ("corpora/bbc", "seeds")] if item["answers"] else []
                doc = next((d for d in docs if d.is_file()), None)
                if doc is None:
                    continue
                raw = doc.read_bytes()
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:  # one BBC file is latin-1
                    text = raw.decode("latin-1")
                total += 1
                headline += item["sentence"].strip() == text.strip().splitlines()[0].strip()
    return headline, total


if __name__ == "__main__":
    main()
