"""srgan_lib.plumbing.engine, the training engine's production extras: SIGINT, DDP on CPU (gloo), health checks, precise
BN, the moving average of G, D's random window, the RNG states of a resume, the measured VGG factor and the
check of every option. Each is exercised through the Trainer that calls it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from srgan_lib.plumbing.checkpoint import load_checkpoint
from srgan_lib.data import PatchDataset
from srgan_lib.plumbing.engine import TrainingDiverged, check_health
from srgan_lib.presets import PRESETS
from srgan_lib.train import TrainConfig, Trainer, preset
from test_train import losses, tiny_config, tiny_images


def test_non_finite_loss_stops_with_the_checkpoint_to_go_back_to(tmp_path):
    data = PatchDataset(tiny_images(), crop=16, scale=4)
    t = Trainer(tiny_config(lr=1e30, steps=50, ckpt_every=1), data, tmp_path, device="cpu", progress=False)
    with pytest.raises(TrainingDiverged, match="last.pt"):
        t.fit()


def test_sigint_saves_a_resumable_checkpoint(tmp_path):
    import signal

    data = PatchDataset(tiny_images(), crop=16, scale=4)
    t = Trainer(tiny_config(steps=20), data, tmp_path, device="cpu", progress=False)

    def interrupt(trainer, _):
        os.kill(os.getpid(), signal.SIGINT)

    t.config.val_every = 2
    t.val_pairs = [(torch.rand(3, 8, 8), torch.rand(3, 32, 32))]
    with pytest.raises(KeyboardInterrupt, match="resume"):
        t.fit(callback=interrupt)
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == 2


DDP_SCRIPT = textwrap.dedent(
    """
    import os, sys, numpy as np, torch
    import srgan_lib.train as train
    from srgan_lib.data import PatchDataset
    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    calls = []
    real_save = train.save_checkpoint
    train.save_checkpoint = lambda state, path: (calls.append(str(path)), real_save(state, path))[1]
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(3)]
    cfg = train.TrainConfig(n_blocks=2, channels=8, crop=16, batch_size=2, steps=4, lr=1e-3,
                            log_every=1, val_every=1000, ckpt_every=2)
    t = train.Trainer(cfg, PatchDataset(images, crop=16, scale=4), out, device="cpu", progress=False)
    t.fit()
    torch.save({k: v for k, v in t.generator.state_dict().items()}, f"{out}/weights_rank{rank}.pt")
    with open(f"{out}/saves_rank{rank}.txt", "w") as fh:
        fh.write(str(len(calls)))
    """
)


@pytest.mark.slow
def test_ddp_two_processes_on_cpu_with_gloo(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(script), str(tmp_path)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    w0 = torch.load(tmp_path / "weights_rank0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "weights_rank1.pt", weights_only=True)
    for k in w0:
        if k.endswith("num_batches_tracked") or "running_" in k:
            continue  # BN buffers are per-process statistics (DDP broadcasts them from rank 0 each step)
        assert torch.equal(w0[k], w1[k]), k
    assert (tmp_path / "saves_rank0.txt").read_text() == "2"  # steps 2 and 4
    assert (tmp_path / "saves_rank1.txt").read_text() == "0"  # only rank 0 writes checkpoints
    assert load_checkpoint(tmp_path / "last.pt")["step"] == 4


def test_discriminator_collapse_is_detected(tmp_path):
    config = tiny_config(mode="srgan", content="mse", collapse_window=4)

    def check(history: list[dict]) -> None:  # at step 8, the last checkpoint at step 0
        check_health(config, {"loss": 1.0}, history, 8, tmp_path / "last.pt", saved_at=0)

    with pytest.raises(TrainingDiverged, match="100"):
        check([{"step": s, "d_acc": 1.0} for s in range(1, 9)])
    with pytest.raises(TrainingDiverged, match="chance"):
        check([{"step": s, "d_acc": 0.5} for s in range(1, 9)])
    check([{"step": s, "d_acc": 0.8 + 0.01 * (s % 3)} for s in range(1, 9)])  # a healthy game passes


def test_recalibrate_bn_sets_running_stats_to_the_mean_batch_statistics(tmp_path):
    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=3)
    t = Trainer(tiny_config(steps=2), data, tmp_path, device="cpu", progress=False)
    t.fit()
    weights = {k: v.clone() for k, v in t.generator.named_parameters()}
    bn = t.generator.post[1]  # the BN after the body
    seen = []
    hook = bn.register_forward_hook(lambda m, i, o: seen.append(i[0].mean(dim=(0, 2, 3))))
    t.recalibrate_bn(batches=3)
    hook.remove()
    assert len(seen) == 3
    assert torch.allclose(bn.running_mean, torch.stack(seen).mean(0), atol=1e-6)  # oracle: the plain mean
    assert bn.momentum == 0.1  # restored
    for k, v in t.generator.named_parameters():
        assert torch.equal(v, weights[k])  # weights untouched


def test_freeze_bn_keeps_running_statistics_through_training_and_validation(tmp_path):
    from torch import nn

    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=4)
    val = [(torch.rand(3, 8, 8), torch.rand(3, 32, 32))]
    t = Trainer(tiny_config(freeze_bn=True, steps=4, val_every=2), data, tmp_path, val_pairs=val, device="cpu",
                progress=False)
    bns = [m for m in t.generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    stats = [(m.running_mean.clone(), m.running_var.clone(), m.weight.clone()) for m in bns]
    t.fit()
    assert any("val_psnr" in h for h in t.history)  # validation ran and handed back to training mode
    assert t.generator.training and not any(m.training for m in bns)
    for m, (mean, var, weight) in zip(bns, stats):
        assert torch.equal(m.running_mean, mean) and torch.equal(m.running_var, var)
    assert any(not torch.equal(m.weight, w) for m, (_, _, w) in zip(bns, stats))  # gamma/beta still learn


class _OnDevice:
    """Stands in for a tensor that a CUDA ``map_location`` left on the GPU: usable only after ``.cpu()``."""

    def __init__(self, t: torch.Tensor) -> None:
        self._t = t

    def cpu(self) -> torch.Tensor:
        return self._t


def test_rng_state_restores_from_tensors_off_the_host():
    # Regression: resuming on CUDA loads the checkpoint with map_location=cuda, which moved the saved
    # RNG states to the GPU; numpy and torch.set_rng_state then raised TypeError (seen on an H200).
    import random

    from srgan_lib.plumbing.engine import rng_state, set_rng_state

    saved = rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    state = dict(saved)
    state["numpy"] = [saved["numpy"][0], _OnDevice(saved["numpy"][1]), *saved["numpy"][2:]]
    state["torch"] = _OnDevice(saved["torch"])
    set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


# -- the fault probe of issue 17: options -----------------------------------------------------------------

#: One bad value per TrainConfig field (types and ranges); the test checks every field has one.
BAD_VALUES = {
    "mode": ["gan", None], "scale": [3, 0, "4"], "n_blocks": [0, 100_000], "channels": [0, 2.5], "crop": [0, 50],
    "batch_size": [0, -1], "steps": [0, -1], "lr": [0.0, float("inf"), float("nan"), -1e-4],
    "schedule": ["linear"], "warmup_steps": [-1], "min_lr": [-1.0, float("nan")], "content": ["vgg"],
    "adversarial_weight": [-1e-3, float("inf")], "vgg_weights": ["none"], "init_generator": ["", 3],
    "seed": [-1, 2**32], "num_workers": [-1], "log_every": [0], "val_every": [0], "ckpt_every": [0],
    "keep_every": [-1], "amp": [1, "yes"], "channels_last": [0], "compile": ["no"], "collapse_window": [-5],
    "freeze_bn": [None], "lr_d": [0.0, -1e-5, float("nan"), "1e-5"], "vgg_rescale": ["", "measured", "-1", -1.0, 0, True],
    "ema_decay": [1.0, -0.1, float("nan"), "0.999"], "d_head_start": [-1, 2.0], "d_shift": [-1, 17], "freeze_upsampling": [1],
    "cpu_bf16": ["yes", 0], "allow_random_vgg": ["yes", 1],
}


def test_every_train_config_field_is_validated():
    """Case 7: log_every=0 / ckpt_every=0 were a ZeroDivisionError mid-run, steps=0 exported an untrained
    generator, crop/batch_size/channels=0 failed deep inside torch."""
    import dataclasses

    assert set(BAD_VALUES) == {f.name for f in dataclasses.fields(TrainConfig)}
    for key, values in BAD_VALUES.items():
        for value in values:
            with pytest.raises(ValueError, match=rf"^training option {key}=.* is not valid: use ") as info:
                TrainConfig(**{key: value})
            assert "\n" not in str(info.value)
    TrainConfig(lr=1, adversarial_weight=0, init_generator="srresnet_x4", keep_every=0)  # ints for floats are fine
    for mode, names in PRESETS.items():
        for name in names:
            preset(mode, name).validate()


# --------------------------------------------------------------------------------------------------
# vgg_rescale: "paper" (1/12.75), a number, or "auto" (section 3.2's criterion, measured at start)
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def random_vgg54():
    from srgan_lib.vgg import VGGFeatures
    from srgan_lib.plumbing.vgg_weights import RandomVGGWarning

    with pytest.warns(RandomVGGWarning):
        return VGGFeatures(layer="VGG54", weights="random")


def _vgg_config(**kw) -> TrainConfig:
    return tiny_config(content="vgg54", vgg_weights="random", allow_random_vgg=True, steps=2, lr=1e-4, **kw)


def test_vgg_rescale_auto_is_measured_on_the_first_batches_printed_and_resumed(tmp_path, capsys, random_vgg54,
                                                                               monkeypatch):
    from srgan_lib import vgg
    from srgan_lib.images import unit_to_model
    from srgan_lib.plumbing.engine import RESCALE_BATCHES

    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=5)
    t = Trainer(_vgg_config(vgg_rescale="auto"), data, tmp_path, device="cpu", progress=False,
                vgg_extractor=random_vgg54)
    out = capsys.readouterr().out
    # oracle: the same criterion on the first RESCALE_BATCHES batches, gathered by hand from the dataset
    items = [data[i] for i in range(RESCALE_BATCHES * t.config.batch_size)]
    lr = torch.stack([a for a, _ in items])
    hr = unit_to_model(torch.stack([b for _, b in items]))
    with torch.no_grad():
        sr = t.generator.eval()(lr)
    t.generator.train()
    want = vgg.measure_vgg_rescale(random_vgg54, sr, hr)
    assert t.vgg_rescale == pytest.approx(want, rel=1e-5)
    assert t.perceptual.content_loss.rescale == t.vgg_rescale
    assert out.count("VGG rescale (auto)") == 1 and f"{t.vgg_rescale:.4g}" in out
    assert "RANDOM" in out and "UNTRAINED generator" in out
    assert f"x {t.vgg_rescale:.4g}" in t.loss_label
    t.fit()
    assert load_checkpoint(tmp_path / "last.pt")["vgg_rescale"] == t.vgg_rescale

    def no_measuring(*a, **k):
        raise AssertionError("a resumed run must reuse the stored factor, not measure again")

    monkeypatch.setattr(vgg, "vgg_rescale_for", no_measuring)
    resumed = Trainer(_vgg_config(vgg_rescale="auto"), data, tmp_path, device="cpu", progress=False,
                      vgg_extractor=random_vgg54)
    assert resumed.step == 2 and resumed.vgg_rescale == t.vgg_rescale
    assert resumed.perceptual.content_loss.rescale == t.vgg_rescale


def test_vgg_rescale_paper_and_numbers_are_used_as_given(tmp_path, random_vgg54, monkeypatch):
    from srgan_lib import vgg

    monkeypatch.setattr(vgg, "vgg_rescale_for", lambda *a, **k: pytest.fail("measured without 'auto'"))
    data = PatchDataset(tiny_images(), crop=16, scale=4)
    paper = Trainer(_vgg_config(), data, tmp_path / "p", device="cpu", progress=False, vgg_extractor=random_vgg54)
    assert paper.config.vgg_rescale == "paper" and paper.perceptual.content_loss.rescale == 1 / 12.75
    given = Trainer(_vgg_config(vgg_rescale="0.3"), data, tmp_path / "n", device="cpu", progress=False,
                    vgg_extractor=random_vgg54)  # as `--set vgg_rescale=0.3` passes it
    assert given.perceptual.content_loss.rescale == pytest.approx(0.3)
    with pytest.raises(ValueError, match="vgg_rescale"):
        Trainer(_vgg_config(vgg_rescale="measured"), data, tmp_path / "x", device="cpu", progress=False,
                vgg_extractor=random_vgg54)
    mse = Trainer(tiny_config(mode="srgan", content="mse", vgg_rescale="auto"), data, tmp_path / "m",
                  device="cpu", progress=False)
    assert mse.vgg_rescale is None  # no VGG, nothing to measure


def test_recalibrate_bn_keeps_frozen_statistics(tmp_path, one_thread):
    """Issue 15: after a freeze_bn run, recalibrate_bn recomputed the statistics from the run's small crops
    (19.79 dB on Set5 for the shipped SRResNet); with freeze_bn they stay the trained ones."""
    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=0)
    for freeze in (True, False):
        trainer = Trainer(tiny_config(freeze_bn=freeze, steps=2), data, tmp_path / str(freeze), device="cpu",
                          progress=False)
        before = {k: v.clone() for k, v in trainer.generator.state_dict().items() if "running" in k}
        trainer.recalibrate_bn(batches=2)
        after = {k: v for k, v in trainer.generator.state_dict().items() if "running" in k}
        assert all(torch.equal(before[k], after[k]) for k in before) == freeze


def test_divergence_message_names_a_checkpoint_only_when_there_is_one(tmp_path, one_thread):
    """Issue 17 review: a run that diverged before its first checkpoint pointed to a last.pt never written
    (with a checkpoint, test_non_finite_loss_stops_with_the_checkpoint_to_go_back_to names it)."""
    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=0)
    trainer = Trainer(tiny_config(lr=1e30, steps=50, ckpt_every=1000), data, tmp_path, device="cpu", progress=False)
    with pytest.raises(TrainingDiverged, match=r"no checkpoint was written yet \(the first is due at step 1000\)"):
        trainer.fit()
    assert not (tmp_path / "last.pt").exists()


def test_ema_of_g_matches_the_average_written_by_hand_and_is_what_validates_and_exports(tmp_path, one_thread):
    """ema_decay: after every G step, avg = d * avg + (1 - d) * G (weights and BN statistics), the first
    update a copy; validation and export use the average, and a resume continues it exactly."""
    from srgan_lib.plumbing.weights import load_generator_weights
    from srgan_lib.models import SRResNet

    data = PatchDataset(tiny_images(), crop=16, scale=4, seed=3)
    decay = 0.5  # large steps, so the average differs clearly from G
    cfg = dict(mode="srgan", content="mse", steps=4, collapse_window=0, ema_decay=decay)
    tr = Trainer(tiny_config(**cfg), data, tmp_path / "a", device="cpu", progress=False)
    oracle = None
    original = tr.update_average  # the hook the loop calls after each G step

    def spy():
        nonlocal oracle
        original()
        now = {k: v.detach().clone().double() for k, v in tr.generator.state_dict().items()
               if v.is_floating_point()}  # not num_batches_tracked (a counter)
        oracle = now if oracle is None else {k: decay * oracle[k] + (1 - decay) * now[k] for k in now}

    tr.update_average = spy
    tr.fit()
    ema = tr.eval_generator.state_dict()
    for k, v in oracle.items():
        torch.testing.assert_close(ema[k].double(), v, rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(ema[k], v) for k, v in tr.generator.state_dict().items() if v.is_floating_point())
    assert tr.eval_generator is not tr.generator

    exported = SRResNet(4, 2, 8)
    load_generator_weights(exported, tr.export_generator(tmp_path / "g.safetensors"))
    for k, v in exported.state_dict().items():
        assert torch.equal(v, ema[k].cpu()), k

    full = tr
    first = Trainer(tiny_config(**cfg), data, tmp_path / "b", device="cpu", progress=False)
    first.fit(steps=2)
    resumed = Trainer(tiny_config(**cfg), data, tmp_path / "b", device="cpu", progress=False)
    resumed.fit()
    for k, v in full.eval_generator.state_dict().items():
        assert torch.equal(v, resumed.eval_generator.state_dict()[k]), k


def test_collapse_check_skips_validation_rows(tmp_path):
    """Validation rows in the history (val_psnr, no d_acc) inside the collapse window were a KeyError at the
    next log (seen with val_every <= collapse_window and validation pairs)."""
    config = tiny_config(mode="srgan", content="mse", steps=10, collapse_window=4)

    def check(history: list[dict]) -> None:  # at step 8, no checkpoint written
        check_health(config, {"loss": 0.1}, history, 8, tmp_path / "a" / "last.pt", saved_at=0)

    history = [{"step": s, "d_acc": a} for s, a in zip(range(1, 9), (0.6, 0.7, 0.8, 0.6, 0.7, 0.9, 0.8, 0.7))]
    history.insert(6, {"step": 6, "val_psnr": 25.0, "val_ssim": 0.7})
    check(history)  # a healthy D: no error, and no KeyError from the validation row
    history = [{"step": s, "d_acc": 1.0} for s in range(1, 9)] + [{"step": 8, "val_psnr": 25.0}]
    with pytest.raises(TrainingDiverged, match="accuracy 100.0% over the last 4 steps"):
        check(history)


def test_d_shift_shows_d_one_random_window_of_real_and_fake(tmp_path, one_thread):
    """d_shift=s: D's input is the mixed batch cut to (H - s) x (W - s) at one offset in 0..s per step, the
    same window for the real and the generated halves; the offsets vary; the run still resumes exactly."""
    data = PatchDataset(tiny_images(), crop=20, scale=4, seed=6)
    cfg = dict(mode="srgan", content="mse", steps=6, collapse_window=0, d_shift=3, crop=20)
    tr = Trainer(tiny_config(**cfg), data, tmp_path / "a", device="cpu", progress=False)
    seen, batches = [], []
    tr.discriminator.register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
    step = tr.train_step
    tr.train_step = lambda lr, hr: (batches.append(hr.clone()), step(lr, hr))[1]
    tr.fit()
    offsets = set()
    for i, hr in enumerate(batches):
        d_in = seen[2 * i]  # the D update's pass (the G update's pass follows it)
        assert d_in.shape == (2 * hr.shape[0], 3, 17, 17)
        torch.testing.assert_close(seen[2 * i + 1][: hr.shape[0]], d_in[: hr.shape[0]])  # same window both passes
        match = [(dy, dx) for dy in range(4) for dx in range(4)
                 if torch.equal(d_in[: hr.shape[0]], hr[:, :, dy : dy + 17, dx : dx + 17])]
        assert len(match) == 1, match
        offsets.add(match[0])
    assert len(offsets) > 1
    first = Trainer(tiny_config(**cfg), data, tmp_path / "b", device="cpu", progress=False)
    first.fit(steps=3)
    resumed = Trainer(tiny_config(**cfg), data, tmp_path / "b", device="cpu", progress=False)
    resumed.fit()
    assert losses(resumed.history) == losses(tr.history)


def test_freeze_upsampling_needs_trained_weights_to_keep():
    with pytest.raises(ValueError, match="freeze_upsampling=True needs init_generator"):
        TrainConfig(mode="srgan", freeze_upsampling=True)
    with pytest.raises(ValueError, match="init_generator"):
        preset("srgan", "colab", init_generator=None)
    assert preset("srgan", "colab", init_generator="srresnet_x4").freeze_upsampling
