"""Issue 25: a run cannot silently go wrong and keeps what it scored.

- a VGG content loss on random VGG weights is refused unless allowed;
- every exported generator (and last.pt) records its provenance; toy / random-VGG files say so when loaded;
- the generator a run validated (its moving average, with the BN statistics it was scored with) is what both
  ``generator.safetensors`` and ``last.pt`` load as;
- a resume refuses a checkpoint of another identity (content loss, VGG19 and its factor, data, preset);
- the G step computes no gradient for D's weights; a health-check stop exports the last good generator;
- old weight files and checkpoints (without provenance) still load, their fields reading "unknown".
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from srgan_lib.plumbing import provenance
from srgan_lib.plumbing.checkpoint import load_checkpoint, read_weights, save_checkpoint
from srgan_lib.data import PatchDataset
from srgan_lib.plumbing.engine import TrainingDiverged
from srgan_lib.plumbing.runtime import configure_backends
from srgan_lib.train import RunMismatch, TrainConfig, Trainer, preset
from srgan_lib.plumbing.train_data import TrainingImages
from srgan_lib.plumbing.weights import WEIGHTS_DIR, load_generator, read_generator_metadata

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_images(n: int = 3, size: int = 40, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8) for _ in range(n)]


def tiny(**kw) -> TrainConfig:
    base = dict(n_blocks=2, channels=8, crop=16, batch_size=2, steps=4, lr=1e-3, log_every=1, val_every=1000,
                ckpt_every=1000)
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def data() -> PatchDataset:
    return PatchDataset(tiny_images(), crop=16, scale=4, seed=1)


@pytest.fixture(scope="module")
def random_vgg():
    from srgan_lib.vgg import VGGFeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VGGFeatures(layer="VGG22", weights="random")


def toy_facts() -> dict:
    from srgan_lib.plumbing.samples import TRAINING_SAMPLES, sample_path

    paths = tuple(sample_path(n) for n in TRAINING_SAMPLES)
    return provenance.data_facts(TrainingImages(paths, "toy: ...", True, None))


# -- item 1: refuse, do not label ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["srresnet", "srgan"])
def test_vgg_content_loss_on_random_weights_is_refused_unless_allowed(mode):
    with pytest.raises(ValueError, match="vgg_weights='random'.*refused.*allow_random_vgg=True"):
        tiny(mode=mode, content="vgg54", vgg_weights="random")
    tiny(mode=mode, content="vgg54", vgg_weights="random", allow_random_vgg=True)  # explicitly allowed
    tiny(mode=mode, content="mse", vgg_weights="random")  # no VGG in the loss: nothing to refuse


def test_only_the_quick_preset_allows_random_vgg():
    for name in ("cpu", "colab", "paper"):
        assert not preset("srgan", name).allow_random_vgg
    assert preset("srgan", "quick").allow_random_vgg  # CI's offline code check, labelled everywhere
    with pytest.raises(ValueError, match="refused"):
        preset("srgan", "colab", vgg_weights="random")


# -- items 2 and 3: provenance, and the scored generator kept -----------------------------------------------------
def test_export_records_provenance_and_loads_as_the_validated_ema(tmp_path, data):
    """The issue's measurement: after 4 steps, load_generator(last.pt) gave the raw G (7.6 from the EMA)."""
    facts = {"preset": "test", **toy_facts()}
    t = Trainer(tiny(ema_decay=0.5, lr=1e-2), data, tmp_path, device="cpu", progress=False, facts=facts)
    t.fit()
    t.recalibrate_bn(batches=2)
    path = t.export()
    assert path == tmp_path / "generator.safetensors"
    scored = {k: v.clone() for k, v in t.eval_generator.state_dict().items()}
    raw_g = t.generator.state_dict()
    assert max((scored[k].float() - raw_g[k].float()).abs().max() for k in scored) > 0  # EMA != G: a real check
    for source in (path, tmp_path / "last.pt"):
        with pytest.warns(provenance.ProvenanceWarning, match="toy"):
            g = load_generator(source)
        for k, v in g.state_dict().items():
            assert torch.equal(v, scored[k]), (source.name, k)  # weights AND the recalibrated BN statistics
    _, meta = read_weights(path)
    facts = provenance.read(meta)
    assert facts["content"] == "mse" and facts["vgg_weights"] == "none (pixel MSE)"
    assert facts["data_toy"] is True and facts["data_images"] == 2 and len(facts["data_files_sha256"]) == 16
    assert facts["step"] == 4 and facts["preset"] == "test" and facts["device"].startswith("cpu")
    assert facts["precision"].startswith("float32") and facts["library_version"] != provenance.UNKNOWN
    assert facts["init_generator"] == "none (random weights)"


