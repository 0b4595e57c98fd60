"""Which device and precision a setting resolves to; 'fp32' must always force full precision."""

import json

import pytest
import torch

from qa import precision


def test_auto_device_is_the_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert precision.resolve_device("auto") == "cpu"


def test_auto_device_is_the_gpu_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert precision.resolve_device("auto") == "cuda"
    assert precision.resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_follows_the_cpu(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: has_bf16)
    assert precision.resolve_precision("auto") == expected
    assert precision.resolve_precision("fp32") == "fp32"


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_a_gpu_follows_the_gpu(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: not has_bf16)  # the CPU must not decide
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: has_bf16)
    assert precision.resolve_precision("auto", "cuda") == expected


@pytest.mark.parametrize("bad", ["gpu", "fp16", ""])
def test_unknown_values_are_refused(bad):
    with pytest.raises(ValueError):
        precision.resolve_device(bad)
    with pytest.raises(ValueError):
        precision.resolve_precision(bad)


def test_fp32_autocast_changes_nothing():
    with precision.autocast("fp32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    with precision.autocast("bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


# -- 'auto' measures: the choice logic and its cache, with fake runs and a fake clock (no timing assertions) -----
class FakeClock:
    """Time that only moves when a fake run says how long it took."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def run(self, seconds: float):
        def go():
            self.now += seconds
        return go


def fake_runs(fp32: float, bf16: float, calls: list | None = None):
    clock = FakeClock()

    def counted(name, seconds):
        step = clock.run(seconds)

        def go():
            if calls is not None:
                calls.append(name)
            step()
        return go
    return clock, {"fp32": counted("fp32", fp32), "bf16": counted("bf16", bf16)}


def test_time_candidates_takes_medians_after_a_warm_up():
    clock, runs = fake_runs(0.100, 0.050)
    assert precision.time_candidates(runs, repeats=3, clock=clock) == pytest.approx({"fp32": 0.100, "bf16": 0.050})


@pytest.mark.parametrize("fp32, bf16, expected", [
    (0.110, 0.155, "fp32"),  # the Xeon with AVX512-BF16 and no AMX: bf16 is slower
    (0.281, 0.159, "bf16"),  # the AMD EPYC: bf16 pays
    (0.100, 0.099, "fp32"),  # within the margin: full precision
    (0.275, 0.266, "fp32"),  # 3.5% ahead under load, far behind when the machine is quiet: noise, not a win
])
def test_the_faster_precision_is_picked(fp32, bf16, expected):
    assert precision.pick_fastest({"fp32": fp32, "bf16": bf16}) == expected


def test_a_choice_is_measured_once_then_read_from_the_cache(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "precision.json"
    calls: list[str] = []
    clock, runs = fake_runs(0.2, 0.1, calls)
    monkeypatch.setattr(precision.time, "perf_counter", clock)
    assert precision.choose_precision("embedder", "weights-a", runs, path=path) == "bf16"
    assert calls.count("fp32") == calls.count("bf16") == 4  # a warm-up and three timed rounds each
    entry = json.loads(path.read_text())[precision.cache_key("embedder", "weights-a")]
    assert entry["precision"] == "bf16" and entry["median_ms"] == {"fp32": 200.0, "bf16": 100.0}

    calls.clear()
    assert precision.choose_precision("embedder", "weights-a", runs, path=path) == "bf16"
    assert calls == []  # cached
    # Other weights, or the other model, are measured again and kept beside the first entry.
    clock2, slower_bf16 = fake_runs(0.1, 0.2)
    monkeypatch.setattr(precision.time, "perf_counter", clock2)
    assert precision.choose_precision("reader", "weights-a", slower_bf16, path=path) == "fp32"
    assert len(json.loads(path.read_text())) == 2
    assert not [p for p in path.parent.iterdir() if p.name != "precision.json"]  # no temporary file left


def test_the_key_names_the_cpu_torch_and_model():
    key = precision.cache_key("reader", "abc123")
    assert key.startswith("reader|") and precision.cpu_id() in key and torch.__version__ in key and "abc123" in key
    assert precision.cpu_id().startswith(precision.cpu_name())


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_a_damaged_cache_is_measured_again_and_rewritten(tmp_path, monkeypatch, content):
    path = tmp_path / "precision.json"
    path.write_text(content)
    clock, runs = fake_runs(0.1, 0.3)
    monkeypatch.setattr(precision.time, "perf_counter", clock)
    assert precision.choose_precision("embedder", "w", runs, path=path) == "fp32"
    assert json.loads(path.read_text())[precision.cache_key("embedder", "w")]["precision"] == "fp32"


def test_an_unwritable_cache_still_gives_a_choice(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    clock, runs = fake_runs(0.3, 0.1)
    monkeypatch.setattr(precision.time, "perf_counter", clock)
    assert precision.choose_precision("embedder", "w", runs, path=blocker / "precision.json") == "bf16"


def test_the_cache_lives_under_the_user_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert precision.cache_path() == tmp_path / "articles-qa" / "precision.json"
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "mine"))
    assert precision.cache_path() == tmp_path / "mine" / "precision.json"


def test_the_embedder_times_both_precisions_on_a_batch_unless_forced(monkeypatch):
    from qa import embedders

    seen: dict = {}

    def fake_choose(kind, fingerprint, runs, **_):
        seen.update(kind=kind, fingerprint=fingerprint)
        for run in runs.values():
            run()
        return "bf16"

    encoded: list = []
    monkeypatch.setattr(embedders, "choose_precision", fake_choose)
    auto = embedders.SentenceTransformerEmbedder(precision="auto")
    auto._fingerprint = "weights"
    monkeypatch.setattr(auto, "_encode", lambda batch, *, model, precision: encoded.append((len(batch), precision)))
    assert auto._choose_precision(object()) == "bf16"
    assert seen == {"kind": "embedder", "fingerprint": f"weights|batch {auto.CHECK_BATCH}"}
    assert encoded == [(auto.CHECK_BATCH, "fp32"), (auto.CHECK_BATCH, "bf16")]

    monkeypatch.setattr(embedders, "choose_precision", lambda *a, **k: pytest.fail("a forced precision is not timed"))
    for forced in ("fp32", "bf16"):
        assert embedders.SentenceTransformerEmbedder(precision=forced)._choose_precision(object()) == forced


@pytest.fixture(scope="module")
def tiny_reader_dir(tmp_path_factory):
    """A tiny randomly initialised BERT QA model with the shipped reader's tokenizer: loads in milliseconds."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa.answer.reader.factory import DEFAULT_READER_DIR

    folder = tmp_path_factory.mktemp("tiny-reader")
    tokenizer = AutoTokenizer.from_pretrained(str(DEFAULT_READER_DIR), local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    torch.manual_seed(0)
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_reader_measures_once_keeps_the_faster_weights_and_caches(tiny_reader_dir, tmp_path, monkeypatch):
    from qa.answer.reader.transformers_reader import TransformersReader

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    reader = TransformersReader(str(tiny_reader_dir), precision="auto", device="cpu")
    reader.load()
    entries = json.loads((tmp_path / "precision.json").read_text())
    (key, entry), = entries.items()
    assert key.startswith("reader|") and key.endswith("|5 passages")
    chosen = entry["precision"]
    assert chosen in {"fp32", "bf16"} and reader._resolved_precision == chosen
    expected_dtype = torch.bfloat16 if chosen == "bf16" else torch.float32
    assert next(reader._model.parameters()).dtype == expected_dtype

    # A second reader of the same weights reads the choice instead of timing again.
    monkeypatch.setattr(precision, "time_candidates", lambda *a, **k: pytest.fail("measured twice"))
    again = TransformersReader(str(tiny_reader_dir), precision="auto", device="cpu")
    again.load()
    assert again._resolved_precision == chosen
    assert isinstance(again.read("what grew?", []), list)


@pytest.mark.parametrize("forced, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_a_forced_reader_precision_is_not_measured(tiny_reader_dir, tmp_path, monkeypatch, forced, dtype):
    from qa.answer.reader.transformers_reader import TransformersReader

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(precision, "time_candidates", lambda *a, **k: pytest.fail("a forced precision is not timed"))
    reader = TransformersReader(str(tiny_reader_dir), precision=forced, device="cpu")
    reader.load()
    assert next(reader._model.parameters()).dtype == dtype
    assert not (tmp_path / "precision.json").exists()
