"""Issue 25, a disconnect loses nothing: run folders resumed after a restart (or started fresh, and said why), Drive
on Colab, and the environment overrides the Colab rehearsal uses."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from srgan_lib.plumbing import runtime
from srgan_lib.plumbing.checkpoint import load_checkpoint
from srgan_lib.data import PatchDataset
from srgan_lib.plumbing.runs import run, start_run
from srgan_lib.train import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data() -> PatchDataset:
    rng = np.random.default_rng(0)
    return PatchDataset([rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(3)], crop=16, seed=1)


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{**dict(n_blocks=1, channels=8, crop=16, batch_size=2, steps=4, log_every=1, val_every=100,
                                 ckpt_every=2), **kw})


def test_run_trains_exports_and_resumes_a_finished_run_to_the_same_generator(tmp_path, data):
    """run(): lock, fresh start, fit, export beside last.pt; a second call resumes the finished run (no step, the
    same export); a generator.safetensors that no run here wrote is refused unless overwrite=True."""
    from srgan_lib.plumbing.checkpoint import read_weights

    notes = []
    trainer, path = run(cfg(), data, tmp_path / "a", device="cpu", progress=False,
                        on_start=lambda t, note: notes.append(note))
    assert trainer.step == 4 and path == tmp_path / "a" / "generator.safetensors" and notes[0].startswith("a fresh")
    again, path2 = run(cfg(), data, tmp_path / "a", device="cpu", progress=False,
                       on_start=lambda t, note: notes.append(note))
    assert again.step == 4 and "finished run" in notes[1]
    assert read_weights(path)[1]["step"] == read_weights(path2)[1]["step"] == 4
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "generator.safetensors").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="no run in this folder wrote it.*overwrite=True"):
        run(cfg(), data, tmp_path / "b", device="cpu", progress=False)
    assert run(cfg(steps=1), data, tmp_path / "b", device="cpu", progress=False, overwrite=True)[0].step == 1


def test_run_all_after_a_restart_resumes_the_same_run(tmp_path, data):
    trainer, note = start_run(cfg(), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})
    assert note.startswith("a fresh run") and str(tmp_path) not in note  # a temporary folder by its name only
    trainer.fit(steps=2)  # the runtime disconnects after the checkpoint at step 2
    trainer, note = start_run(cfg(), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})
    assert trainer.step == 2 and "resuming" in note and "step 2 of 4" in note
    trainer.fit()
    trainer, note = start_run(cfg(), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})
    assert trainer.step == 4 and "finished" in note
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["last.pt"]  # one checkpoint, not a pile


def test_fresh_on_request_or_when_the_run_differs_and_says_why(tmp_path, data):
    start_run(cfg(), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})[0].fit(steps=2)
    trainer, note = start_run(cfg(), data, tmp_path, device="cpu", progress=False, facts={"preset": "y"})
    assert trainer.step == 0 and "another run" in note and "preset 'x' -> 'y'" in note
    trainer.fit(steps=2)
    assert load_checkpoint(tmp_path / "last.pt")["provenance"]["preset"] == "y"
    trainer, note = start_run(cfg(), data, tmp_path, device="cpu", progress=False, fresh=True, facts={"preset": "y"})
    assert trainer.step == 0 and "FRESH=True" in note and not (tmp_path / "last.pt").exists()
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == []


def test_a_checkpoint_of_another_recipe_is_another_run(tmp_path, data):
    """A finished run of an older recipe in the same folder (same identity, other adversarial weight and D rate)
    must not be returned as this recipe's result: notebook 05 printed the new recipe over the old run's weights."""
    old = dict(mode="srgan", content="mse", adversarial_weight=4e-3, lr_d=1e-5)
    start_run(cfg(**old), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})[0].fit()
    trainer, note = start_run(cfg(**old, steps=6), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})
    assert trainer.step == 4 and "resuming" in note  # more steps of the same recipe: resumed
    new = dict(old, adversarial_weight=1e-2, lr_d=1e-4)
    trainer, note = start_run(cfg(**new), data, tmp_path, device="cpu", progress=False, facts={"preset": "x"})
    assert trainer.step == 0 and "another recipe" in note
    assert "adversarial_weight 0.004 -> 0.01" in note and "lr_d 1e-05 -> 0.0001" in note
    assert not (tmp_path / "last.pt").exists()


def test_overrides_and_drive(tmp_path, monkeypatch):
    monkeypatch.delenv("SRGAN_COLAB", raising=False)
    monkeypatch.delenv("SRGAN_GPU_CONFIG", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not runtime.in_colab() and runtime.drive_folder() is None and str(runtime.runs_root()) == "runs"
    assert runtime.gpu_config(torch.device("cuda")) and not runtime.gpu_config("cpu")
    monkeypatch.setenv("SRGAN_GPU_CONFIG", "1")
    assert runtime.gpu_config("cpu")
    mounted = []
    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=lambda p: (mounted.append(p), (tmp_path / "d" / "MyDrive").mkdir(
        parents=True)))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    sys.modules["google"].colab = colab
    monkeypatch.setenv("SRGAN_DRIVE_MOUNT", str(tmp_path / "d"))
    assert runtime.in_colab()
    assert runtime.runs_root() == tmp_path / "d" / "MyDrive" / "srgan-tutorial" / "runs"
    assert runtime.runs_root() == tmp_path / "d" / "MyDrive" / "srgan-tutorial" / "runs"
    assert mounted == [str(tmp_path / "d")]  # mounted once
    assert runtime.runs_root(drive=False).as_posix() == "runs"
