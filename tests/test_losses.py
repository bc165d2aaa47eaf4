"""Tests of srgan_lib.losses (paper section 2.2): VGG phi_{i,j} extractor, content/TV/adversarial losses.

Oracles: torchvision's own vgg19 layer list and raw features, torch's F.mse_loss, hand-computed values
(log 2, softplus by math.log), the paper's constants. Images are tiny (<= 32x32) to keep this fast on CPU.
No network: the pretrained-weights path is exercised with a state_dict file placed in a temporary
torch hub cache, and downloads are replaced by a function that fails.
"""

from __future__ import annotations

import math
import os
import urllib.error
import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from srgan_lib import losses as L
from srgan_lib.models import SRResNet

VGG19_FILE = "vgg19-dcbb9e9d.pth"  # the file name torchvision's VGG19_Weights.IMAGENET1K_V1 uses


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def _random_vgg(layer: str, **kwargs) -> L.VGGFeatures:
    with pytest.warns(L.RandomVGGWarning):
        return L.VGGFeatures(layer=layer, weights="random", **kwargs)


def _images(n: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1  # (n, 3, size, size) in [-1, 1]


@pytest.fixture
def no_download(monkeypatch):
    """Any download attempt fails as it would offline (and is recorded); no real network is touched."""
    calls = []

    def fail(url, dst, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    return calls


@pytest.fixture
def empty_hub(tmp_path, monkeypatch, no_download):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # restored afterwards by monkeypatch
    torch.hub.set_dir(str(tmp_path / "hub"))
    return tmp_path / "hub"


# --------------------------------------------------------------------------------------------------
# phi_{i,j} names against torchvision's layer list
# --------------------------------------------------------------------------------------------------
def _expected_phi_from_torchvision() -> dict[str, int]:
    """Count convs and pools in torchvision's vgg19().features, independently of the library."""
    with torch.device("meta"):
        features = torchvision.models.vgg19().features
    expected, pools, convs, last_conv = {}, 0, 0, None
    for idx, layer in enumerate(features):
        if isinstance(layer, nn.MaxPool2d):
            pools, convs = pools + 1, 0
        elif isinstance(layer, nn.Conv2d):
            convs, last_conv = convs + 1, idx
        elif isinstance(layer, nn.ReLU):
            assert last_conv == idx - 1, "every ReLU directly follows its conv"
            expected[f"VGG{pools + 1}{convs}"] = idx  # j-th conv (after activation) before the i-th pool
    return expected


def test_phi_indices_match_torchvision_layer_list():
    expected = _expected_phi_from_torchvision()
    assert expected["VGG22"] == 8 and expected["VGG54"] == 35  # relu2_2, relu5_4
    got = {f"VGG{i}{j}": idx for (i, j), idx in L.phi_layers().items()}
    assert got == expected
    assert L.phi_index(2, 2) == 8 and L.phi_index(5, 4) == 35
    for name in ("VGG22", "vgg22", "phi_2,2", "VGG2_2"):
        assert L.parse_phi(name) == (2, 2)


def test_extractor_is_truncated_just_after_the_chosen_relu():
    for layer, n_layers, out_shape in (("VGG22", 9, (1, 128, 8, 8)), ("VGG54", 36, (1, 512, 1, 1))):
        vgg = _random_vgg(layer)
        assert len(vgg.features) == n_layers and vgg.name == layer
        assert isinstance(vgg.features[-1], nn.ReLU) and isinstance(vgg.features[-2], nn.Conv2d)
        assert vgg.features[-2].out_channels == out_shape[1] == vgg.out_channels
        assert not any(getattr(m, "inplace", False) for m in vgg.features), "copy must use non-inplace ReLU"
        assert vgg(_images(1, 16)).shape == out_shape  # 16x16 in: /2 (VGG22), /16 (VGG54)
    assert L.VGGFeatures.__init__.__kwdefaults__["weights"] == "imagenet"  # random is opt-in only


@pytest.mark.parametrize("bad, lists_names", [
    (dict(layer="VGG26"), True), (dict(layer="VGG61"), True), (dict(i=1, j=3), True), (dict(i=5), True),
    (dict(layer="VGG54", i=5, j=4), False),
])
def test_invalid_layer_names_give_a_clear_error(bad, lists_names):
    with pytest.raises(ValueError) as err:
        L.VGGFeatures(weights="random", **bad)
    if lists_names:
        assert "VGG22" in str(err.value) and "VGG54" in str(err.value)  # names the valid choices


def test_invalid_weights_and_small_inputs_are_rejected():
    with pytest.raises(ValueError, match="imagenet"):
        L.VGGFeatures(layer="VGG22", weights="pretrained")
    vgg = _random_vgg("VGG54")
    with pytest.raises(ValueError, match="at least 16x16"):
        vgg(_images(1, 8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        vgg(torch.zeros(1, 1, 32, 32))


def test_vgg_layer_table():
    table = L.vgg_layer_table()
    assert len(table) == 37
    phis = [r.phi for r in table if r.phi]
    assert len(phis) == 16 and phis[0] == "VGG11" and phis[-1] == "VGG54"
    row = table[35]
    assert (row.name, row.kind, row.phi, row.out_channels, row.downscale) == ("relu5_4", "ReLU", "VGG54", 512, 16)
    assert table[8].name == "relu2_2" and table[8].downscale == 2


# --------------------------------------------------------------------------------------------------
# Random weights: explicit, loud, labelled
# --------------------------------------------------------------------------------------------------
def test_random_mode_warns_and_is_labelled():
    with pytest.warns(UserWarning, match="RANDOM weights"):
        vgg = L.VGGFeatures(layer="VGG22", weights="random")
    assert vgg.is_random and "RANDOM" in vgg.label and "NOT the paper" in vgg.label
    with pytest.warns(L.RandomVGGWarning):
        content = L.ContentLoss("VGG22", weights="random")
    with pytest.warns(L.RandomVGGWarning):
        perceptual = L.PerceptualLoss("vgg22", vgg_weights="random")
    assert content.is_random and perceptual.is_random
    assert "RANDOM" in content.label and "RANDOM" in perceptual.label
    parts = perceptual(_images(1, 16), _images(1, 16, seed=1))
    assert "RANDOM" in parts.label
    mse = L.PerceptualLoss("mse")
    assert not mse.is_random and "RANDOM" not in mse.label


def test_random_weights_are_seeded():
    a, b, c = _random_vgg("VGG22", seed=3), _random_vgg("VGG22", seed=3), _random_vgg("VGG22", seed=4)
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


# --------------------------------------------------------------------------------------------------
# Frozen, eval, normalised exactly once
# --------------------------------------------------------------------------------------------------
def test_extractor_is_frozen_and_stays_in_eval_mode():
    vgg = _random_vgg("VGG22")
    assert all(not p.requires_grad for p in vgg.parameters())
    parent = nn.ModuleDict({"g": nn.Conv2d(3, 3, 1), "vgg": vgg})
    parent.train()
    assert parent.training and parent["g"].training
    assert not vgg.training and not any(m.training for m in vgg.modules())
    vgg.train(True)
    assert not vgg.training


def test_imagenet_normalisation_is_applied_exactly_once():
    vgg = _random_vgg("VGG54")
    # torchvision's raw features with the same weights, fed a manually normalised image
    with torch.device("meta"):
        raw = torchvision.models.vgg19().features[:36]
    raw = raw.to_empty(device="cpu")
    raw.load_state_dict(vgg.features.state_dict())
    raw.eval()
    preset = torchvision.models.VGG19_Weights.IMAGENET1K_V1.transforms()
    mean = torch.tensor(preset.mean).view(1, 3, 1, 1)
    std = torch.tensor(preset.std).view(1, 3, 1, 1)
    x = _images(1, 16)  # generator range [-1, 1]
    manual = ((x + 1) / 2 - mean) / std  # the ImageNet normalisation, once
    with torch.no_grad():
        ours = vgg(x)
        expected = raw(manual)
        twice = raw((manual - mean) / std)
        never = raw(x)
    def rel(a, b):
        return ((a - b).norm() / b.norm()).item()

    assert ours.abs().max() > 0
    assert rel(ours, expected) < 1e-4
    assert rel(twice, expected) > 0.1 and rel(never, expected) > 0.1  # the test can tell them apart
    assert x.min() < -0.5  # input untouched (no in-place normalisation)
    torch.testing.assert_close(x, _images(1, 16))


# --------------------------------------------------------------------------------------------------
# Content losses
# --------------------------------------------------------------------------------------------------
def test_paper_constants():
    assert L.ADVERSARIAL_WEIGHT == 1e-3
    assert L.VGG_RESCALE == pytest.approx(1 / 12.75)
    assert L.VGG_RESCALE**2 == pytest.approx(0.00615, abs=1e-5)  # "a rescaling factor of about 0.006"
    assert L.TV_WEIGHT == 2e-8


@pytest.mark.parametrize("layer", ["VGG22", "VGG54"])
def test_content_loss_zero_for_identical_positive_otherwise(layer):
    with pytest.warns(L.RandomVGGWarning):
        loss = L.ContentLoss(layer, weights="random")
    hr = _images(1, 16)
    assert loss(hr, hr.clone()).item() == 0.0
    assert loss(_images(1, 16, seed=1), hr).item() > 0.0


def test_content_loss_is_feature_mse_rescaled_by_1_over_12_75():
    vgg = _random_vgg("VGG22")
    loss = L.ContentLoss(extractor=vgg)
    sr, hr = _images(2, 32, seed=1), _images(2, 32)
    with torch.no_grad():
        expected = F.mse_loss(vgg(sr), vgg(hr)) / 12.75**2
    torch.testing.assert_close(loss(sr, hr), expected, rtol=1e-5, atol=0)
    with pytest.raises(ValueError, match="same shape"):
        loss(sr, hr[:, :, :16])


def test_content_loss_trains_the_generator_and_leaves_vgg_untouched():
    torch.manual_seed(0)
    gen = SRResNet(n_blocks=2, channels=16)
    with pytest.warns(L.RandomVGGWarning):
        loss_fn = L.ContentLoss("VGG54", weights="random")
    vgg_before = {k: v.clone() for k, v in loss_fn.state_dict().items()}
    gen_before = {k: v.clone() for k, v in gen.named_parameters()}
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)
    # an optimiser over everything must not be able to touch VGG either (frozen params get no grad)
    opt_all = torch.optim.Adam(list(gen.parameters()) + list(loss_fn.parameters()), lr=1e-3)

    lr_img, hr = (_images(1, 4) + 1) / 2, _images(1, 16, seed=1)  # LR in [0, 1], HR in [-1, 1]
    sr = gen(lr_img)  # (1, 3, 16, 16)
    sr.retain_grad()
    loss = loss_fn(sr, hr)
    assert loss.requires_grad and loss.grad_fn is not None  # not a graph-cutting torch.Tensor([loss])
    loss.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss_fn.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in gen.parameters())
    opt.step()
    opt_all.step()
    for k, v in loss_fn.state_dict().items():
        assert torch.equal(v, vgg_before[k]), f"VGG {k} changed"
    assert any(not torch.equal(p, gen_before[k]) for k, p in gen.named_parameters())


def test_pixel_mse_matches_torch_and_tv_loss_by_hand():
    sr, hr = _images(2, 16, seed=1), _images(2, 16)
    torch.testing.assert_close(L.pixel_mse(sr, hr), ((sr - hr) ** 2).mean())
    assert L.pixel_mse(hr, hr).item() == 0.0
    with pytest.raises(ValueError, match="same shape"):
        L.pixel_mse(sr, hr[..., :8])
    assert L.tv_loss(torch.full((2, 3, 8, 8), 0.3)).item() == 0.0
    x = torch.tensor([[0.0, 1.0], [3.0, -1.0]]).view(1, 1, 2, 2)
    # |dy|: |3-0| + |-1-1| = 5; |dx|: |1-0| + |-1-3| = 5
    assert L.tv_loss(x).item() == pytest.approx(10.0)
    assert L.tv_loss(torch.cat([x, 2 * x])).item() == pytest.approx(15.0)  # mean over the batch


# --------------------------------------------------------------------------------------------------
# Pretrained weights through torchvision's API and the torch hub cache, offline
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cached_vgg19_file(tmp_path_factory):
    """A full VGG19 state_dict (random init) saved where torchvision's cache expects the ImageNet file."""
    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(1234)
    state = torchvision.models.vgg19().state_dict()
    torch.save(state, checkpoints / VGG19_FILE)
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    del state
    return home, features


@pytest.mark.slow  # writes and reads a full 548 MB VGG19 state_dict
@pytest.mark.parametrize("how", ["set_dir", "TORCH_HOME"])
def test_pretrained_weights_load_from_the_hub_cache(cached_vgg19_file, monkeypatch, no_download, how):
    home, features = cached_vgg19_file
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    if how == "set_dir":
        torch.hub.set_dir(str(home / "hub"))
    else:
        monkeypatch.setenv("TORCH_HOME", str(home))
    assert L.vgg19_cache_path() == str(home / "hub" / "checkpoints" / VGG19_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", L.RandomVGGWarning)  # the pretrained path must not warn
        vgg = L.VGGFeatures(5, 4, weights="imagenet", progress=False)
    assert no_download == []
    assert not vgg.is_random and "ImageNet-pretrained" in vgg.label and "RANDOM" not in vgg.label
    state = vgg.features.state_dict()
    assert len(state) == 32  # 16 convs x (weight, bias) up to relu5_4
    for key, value in state.items():
        assert torch.equal(value, features[f"features.{key}"]), key
    assert all(not p.requires_grad for p in vgg.parameters())


def test_missing_weights_offline_raise_a_clear_error(empty_hub, no_download, monkeypatch):
    from srgan_lib import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: True)  # the host answers, the download fails
    with pytest.raises(L.VGGWeightsUnavailable) as err:
        L.VGGFeatures(layer="VGG54", progress=False)  # default: weights="imagenet"
    message = str(err.value)
    path = str(empty_hub / "checkpoints" / VGG19_FILE)
    assert isinstance(err.value, RuntimeError)
    assert path in message and "not in the torch hub cache" in message
    assert "internet" in message and "Colab" in message and 'weights="random"' in message
    assert isinstance(err.value.__cause__, urllib.error.URLError)
    assert len(no_download) == 1 and no_download[0].endswith(VGG19_FILE)
    assert not os.path.exists(path)
    with pytest.raises(L.VGGWeightsUnavailable):
        L.ContentLoss("VGG22", progress=False)  # the content loss has the same default


def test_offline_fails_at_once_with_a_complete_first_line(empty_hub, no_download, monkeypatch, capfd):
    """Offline, no download is attempted (torch.hub would print "Downloading: ..." to stderr first), and the
    message's first line, which notebooks print alone, is a whole sentence naming the cause."""
    from srgan_lib import download

    monkeypatch.setattr(download, "is_online", lambda *a, **k: False)
    with pytest.raises(L.VGGWeightsUnavailable) as err:
        L.VGGFeatures(layer="VGG54", progress=False)
    first = str(err.value).splitlines()[0]
    assert first.endswith(").") and "could not be downloaded (ConnectionError: no connection to" in first
    assert no_download == [] and capfd.readouterr().err == ""


def test_corrupt_cached_file_error_names_the_file(empty_hub):
    path = empty_hub / "checkpoints" / VGG19_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a state_dict")
    with pytest.raises(L.VGGWeightsUnavailable, match=VGG19_FILE) as err:
        L.VGGFeatures(layer="VGG22", progress=False)
    assert str(path) in str(err.value)


def test_cached_file_hash_check(tmp_path):
    import hashlib

    payload = b"pretend weights"
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    good = tmp_path / f"vgg19-{prefix}.pth"
    good.write_bytes(payload)
    L.verify_file_hash(str(good))
    bad = tmp_path / "vgg19-dcbb9e9d.pth"
    bad.write_bytes(payload)
    with pytest.raises(L.VGGWeightsUnavailable, match="vgg19-dcbb9e9d.pth"):
        L.verify_file_hash(str(bad))


# --------------------------------------------------------------------------------------------------
# Adversarial losses (section 2.2.2)
# --------------------------------------------------------------------------------------------------
def test_adversarial_losses_at_logit_zero_are_log_2():
    zero = torch.zeros(4)
    assert L.discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert L.generator_adversarial_loss(zero).item() == pytest.approx(math.log(2))
    assert L.generator_adversarial_loss(zero, "saturating").item() == pytest.approx(-math.log(2))


def test_adversarial_losses_against_hand_computed_values():
    def sig(t):
        return 1 / (1 + math.exp(-t))

    real, fake = [2.0, -1.0, 0.5], [-3.0, 1.5, 0.0]
    d_expected = (sum(-math.log(sig(r)) for r in real) / 3) + (sum(-math.log(1 - sig(f)) for f in fake) / 3)
    ns_expected = sum(-math.log(sig(f)) for f in fake) / 3
    sat_expected = sum(math.log(1 - sig(f)) for f in fake) / 3
    real_t, fake_t = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    assert L.discriminator_loss(real_t, fake_t).item() == pytest.approx(d_expected, rel=1e-12)
    assert L.generator_adversarial_loss(fake_t).item() == pytest.approx(ns_expected, rel=1e-12)
    assert L.generator_adversarial_loss(fake_t, "saturating").item() == pytest.approx(sat_expected, rel=1e-12)
    with pytest.raises(ValueError, match="non_saturating"):
        L.generator_adversarial_loss(fake_t, "minimax")


def test_adversarial_losses_are_stable_for_extreme_logits():
    big = torch.tensor([200.0, -200.0])
    assert torch.isinf(torch.log(torch.sigmoid(big))).any()  # the naive form breaks here
    for value in (L.discriminator_loss(big, big), L.generator_adversarial_loss(big),
                  L.generator_adversarial_loss(big, "saturating")):
        assert torch.isfinite(value)
    assert L.generator_adversarial_loss(torch.tensor([-200.0])).item() == pytest.approx(200.0)


def test_saturating_loss_vanishes_where_non_saturating_does_not():
    """Near D(G(x)) = 0 (D confidently rejects the fakes) log(1 - D) gives G almost no gradient."""
    grads = {}
    for kind in L.ADVERSARIAL_KINDS:
        logit = torch.tensor([-8.0], requires_grad=True)  # D(G(x)) = sigmoid(-8) = 3.4e-4
        L.generator_adversarial_loss(logit, kind).backward()
        grads[kind] = logit.grad.abs().item()
    assert grads["non_saturating"] == pytest.approx(1 - 1 / (1 + math.exp(8)), rel=1e-5)  # about 1
    assert grads["saturating"] == pytest.approx(1 / (1 + math.exp(8)), rel=1e-4)  # about 3.4e-4
    assert grads["non_saturating"] > 1000 * grads["saturating"]


# --------------------------------------------------------------------------------------------------
# Perceptual loss (equation 3)
# --------------------------------------------------------------------------------------------------
def test_perceptual_loss_is_content_plus_1e_3_adversarial():
    sr, hr = _images(2, 32, seed=1), _images(2, 32)
    logits = torch.tensor([-1.0, 0.5])
    mse = L.PerceptualLoss("mse")
    parts = mse(sr, hr, logits)
    assert mse.adversarial_weight == 1e-3 and mse.tv_weight == 0.0
    torch.testing.assert_close(parts.content, L.pixel_mse(sr, hr))
    torch.testing.assert_close(parts.adversarial, L.generator_adversarial_loss(logits))
    torch.testing.assert_close(parts.total, parts.content + 1e-3 * parts.adversarial)
    assert set(parts.as_floats()) == {"total", "content", "adversarial", "tv"}
    no_d = mse(sr, hr)  # SRResNet training: no discriminator
    assert no_d.adversarial.item() == 0.0 and torch.equal(no_d.total, no_d.content)

    vgg = _random_vgg("VGG54")
    vgg54 = L.PerceptualLoss("vgg54", extractor=vgg, adversarial_weight=0.01, adversarial_kind="saturating")
    sr, hr = sr[..., :16, :16], hr[..., :16, :16]
    parts = vgg54(sr, hr, logits)
    torch.testing.assert_close(parts.content, L.ContentLoss(extractor=vgg)(sr, hr))
    expected = parts.content + 0.01 * L.generator_adversarial_loss(logits, "saturating")
    torch.testing.assert_close(parts.total, expected)
    assert parts.tv.item() == 0.0


def test_perceptual_vgg22_adds_tv_with_the_paper_weight():
    with pytest.warns(L.RandomVGGWarning):
        loss = L.PerceptualLoss("vgg22", vgg_weights="random")
    assert loss.tv_weight == L.TV_WEIGHT == 2e-8 and "TV" in loss.label
    sr, hr, logits = _images(1, 16, seed=1), _images(1, 16), torch.tensor([0.3])
    parts = loss(sr, hr, logits)
    expected = parts.content + 1e-3 * L.generator_adversarial_loss(logits) + 2e-8 * L.tv_loss(sr)
    torch.testing.assert_close(parts.total, expected)
    assert parts.tv.item() > 0
    with pytest.raises(ValueError, match="VGG54"):
        L.PerceptualLoss("vgg99")


def test_extractor_reuse_must_match_the_requested_layer():
    vgg = _random_vgg("VGG22")
    assert L.ContentLoss("VGG22", extractor=vgg).vgg is vgg
    assert L.PerceptualLoss("vgg22", extractor=vgg).content_loss.vgg is vgg
    with pytest.raises(ValueError, match="VGG22"):
        L.ContentLoss("VGG54", extractor=vgg)
    with pytest.raises(ValueError, match="VGG22"):
        L.PerceptualLoss("vgg54", extractor=vgg)


# --------------------------------------------------------------------------------------------------
# The balance of the terms: the VGG rescale by section 3.2's criterion, the gradients on the image
# --------------------------------------------------------------------------------------------------
def test_caffe_vgg_input_is_about_58_times_torchvisions():
    """The argument in measure_vgg_rescale's docstring, checked on pixels: Caffe's ``255 x - mean_BGR``
    equals torchvision's ``(x - mean) / std`` times 255 * std, to within the 0.5-level mean mismatch."""
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))  # RGB in [0, 1]
    caffe_bgr = 255 * x.flip(1) - torch.tensor(L.CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    caffe_rgb = caffe_bgr.flip(1)
    tv = torchvision.models.VGG19_Weights.IMAGENET1K_V1.transforms()
    torchvision_in = (x - torch.tensor(tv.mean).view(1, 3, 1, 1)) / torch.tensor(tv.std).view(1, 3, 1, 1)
    scale = torch.tensor(L.CAFFE_INPUT_SCALE).view(1, 3, 1, 1)
    assert (caffe_rgb - scale * torchvision_in).abs().max() < 0.6  # grey levels
    assert L.CAFFE_INPUT_SCALE == pytest.approx((58.4, 57.1, 57.4), abs=0.05)
    assert sum(L.CAFFE_INPUT_SCALE) / 3 == pytest.approx(255 * 0.226, abs=0.05)  # "about 58x"


class _Homogeneous(nn.Module):
    """A VGG-like stack (conv, ReLU, max-pool; no biases) whose output is exactly k times that of k = 1:
    the input is scaled by k before the (positively homogeneous) network."""

    def __init__(self, k: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.k = k
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.ReLU()).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.double() * self.k)


