"""Tests for the figures and widgets of srgan_lib.viz (static fallback, split view, trade-off plot)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test's figures are closed after it (pyplot keeps them alive otherwise)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _imgs(h=64, w=80):
    rng = np.random.default_rng(0)
    return {"bicubic": np.zeros((h, w, 3), np.uint8), "SRGAN": np.full((h, w, 3), 128, np.uint8),
            "original": rng.integers(0, 256, (h, w, 3), dtype=np.uint8)}


def test_split_view_takes_left_then_right_and_zooms():
    a, b = np.zeros((8, 10, 3), np.uint8), np.full((8, 10, 3), 200, np.uint8)
    out = viz.split_view(a, b, split=0.3, line=False)
    assert out.shape == (8, 10, 3)
    assert (out[:, :3] == 0).all() and (out[:, 3:] == 200).all()
    z = viz.split_view(a, b, split=0.5, zoom=2, centre=(0, 0), line=False)
    assert z.shape == (8, 10, 3)  # a quarter of the image, twice as large
    with pytest.raises(ValueError):
        viz.split_view(a, b[:4])


def test_static_fallback_returns_a_figure():
    fig = viz.interactive_comparison(_imgs(), static=True)
    assert isinstance(fig, Figure)
    assert len(fig.axes) >= 3


def test_no_kernel_means_static(monkeypatch):
    monkeypatch.delenv(viz.STATIC_ENV, raising=False)
    assert viz.widgets_available() is False  # pytest is not an IPython kernel
    assert isinstance(viz.interactive_comparison(_imgs()), Figure)


def test_env_var_forces_static(monkeypatch):
    monkeypatch.setenv(viz.STATIC_ENV, "1")
    assert viz.widgets_available() is False


def test_widget_has_its_controls_and_redraws():
    W = pytest.importorskip("ipywidgets")
    box = viz.interactive_comparison(_imgs(), static=False, title="t")
    assert isinstance(box, W.VBox)
    kinds = [type(c) for c in box.children]
    assert kinds[0] is W.HTML and W.Image in kinds
    controls = [w for c in box.children if isinstance(c, W.HBox) for w in c.children]
    dropdowns = [w for w in controls if isinstance(w, W.Dropdown)]
    assert [d.description for d in dropdowns] == ["left", "right", "centre"]
    assert dropdowns[0].value == "bicubic" and dropdowns[1].value == "original"
    image = next(c for c in box.children if isinstance(c, W.Image))
    before = image.value
    assert before[:4] == b"\x89PNG"
    dropdowns[0].value = "SRGAN"  # observed: the view is redrawn
    assert image.value != before


# ------------------------------------------------------------------------------------------------
# Integer magnification and the static snapshot of the widgets
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, k", [((64, 80), 10), ((100, 100), 6), ((128, 128), 5), ((512, 512), 1),
                                      ((900, 1200), 1), ((10, 400), 2), ((200, 10), 3)])
def test_display_scale_is_the_largest_integer_that_fits(shape, k):
    assert viz.display_scale(shape) == k
    h, w = shape
    assert k * w <= max(viz.DISPLAY_WIDTH, w) and k * h <= max(viz.DISPLAY_HEIGHT, h)
    assert (k + 1) * w > viz.DISPLAY_WIDTH or (k + 1) * h > viz.DISPLAY_HEIGHT  # one more would not fit


def test_magnify_is_nearest_neighbour_by_an_integer():
    from PIL import Image

    img = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    big = viz.magnify(img, 3)
    assert big.shape == (15, 21, 3)
    # oracle: PIL's nearest-neighbour resize to exactly 3x
    assert np.array_equal(big, np.asarray(Image.fromarray(img).resize((21, 15), Image.NEAREST)))
    with pytest.raises(ValueError):
        viz.magnify(img, 1.5)


def _png_size(png: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.size  # (width, height)


def test_widget_shows_pixels_at_an_integer_scale_and_carries_a_png():
    W = pytest.importorskip("ipywidgets")
    box = viz.interactive_comparison(_imgs(64, 80), static=False)
    assert box.view.value[:4] == b"\x89PNG"
    assert _png_size(box.view.value) == (800, 640)  # 80 x 64 shown at 10x: every pixel a 10 x 10 square
    assert box.view.layout.width == "800px" and box.view.layout.height == "640px"
    assert "srgan-pixelated" in box.view._dom_classes
    assert any(isinstance(c, W.HTML) and "image-rendering: pixelated" in c.value for c in box.children)
    # the controls come before the image
    kinds = [type(c) for c in box.children]
    assert kinds.index(W.Image) > kinds.index(W.HBox)
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    import base64

    png = base64.b64decode(bundle["image/png"])
    assert png[:4] == b"\x89PNG" and _png_size(png)[0] == 800  # the snapshot is as wide as the view


def test_widget_pixels_are_the_split_view_magnified():
    pytest.importorskip("ipywidgets")
    import io

    from PIL import Image

    imgs = _imgs(40, 50)
    box = viz.interactive_comparison(imgs, static=False)
    shown = np.asarray(Image.open(io.BytesIO(box.view.value)).convert("RGB"))
    k = viz.display_scale((40, 50))
    expected = viz.split_view(imgs["bicubic"], imgs["original"], 0.5, 1, (20, 25))
    assert np.array_equal(shown[::k, ::k], expected)  # each k x k square is one source pixel
    assert np.array_equal(shown[k - 1 :: k, k - 1 :: k], expected)


def test_high_frequency_ratio():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert viz.high_frequency_ratio(hr, hr) == pytest.approx(1.0)
    flat = np.full_like(hr, 100)
    assert viz.high_frequency_ratio(flat, hr) == pytest.approx(0.0)


def test_held_out_pair_is_the_most_textured_window_and_its_matlab_lr():
    from srgan_lib.data import matlab_lr
    from srgan_lib.samples import load_sample

    photo = load_sample("astronaut")
    hr, lr, (top, left, side) = viz.held_out_pair("astronaut", 128)
    assert side == 128 and hr.shape == (128, 128, 3)
    np.testing.assert_array_equal(hr, photo[top : top + 128, left : left + 128])
    np.testing.assert_array_equal(lr, matlab_lr(hr, 4))  # section 3.1's kind of input, (32, 32, 3)

    from scipy.ndimage import laplace

    detail = laplace(photo.astype(np.float64).mean(axis=2)) ** 2

    def variance(t, l):  # oracle: the detail energy of one window, summed directly
        return detail[t : t + 128, l : l + 128].mean()

    best = variance(top, left)
    centre = (photo.shape[0] - 128) // 2
    assert best > 1.5 * variance(centre, centre)  # the centre of astronaut is mostly smooth suit
    assert all(best >= variance(t, l) - 1e-9 for t in range(0, 385, 32) for l in range(0, 385, 32))
    whole, _, box = viz.held_out_pair("coffee", 0)
    assert box[:2] == (0, 0) and whole.shape[0] % 4 == 0 and whole.shape[1] % 4 == 0
    with pytest.raises(ValueError, match="'chelsea' is not a held-out sample"):
        viz.held_out_pair("chelsea")
    with pytest.raises(ValueError, match="size must be"):
        viz.held_out_pair("coffee", -1)


def test_perception_distortion_figure():
    pts = [{"label": "bicubic", "psnr": 26.0, "perceptual": 0.3},
           {"label": "step 10", "psnr": 28.0, "perceptual": 0.6, "group": "run"},
           {"label": "step 20", "psnr": 27.5, "perceptual": 0.8, "group": "run"}]
    fig = viz.perception_distortion_figure(pts, note="random VGG")
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].lines) == 3  # bicubic, the run (one joined line), the target line


def test_perception_distortion_figure_log_axis_reaches_the_original():
    pts = [{"label": "bicubic", "psnr": 26.0, "perceptual": 0.011},
           {"label": "SRResNet", "psnr": 27.0, "perceptual": 0.065},
           {"label": "step 8", "psnr": 27.02, "perceptual": 0.066, "group": "run"}]
    ax = viz.perception_distortion_figure(pts).axes[0]
    assert ax.get_yscale() == "log"
    low, high = ax.get_ylim()
    assert low <= 0.011 and high >= 1.0  # every point and the original's line are on the axis
    texts = [t for t in ax.texts if t.get_text() in ("SRResNet", "step 8")]
    assert len(texts) == 2 and texts[0].xyann != texts[1].xyann  # close points: labels offset apart


def test_error_map_figure_shows_the_original_crop():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    fig = viz.error_map_figure(hr, {"same": hr.copy(), "flat": np.full_like(hr, 128)}, box=(4, 4, 16))
    axes = fig.axes
    assert axes[0].get_title() == "original (HR)"
    np.testing.assert_array_equal(axes[0].images[0].get_array(), hr[4:20, 4:20] / 255.0)
    same_err = next(ax for ax in axes if ax.get_title().startswith("|error|, mean 0.000"))
    assert same_err.images[0].get_array().max() == 0


def test_snapshot_of_a_narrow_image_keeps_its_whole_title():
    """A 250-pixel-wide image (Set14's comic at 1x) under a long title: the picture widens to the title and
    the image keeps its own size, centred (the notebook's snapshot cut the title at both ends)."""
    import io

    from PIL import Image

    img = np.zeros((60, 50, 3), np.uint8)
    title = "left: SRResNet  |  right: SRGAN-MSE (shipped)  (zoom 1x, split 50 %)"
    png = viz.snapshot_png(img, title=title, k=1)
    w, h = _png_size(png)
    assert w >= 6.5 * len(title) and h > 60
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    dark_columns = np.flatnonzero((pixels[-1] < 10).all(axis=1))  # the black image on the bottom row
    assert len(dark_columns) == 50 and abs((dark_columns[0] + dark_columns[-1]) / 2 - w / 2) <= 1


# ------------------------------------------------------------------------------------------------
# Figures of notebooks 03 (VGG feature maps, distance ranking) and 04 (toy GAN, generator losses, D's ranking)
# ------------------------------------------------------------------------------------------------

def _titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_top_channels_are_the_largest_means_in_order():
    f = np.zeros((5, 3, 4))
    for c, level in enumerate([0.2, 3.0, 0.1, 1.5, 2.0]):
        f[c] = level
    assert viz.top_channels(f, 3) == [1, 4, 3]  # oracle: the levels sorted by hand
    with pytest.raises(ValueError, match="k must be in 1..5"):
        viz.top_channels(f, 6)
    with pytest.raises(ValueError, match=r"\(C, h, w\)"):
        viz.top_channels(f[0], 1)


def test_feature_maps_figure_draws_the_top_channels_of_each_layer():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    f22, f54 = rng.random((8, 16, 16)), rng.random((10, 2, 2))
    f22[5] += 10  # the strongest channel of VGG22
    fig = viz.feature_maps_figure(image, {"VGG22": f22, "VGG54": f54}, k=3, image_title="input (test)",
                                  title="phi maps", note="RANDOM weights", warn=True)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 4
    rows = [fig.axes[0:4], fig.axes[4:8]]
    for row, (name, f) in zip(rows, [("VGG22", f22), ("VGG54", f54)]):
        assert row[0].get_title() == "input (test)"
        np.testing.assert_array_equal(row[0].images[0].get_array(), image)
        for ax, ch in zip(row[1:], viz.top_channels(f, 3)):
            assert ax.get_title() == f"{name} ch {ch} ({f.shape[1]}x{f.shape[2]})"
            np.testing.assert_array_equal(ax.images[0].get_array(), f[ch])  # each channel as it is, own scale
    assert rows[0][1].get_title().startswith("VGG22 ch 5 ")
    assert fig._suptitle.get_text() == "phi maps | RANDOM weights"
    assert matplotlib.colors.same_color(fig._suptitle.get_color(), "#b00020")  # the warning is red
    fine = viz.feature_maps_figure(image, {"VGG22": f22}, k=2, note="pretrained")
    assert matplotlib.colors.same_color(fine._suptitle.get_color(), "black")
    with pytest.raises(ValueError, match="k must be in"):
        viz.feature_maps_figure(image, {"VGG54": f54}, k=11)


def test_ranks_put_the_smallest_first():
    assert viz.ranks([0.5, 0.1, 0.9, 0.3]) == [3, 1, 4, 2]
    assert viz.ranks([]) == []


def test_distance_ranking_figure_titles_carry_the_ranks_and_bars_the_ratios():
    rng = np.random.default_rng(0)
    patches = {name: rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
               for name in ("reference", "blur (sigma 1.5)", "noise", "shift")}
    scores = {"pixel MSE (eq. 4)": [2.0, 2.0, 4.0], "VGG22 (eq. 5)": [3.0, 1.5, 0.3]}
    fig = viz.distance_ranking_figure(patches, scores, note="VGG bars: random", warn=True)
    titles = _titles(fig)
    assert titles[0] == "reference"
    assert titles[1] == "blur (sigma 1.5)\npixel MSE #1 | VGG22 #3"
    assert titles[3] == "shift\npixel MSE #3 | VGG22 #1"
    bars = fig.axes[-1]
    heights = [p.get_height() for p in bars.patches]
    assert heights == pytest.approx([1.0, 1.0, 2.0, 1.0, 0.5, 0.1])  # each distance / its value for the blur
    assert bars.get_ylabel() == "distance / distance of the blur"
    assert [t.get_text() for t in bars.get_xticklabels()] == ["blur (sigma 1.5)", "noise", "shift"]
    assert bars.get_title() == "VGG bars: random"
    with pytest.raises(ValueError, match="has 2 values for 3 distortions"):
        viz.distance_ranking_figure(patches, {"MSE": [1.0, 2.0]})
    with pytest.raises(ValueError, match="must be positive"):
        viz.distance_ranking_figure(patches, {"MSE": [0.0, 1.0, 2.0]})


def test_toy_gan_figure_draws_each_snapshot_in_step_order():
    grid = np.linspace(-5, 7, 300)
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(1.5, 0.3, 500), rng.normal(4.0, 0.3, 500)])
    spike = np.full(400, -3.0)  # every sample in one bin: far taller than the axis
    snapshots = {100: (rng.normal(2.7, 1.0, 400), np.full(300, 0.5)), 0: (spike, 1 / (1 + np.exp(grid - 1)))}
    fig = viz.toy_gan_figure(data, snapshots, grid, bins=96)
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
        viz.toy_gan_figure(data, {0: (spike, np.zeros(10))}, grid)


