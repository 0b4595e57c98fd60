"""Which device and precision a setting resolves to; 'fp32' must always force full precision."""

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
