"""Tests for the figures of notebooks 03 (VGG feature maps, distance ranking) and 04 (toy GAN, generator
losses, D's ranking)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib.figures import loss_figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_top_channels_are_the_largest_means_in_order():
    f = np.zeros((5, 3, 4))
    for c, level in enumerate([0.2, 3.0, 0.1, 1.5, 2.0]):
        f[c] = level
    assert loss_figures.top_channels(f, 3) == [1, 4, 3]  # oracle: the levels sorted by hand
    with pytest.raises(ValueError, match="k must be in 1..5"):
        loss_figures.top_channels(f, 6)
    with pytest.raises(ValueError, match=r"\(C, h, w\)"):
        loss_figures.top_channels(f[0], 1)


def test_feature_maps_figure_draws_the_input_once_and_the_top_channels_of_each_layer():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    f22, f54 = rng.random((8, 16, 16)), rng.random((10, 2, 2))
    f22[5] += 10  # the strongest channel of VGG22
    fig = loss_figures.feature_maps_figure(image, {"VGG22": f22, "VGG54": f54}, k=3, image_title="input (test)",
                                           title="phi maps", note="RANDOM weights", warn=True)
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 1 + 2 * 3  # the input once, then k channels per layer
    assert axes[0].get_title() == "input (test)"
    np.testing.assert_array_equal(axes[0].images[0].get_array(), image)
    rows = [axes[1:4], axes[4:7]]
    headings = [sub._suptitle for sub in fig.subfigs[1].subfigs]
    for row, heading, (name, f) in zip(rows, headings, [("VGG22", f22), ("VGG54", f54)]):
        assert heading.get_text() == f"{name}: {f.shape[0]} maps of {f.shape[1]}x{f.shape[2]}"
        assert heading.get_rotation() == 0  # a horizontal row heading, no rotated y label
        assert all(ax.get_ylabel() == "" for ax in row)
        for ax, ch in zip(row, loss_figures.top_channels(f, 3)):
            assert ax.get_title() == f"channel {ch}"
            np.testing.assert_array_equal(ax.images[0].get_array(), f[ch])  # each channel as it is, own scale
    assert rows[0][0].get_title() == "channel 5"
    assert fig._suptitle.get_text() == "phi maps\nRANDOM weights"  # the weights' label on a line of its own
    assert fig.get_figwidth() == 9.0  # GitHub's 900 px: shown at its own size, fonts as drawn
    assert matplotlib.colors.same_color(fig._suptitle.get_color(), "#b00020")  # the warning is red
    fine = loss_figures.feature_maps_figure(image, {"VGG22": f22}, k=2, note="pretrained")
    assert len(fine.get_axes()) == 1 + 2
    assert matplotlib.colors.same_color(fine._suptitle.get_color(), "black")
    with pytest.raises(ValueError, match="k must be in"):
        loss_figures.feature_maps_figure(image, {"VGG54": f54}, k=11)


def test_ranks_put_the_smallest_first():
    assert loss_figures.ranks([0.5, 0.1, 0.9, 0.3]) == [3, 1, 4, 2]
    assert loss_figures.ranks([]) == []


def test_distance_ranking_figure_titles_carry_the_ranks_and_bars_the_ratios():
    rng = np.random.default_rng(0)
    patches = {name: rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
               for name in ("reference", "blur (sigma 1.5)", "noise", "shift")}
    scores = {"pixel MSE (eq. 4)": [2.0, 2.0, 4.0], "VGG22 (eq. 5)": [3.0, 1.5, 0.3]}
    fig = loss_figures.distance_ranking_figure(patches, scores, note="VGG bars: random", warn=True)
    titles = _titles(fig)
    assert titles[0] == "reference"
    assert titles[1] == "blur (sigma 1.5)\npixel MSE #1\nVGG22 #3"
    assert titles[3] == "shift\npixel MSE #3\nVGG22 #1"
    assert fig.get_figwidth() == 9.0  # GitHub's 900 px: shown at its own size
    bars = fig.axes[-1]
    heights = [p.get_height() for p in bars.patches]
    assert heights == pytest.approx([1.0, 1.0, 2.0, 1.0, 0.5, 0.1])  # each distance / its value for the blur
    assert bars.get_ylabel() == "distance / distance of the blur"
    assert [t.get_text() for t in bars.get_xticklabels()] == ["blur (sigma 1.5)", "noise", "shift"]
    assert bars.get_title() == "VGG bars: random"
    with pytest.raises(ValueError, match="has 2 values for 3 distortions"):
        loss_figures.distance_ranking_figure(patches, {"MSE": [1.0, 2.0]})
    with pytest.raises(ValueError, match="must be positive"):
        loss_figures.distance_ranking_figure(patches, {"MSE": [0.0, 1.0, 2.0]})


def test_toy_gan_figure_draws_each_snapshot_in_step_order():
    grid = np.linspace(-5, 7, 300)
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(1.5, 0.3, 500), rng.normal(4.0, 0.3, 500)])
    spike = np.full(400, -3.0)  # every sample in one bin: far taller than the axis
    snapshots = {100: (rng.normal(2.7, 1.0, 400), np.full(300, 0.5)), 0: (spike, 1 / (1 + np.exp(grid - 1)))}
    fig = loss_figures.toy_gan_figure(data, snapshots, grid, bins=96)
    assert _titles(fig) == ["after 0 steps", "after 100 steps"]
    first = fig.axes[0]
    np.testing.assert_allclose(first.lines[0].get_xdata(), grid)
    np.testing.assert_allclose(first.lines[0].get_ydata(), snapshots[0][1])
    assert first.get_ylim() == (0, 1.6)
    low, high = first.get_xlim()
    assert low <= -5 and high >= 7  # the whole grid is on the axis
    width = 12 / 96
    peak = [t.get_text() for t in first.texts]
    assert peak == [f"G(z) peak\n{1 / width:.1f}, off scale"]  # all 400 samples in one bin of width 1/8
    assert len(fig.axes[1].texts) == 0  # nothing off scale there
    with pytest.raises(ValueError, match="has 10 points, the grid 300"):
        loss_figures.toy_gan_figure(data, {0: (spike, np.zeros(10))}, grid)
    six = loss_figures.toy_gan_figure(data, {s: snapshots[100] for s in range(6)}, grid)  # notebook 04's real run
    assert six.axes[0].get_gridspec().get_geometry() == (2, 3) and six.get_figwidth() == 9.0  # GitHub's 900 px
    four = loss_figures.toy_gan_figure(data, {s: snapshots[100] for s in range(4)}, grid)
    assert four.axes[0].get_gridspec().get_geometry() == (2, 2)


def test_generator_loss_figure_plots_the_losses_and_the_gradient_sizes():
    p = np.linspace(0.01, 0.99, 50)
    losses = {"saturating": np.log(1 - p), "non_saturating": -np.log(p)}
    grads = {"saturating": -p, "non_saturating": -(1 - p)}  # d loss / d logit, as notebook 04 derives them
    fig = loss_figures.generator_loss_figure(p, losses, grads)
    ax_loss, ax_grad = fig.axes
    for k, kind in enumerate(("saturating", "non_saturating")):
        label, _ = loss_figures.ADVERSARIAL_STYLE[kind]
        assert ax_loss.lines[k].get_label() == label == ax_grad.lines[k].get_label()
        np.testing.assert_allclose(ax_loss.lines[k].get_ydata(), losses[kind])
        np.testing.assert_allclose(ax_grad.lines[k].get_ydata(), np.abs(grads[kind]))  # sizes, not signs
    assert "equation 2" in loss_figures.ADVERSARIAL_STYLE["saturating"][0]
    assert "equation 6" in loss_figures.ADVERSARIAL_STYLE["non_saturating"][0]
    assert ax_grad.get_ylabel() == "|d loss / d logit|"
    with pytest.raises(ValueError, match="generator-loss kinds"):
        loss_figures.generator_loss_figure(p, {"wasserstein": p}, {"wasserstein": p})
    with pytest.raises(ValueError, match="shape"):
        loss_figures.generator_loss_figure(p, {"saturating": p[:5]}, {"saturating": p[:5]})


def test_saturation_race_figure():
    runs = {"saturating": {"mean": [-3.0, -2.99, -2.98], "d_fake": [4e-3, 2e-3, 1e-3]},
            "non_saturating": {"mean": [-3.0, 0.0, 2.7], "d_fake": [4e-3, 0.3, 0.5]}}
    fig = loss_figures.saturation_race_figure(runs, data_mean=2.75)
    ax_mean, ax_d = fig.axes
    assert ax_d.get_yscale() == "log"
    np.testing.assert_allclose(ax_mean.lines[1].get_ydata(), runs["non_saturating"]["mean"])
    np.testing.assert_allclose(ax_d.lines[0].get_ydata(), runs["saturating"]["d_fake"])
    assert ax_mean.lines[2].get_ydata()[0] == 2.75 and ax_mean.lines[2].get_label() == "data mean"
    low, high = ax_d.get_ylim()
    assert low <= 1e-3 and high >= 0.5  # every point on the axis
    with pytest.raises(ValueError, match=r"has no \['d_fake'\]"):
        loss_figures.saturation_race_figure({"saturating": {"mean": [0.0]}}, 0.0)
    with pytest.raises(ValueError, match="log axis"):
        loss_figures.saturation_race_figure({"saturating": {"mean": [0.0], "d_fake": [0.0]}}, 0.0)


def test_patch_ranking_figure_shows_the_ranked_patches():
    n, k = 5, 2
    real = np.stack([np.full((4, 4, 3), 10 * i, np.uint8) for i in range(n)])  # patch i has value 10 i
    fake = np.stack([np.full((4, 4, 3), 100 + 10 * i, np.uint8) for i in range(n)])
    p_real = np.array([0.9, 0.2, 0.99, 0.6, 0.05])
    p_fake = np.array([0.1, 0.95, 0.3, 0.01, 0.5])
    fig = loss_figures.patch_ranking_figure(real, fake, p_real, p_fake, fake_name="SRResNet", k=k)
    rows = [fig.axes[r * k : (r + 1) * k] for r in range(4)]
    shown = [[(ax.get_title(), int(ax.images[0].get_array()[0, 0, 0])) for ax in row] for row in rows]
    assert shown[0] == [("real\nD = 0.990", 20), ("SRResNet\nD = 0.950", 110)]  # most real of the pool
    assert shown[1] == [("SRResNet\nD = 0.010", 130), ("real\nD = 0.050", 40)]  # least real
    assert shown[2] == [("SRResNet\nD = 0.950", 110), ("SRResNet\nD = 0.500", 140)]  # fakes it takes for real
    assert shown[3] == [("real\nD = 0.050", 40), ("real\nD = 0.200", 10)]  # reals it doubts most
    assert [row[0].get_ylabel() for row in rows] == ["most real of all", "least real of all",
                                                     "SRResNet it takes\nfor real", "real patches it\ndoubts most"]
    assert matplotlib.colors.same_color(rows[0][0].title.get_color(), "C2")
    assert matplotlib.colors.same_color(rows[0][1].title.get_color(), "C3")
    assert fig._suptitle.get_text() == "Held-out patches (4x4) ranked by the discriminator"
    with pytest.raises(ValueError, match="5 real patches but 4 probabilities"):
        loss_figures.patch_ranking_figure(real, fake, p_real[:4], p_fake)
    with pytest.raises(ValueError, match="apply the sigmoid"):
        loss_figures.patch_ranking_figure(real, fake, p_real * 3, p_fake)
    with pytest.raises(ValueError, match="k must be in 1..5"):
        loss_figures.patch_ranking_figure(real, fake, p_real, p_fake, k=6)


@pytest.mark.parametrize("kind", ["non_saturating", "saturating"])
def test_toy_gan_record_takes_the_snapshots_asked_for_and_the_gradient_of_each_loss(kind):
    import torch
    from torch import nn

    torch.manual_seed(0)
    gen, disc = nn.Linear(2, 1), nn.Linear(1, 1)
    z, grid = torch.randn(50, 2), torch.linspace(-1, 1, 7)[:, None]  # (50, 2), (7, 1)
    record = loss_figures.ToyGANRecord(kind, z, grid, snapshot_at=(0, 2))
    for step in range(-3, 4):  # three steps of D's head start, then four G steps
        record.snapshot_if_due(step, gen, disc)
        if step < 0:
            continue
        fake = gen(torch.randn(8, 2))  # (8, 1)
        logits = disc(fake)[:, 0]  # (8,)
        record.g_step(fake, logits)
        with torch.no_grad():
            gen.bias += 0.1  # stands in for G's update
    out = record.result(4, gen, disc)
    assert sorted(out["snapshots"]) == [0, 2, 4] and len(out["mean"]) == len(out["grad"]) == 4
    samples, belief = out["snapshots"][4]
    with torch.no_grad():
        np.testing.assert_allclose(samples, gen(z)[:, 0].numpy())
        np.testing.assert_allclose(belief, torch.sigmoid(disc(grid))[:, 0].numpy())
        d = torch.sigmoid(disc(fake)[:, 0])  # the last batch
    # oracle: d(-log D)/d logit = -(1 - D), d log(1 - D)/d logit = -D (notebook 04, section 2), per sample
    want = (1 - d).mean() if kind == "non_saturating" else d.mean()
    assert out["grad"][-1] == pytest.approx(want.item(), rel=1e-5)
    assert out["d_fake"][-1] == pytest.approx(d.mean().item(), rel=1e-6)
    assert out["mean"][-1] == pytest.approx(fake.mean().item(), rel=1e-6)
    np.testing.assert_allclose(out["grid"], grid[:, 0].numpy())
    with pytest.raises(ValueError, match="kind must be one of"):
        loss_figures.ToyGANRecord("wasserstein", z, grid)


def test_vgg_blocks_figure_draws_every_layer_and_marks_the_chosen_phi():
    from srgan_lib.vgg import vgg_layer_table

    table = vgg_layer_table()
    fig = loss_figures.vgg_blocks_figure(table, {"VGG22": (14, 2), "VGG54": (252, 16)}, crop=96)
    ax = fig.axes[0]
    n_conv = sum(r.kind.startswith("conv") for r in table)
    n_pool = sum(r.kind.startswith("maxpool") for r in table)
    outlined = [p for p in ax.patches if not p.get_fill()]
    assert (n_conv, n_pool) == (16, 5)  # oracle: VGG19 = 16 convolutions and 5 pools (Simonyan & Zisserman)
    assert len(ax.patches) - len(outlined) - 2 == n_conv + n_pool  # the 2 others: the marks' arrows
    assert len(outlined) == 2
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t.startswith("block")] == [
        "block 1\n64 ch, 1/1", "block 2\n128 ch, 1/2", "block 3\n256 ch, 1/4", "block 4\n512 ch, 1/8",
        "block 5\n512 ch, 1/16"]
    assert any("VGG22" in t and "stride 2 px" in t and "receptive field 14 px" in t and "128x48x48" in t
               for t in texts)
    assert any("VGG54" in t and "stride 16 px" in t and "252 px" in t and "512x6x6" in t for t in texts)
    assert all(t.get_rotation() == 0 for t in ax.texts)  # horizontal labels
    assert fig.get_figwidth() == 9.0
    with pytest.raises(ValueError, match="not phi"):
        loss_figures.vgg_blocks_figure(table, {"VGG99": (1, 1)})