def test_generator_loss_figure_plots_the_losses_and_the_gradient_sizes():
    p = np.linspace(0.01, 0.99, 50)
    losses = {"saturating": np.log(1 - p), "non_saturating": -np.log(p)}
    grads = {"saturating": -p, "non_saturating": -(1 - p)}  # d loss / d logit, as notebook 04 derives them
    fig = viz.generator_loss_figure(p, losses, grads)
    ax_loss, ax_grad = fig.axes
    for k, kind in enumerate(("saturating", "non_saturating")):
        label, _ = viz.ADVERSARIAL_STYLE[kind]
        assert ax_loss.lines[k].get_label() == label == ax_grad.lines[k].get_label()
        np.testing.assert_allclose(ax_loss.lines[k].get_ydata(), losses[kind])
        np.testing.assert_allclose(ax_grad.lines[k].get_ydata(), np.abs(grads[kind]))  # sizes, not signs
    assert "equation 2" in viz.ADVERSARIAL_STYLE["saturating"][0]
    assert "equation 6" in viz.ADVERSARIAL_STYLE["non_saturating"][0]
    assert ax_grad.get_ylabel() == "|d loss / d logit|"
    with pytest.raises(ValueError, match="generator-loss kinds"):
        viz.generator_loss_figure(p, {"wasserstein": p}, {"wasserstein": p})
    with pytest.raises(ValueError, match="shape"):
        viz.generator_loss_figure(p, {"saturating": p[:5]}, {"saturating": p[:5]})


