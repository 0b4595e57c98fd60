"""Plain-text lines and a Markdown report for the chat evaluations (conversations, ambiguous questions)."""

from __future__ import annotations

from pathlib import Path

from qa.eval.chat import AmbiguousResult, ConversationResult


def summary_lines(result: ConversationResult | AmbiguousResult) -> list[str]:
    if isinstance(result, ConversationResult):
        return [
            f"{result.conversations} conversations, {result.turns} turns ({result.answerable_turns} answerable, "
            f"{result.unanswerable_turns} to decline)",
            f"turns:      EM {result.turn_em:.1f}  F1 {result.turn_f1:.1f}  (first turns F1 {result.first_turn_f1:.1f}, "
            f"follow-ups F1 {result.follow_up_f1:.1f})",
            f"answered {result.answered_share:.0%} of answerable turns; declined {result.declined_share:.0%} of "
            f"unanswerable turns; all turns F1 {result.f1_all:.1f} (SQuAD 2.0 style)",
            f"latency:    ask p50 {result.ask_p50_ms:.0f} ms (follow-ups {result.follow_up_p50_ms:.0f} ms) "
            f"p95 {result.ask_p95_ms:.0f} ms",
        ]
    return [
        f"{result.questions} ambiguous questions, {result.gold_stories} gold stories",
        f"stories:    recall {result.story_recall:.2f}  questions showing >= 2 gold stories "
        f"{result.questions_with_two_stories} of {result.questions}  stories shown per question "
        f"{result.stories_shown_mean:.1f}",
        f"latency:    ask p50 {result.ask_p50_ms:.0f} ms p95 {result.ask_p95_ms:.0f} ms",
    ]


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_chat_report(result: ConversationResult | AmbiguousResult, source: str | Path, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Chat evaluation: {Path(source).name}", "", "```", *summary_lines(result), "```", ""]
    if isinstance(result, ConversationResult):
        lines += ["| chat | turn | question | gold | shown | confidence | follow-up | score |", "|---|---|---|---|---|---|---|---|"]
        for r in result.per_turn:
            score = f"F1 {r['f1']:.2f}" if r["answers"] else ("declined" if r["declined"] else "answered (should decline)")
            gold = r["answers"][0] if r["answers"] else "(not in the articles)"
            lines.append(
                f"| {_cell(r['chat'])} | {r['turn']} | {_cell(r['question'])} | {_cell(gold)} | "
                f"{_cell(r['answer'] if r['found'] else '(declined)')} | {r['confidence']:.2f} | "
                f"{'yes' if r['follow_up'] else 'no'} | {score} |"
            )
    else:
        lines += ["| question | gold stories | recalled | shown | missed |", "|---|---|---|---|---|"]
        for r in result.per_question:
            lines.append(
                f"| {_cell(r['question'])} | {r['gold_stories']} | {r['recalled']} | "
                f"{_cell('; '.join(r['shown'][:8]))} | {_cell(', '.join(r['missed']))} |"
            )
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
