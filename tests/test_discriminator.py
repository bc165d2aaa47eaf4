"""Tests of the discriminator (paper Figure 4) and of alternating G/D updates (section 3.2, k = 1).

Oracles: the parameter count computed by hand from Figure 4's layer list; torch's autograd (which
raises on the classic in-place bug); parameter snapshots before and after each optimiser step.
Small networks and 16x16 or 32x32 inputs keep this fast on a CPU.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from srgan_lib.losses import PerceptualLoss, discriminator_loss, generator_adversarial_loss
from srgan_lib.models import Discriminator, SRResNet, count_parameters
from srgan_lib.plumbing.vgg_weights import RandomVGGWarning


pytestmark = pytest.mark.usefixtures("one_thread")  # fixture in conftest.py


def _figure4_parameter_count() -> int:
    """Figure 4 by hand: 8 conv k3 (3 -> 64, 64, 128, 128, 256, 256, 512, 512), BN (gamma, beta) after
    all but the first, Dense 1024 on the 512 x 6 x 6 map of a 96 x 96 input, Dense 1."""
    widths = [64, 64, 128, 128, 256, 256, 512, 512]
    total, c_in = 0, 3
    for k, c_out in enumerate(widths):
        total += c_in * c_out * 3 * 3 + c_out  # conv weight + bias
        if k > 0:
            total += 2 * c_out  # BN scale and shift (running stats are buffers, not parameters)
        c_in = c_out
    total += 512 * 6 * 6 * 1024 + 1024  # Dense 1024
    total += 1024 * 1 + 1  # Dense 1
    return total


def test_parameter_count_matches_figure_4_by_hand(paper_d):
    n = count_parameters(paper_d)
    print(f"Discriminator parameters: {n:,}")
    assert n == _figure4_parameter_count() == 23_565_505


@pytest.fixture(scope="module")
def paper_d() -> Discriminator:
    torch.manual_seed(0)
    return Discriminator().eval()


@pytest.mark.parametrize("size", [96, 128, 64, 48])
def test_output_shapes_for_several_crop_sizes(paper_d, size):
    x = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        feats = paper_d.features(x)
        logits = paper_d(x)
    assert feats.shape == (2, 512, size // 16, size // 16)  # four stride-2 convs: /16
    assert logits.shape == (2,) and torch.isfinite(logits).all()


def test_96x96_gives_512x6x6_and_the_pool_is_the_identity(paper_d):
    d = paper_d
    x = torch.rand(1, 3, 96, 96) * 2 - 1
    with torch.no_grad():
        feats = d.features(x)
        assert feats.shape == (1, 512, 6, 6)
        assert torch.equal(d.pool(feats), feats)
        # the logit is the dense head applied straight to the 6x6 map: no pooling in the paper's case
        torch.testing.assert_close(d(x), d.classifier(feats).squeeze(1))


def test_rectangular_and_too_small_inputs(paper_d):
    d = paper_d
    with torch.no_grad():
        assert d(torch.zeros(1, 3, 64, 96)).shape == (1,)
    for shape in [(1, 3, 8, 8), (1, 3, 96, 12)]:
        with pytest.raises(ValueError, match="at least 16x16"):
            d(torch.zeros(shape))


def test_logits_not_probabilities():
    """No sigmoid inside: the losses apply it stably, so outputs are unbounded logits."""
    assert not any(isinstance(m, nn.Sigmoid) for m in Discriminator().modules())


# --------------------------------------------------------------------------------------------------
# One step each, and alternation (tiny networks, 32x32 or 16x16 HR, x4 LR)
# --------------------------------------------------------------------------------------------------
def _tiny_setup(seed: int = 0, hr_size: int = 32):
    torch.manual_seed(seed)
    g = SRResNet(n_blocks=2, channels=16)
    d = Discriminator(channels=16, dense=64)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.9, 0.999))
    lr_img = torch.rand(2, 3, hr_size // 4, hr_size // 4)  # LR in [0, 1]
    hr = torch.rand(2, 3, hr_size, hr_size) * 2 - 1  # HR in [-1, 1]
    return g, d, opt_g, opt_d, lr_img, hr


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.detach().clone() for k, p in model.named_parameters()}


def _changed(model: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    return [k for k, p in model.named_parameters() if not torch.equal(p, before[k])]


def test_one_discriminator_step_changes_d_and_not_g():
    g, d, opt_g, opt_d, lr_img, hr = _tiny_setup()
    g_before, d_before = _snapshot(g), _snapshot(d)
    fake = g(lr_img)  # (2, 3, 32, 32)
    opt_d.zero_grad()
    loss = discriminator_loss(d(hr), d(fake.detach()))
    loss.backward()
    opt_d.step()
    assert len(_changed(d, d_before)) == len(d_before)  # every D parameter moved
    assert _changed(g, g_before) == []
    assert all(p.grad is None for p in g.parameters())  # detach: nothing reached G


def test_srgan_steps_g_update_leaves_d_weights_and_gradients_as_the_d_update_left_them():
    """The public srgan_step's G half: the gradient flows through D into G, but D's weights get none (D is frozen
    for that pass and its flags restored after). Oracle: the same step with train_g=False (D's update alone), from
    the same start. Without the freeze, the G pass would add its gradient to D's .grad."""
    import copy

    from srgan_lib.train import srgan_step

    g, d, opt_g, opt_d, lr_img, hr = _tiny_setup()
    g_only_d, d_only = copy.deepcopy(g), copy.deepcopy(d)
    opt_d_only = torch.optim.Adam(d_only.parameters(), lr=1e-3, betas=(0.9, 0.999))
    g_before = _snapshot(g)
    loss = PerceptualLoss("mse")
    out = srgan_step(g, d, opt_g, opt_d, lr_img, hr, loss)
    ref = srgan_step(g_only_d, d_only, torch.optim.Adam(g_only_d.parameters()), opt_d_only, lr_img, hr, loss,
                     train_g=False)
    assert set(ref) == {"d_loss", "d_acc"} and torch.equal(out["d_loss"], ref["d_loss"])
    assert out["adversarial"].item() > 0
    for (name, p), q in zip(d.named_parameters(), d_only.parameters()):
        assert torch.equal(p, q), name  # D's update is the D step's alone
        assert p.grad is not None and torch.equal(p.grad, q.grad), name  # the G pass added no gradient to D
        assert p.requires_grad  # the freeze is undone
    assert len(_changed(g, g_before)) > 0.9 * len(g_before)  # (a few PReLU/bias grads may be zero)
    assert _changed(g_only_d, g_before) == []  # train_g=False: G waits


def test_alternating_steps_raise_no_inplace_autograd_error():
    """The order of section 3.2 (k = 1): D step on fake.detach(), then a G step with a *fresh* D pass."""
    g, d, opt_g, opt_d, lr_img, hr = _tiny_setup(seed=1, hr_size=16)
    with pytest.warns(RandomVGGWarning):
        criterion = PerceptualLoss("vgg22", vgg_weights="random")  # the full l_SR, VGG22 + TV
    g_before, d_before = _snapshot(g), _snapshot(d)
    for _ in range(3):
        fake = g(lr_img)  # (2, 3, 16, 16)
        opt_d.zero_grad()
        d_loss = discriminator_loss(d(hr), d(fake.detach()))
        d_loss.backward()
        opt_d.step()

        opt_g.zero_grad()
        parts = criterion(fake, hr, d(fake))  # fresh D forward with the updated weights
        parts.total.backward()
        opt_g.step()
        assert torch.isfinite(d_loss) and torch.isfinite(parts.total)
    assert _changed(g, g_before) and _changed(d, d_before)


def test_the_classic_update_order_bug_is_caught_by_autograd():
    """Reusing D's output from before D's optimiser step for the G loss fails, as in the peer issues;
    this is what the test above guards against (and shows that it would notice)."""
    g, d, opt_g, opt_d, lr_img, hr = _tiny_setup()
    fake = g(lr_img)
    fake_logits = d(fake)  # graph through D's current weights
    opt_d.zero_grad()
    discriminator_loss(d(hr), fake_logits).backward(retain_graph=True)
    opt_d.step()  # updates D's weights in place
    with pytest.raises(RuntimeError, match="inplace operation"):
        generator_adversarial_loss(fake_logits).backward()
