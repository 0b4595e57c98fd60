"""Near-miss unanswerable questions from SQuAD 1.1 dev, and how often the reader declines them.

A near miss is a dev question with one name, number, year or ordinal swapped for another of the same kind taken from
another paragraph of the same article ("Super Bowl 50" -> "Super Bowl 49", "Denver" -> "Carolina"): the paragraph is
still on topic but no longer answers it, which is what a question about a later edition of an event, or about the
wrong person, looks like to the reader. The swap is kept only when the new words are nowhere in the question's own
paragraph and the old ones are. Each near miss is read as ask() reads, among up to 4 other paragraphs of the same
article, and declined when its calibrated confidence is under the threshold; the original questions are read the
same way as a control (answered and right). As ask() does, a paragraph that never writes a figure the question names
("Super Bowl 49" when it says "Super Bowl 50") is not read for it (qa.answer.figures), each paragraph standing for one
news article (a SQuAD paragraph is about a news story's length; a Wikipedia article is ten times longer);
``--no-figure-rule`` reads every paragraph, for comparison. It also counts the dev questions that name a figure their
Wikipedia article, or their own paragraph, never writes (what the rule costs answerable questions). Built from dev
articles only, never from train (the reader's; its training near misses come from train with the same generator,
qa/train/near_miss.py).

    .venv/bin/python scripts/adversarial_squad.py [--questions 1000] [--no-figure-rule] [--out FILE.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from qa.answer.calibration import Calibration
    from qa.answer.figures import figures, missing_figures
    from qa.embedders import SentenceTransformerEmbedder
    from qa.answer.reader.factory import DEFAULT_READER_DIR, make_reader
    from qa.eval.squad import best_over_golds, f1_score, load_squad
    from qa.train.near_miss import article_paragraphs, near_misses
    from qa.types import Passage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default=str(DEFAULT_READER_DIR))
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1.json.gz")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "adversarial_dev.jsonl")
    parser.add_argument("--no-figure-rule", action="store_true", help="read paragraphs that lack the question's figures")
    args = parser.parse_args()

    questions = load_squad(args.squad)
    rng = random.Random(args.seed)
    paragraphs = article_paragraphs(questions)
    made = [
        (m.source, m.question, m.old, m.new, [c for c in paragraphs[m.source.title] if c != m.source.context])
        for m in near_misses(questions, args.questions, rng)
    ]

    embedder = SentenceTransformerEmbedder()
    texts = sorted({c for q, *_ in made for c in [q.context, *paragraphs[q.title]]})
    row = {text: i for i, text in enumerate(texts)}
    vectors = embedder.embed(texts, batch_size=64)
    asked = [new for _, new, _, _, _ in made] + [q.question for q, *_ in made]
    query_vectors = embedder.embed(asked, batch_size=64)
    written = {text: figures(text) for text in texts}  # each paragraph's figures, for the figure rule
    items = []
    for i, (q, new, _, _, others) in enumerate(made):
        pool = [q.context] + rng.sample(others, min(len(others), args.pool - 1))
        for j, text in ((i, new), (i + len(made), q.question)):
            kept = pool if args.no_figure_rule else [c for c in pool if not missing_figures(text, written[c])]
            passages = [Passage(q.title, q.title, c, 0, len(c), float(vectors[row[c]] @ query_vectors[j])) for c in kept]
            items.append((text, sorted(passages, key=lambda p: -p.score)))
    reader = make_reader(args.reader, batch_size=64)
    calibration = Calibration.load(args.reader)
    read = reader.read_many(items, top_k=1, allow_no_answer=False)
    declined = answered_right = 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for i, (q, new, old, swapped_in, _) in enumerate(made):
            near, original = read[2 * i], read[2 * i + 1]
            near_confidence = calibration.confidence(near[0]) if near else 0.0
            original_confidence = calibration.confidence(original[0]) if original else 0.0
            declined += near_confidence < calibration.threshold
            right = bool(original) and best_over_golds(f1_score, original[0].text, q.answers) >= 0.5
            answered_right += right and original_confidence >= calibration.threshold
            out.write(json.dumps({"id": q.id, "question": new, "original": q.question, "swapped": [old, swapped_in],
                                  "answers": [], "near_miss_confidence": round(near_confidence, 4),
                                  "best_guess": near[0].text if near else ""}) + "\n")
    # What the rule costs answerable questions: dev questions naming a figure that their article, or their own
    # paragraph (which is what the rule checks here), never writes
    in_article = {title: figures("\n".join(texts)) for title, texts in paragraphs.items()}
    naming = [q for q in questions if figures(q.question)]
    n = max(1, len(made))
    print(json.dumps({
        "dev_questions_naming_a_figure": len(naming),
        "of_those_not_in_their_article": sum(1 for q in naming if missing_figures(q.question, in_article[q.title])),
        "of_those_not_in_their_paragraph": sum(1 for q in naming if missing_figures(q.question, figures(q.context))),
        "near_misses": len(made),
        "figure_swaps": sum(1 for q, new, *_ in made if figures(new) != figures(q.question)),  # the rule's kind
        "figure_rule": not args.no_figure_rule,
        "declined": round(declined / n, 4),
        "originals_answered_right": round(answered_right / n, 4),
        "threshold": calibration.threshold,
        "written": str(args.out),
    }))


if __name__ == "__main__":
    main()