def test_measured_rescale_scales_as_one_over_the_feature_scale():
    sr, hr = _images(3, 16, seed=1), _images(3, 16)
    base = L.measure_vgg_rescale(_Homogeneous(1.0), sr, hr)
    for k in (0.1, 57.63, 1000.0):
        assert L.measure_vgg_rescale(_Homogeneous(k), sr, hr) * k == pytest.approx(base, rel=1e-9)
    # by hand, and the same whatever the chunking
    with torch.no_grad():
        f = _Homogeneous(1.0)
        by_hand = math.sqrt(F.mse_loss(sr.double(), hr.double()) / F.mse_loss(f(sr), f(hr)))
    assert base == pytest.approx(by_hand, rel=1e-9)
    assert L.measure_vgg_rescale(_Homogeneous(1.0), sr, hr, batch_size=1) == pytest.approx(base, rel=1e-9)
    # the defining property: the rescaled content loss equals the pixel MSE
    loss = L.ContentLoss(extractor=_Homogeneous(57.63).requires_grad_(False), rescale=base / 57.63)
    assert float(loss(sr, hr)) == pytest.approx(float(L.pixel_mse(sr.double(), hr.double())), rel=1e-9)


def test_measured_rescale_with_a_random_vgg19_is_labelled_and_exact():
    """Random VGG19 (labelled as such): scaling conv1_1 by k scales every feature by k (torchvision's
    initialisation has zero biases), and the measured factor by exactly 1/k."""
    vgg = _random_vgg("VGG54")
    assert vgg.is_random and "RANDOM" in vgg.label
    torch.manual_seed(0)
    gen = SRResNet(n_blocks=1, channels=8)
    lr_img, hr = (_images(2, 4) + 1) / 2, _images(2, 16, seed=1)
    s = L.vgg_rescale_for(vgg, gen, [(lr_img[:1], hr[:1]), (lr_img[1:], hr[1:])])
    with torch.no_grad():
        sr = gen.eval()(lr_img)
    assert s == pytest.approx(L.measure_vgg_rescale(vgg, sr, hr), rel=1e-6)
    assert float(L.ContentLoss(extractor=vgg, rescale=s)(sr, hr)) == pytest.approx(float(L.pixel_mse(sr, hr)),
                                                                                    rel=1e-4)
    with torch.no_grad():
        vgg.features[0].weight.mul_(57.63)
    assert L.measure_vgg_rescale(vgg, sr, hr) * 57.63 == pytest.approx(s, rel=1e-4)


