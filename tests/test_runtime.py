"""srgan_lib.plumbing.runtime: the quick-run switch, device choice, training precision, Colab detection, seeding,
the once-per-input cache."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
import torch

from srgan_lib.plumbing.runtime import (
    QUICK_ENV,
    amp_dtype_for,
    describe_device,
    describe_precision,
    in_colab,
    once_per_input,
    pick_device,
    quick_mode,
    seed_everything,
)


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
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert describe_device(torch.device("cpu")) == "cpu: 1 thread"
        torch.set_num_threads(2)
        assert describe_device(torch.device("cpu")) == "cpu: 2 threads"
    finally:
        torch.set_num_threads(n)


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


# --- training precision by hardware (a CPU-only machine simulates the GPUs) ---------------------------------
@pytest.mark.parametrize("capability, want", [
    ((7, 5), torch.float16),   # Colab's free T4: no bf16 hardware
    ((7, 0), torch.float16),   # V100
    ((8, 0), torch.bfloat16),  # A100
    ((8, 9), torch.bfloat16),  # L4
    ((9, 0), torch.bfloat16),  # H100 / H200
])
def test_amp_dtype_follows_the_compute_capability(monkeypatch, capability, want):
    asked = []

    def capability_of(device=None):
        asked.append(torch.device(device))
        return capability

    monkeypatch.setattr(torch.cuda, "get_device_capability", capability_of)
    # torch's own check says yes on a T4 (it counts emulated bf16): it must not be what decides
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert amp_dtype_for(torch.device("cuda", 1)) == want
    assert asked == [torch.device("cuda", 1)]  # the capability of the run's own GPU
    assert amp_dtype_for("cuda", enabled=False) is None
    line = describe_precision("cuda", want)
    assert f"sm_{capability[0]}{capability[1]}" in line
    assert line.startswith("bf16 autocast" if want == torch.bfloat16 else "fp16 autocast + GradScaler")


def test_amp_dtype_is_none_off_cuda(monkeypatch):
    def no_cuda(*a, **k):
        raise AssertionError("the CUDA capability must not be asked for off CUDA")

    monkeypatch.setattr(torch.cuda, "get_device_capability", no_cuda)
    for device in ("cpu", "mps", torch.device("cpu")):
        assert amp_dtype_for(device) is None
    assert describe_precision("cpu", None) == "float32 (no autocast on cpu)"


def test_trainer_uses_the_hardware_choice(monkeypatch, tmp_path):
    """The engine takes its autocast dtype from amp_dtype_for and shows the same line it prints at start."""
    from srgan_lib.plumbing import runtime
    from srgan_lib.train import TrainConfig, Trainer

    seen = []

    def fake(device, enabled=True, cpu_bf16=False):
        seen.append((torch.device(device).type, enabled))
        return None

    monkeypatch.setattr(runtime, "amp_dtype_for", fake)
    t = Trainer(TrainConfig(n_blocks=1, channels=8, crop=16, amp=False), [], tmp_path, device="cpu", progress=False)
    assert seen == [("cpu", False)] and t.engine.amp_dtype is None
    assert t.engine.precision == describe_precision("cpu", None)


def test_inference_dtype_by_device_and_name(monkeypatch):
    """auto: bf16 on a CPU with AMX, else float32; the GPU's half precision on CUDA by compute capability (both
    simulated here); names as named; anything else refused."""
    from srgan_lib.plumbing import runtime
    from srgan_lib.plumbing.runtime import inference_dtype

    for amx, want in ((False, torch.float32), (True, torch.bfloat16)):  # a CPU with AMX multiplies bf16 natively
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda amx=amx: amx)
        assert inference_dtype("cpu") == want and inference_dtype("cpu", "float32") == torch.float32
    assert inference_dtype("mps") == torch.float32
    for capability, want in (((9, 0), torch.bfloat16), ((8, 0), torch.bfloat16), ((7, 5), torch.float16)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None, c=capability: c)
        assert inference_dtype("cuda", "auto") == want
        assert inference_dtype("cuda", "float32") == torch.float32
    assert inference_dtype("cpu", "bf16") == torch.bfloat16 and inference_dtype("cpu", "fp16") == torch.float16
    with pytest.raises(ValueError, match="auto, float32, bf16, fp16"):
        inference_dtype("cpu", "half")


def test_cpu_has_native_bf16_falls_back_to_false(monkeypatch):
    """The AMX probe is a private torch function: missing or failing, the answer is False (float32), not an error."""
    from srgan_lib.plumbing.runtime import cpu_has_native_bf16

    assert isinstance(cpu_has_native_bf16(), bool)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    assert cpu_has_native_bf16() is False


def test_cpu_bf16_is_opt_in_and_needs_amx(monkeypatch, tmp_path):
    """cpu_bf16: bf16 autocast on a CPU with AMX only when asked (simulated AMX here); a step then runs in bf16
    (the generator's output under autocast is bf16) and its loss is finite; without AMX or without the flag, float32."""
    from srgan_lib.plumbing import runtime
    from srgan_lib.data import PatchDataset
    from srgan_lib.train import TrainConfig, Trainer

    for amx in (False, True):
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda amx=amx: amx)
        assert runtime.amp_dtype_for("cpu") is None
        assert runtime.amp_dtype_for("cpu", cpu_bf16=True) == (torch.bfloat16 if amx else None)
        assert runtime.amp_dtype_for("cpu", enabled=False, cpu_bf16=True) is None
    images = [np.random.default_rng(k).integers(0, 256, (40, 40, 3), dtype=np.uint8) for k in range(2)]
    config = TrainConfig(n_blocks=1, channels=8, crop=16, batch_size=2, steps=2, cpu_bf16=True, log_every=1)
    t = Trainer(config, PatchDataset(images, crop=16, seed=0), tmp_path, device="cpu", progress=False)
    assert t.engine.amp_dtype == torch.bfloat16 and "bf16" in t.engine.precision
    with t.engine.autocast():
        assert t.generator(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16
    history = t.fit()
    assert np.isfinite([h["loss"] for h in history if "loss" in h]).all()


def test_once_per_input_computes_each_input_object_once():
    calls = []

    def double(a: np.ndarray) -> np.ndarray:
        calls.append(a)
        return 2 * a

    cached = once_per_input(double)
    a, b = np.arange(3), np.arange(3)  # equal values, two objects
    first = cached(a)
    assert cached(a) is first and len(calls) == 1  # the same object: the first result, fn not called again
    assert np.array_equal(cached(b), 2 * b) and len(calls) == 2  # an equal copy is another input
    assert cached(b) is not first and len(calls) == 2
    assert cached.__name__ == "double"


def test_once_per_input_keeps_inputs_alive_so_ids_are_not_reused():
    cached = once_per_input(lambda a: a.sum())
    sums = [cached(np.full(4, k)) for k in range(50)]  # temporaries: without the cache holding them, ids repeat
    assert sums == [4 * k for k in range(50)]
