"""Tests for the figures and widgets of srgan_lib.viz (static fallback, split view, trade-off plot)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib import viz  # noqa: E402


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
    from srgan_lib.data import load_sample, matlab_lr

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