def test_vgg_rescale_for_restores_the_generator_and_changes_nothing():
    gen = SRResNet(n_blocks=1, channels=8).train()
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    L.vgg_rescale_for(_Homogeneous(1.0), gen, [((_images(2, 4) + 1) / 2, _images(2, 16))])
    assert gen.training
    assert all(torch.equal(v, before[k]) for k, v in gen.state_dict().items())  # BN statistics too


def test_measure_vgg_rescale_refuses_identical_images():
    hr = _images(2, 16)
    with pytest.raises(ValueError, match="identical"):
        L.measure_vgg_rescale(_Homogeneous(1.0), hr, hr.clone())
    with pytest.raises(ValueError, match="same shape"):
        L.measure_vgg_rescale(_Homogeneous(1.0), hr, hr[..., :8])


@pytest.mark.parametrize("setting, want", [("paper", 1 / 12.75), ("auto", None), (0.25, 0.25), ("0.25", 0.25),
                                           (" Paper ", 1 / 12.75), (1, 1.0)])
def test_resolve_vgg_rescale(setting, want):
    assert L.resolve_vgg_rescale(setting) == (None if want is None else pytest.approx(want))


@pytest.mark.parametrize("bad", ["measured", "", 0, -1.0, float("nan"), "inf"])
def test_resolve_vgg_rescale_rejects_bad_settings(bad):
    with pytest.raises(ValueError, match="vgg_rescale"):
        L.resolve_vgg_rescale(bad)


