"""Tests of srgan_lib.losses (paper section 2.2, equations 3-6): content, TV, adversarial, perceptual losses.

Oracles: torch's F.mse_loss, hand-computed values (log 2, softplus by math.log), closed-form gradients,
the paper's constants. Images are tiny (<= 32x32) to keep this fast on CPU; the VGG19 has random weights
(the extractor itself is tested in test_vgg.py, its pretrained weights in test_vgg_weights.py).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from srgan_lib import losses as L
from srgan_lib.plumbing import vgg_weights as W
from srgan_lib.models import SRResNet
from test_vgg import _images, _random_vgg  # pytest's default import mode puts tests/ on sys.path

pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


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
    with pytest.warns(W.RandomVGGWarning):
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
    with pytest.warns(W.RandomVGGWarning):
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


def test_discriminator_accuracy_is_the_mean_of_the_two_hit_rates():
    real = torch.tensor([2.0, -1.0, 0.5, 3.0])  # 3 of 4 called real (logit > 0)
    fake = torch.tensor([-4.0, 1.0])  # 1 of 2 called generated (logit < 0)
    assert L.discriminator_accuracy(real, fake).item() == pytest.approx((3 / 4 + 1 / 2) / 2)  # by hand
    assert L.discriminator_accuracy(torch.ones(5), torch.ones(3)).item() == 0.5  # "real" for everything: chance
    assert L.discriminator_accuracy(real.requires_grad_(), fake).requires_grad is False


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
    with pytest.warns(W.RandomVGGWarning):
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
