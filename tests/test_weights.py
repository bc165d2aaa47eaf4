"""The shipped weights and their model cards: the numbers a card states are the numbers the file gives.

Oracle: re-measuring. Each bundled weight file is scored on Set5 (both metric flavours) and compared with
the PSNR/SSIM its card (``NAME.json``) records, and the card's Markdown must be what ``scripts/make_card.py``
renders from that JSON, so a retrained file with a stale card, or a card edited by hand, fails here.
Also the one generator loader (:func:`srgan_lib.plumbing.weights.load_generator`): its checks and refusals.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from srgan_lib.plumbing import weights
from srgan_lib.plumbing.checkpoint import save_checkpoint, save_weights
from srgan_lib.data import load_eval_set
from srgan_lib.plumbing.evaluate import evaluate, model_upscaler
from srgan_lib.models import SRResNet


@pytest.fixture(scope="module")
def mc():
    """``scripts/make_card.py`` as a module (scripts/ is not a package), loaded once."""
    spec = importlib.util.spec_from_file_location("make_card", Path(__file__).parents[1] / "scripts" / "make_card.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_metrics_are_what_the_weights_measure_on_set5(shared_datasets: Path, name: str, mc) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card, method = weights.card(name), mc.METHOD[name]  # METHOD: the name each card files its own rows under
    rows = evaluate({method: model_upscaler(weights.load_generator(name))},
                    {"Set5": load_eval_set(shared_datasets / "Set5")})
    for r in rows:
        stated = card["metrics"][f"{method}|Set5|{r['flavour']}"]
        assert r["psnr"] == pytest.approx(stated["psnr"], abs=2e-3), (name, r["flavour"])
        assert r["ssim"] == pytest.approx(stated["ssim"], abs=2e-4), (name, r["flavour"])


def test_every_bundled_weight_has_a_card_template(mc) -> None:
    assert set(mc.RENDER) == set(weights.BUNDLED) == set(mc.METHOD)


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_markdown_is_the_rendering_of_its_json(name: str, mc) -> None:
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    md = (weights.WEIGHTS_DIR / f"{name}.md").read_text()
    assert md == mc.RENDER[name](card), f"{name}.md is stale: python scripts/make_card.py {name}"
    # and the bold "paper" row states the JSON's own numbers (independent of the template's formatting code)
    method = mc.METHOD[name]
    row = next(line for line in md.splitlines() if line.startswith(f"| **this {method}, \"paper\" flavour**"))
    expected = [(f"{card['metrics'][f'{method}|{d}|paper']['psnr']:.2f}",
                 f"{card['metrics'][f'{method}|{d}|paper']['ssim']:.4f}") for d in ("Set5", "Set14", "BSD100")]
    assert re.findall(r"(\d+\.\d\d) / (\d\.\d{4})", row) == expected


@pytest.mark.parametrize("name", sorted(weights.BUNDLED))
def test_card_shows_niqe_once_measured(name: str, mc) -> None:
    """Cards measured before NIQE render as they are (the test above); a card whose rows have ``niqe`` states it,
    for every method that has it (the SRGAN card's started-from SRResNet rows are kept as recorded, so they show
    NIQE only when it was recorded for them)."""
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    method = mc.METHOD[name]
    value = {"Set5": 6.104, "Set14": 5.5, "BSD100": 4.9}
    with_niqe = dict(card, metrics={k: dict(v, niqe=value[k.split("|")[1]]) if not k.startswith("SRResNet|") or
                                    method == "SRResNet" else v for k, v in card["metrics"].items()})
    md = mc.RENDER[name](with_niqe)
    assert md != mc.RENDER[name](card)
    line = next(ln for ln in md.splitlines() if ln.startswith("NIQE (Mittal"))
    assert line.count("6.10 | 5.50 | 4.90") == 2  # bicubic and the card's own model
    started_from_measured = all("niqe" in v for k, v in card["metrics"].items() if k.startswith("SRResNet|"))
    assert ("started from" in line) == (method != "SRResNet" and started_from_measured)


def test_make_card_check_flags_a_card_edited_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture, mc) -> None:
    for f in weights.WEIGHTS_DIR.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
        shutil.copy(f.with_suffix(".md"), tmp_path / f"{f.stem}.md")
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 0
    md = tmp_path / "srresnet_x4.md"
    md.write_text(md.read_text().replace("it is met", "it is almost met"))
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "srresnet_x4.md: stale" in capsys.readouterr().err
    assert mc.main(["srresnet_x4", "--dir", str(tmp_path)]) == 0  # re-rendering repairs it
    assert mc.main(["--check", "--dir", str(tmp_path)]) == 0


def test_make_card_measure_refreshes_the_metrics(tmp_path: Path, shared_datasets: Path, mc) -> None:
    # --measure on a card whose own numbers were blanked out fills them in with what a separate call of
    # evaluate() measures, and leaves the started-from SRResNet rows as recorded.
    name = "srgan_mse_x4"
    if name not in weights.available():
        pytest.skip(f"{name} is not in this installation")
    card = weights.card(name)
    blank = dict(card, metrics={k: ({"psnr": 0.0, "ssim": 0.0} if not k.startswith("SRResNet|") else v)
                                for k, v in card["metrics"].items()})
    subsets = tmp_path / "sets"
    for d in ("Set5", "Set14", "BSD100"):  # one image each keeps this test short
        (subsets / d).mkdir(parents=True)
        for f in sorted((shared_datasets / d).glob("*.png"))[:1]:
            shutil.copy(f, subsets / d / f.name)
    new = mc.measure(name, blank, subsets)
    rows = evaluate({"SRGAN-MSE": model_upscaler(weights.load_generator(name))}, {"Set5": load_eval_set(subsets / "Set5")})
    for r in rows:
        assert new["metrics"][f"SRGAN-MSE|Set5|{r['flavour']}"]["psnr"] == pytest.approx(r["psnr"], abs=1e-9)
        assert new["metrics"][f"SRGAN-MSE|Set5|{r['flavour']}"]["niqe"] == pytest.approx(r["niqe"], abs=1e-9)
    assert new["metrics"]["SRResNet|Set5|paper"] == card["metrics"]["SRResNet|Set5|paper"]  # the started-from rows stay
    assert all(v["psnr"] > 20 for k, v in new["metrics"].items())


# -- the fault probe of issue 17: weight files are checked before anything is built ------------------------


def _tiny_tensors():
    import torch

    from srgan_lib.models import SRResNet

    torch.manual_seed(0)
    return {k: v.contiguous() for k, v in SRResNet(scale=4, n_blocks=1, channels=8).state_dict().items()}


@pytest.mark.parametrize("meta, fragment", [
    ({"scale": "null"}, "scale=None is not a whole number"),
    ({"scale": "[4]"}, "scale=[4] is not a whole number"),
    ({"scale": "0"}, "metadata says scale=0, but the tensors are for scale=4"),
    ({"scale": "3"}, "metadata says scale=3"),
    ({"n_blocks": "100000"}, "metadata says n_blocks=100000, but the tensors are for n_blocks=1"),
    ({"channels": "true"}, "channels=True is not a whole number"),
])
def test_metadata_is_checked_against_the_tensors_before_building(tmp_path: Path, monkeypatch, meta, fragment) -> None:
    """Case 5: `scale: null` gave a traceback, `n_blocks: 100000` in a 6 MB file built a ~60 GB model before
    the tensors were checked, `scale: 0|3` named no file. Here no model may be built at all."""
    from safetensors.torch import save_file

    path = tmp_path / "damaged.safetensors"
    save_file(_tiny_tensors(), path, metadata=meta)
    monkeypatch.setattr(weights, "SRResNet", lambda *a, **k: pytest.fail(f"a model was built: {a} {k}"))
    with pytest.raises(ValueError, match="damaged.safetensors") as info:
        weights.load_generator(path)
    assert fragment in str(info.value)


def test_non_finite_weights_are_refused(tmp_path: Path) -> None:
    """Case 6: NaN/inf weights gave exit 0 and a black image."""
    from safetensors.torch import save_file

    for bad in (float("nan"), float("inf")):
        tensors = _tiny_tensors()
        tensors["blocks.0.body.0.weight"][0, 0, 0, 0] = bad
        save_file(tensors, tmp_path / "broken.safetensors", metadata={"scale": "4"})
        with pytest.raises(ValueError, match=r"broken.safetensors: 1 tensor\(s\) hold NaN or infinite values"):
            weights.load_generator(tmp_path / "broken.safetensors")
    save_file(_tiny_tensors(), tmp_path / "fine.safetensors", metadata={"scale": "4", "n_blocks": "1"})
    model = weights.load_generator(tmp_path / "fine.safetensors")
    assert model.config() == {"scale": 4, "n_blocks": 1, "channels": 8}


def test_bundled_weights_pass_the_checks() -> None:
    from srgan_lib.plumbing.checkpoint import read_weights

    assert weights.available(), "no bundled weights to check"
    for name in weights.available():
        tensors, meta = read_weights(weights.resolve(name))
        assert weights.generator_config(tensors, meta, name) == {k: meta[k] for k in ("scale", "n_blocks", "channels")}


# -- the one generator loader: bundled names, safetensors files and training checkpoints -----------------


def tiny() -> SRResNet:
    """A small SRResNet (2 blocks, 8 channels) in eval mode, its BN statistics non-trivial so loading them counts."""
    torch.manual_seed(0)
    model = SRResNet(scale=4, n_blocks=2, channels=8).eval()
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.uniform_(-0.2, 0.2)
        elif name.endswith("running_var"):
            buf.uniform_(0.5, 2.0)
    return model


def test_load_generator_from_weights_and_checkpoint(tmp_path):
    model = tiny()
    save_weights(model, tmp_path / "w.safetensors", model.config())
    loaded = weights.load_generator(tmp_path / "w.safetensors")
    save_checkpoint({"config": {**model.config(), "mode": "srresnet"}, "generator": model.state_dict()},
                    tmp_path / "last.pt")
    from_ckpt = weights.load_generator(tmp_path / "last.pt")
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
        torch.testing.assert_close(from_ckpt(x), model(x))


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"config": {}, "generator": _Evil(marker)}, evil)
    with pytest.raises(ValueError, match="evil.pt"):
        weights.load_generator(evil)
    assert not marker.exists()
    # the oracle: an unrestricted unpickler *would* run the code (so the test above means something)
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_corrupt_and_truncated_weights_are_named(tmp_path):
    model = tiny()
    good = save_weights(model, tmp_path / "w.safetensors", model.config())
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.safetensors"):
        weights.load_generator(tmp_path / "cut.safetensors")
    ckpt = save_checkpoint({"config": model.config(), "generator": model.state_dict()}, tmp_path / "c.pt")
    (tmp_path / "cut.pt").write_bytes(ckpt.read_bytes()[:300])
    with pytest.raises(ValueError, match="cut.pt"):
        weights.load_generator(tmp_path / "cut.pt")
    (tmp_path / "zero.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="zero.pt"):
        weights.load_generator(tmp_path / "zero.pt")


def test_wrong_architecture_is_refused(tmp_path):
    conv = nn.Conv2d(3, 3, 3)
    save_weights(conv, tmp_path / "conv.safetensors", {"scale": 4})
    with pytest.raises(ValueError, match="conv.safetensors"):
        weights.load_generator(tmp_path / "conv.safetensors")
    save_checkpoint({"config": {"scale": 4, "n_blocks": 3, "channels": 8}, "generator": tiny().state_dict()},
                    tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="mismatch.pt"):
        weights.load_generator(tmp_path / "mismatch.pt")


def test_checkpoint_config_is_checked_against_its_tensors(tmp_path):
    """Case 5 for training checkpoints: a damaged config never builds a model of its own size."""
    model = tiny()
    for cfg, fragment in (({"scale": None, "n_blocks": 2, "channels": 8}, "scale=None"),
                          ({"scale": 4, "n_blocks": 100_000, "channels": 8}, "n_blocks=100000"),
                          ({"scale": 4, "n_blocks": 2, "channels": [8]}, "channels=[8]")):
        path = save_checkpoint({"config": cfg, "generator": model.state_dict()}, tmp_path / "bad.pt")
        with pytest.raises(ValueError, match="bad.pt") as info:
            weights.load_generator(path)
        assert fragment in str(info.value)


# -- the fault probe of issue 28: dtypes and the whole state checked before anything is allocated ----------


def _no_real_model(monkeypatch) -> list:
    """Make any SRResNet that the loader builds outside the meta device (where nothing is allocated) a failure;
    returns the configs built on the meta device."""
    meta_builds = []

    def guarded(*a, **k):
        if torch.empty(0).device.type != "meta":
            pytest.fail(f"a model was allocated: {a} {k}")
        meta_builds.append(k or a)
        return SRResNet(*a, **k)

    monkeypatch.setattr(weights, "SRResNet", guarded)
    return meta_builds


def test_integer_weights_are_refused_before_building(tmp_path: Path, monkeypatch) -> None:
    """Bad 5: the bundled SRResNet cast to int32 (metadata intact) upscaled to a flat grey image with exit 0."""
    from safetensors.torch import save_file

    tensors = {k: v.to(torch.int32) for k, v in _tiny_tensors().items()}
    save_file(tensors, tmp_path / "ints.safetensors", metadata={"scale": "4", "n_blocks": "1", "channels": "8"})
    _no_real_model(monkeypatch)
    with pytest.raises(ValueError, match=r"ints.safetensors: tensor head.0.weight holds torch.int32 values"):
        weights.load_generator(tmp_path / "ints.safetensors")


def _huge_head():  # 197 KB: a 16384-channel 1 x 1 head, one block tensor, one upsampling tensor
    return {"head.0.weight": torch.zeros(16384, 3, 1, 1), "blocks.0.body.0.bias": torch.zeros(1),
            "upsample.0.conv.bias": torch.zeros(1)}


def _many_upsampling_blocks():  # 20 upsampling blocks: x1048576
    return {**_tiny_tensors(), **{f"upsample.{k}.conv.bias": torch.zeros(1) for k in range(20)}}


def _many_blocks():  # 5,000 residual blocks of a 64-channel head
    blocks = {f"blocks.{k}.body.0.bias": torch.zeros(1) for k in range(5000)}
    return {"head.0.weight": torch.zeros(64, 3, 9, 9), **blocks, "upsample.0.conv.bias": torch.zeros(1)}


def _wrong_shapes():  # an in-range architecture (512 channels) whose other tensors are 8-channel ones
    return {**_tiny_tensors(), "head.0.weight": torch.zeros(512, 3, 9, 9)}


@pytest.mark.parametrize("make, fragment", [
    (_huge_head, "channels=16384, outside 1..1024"),
    (_many_upsampling_blocks, "scale=1048576, outside 2, 4, 8"),
    (_many_blocks, "n_blocks=5000, outside 1..256"),
    (_wrong_shapes, "the tensors do not form that SRResNet"),
])
def test_the_architecture_is_checked_against_the_whole_state_before_allocating(tmp_path: Path, monkeypatch, make,
                                                                              fragment) -> None:
    """Bad 7: a 197 KB file (a 16384-channel head and two tiny tensors) made the loader allocate 9.6 GB before it
    refused; 24 KB and 130 KB files reached 2.6 and 1.3 GB. The architecture read from the tensors is checked against
    sane bounds and then against every tensor's name and shape (on the meta device) before a model is built."""
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file(make(), path)
    _no_real_model(monkeypatch)
    with pytest.raises(ValueError, match=r"odd.safetensors: ") as info:
        weights.load_generator(path)
    assert fragment in str(info.value)


def test_fitting_weights_still_load_and_build_once_for_real(tmp_path: Path) -> None:
    save_weights(tiny(), tmp_path / "w.safetensors", tiny().config())
    model = weights.load_generator(tmp_path / "w.safetensors")
    assert model.config() == {"scale": 4, "n_blocks": 2, "channels": 8}
    assert all(t.device.type == "cpu" for t in model.state_dict().values())