def test_random_vgg_run_says_so_in_its_file_and_when_loaded(tmp_path, data, random_vgg):
    cfg = tiny(content="vgg22", vgg_weights="random", allow_random_vgg=True, steps=1)
    t = Trainer(cfg, data, tmp_path, device="cpu", progress=False, vgg_extractor=random_vgg)
    t.fit()
    path = t.export()
    meta = read_generator_metadata(path)
    assert meta["vgg_weights"] == "random" and meta["vgg_enum"].startswith("none")
    assert meta["vgg_features_sha256"] == provenance.digest_tensors(random_vgg.features.state_dict())
    assert any("RANDOM" in line for line in provenance.describe(meta))
    with pytest.warns(provenance.ProvenanceWarning, match="RANDOM"):
        load_generator(path)


def test_shipped_weights_and_old_checkpoints_read_as_unknown(tmp_path, data):
    for name in ("srresnet_x4", "srgan_mse_x4"):  # both trained by scripts/train_shipped.py with provenance
        with warnings.catch_warnings():
            warnings.simplefilter("error", provenance.ProvenanceWarning)  # no caveat invented for them
            load_generator(name)
        facts = provenance.read(read_generator_metadata(name))
        assert facts["content"] == "mse" and facts["data_toy"] is False  # what their cards say
        assert facts["data_images"] == 513
    # the phase-6 SRResNet started from the shipped file; the GAN from the phase-6 run's output, the same bytes
    assert provenance.read(read_generator_metadata("srresnet_x4"))["init_generator"] == "srresnet_x4.safetensors"
    # weights written before provenance existed (only the model config): unknown, not guessed
    tensors, meta = read_weights(WEIGHTS_DIR / "srresnet_x4.safetensors")
    old_file = tmp_path / "old.safetensors"
    save_file(tensors, old_file, metadata={k: json.dumps(meta[k]) for k in ("model", "scale", "n_blocks", "channels")})
    with warnings.catch_warnings():
        warnings.simplefilter("error", provenance.ProvenanceWarning)
        load_generator(old_file)
    facts = provenance.read(read_generator_metadata(old_file))
    assert facts["content"] == provenance.UNKNOWN and facts["vgg_features_sha256"] == provenance.UNKNOWN
    # an older last.pt: no provenance entry, no moving average
    t = Trainer(tiny(steps=1), data, tmp_path, device="cpu", progress=False)
    t.fit()
    state = load_checkpoint(tmp_path / "last.pt")
    del state["provenance"]
    save_checkpoint(state, tmp_path / "last.pt")
    assert provenance.read(read_generator_metadata(tmp_path / "last.pt"))["data_source"] == provenance.UNKNOWN
    load_generator(tmp_path / "last.pt")
    Trainer(tiny(steps=2), data, tmp_path, device="cpu", progress=False).fit()  # and it resumes


def test_digests_are_oracles_of_content_not_place(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "sub").mkdir(parents=True)
        (folder / "x.png").write_bytes(b"12345")
        (folder / "sub" / "y.png").write_bytes(b"123")
    files = lambda f: sorted(f.rglob("*.png"))
    assert provenance.digest_file_list(files(a), a) == provenance.digest_file_list(files(b), b)
    (b / "sub" / "y.png").write_bytes(b"1234")  # one file replaced
    assert provenance.digest_file_list(files(a), a) != provenance.digest_file_list(files(b), b)
    t = {"w": torch.arange(6.0).reshape(2, 3)}
    assert provenance.digest_tensors(t) == provenance.digest_tensors({"w": t["w"].clone()})
    assert provenance.digest_tensors(t) != provenance.digest_tensors({"w": t["w"] + 1e-6})