def test_saturation_race_figure():
    runs = {"saturating": {"mean": [-3.0, -2.99, -2.98], "d_fake": [4e-3, 2e-3, 1e-3]},
            "non_saturating": {"mean": [-3.0, 0.0, 2.7], "d_fake": [4e-3, 0.3, 0.5]}}
    fig = viz.saturation_race_figure(runs, data_mean=2.75)
    ax_mean, ax_d = fig.axes
    assert ax_d.get_yscale() == "log"
    np.testing.assert_allclose(ax_mean.lines[1].get_ydata(), runs["non_saturating"]["mean"])
    np.testing.assert_allclose(ax_d.lines[0].get_ydata(), runs["saturating"]["d_fake"])
    assert ax_mean.lines[2].get_ydata()[0] == 2.75 and ax_mean.lines[2].get_label() == "data mean"
    low, high = ax_d.get_ylim()
    assert low <= 1e-3 and high >= 0.5  # every point on the axis
    with pytest.raises(ValueError, match=r"has no \['d_fake'\]"):
        viz.saturation_race_figure({"saturating": {"mean": [0.0]}}, 0.0)
    with pytest.raises(ValueError, match="log axis"):
        viz.saturation_race_figure({"saturating": {"mean": [0.0], "d_fake": [0.0]}}, 0.0)


