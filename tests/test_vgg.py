"""Tests of srgan_lib.vgg (paper section 2.2.1): the VGG19 phi_{i,j} extractor and the measured rescale.

Oracles: torchvision's own vgg19 layer list and raw features, torch's F.mse_loss, a homogeneous VGG-like
stack whose feature scale is known exactly. Images are tiny (<= 32x32) to keep this fast on CPU; the
VGG19 has random weights (the pretrained path is tested in test_vgg_weights.py).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from srgan_lib import losses as L
from srgan_lib import vgg as V
from srgan_lib.plumbing import vgg_weights as W
from srgan_lib.models import SRResNet


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py



def _random_vgg(layer: str, **kwargs) -> V.VGGFeatures:
    with pytest.warns(W.RandomVGGWarning):
        return V.VGGFeatures(layer=layer, weights="random", **kwargs)


def _images(n: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1  # (n, 3, size, size) in [-1, 1]



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
    got = {f"VGG{i}{j}": idx for (i, j), idx in V.phi_layers().items()}
    assert got == expected
    assert V.phi_index(2, 2) == 8 and V.phi_index(5, 4) == 35
    for name in ("VGG22", "vgg22", "phi_2,2", "VGG2_2"):
        assert V.parse_phi(name) == (2, 2)


def test_extractor_is_truncated_just_after_the_chosen_relu():
    for layer, n_layers, out_shape in (("VGG22", 9, (1, 128, 8, 8)), ("VGG54", 36, (1, 512, 1, 1))):
        vgg = _random_vgg(layer)
        assert len(vgg.features) == n_layers and vgg.name == layer
        assert isinstance(vgg.features[-1], nn.ReLU) and isinstance(vgg.features[-2], nn.Conv2d)
        assert vgg.features[-2].out_channels == out_shape[1] == vgg.out_channels
        assert not any(getattr(m, "inplace", False) for m in vgg.features), "copy must use non-inplace ReLU"
        assert vgg(_images(1, 16)).shape == out_shape  # 16x16 in: /2 (VGG22), /16 (VGG54)
    assert V.VGGFeatures.__init__.__kwdefaults__["weights"] == "imagenet"  # random is opt-in only


@pytest.mark.parametrize("bad, lists_names", [
    (dict(layer="VGG26"), True), (dict(layer="VGG61"), True), (dict(i=1, j=3), True), (dict(i=5), True),
    (dict(layer="VGG54", i=5, j=4), False),
])
def test_invalid_layer_names_give_a_clear_error(bad, lists_names):
    with pytest.raises(ValueError) as err:
        V.VGGFeatures(weights="random", **bad)
    if lists_names:
        assert "VGG22" in str(err.value) and "VGG54" in str(err.value)  # names the valid choices


def test_invalid_weights_and_small_inputs_are_rejected():
    with pytest.raises(ValueError, match="imagenet"):
        V.VGGFeatures(layer="VGG22", weights="pretrained")
    vgg = _random_vgg("VGG54")
    with pytest.raises(ValueError, match="at least 16x16"):
        vgg(_images(1, 8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        vgg(torch.zeros(1, 1, 32, 32))


def test_vgg_layer_table():
    table = V.vgg_layer_table()
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
        vgg = V.VGGFeatures(layer="VGG22", weights="random")
    assert vgg.is_random and "RANDOM" in vgg.label and "NOT the paper" in vgg.label
    with pytest.warns(W.RandomVGGWarning):
        content = L.ContentLoss("VGG22", weights="random")
    with pytest.warns(W.RandomVGGWarning):
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
# The content-loss rescale by section 3.2's criterion, for the VGG19 actually loaded
# --------------------------------------------------------------------------------------------------
def test_caffe_vgg_input_is_about_58_times_torchvisions():
    """The argument in measure_vgg_rescale's docstring, checked on pixels: Caffe's ``255 x - mean_BGR``
    equals torchvision's ``(x - mean) / std`` times 255 * std, to within the 0.5-level mean mismatch."""
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))  # RGB in [0, 1]
    caffe_bgr = 255 * x.flip(1) - torch.tensor(V.CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    caffe_rgb = caffe_bgr.flip(1)
    tv = torchvision.models.VGG19_Weights.IMAGENET1K_V1.transforms()
    torchvision_in = (x - torch.tensor(tv.mean).view(1, 3, 1, 1)) / torch.tensor(tv.std).view(1, 3, 1, 1)
    scale = torch.tensor(V.CAFFE_INPUT_SCALE).view(1, 3, 1, 1)
    assert (caffe_rgb - scale * torchvision_in).abs().max() < 0.6  # grey levels
    assert V.CAFFE_INPUT_SCALE == pytest.approx((58.4, 57.1, 57.4), abs=0.05)
    assert sum(V.CAFFE_INPUT_SCALE) / 3 == pytest.approx(255 * 0.226, abs=0.05)  # "about 58x"


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
    base = V.measure_vgg_rescale(_Homogeneous(1.0), sr, hr)
    for k in (0.1, 57.63, 1000.0):
        assert V.measure_vgg_rescale(_Homogeneous(k), sr, hr) * k == pytest.approx(base, rel=1e-9)
    # by hand, and the same whatever the chunking
    with torch.no_grad():
        f = _Homogeneous(1.0)
        by_hand = math.sqrt(F.mse_loss(sr.double(), hr.double()) / F.mse_loss(f(sr), f(hr)))
    assert base == pytest.approx(by_hand, rel=1e-9)
    assert V.measure_vgg_rescale(_Homogeneous(1.0), sr, hr, batch_size=1) == pytest.approx(base, rel=1e-9)
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
    s = V.vgg_rescale_for(vgg, gen, [(lr_img[:1], hr[:1]), (lr_img[1:], hr[1:])])
    with torch.no_grad():
        sr = gen.eval()(lr_img)
    assert s == pytest.approx(V.measure_vgg_rescale(vgg, sr, hr), rel=1e-6)
    assert float(L.ContentLoss(extractor=vgg, rescale=s)(sr, hr)) == pytest.approx(float(L.pixel_mse(sr, hr)),
                                                                                    rel=1e-4)
    with torch.no_grad():
        vgg.features[0].weight.mul_(57.63)
    assert V.measure_vgg_rescale(vgg, sr, hr) * 57.63 == pytest.approx(s, rel=1e-4)


def test_vgg_rescale_for_restores_the_generator_and_changes_nothing():
    gen = SRResNet(n_blocks=1, channels=8).train()
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    V.vgg_rescale_for(_Homogeneous(1.0), gen, [((_images(2, 4) + 1) / 2, _images(2, 16))])
    assert gen.training
    assert all(torch.equal(v, before[k]) for k, v in gen.state_dict().items())  # BN statistics too


def test_measure_vgg_rescale_refuses_identical_images():
    hr = _images(2, 16)
    with pytest.raises(ValueError, match="identical"):
        V.measure_vgg_rescale(_Homogeneous(1.0), hr, hr.clone())
    with pytest.raises(ValueError, match="same shape"):
        V.measure_vgg_rescale(_Homogeneous(1.0), hr, hr[..., :8])

