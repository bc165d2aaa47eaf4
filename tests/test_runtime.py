"""srgan_lib.runtime: the quick-run switch, device choice, Colab detection, seeding."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
import torch

from srgan_lib.runtime import QUICK_ENV, describe_device, in_colab, pick_device, quick_mode, seed_everything


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "on"])
def test_quick_mode_true_values(monkeypatch, value):
    monkeypatch.setenv(QUICK_ENV, value)
    assert quick_mode() is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "", "quick"])
def test_quick_mode_false_values(monkeypatch, value):
    monkeypatch.setenv(QUICK_ENV, value)
    assert quick_mode() is False


def test_quick_mode_unset_means_the_real_run(monkeypatch):
    monkeypatch.delenv(QUICK_ENV, raising=False)
    assert quick_mode() is False


def test_the_test_suite_runs_quick():
    """conftest.py sets SRGAN_QUICK=1 for pytest (and so for the notebooks' kernels) unless set."""
    assert QUICK_ENV == "SRGAN_QUICK"
    assert QUICK_ENV in __import__("os").environ


def test_pick_device_cpu_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    auto = pick_device()
    assert auto == pick_device("auto")
    assert auto.type in {"cuda", "mps", "cpu"}
    if torch.cuda.is_available():
        assert auto.type == "cuda"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_pick_device_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        pick_device("cuda")


def test_describe_device_cpu():
    assert describe_device(torch.device("cpu")) == f"cpu: {torch.get_num_threads()} threads"


def test_in_colab(monkeypatch):
    assert in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab() is True


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    seed_everything(123)
    a = draw()
    seed_everything(123)
    b = draw()
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    seed_everything(124)
    assert draw()[0] != a[0]