def test_patch_ranking_figure_shows_the_ranked_patches():
    n, k = 5, 2
    real = np.stack([np.full((4, 4, 3), 10 * i, np.uint8) for i in range(n)])  # patch i has value 10 i
    fake = np.stack([np.full((4, 4, 3), 100 + 10 * i, np.uint8) for i in range(n)])
    p_real = np.array([0.9, 0.2, 0.99, 0.6, 0.05])
    p_fake = np.array([0.1, 0.95, 0.3, 0.01, 0.5])
    fig = viz.patch_ranking_figure(real, fake, p_real, p_fake, fake_name="SRResNet", k=k)
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
        viz.patch_ranking_figure(real, fake, p_real[:4], p_fake)
    with pytest.raises(ValueError, match="apply the sigmoid"):
        viz.patch_ranking_figure(real, fake, p_real * 3, p_fake)
    with pytest.raises(ValueError, match="k must be in 1..5"):
        viz.patch_ranking_figure(real, fake, p_real, p_fake, k=6)


# Figures of notebooks 01 and 02: the plotted data is the input, the labels say what the docstrings promise
# ------------------------------------------------------------------------------------------------

def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_upsampling_cost_figure_plots_flops_and_labels_parameters_and_ratios():
    layers = {"(a) sub-pixel": (147_712, 169_869_312), "(b) resize + conv": (36_928, 169_869_312),
              "(d) zeros + conv": (147_520, 679_477_248)}
    networks = {"designed": 2_560_000_000, "moved": 23_040_000_000}
    fig = viz.upsampling_cost_figure(layers, networks, layers_title="one layer", networks_title="whole net")
    ax1, ax2 = fig.axes
    assert [p.get_height() for p in ax1.patches] == pytest.approx([169.869312, 169.869312, 679.477248])
    assert [t.get_text() for t in ax1.get_xticklabels()] == list(layers)
    assert [t.get_text() for t in ax1.texts] == ["148k params", "37k params", "148k params"]
    assert ax1.get_ylabel() == "MFLOPs per call" and ax1.get_title() == "one layer"
    assert [p.get_height() for p in ax2.patches] == pytest.approx([2.56, 23.04])
    assert [t.get_text() for t in ax2.texts] == ["2.56", "23.04 (9.0x)"]  # the ratio to the first network
    assert ax2.get_ylabel() == "GFLOPs per call" and ax2.get_title() == "whole net"
    with pytest.raises(ValueError, match="at least one"):
        viz.upsampling_cost_figure({}, networks)
    with pytest.raises(ValueError, match="positive"):
        viz.upsampling_cost_figure(layers, {"empty": 0})


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
    fig = viz.subkernel_interleave_figure(sub, big, title="four make one")
    axes = fig.axes
    assert len(axes) == 5 and fig._suptitle.get_text() == "four make one"
    assert _titles(fig)[:4] == ["sub-kernel 0 = (i=0, j=0)", "sub-kernel 1 = (i=0, j=1)",
                                "sub-kernel 2 = (i=1, j=0)", "sub-kernel 3 = (i=1, j=1)"]
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
        viz.subkernel_interleave_figure(sub, big + 100)
    with pytest.raises(ValueError, match="distinct"):
        viz.subkernel_interleave_figure(np.ones((4, 3, 3)), np.ones((6, 6)))
    with pytest.raises(ValueError, match="square number"):
        viz.subkernel_interleave_figure(sub[:3], big)