# -- item 6: resume checks the run's identity ----------------------------------------------------------------------
@pytest.mark.parametrize("change", ["content", "vgg_weights", "data", "preset", "rescale"])
def test_resume_refuses_another_identity(tmp_path, data, random_vgg, change):
    base = dict(content="vgg22", vgg_weights="random", allow_random_vgg=True, steps=1, vgg_rescale="paper")
    facts = {"preset": "colab", "data_source": "DIV2K-train", "data_files_sha256": "abc"}
    Trainer(tiny(**base), data, tmp_path, device="cpu", progress=False, vgg_extractor=random_vgg, facts=facts).fit()
    cfg, new_facts, vgg = dict(base, steps=2), dict(facts), random_vgg
    if change == "content":
        cfg["content"], vgg = "mse", None
    elif change == "vgg_weights":  # the case: a run started on a random VGG, resumed with another VGG19
        from srgan_lib.vgg import VGGFeatures

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vgg = VGGFeatures(layer="VGG22", weights="random", seed=1)  # other weights, other hash
    elif change == "data":
        new_facts.update(data_source="toy: the bundled photographs")
    elif change == "preset":
        new_facts.update(preset="cpu")
    else:
        cfg["vgg_rescale"] = "auto"
    with pytest.raises(RunMismatch, match="another run.*(content|vgg_features_sha256|data_source|preset|vgg_rescale)"):
        Trainer(tiny(**cfg), data, tmp_path, device="cpu", progress=False, vgg_extractor=vgg, facts=new_facts)
    # the same identity resumes
    t = Trainer(tiny(**dict(base, steps=2)), data, tmp_path, device="cpu", progress=False, vgg_extractor=random_vgg,
                facts=facts)
    assert t.step == 1


# -- item 7: lean and visible long runs ----------------------------------------------------------------------------
def test_g_step_computes_no_gradient_for_d_weights(tmp_path, data):
    t = Trainer(tiny(mode="srgan", steps=1), data, tmp_path, device="cpu", progress=False)
    calls = {"n": 0}
    for p in t.discriminator.parameters():
        p.register_hook(lambda g: calls.__setitem__("n", calls["n"] + 1))
    n_params = sum(1 for _ in t.discriminator.parameters())
    before_g = {k: v.clone() for k, v in t.generator.state_dict().items()}
    t.fit()
    assert calls["n"] == n_params  # one gradient per D weight: the D step's only
    assert all(p.requires_grad for p in t.discriminator.parameters())  # restored after the G step
    assert any(not torch.equal(v, t.generator.state_dict()[k]) for k, v in before_g.items())  # G still learns


def test_cudnn_benchmark_is_set_for_cuda_only(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    configure_backends("cpu")
    assert torch.backends.cudnn.benchmark is False
    configure_backends(torch.device("cuda"))  # setting the flag needs no GPU
    assert torch.backends.cudnn.benchmark is True


@pytest.mark.parametrize("broken", [False, True])
def test_health_check_stop_exports_the_last_good_generator(tmp_path, data, monkeypatch, broken):
    from srgan_lib.plumbing import engine

    t = Trainer(tiny(steps=6, ckpt_every=2), data, tmp_path, device="cpu", progress=False)
    real_check = engine.check_health

    def check(config, logged, history, step, checkpoint, saved_at):
        if step == 3:
            if broken:  # the weights themselves went non-finite: the checkpoint of step 2 is the last good one
                with torch.no_grad():
                    next(t.generator.parameters()).fill_(float("nan"))
            raise TrainingDiverged("step 3: forced")
        real_check(config, logged, history, step, checkpoint, saved_at)

    monkeypatch.setattr(engine, "check_health", check)
    with pytest.raises(TrainingDiverged, match=r"last good generator \(step (2|3)\) was exported"):
        t.fit()
    _, meta = read_weights(tmp_path / "generator.safetensors")
    assert meta["step"] == (2 if broken else 3) and "health check" in meta["stopped"]
    g = load_generator(tmp_path / "generator.safetensors")
    assert all(torch.isfinite(v).all() for v in g.state_dict().values() if v.is_floating_point())


def test_progress_bar_shows_losses_and_validation(tmp_path, data, capsys):
    hr = torch.rand(3, 32, 32)
    lr = torch.nn.functional.interpolate(hr[None], scale_factor=0.25, mode="bicubic", align_corners=False)[0]
    t = Trainer(tiny(steps=2, val_every=2, log_every=1), data, tmp_path, device="cpu", progress=True,
                val_pairs=[(lr.clamp(0, 1), hr)])
    t.fit()
    err = capsys.readouterr().err
    assert "loss=" in err and "val_psnr=" in err and "<" in err  # tqdm's elapsed<remaining (ETA)
