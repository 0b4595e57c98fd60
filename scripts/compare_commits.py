"""Score the same files at an earlier commit and at this checkout, on the same index and machine, alternating the
two so that both see the same load: turn F1 / follow-up F1 / declined for conversation files, F1 for question files,
and ask p50 medians with their ratio (this checkout / the earlier commit).

    .venv/bin/python scripts/compare_commits.py b06736b --index indexes/bbc [--rounds 3] FILE.jsonl ...

The earlier commit is checked out with `git worktree` into a temporary folder (its own code and reader weights) and
run with this checkout's virtual environment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def score(code: Path, path: Path, index: Path) -> dict:
    """`qa eval --json` of ``path`` with the package at ``code``."""
    done = subprocess.run([sys.executable, "-m", "qa", "eval", str(path.resolve()), "--index", str(index.resolve()),
                           "--json"], cwd=code, env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin",
                                                     "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def summary(result: dict) -> str:
    if "turn_f1" in result:
        return f"{result['turn_f1']:.1f} / {result['follow_up_f1']:.1f} / {result['declined_share']:.0%}"
    if "story_recall" in result:  # an ambiguous-questions file
        return f"recall {result['story_recall']:.2f}, {result['questions_with_two_stories']} with two stories"
    return f"F1 {result['f1']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "bbc")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(earlier), args.commit],
                       check=True)
        try:
            sides = {"earlier": earlier, "now": ROOT}
            runs: dict[tuple[str, str], list[dict]] = {}
            for _ in range(args.rounds):
                for name, code in sides.items():
                    for path in args.files:
                        runs.setdefault((name, path.name), []).append(score(code, path, args.index))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)], check=False)
    print(f"| file | {args.commit} | now | ask p50 {args.commit} / now (ms) | ratio |\n|---|---|---|---|---|")
    for path in args.files:
        before, after = runs[("earlier", path.name)], runs[("now", path.name)]
        p50 = [statistics.median(r["ask_p50_ms"] for r in side) for side in (before, after)]
        print(f"| {path.name} | {summary(before[0])} | {summary(after[0])} | {p50[0]:.1f} / {p50[1]:.1f} | "
              f"{p50[1] / p50[0]:.2f} |")


if __name__ == "__main__":
    main()