def test_perceptual_loss_uses_and_shows_a_measured_rescale():
    vgg = _random_vgg("VGG54")
    sr, hr = _images(2, 16, seed=1), _images(2, 16)
    loss = L.PerceptualLoss("vgg54", extractor=vgg, vgg_rescale=0.5)
    torch.testing.assert_close(loss(sr, hr).content, L.ContentLoss(extractor=vgg, rescale=0.5)(sr, hr))
    assert "x 0.5 (paper: 1/12.75" in loss.label
    assert "paper: 1/12.75" not in L.PerceptualLoss("vgg54", extractor=vgg).label


class _LinearD(nn.Module):
    """logit_n = sum(w * x_n): its gradients are known in closed form."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(shape, generator=torch.Generator().manual_seed(2)) * 0.05)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(1)  # (N,)


def test_gradient_shares_against_closed_forms():
    sr, hr = _images(3, 16, seed=1), _images(3, 16)
    d = _LinearD((3, 16, 16))
    shares = L.gradient_shares(L.PerceptualLoss("mse"), d, sr, hr)
    # d mean((sr - hr)^2) / d sr = 2 (sr - hr) / numel
    assert shares["content"] == pytest.approx(float(2 * (sr - hr).norm() / sr.numel()), rel=1e-5)
    # d 1e-3 mean(softplus(-logit)) / d sr_n = -1e-3 sigmoid(-logit_n) w / N
    with torch.no_grad():
        logits = d(sr)
    want = 1e-3 * float(torch.sigmoid(-logits).norm() * d.w.detach().norm()) / sr.shape[0]
    assert shares["adversarial"] == pytest.approx(want, rel=1e-5)
    assert shares["ratio"] == pytest.approx(shares["adversarial"] / shares["content"])
    assert d.w.grad is None  # nothing is trained


def test_gradient_shares_split_the_generator_steps_gradient():
    """Against plain autograd on the generator step's total loss (VGG22 + 1e-3 adversarial + TV): the two
    shares are the parts of one gradient; the discriminator's BN statistics are left as they were."""
    from srgan_lib.models import Discriminator

    vgg = _random_vgg("VGG22")
    loss = L.PerceptualLoss("vgg22", extractor=vgg)
    torch.manual_seed(0)
    d = Discriminator().train()
    sr, hr = _images(2, 32, seed=1), _images(2, 32)
    buffers = {k: v.clone() for k, v in d.state_dict().items()}
    shares = L.gradient_shares(loss, d, sr, hr)
    assert all(torch.equal(v, buffers[k]) for k, v in d.state_dict().items())
    assert all(p.grad is None for p in d.parameters())

    x = sr.clone().requires_grad_(True)
    parts = loss(x, hr, d(x))
    g_total, = torch.autograd.grad(parts.total, x, retain_graph=True)
    g_adv, = torch.autograd.grad(1e-3 * parts.adversarial, x, retain_graph=True)
    g_content, = torch.autograd.grad(parts.content + loss.tv_weight * parts.tv, x)
    torch.testing.assert_close(g_content + g_adv, g_total)
    assert shares["content"] == pytest.approx(float(g_content.norm()), rel=1e-5)
    assert shares["adversarial"] == pytest.approx(float(g_adv.norm()), rel=1e-5)
