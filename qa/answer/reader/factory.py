"""Pick the reader: the one shipped with the package unless a model id or path is named."""

from __future__ import annotations

from pathlib import Path

from qa.errors import QAError
from qa.answer.reader.base import Reader

DEFAULT_READER_DIR = Path(__file__).resolve().parents[2] / "models" / "minilm-squad"
_SHIPPED_NAMES = {"default", "shipped"}


class ReaderNotAvailable(QAError):
    """The requested reader has no weights to load."""


def make_reader(name_or_path: str | None, **kwargs) -> Reader:
    """A reader for ``name_or_path`` (a hub id or local folder), or the shipped one for None/'default'/'shipped'.

    ``kwargs`` go to ``TransformersReader`` (precision, batch_size, max_length, stride, max_answer_tokens, threads).
    Nothing is loaded here; a missing shipped model is reported now, not on the first question.
    """
    from qa.answer.reader.transformers_reader import TransformersReader

    if name_or_path is None or name_or_path in _SHIPPED_NAMES:
        if not (DEFAULT_READER_DIR / "model.safetensors").is_file():
            raise ReaderNotAvailable(
                f"the shipped reader has no weights ({DEFAULT_READER_DIR / 'model.safetensors'} is missing). "
                "Train it with `qa train-reader`, or set QA_READER to a question-answering model id or local path "
                "(e.g. deepset/roberta-base-squad2)."
            )
        name_or_path = str(DEFAULT_READER_DIR)
    return TransformersReader(name_or_path, **kwargs)


def shipped_reader_complete() -> bool:
    """Whether the shipped reader finished its planned training (its card says otherwise while in progress)."""
    import json

    try:
        state = json.loads((DEFAULT_READER_DIR / "training_state.json").read_text())["state"]
    except (OSError, ValueError, KeyError):
        return False
    return state["global_step"] >= state["total_steps"]
