"""Tests for srgan_lib.figures.widgets: the interactive comparison, its static fallback, split view, display scaling
and snapshots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib.figures import widgets  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


def _imgs(h=64, w=80):
    rng = np.random.default_rng(0)
    return {"bicubic": np.zeros((h, w, 3), np.uint8), "SRGAN": np.full((h, w, 3), 128, np.uint8),
            "original": rng.integers(0, 256, (h, w, 3), dtype=np.uint8)}


def test_split_view_takes_left_then_right_and_zooms():
    a, b = np.zeros((8, 10, 3), np.uint8), np.full((8, 10, 3), 200, np.uint8)
    out = widgets.split_view(a, b, split=0.3, line=False)
    assert out.shape == (8, 10, 3)
    assert (out[:, :3] == 0).all() and (out[:, 3:] == 200).all()
    z = widgets.split_view(a, b, split=0.5, zoom=2, centre=(0, 0), line=False)
    assert z.shape == (8, 10, 3)  # a quarter of the image, twice as large
    with pytest.raises(ValueError):
        widgets.split_view(a, b[:4])


def test_static_fallback_returns_a_figure():
    fig = widgets.interactive_comparison(_imgs(), static=True)
    assert isinstance(fig, Figure)
    assert len(fig.axes) >= 3


def test_no_kernel_means_static(monkeypatch):
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    assert widgets.widgets_available() is False  # pytest is not an IPython kernel
    assert isinstance(widgets.interactive_comparison(_imgs()), Figure)


def test_env_var_forces_static(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert widgets.widgets_available() is False


def test_widget_has_its_controls_and_redraws():
    W = pytest.importorskip("ipywidgets")
    box = widgets.interactive_comparison(_imgs(), static=False, title="t")
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
    assert widgets.display_scale(shape) == k
    h, w = shape
    assert k * w <= max(widgets.DISPLAY_WIDTH, w) and k * h <= max(widgets.DISPLAY_HEIGHT, h)
    assert (k + 1) * w > widgets.DISPLAY_WIDTH or (k + 1) * h > widgets.DISPLAY_HEIGHT  # one more would not fit


def test_magnify_is_nearest_neighbour_by_an_integer():
    from PIL import Image

    img = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    big = widgets.magnify(img, 3)
    assert big.shape == (15, 21, 3)
    # oracle: PIL's nearest-neighbour resize to exactly 3x
    assert np.array_equal(big, np.asarray(Image.fromarray(img).resize((21, 15), Image.NEAREST)))
    with pytest.raises(ValueError):
        widgets.magnify(img, 1.5)


def _png_size(png: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.size  # (width, height)


def test_widget_shows_pixels_at_an_integer_scale_and_carries_a_png():
    W = pytest.importorskip("ipywidgets")
    box = widgets.interactive_comparison(_imgs(64, 80), static=False)
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
    box = widgets.interactive_comparison(imgs, static=False)
    shown = np.asarray(Image.open(io.BytesIO(box.view.value)).convert("RGB"))
    k = widgets.display_scale((40, 50))
    expected = widgets.split_view(imgs["bicubic"], imgs["original"], 0.5, 1, (20, 25))
    assert np.array_equal(shown[::k, ::k], expected)  # each k x k square is one source pixel
    assert np.array_equal(shown[k - 1 :: k, k - 1 :: k], expected)


def test_snapshot_of_a_narrow_image_keeps_its_whole_title():
    """A 250-pixel-wide image (Set14's comic at 1x) under a long title: the picture widens to the title and
    the image keeps its own size, centred (the notebook's snapshot cut the title at both ends)."""
    import io

    from PIL import Image

    img = np.zeros((60, 50, 3), np.uint8)
    title = "left: SRResNet  |  right: SRGAN-MSE (shipped)  (zoom 1x, split 50 %)"
    png = widgets.snapshot_png(img, title=title, k=1)
    w, h = _png_size(png)
    assert w >= 6.5 * len(title) and h > 60
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    dark_columns = np.flatnonzero((pixels[-1] < 10).all(axis=1))  # the black image on the bottom row
    assert len(dark_columns) == 50 and abs((dark_columns[0] + dark_columns[-1]) / 2 - w / 2) <= 1