def test_checkerboard_figure_stretches_and_zooms_the_same_place_in_every_panel():
    rng = np.random.default_rng(0)
    hr = rng.uniform(0.2, 0.6, (16, 16, 3))
    lr = hr[::2, ::2]  # (8, 8, 3): half the size
    fig = viz.checkerboard_figure({"LR": lr, "HR": hr, "grey": hr[..., 0]}, zoom=(4, 6, 8), zoom_title="eye")
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
        viz.checkerboard_figure({"HR": hr}, zoom=(10, 10, 8))
    with pytest.raises(ValueError, match="integer factor"):
        viz.checkerboard_figure({"LR": lr, "HR": hr}, zoom=(3, 6, 8))  # an odd top has no LR pixel


def test_training_progress_figure_plots_the_curve_baselines_and_crops():
    steps, psnr = [0, 100, 200, 300], [10.9, 25.1, 26.5, 27.4]
    rng = np.random.default_rng(0)
    images = {name: rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for name in ("a", "b", "c")}
    fig = viz.training_progress_figure(steps, psnr, {"bicubic": 27.0, "nearest": 24.8}, images, box=(2, 5, 10),
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
    with pytest.raises(ValueError, match="as many"):
        viz.training_progress_figure([0, 1], [1.0], {}, images)
    with pytest.raises(ValueError, match="same size"):
        viz.training_progress_figure([0], [1.0], {}, {"a": images["a"], "b": images["b"][:10]})


def test_prelu_slopes_figure_draws_the_function_and_every_slope():
    slopes = [0.33, 0.64, 0.1, 0.26]
    fig = viz.prelu_slopes_figure(slopes, init=0.25, title="slopes", first_label="head")
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
        viz.prelu_slopes_figure([])
    with pytest.raises(ValueError, match="finite"):
        viz.prelu_slopes_figure([0.1, float("nan")])


def test_model_card_figure_plots_the_log_and_the_snapshots():
    history = [{"step": 50, "loss": 0.17}, {"step": 100, "loss": 0.05, "lr": 1e-4}, {"step": 100, "val_psnr": 20.0},
               {"step": 150, "loss": 0.02}]
    curve = [{"step": 500, "psnr": 24.0}, {"step": 1000, "psnr": 26.0, "bn": "running statistics"},
             {"step": 1000, "psnr": 26.5, "bn": "recalibrated"}]
    fig = viz.model_card_figure(history, curve, 25.0, metric="psnr", metric_title="Set5")
    loss_ax, psnr_ax = fig.axes
    assert list(loss_ax.lines[0].get_xdata()) == [50, 100, 150]  # the entry without a loss is skipped
    assert list(loss_ax.lines[0].get_ydata()) == [0.17, 0.05, 0.02] and loss_ax.get_yscale() == "log"
    running, recalibrated, bicubic = psnr_ax.lines
    assert list(running.get_ydata()) == [24.0, 26.0] and running.get_linestyle() == "-"
    assert list(recalibrated.get_ydata()) == [26.5] and recalibrated.get_marker() == "*"
    assert recalibrated.get_linestyle() == "None"
    assert list(bicubic.get_ydata()) == [25.0, 25.0] and psnr_ax.get_title() == "Set5"
    assert [t.get_text() for t in psnr_ax.get_legend().get_texts()] == \
        ["snapshot, BN running statistics", "snapshot, BN recalibrated", "bicubic"]
    with pytest.raises(ValueError, match="no entry with a loss"):
        viz.model_card_figure([{"step": 1}], curve, 25.0, metric="psnr")
    with pytest.raises(ValueError, match="bn='frozen'"):
        viz.model_card_figure(history, [{"step": 1, "psnr": 20.0, "bn": "frozen"}], 25.0, metric="psnr")
    with pytest.raises(ValueError, match="has no 'psnr'"):
        viz.model_card_figure(history, [{"step": 1, "ssim": 0.5}], 25.0, metric="psnr")


def test_baseline_gap_figure_subtracts_the_reference_in_the_right_flavour():
    rows = []
    values = {("bicubic", "A"): (28.0, 0.80, 0.79), ("bicubic", "B"): (26.0, 0.75, 0.70),
              ("torch", "A"): (28.2, 0.0, 0.0), ("torch", "B"): (26.1, 0.0, 0.0),
              ("aliased", "A"): (27.4, 0.0, 0.0), ("aliased", "B"): (25.0, 0.0, 0.0)}
    for (method, dataset), (p, s_paper, s_std) in values.items():
        rows.append({"method": method, "dataset": dataset, "flavour": "paper", "psnr": p, "ssim": s_paper})
        shift = {"bicubic": 0.5, "torch": 0.7, "aliased": 1.3}[method]  # standard-flavour gaps differ: caught if used
        rows.append({"method": method, "dataset": dataset, "flavour": "standard", "psnr": p - shift, "ssim": s_std})
    fig = viz.baseline_gap_figure(rows, ["A", "B"], {"torch": "torch label", "aliased": "aliased label"})
    left, right = fig.axes
    heights = [p.get_height() for p in left.patches]
    assert heights == pytest.approx([0.2, 0.1, -0.6, -1.0])  # torch on A, B, then aliased on A, B: paper flavour
    assert [t.get_text() for t in left.texts] == ["+0.20", "+0.10", "-0.60", "-1.00"]
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["torch label", "aliased label"]
    assert [t.get_text() for t in left.get_xticklabels()] == ["A", "B"]
    assert left.get_ylabel() == "PSNR - bicubic [dB]" and "bicubic" in right.get_title()
    named = viz.baseline_gap_figure(rows, ["A"], {"torch": "t"}, reference_label="MATLAB bicubic").axes
    assert named[0].get_ylabel() == "PSNR - MATLAB bicubic [dB]" and "MATLAB bicubic images" in named[1].get_title()
    assert [p.get_height() for p in right.patches] == pytest.approx([0.01, 0.05])  # paper minus standard SSIM
    assert [t.get_text() for t in right.texts] == ["+0.010", "+0.050"]
    with pytest.raises(ValueError, match="no row for method 'PIL'"):
        viz.baseline_gap_figure(rows, ["A"], {"PIL": "PIL"})


def test_image_row_figure_shows_each_image_at_its_own_size():
    rng = np.random.default_rng(0)
    big = rng.uniform(-0.1, 1.1, (16, 16, 3))
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    grey = rng.uniform(0, 1, (8, 8))
    fig = viz.image_row_figure({"big": big, "small": small, "grey": grey}, title="row")
    assert _titles(fig) == ["big", "small", "grey"] and fig._suptitle.get_text() == "row"
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), np.clip(big, 0, 1))
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), small)
    assert fig.axes[2].images[0].get_cmap().name == "gray" and fig.axes[2].images[0].get_clim() == (0, 1)
    assert all(im.get_interpolation() == "nearest" for ax in fig.axes for im in ax.images)
    with pytest.raises(ValueError, match="no images"):
        viz.image_row_figure({})
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        viz.image_row_figure({"flat": np.zeros(5)})

