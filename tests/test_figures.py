"""Tests for the figures of notebooks 01 and 02: the plotted data is the input, the labels say what the
docstrings promise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib.figures import upsampling as figures, viz  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_upsampling_cost_figure_plots_flops_and_labels_parameters_and_ratios():
    layers = {"(a) sub-pixel": (147_712, 169_869_312), "(b) resize + conv": (36_928, 169_869_312),
              "(d) zeros + conv": (147_520, 679_477_248)}
    networks = {"designed": 2_560_000_000, "moved": 23_040_000_000}
    fig = figures.upsampling_cost_figure(layers, networks, layers_title="one layer", networks_title="whole net")
    ax1, ax2 = fig.axes
    assert [p.get_height() for p in ax1.patches] == pytest.approx([169.869312, 169.869312, 679.477248])
    assert [t.get_text() for t in ax1.get_xticklabels()] == list(layers)
    assert [t.get_text() for t in ax1.texts] == ["148k params", "37k params", "148k params"]
    assert ax1.get_ylabel() == "MFLOPs per call" and ax1.get_title() == "one layer"
    assert [p.get_height() for p in ax2.patches] == pytest.approx([2.56, 23.04])
    assert [t.get_text() for t in ax2.texts] == ["2.56", "23.04 (9.0x)"]  # the ratio to the first network
    assert ax2.get_ylabel() == "GFLOPs per call" and ax2.get_title() == "whole net"
    with pytest.raises(ValueError, match="at least one"):
        figures.upsampling_cost_figure({}, networks)
    with pytest.raises(ValueError, match="positive"):
        figures.upsampling_cost_figure(layers, {"empty": 0})


def _transposed_kernel(sub: np.ndarray, r: int) -> np.ndarray:
    """(r^2, k, k) -> (r k, r k): flipped and interleaved, written independently of the figure code."""
    n, k, _ = sub.shape
    big = np.empty((r * k, r * k))
    for i in range(r):
        for j in range(r):
            big[i::r, j::r] = sub[i * r + j][::-1, ::-1]
    return big


def test_subkernel_interleave_figure_colours_each_weight_by_its_sub_kernel():
    sub = np.arange(1.0, 37.0).reshape(4, 3, 3)
    big = _transposed_kernel(sub, 2)
    fig = figures.subkernel_interleave_figure(sub, big, title="four make one")
    axes = fig.axes
    assert len(axes) == 5 and fig._suptitle.get_text() == "four make one"
    assert _titles(fig)[:4] == ["sub-kernel 0\n(i=0, j=0)", "sub-kernel 1\n(i=0, j=1)",
                                "sub-kernel 2\n(i=1, j=0)", "sub-kernel 3\n(i=1, j=1)"]
    assert axes[4].get_title() == "the transposed conv's 6x6 kernel"
    colours = [axes[s].images[0].get_array()[0, 0] for s in range(4)]  # each sub-kernel has one colour
    assert len({tuple(c) for c in colours}) == 4
    shown = axes[4].images[0].get_array()  # (6, 6, 4)
    for i in range(2):
        for j in range(2):  # sub-position (i, j) of every 2x2 block comes from sub-kernel 2 i + j
            assert (shown[i::2, j::2] == colours[2 * i + j]).all()
    assert sorted(float(t.get_text()) for t in axes[4].texts) == list(range(1, 37))
    assert [t.get_text() for t in axes[0].texts] == [str(v) for v in range(1, 10)]
    with pytest.raises(ValueError, match="in no sub-kernel"):
        figures.subkernel_interleave_figure(sub, big + 100)
    with pytest.raises(ValueError, match="distinct"):
        figures.subkernel_interleave_figure(np.ones((4, 3, 3)), np.ones((6, 6)))
    with pytest.raises(ValueError, match="square number"):
        figures.subkernel_interleave_figure(sub[:3], big)


def test_checkerboard_figure_stretches_and_zooms_the_same_place_in_every_panel():
    rng = np.random.default_rng(0)
    hr = rng.uniform(0.2, 0.6, (16, 16, 3))
    lr = hr[::2, ::2]  # (8, 8, 3): half the size
    fig = figures.checkerboard_figure({"LR": lr, "HR": hr, "grey": hr[..., 0]}, zoom=(4, 6, 8), zoom_title="eye")
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["LR", "HR", "grey"]
    assert [ax.get_title() for ax in axes[1]] == ["eye"] * 3
    g = hr.mean(axis=2)
    stretched = (g - g.min()) / (g.max() - g.min())
    np.testing.assert_allclose(axes[0, 1].images[0].get_array(), stretched)
    assert axes[0, 1].images[0].get_array().min() == 0 and axes[0, 1].images[0].get_array().max() == 1
    np.testing.assert_allclose(axes[1, 1].images[0].get_array(), stretched[4:12, 6:14])
    gl = lr.mean(axis=2)
    np.testing.assert_allclose(axes[1, 0].images[0].get_array(), ((gl - gl.min()) / (gl.max() - gl.min()))[2:6, 3:7])
    with pytest.raises(ValueError, match="not inside"):
        figures.checkerboard_figure({"HR": hr}, zoom=(10, 10, 8))
    with pytest.raises(ValueError, match="integer factor"):
        figures.checkerboard_figure({"LR": lr, "HR": hr}, zoom=(3, 6, 8))  # an odd top has no LR pixel


def test_training_progress_figure_plots_the_curve_baselines_and_crops():
    steps, psnr = [0, 100, 200, 300], [10.9, 25.1, 26.5, 27.4]
    rng = np.random.default_rng(0)
    images = {name: rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for name in ("a", "b", "c")}
    fig = figures.training_progress_figure(steps, psnr, {"bicubic": 27.0, "nearest": 24.8}, images, box=(2, 5, 10),
                                       label="net", ylabel="PSNR-Y [dB]", images_title="crops")
    ax = fig.axes[0]
    curve = ax.lines[0]
    assert list(curve.get_xdata()) == steps and list(curve.get_ydata()) == psnr
    assert [ln.get_ydata()[0] for ln in ax.lines[1:3]] == [27.0, 24.8]  # the baselines, horizontal
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["net", "bicubic", "nearest"]
    assert ax.get_ylabel() == "PSNR-Y [dB]" and ax.get_xlabel() == "training step"
    low, high = ax.get_ylim()
    assert low == pytest.approx(24.8 - 1) and high == pytest.approx(27.4 + 1)  # step 0 is off the scale...
    marker = ax.lines[3]
    assert marker.get_marker() == "v" and list(marker.get_xdata()) == [0] and list(marker.get_ydata()) == [low]
    assert any("step 0: 10.9 dB" in t.get_text() for t in ax.texts)  # ...drawn on the edge, with its value
    crops = [a for a in fig.axes[1:] if a.images]
    assert [a.get_title() for a in crops] == ["a", "b", "c"]
    np.testing.assert_array_equal(crops[1].images[0].get_array(), images["b"][2:12, 5:15])
    assert len(fig.axes) == 5 and not fig.axes[4].axison  # the fourth place of the 2 x 2 grid stays empty
    six = {str(i): images["a"] for i in range(6)}  # five or six crops: two rows of three, not three rows of two
    fig = figures.training_progress_figure(steps, psnr, {"bicubic": 27.0}, six)
    crops = [a for a in fig.axes[1:] if a.images]
    assert {a.get_subplotspec().get_geometry()[:2] for a in crops} == {(2, 3)}
    with pytest.raises(ValueError, match="as many"):
        figures.training_progress_figure([0, 1], [1.0], {}, images)
    with pytest.raises(ValueError, match="same size"):
        figures.training_progress_figure([0], [1.0], {}, {"a": images["a"], "b": images["b"][:10]})


def test_prelu_slopes_figure_draws_the_function_and_every_slope():
    slopes = [0.33, 0.64, 0.1, 0.26]
    fig = figures.prelu_slopes_figure(slopes, init=0.25, title="slopes", first_label="head")
    left, right = fig.axes
    x = left.lines[0].get_xdata()
    assert x[0] == -2 and x[-1] == 2
    for line, a in zip(left.lines, [0.0, 0.25, 0.33]):
        np.testing.assert_allclose(line.get_ydata(), np.where(x > 0, x, a * x))
    assert [t.get_text() for t in left.get_legend().get_texts()] == \
        ["ReLU", "PReLU at init (a = 0.25)", "head, learned a = 0.33"]
    assert [p.get_height() for p in right.patches] == pytest.approx(slopes)
    assert [p.get_x() + p.get_width() / 2 for p in right.patches] == pytest.approx([0, 1, 2, 3])
    assert right.lines[0].get_ydata()[0] == 0.25 and right.get_title() == "slopes"
    with pytest.raises(ValueError, match="non-empty"):
        figures.prelu_slopes_figure([])
    with pytest.raises(ValueError, match="finite"):
        figures.prelu_slopes_figure([0.1, float("nan")])


def test_fit_width_sizes_the_figure_raises_small_text_and_whitens_labels_on_dark_cells():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(13, 4))
    ax.imshow(np.array([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]))  # (1, 2, 3): a black cell, then a white one
    dark, light = ax.text(0, 0, "a", fontsize=6), ax.text(1, 0, "b", fontsize=14)
    ax.set_title("small", fontsize=7)
    assert viz.fit_width(fig, height=3) is fig
    assert tuple(fig.get_size_inches()) == (viz.PAGE_WIDTH, 3)
    assert dark.get_fontsize() == viz.MIN_POINTS and light.get_fontsize() == 14  # raised, never lowered
    assert ax.title.get_fontsize() == viz.MIN_POINTS
    assert dark.get_color() == "white" and light.get_color() == "black"
    plt.close(fig)


def test_notebook_01_figures_are_drawn_at_the_page_width_with_legible_text():
    """The library draws them for GitHub's width, so the notebook needs no resizing of its own."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    weight = np.arange(1.0, 37).reshape(4, 3, 3)
    kernel = np.zeros((6, 6))
    for s in range(4):
        kernel[s // 2::2, s % 2::2] = weight[s]
    img = np.random.default_rng(0).random((32, 32, 3))
    drawn = [figures.subkernel_interleave_figure(weight, kernel),
             figures.checkerboard_figure({"a": img, "b": img}, zoom=(0, 0, 8)),
             figures.training_progress_figure([0, 1, 2], [20.0, 25.0, 26.0], {"bicubic": 24.0},
                                              {"a": img, "b": img}, box=(0, 0, 16))]
    for fig in drawn:
        assert fig.get_size_inches()[0] == viz.PAGE_WIDTH
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
        assert min(sizes) >= viz.MIN_POINTS
        plt.close(fig)
