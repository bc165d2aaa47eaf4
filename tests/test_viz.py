"""Tests for the general result figures of srgan_lib.figures.viz (held-out pair, trade-off plot, error map, cards)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srgan_lib.figures import viz  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


def test_held_out_pair_is_the_most_textured_window_and_its_matlab_lr():
    from srgan_lib.resize import matlab_lr
    from srgan_lib.plumbing.samples import load_sample

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


def test_pick_boxes_flattest_finds_the_smooth_window_and_textured_the_busy_one():
    from scipy.ndimage import laplace

    rng = np.random.default_rng(0)
    img = rng.integers(1, 255, (96, 96, 3)).astype(np.uint8)  # noise everywhere, never clipped ...
    img[40:72, 8:40] = 128 + rng.integers(-1, 2, (32, 32, 3))  # ... but one nearly flat 32 x 32 square
    img[8:32, 50:82] = 0  # and a black, clipped patch: flatter still, but the sensor's, not the scene's
    detail = laplace(img.astype(np.float64).mean(axis=2)) ** 2
    energy = {(t, l): detail[t : t + 16, l : l + 16].mean() for t in range(81) for l in range(81)}  # oracle
    unclipped = {k: e for k, e in energy.items() if not (img[k[0] : k[0] + 16, k[1] : k[1] + 16] == 0).any()}
    (top, left, side), = viz.pick_boxes(img, n=1, size=16, flattest=True)
    assert side == 16 and 40 <= top <= 56 and 8 <= left <= 24  # inside the flat grey square
    assert energy[(top, left)] <= min(unclipped.values()) + 1e-9
    assert min(energy.values()) < energy[(top, left)]  # the black patch would have won without the rule
    boxes = viz.pick_boxes(img, n=3, size=16, flattest=True)
    assert len(boxes) == 3 and boxes[0] == (top, left, 16)
    busy = viz.pick_boxes(img, n=1, size=16)[0]
    assert energy[busy[:2]] >= max(energy.values()) - 1e-9


def test_perception_distortion_figure():
    pts = [{"label": "bicubic", "psnr": 26.0, "perceptual": 0.3},
           {"label": "step 10", "psnr": 28.0, "perceptual": 0.6, "group": "run"},
           {"label": "step 20", "psnr": 27.5, "perceptual": 0.8, "group": "run"}]
    fig = viz.perception_distortion_figure(pts, note="random VGG")
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].lines) == 3  # bicubic, the run (one joined line), the target line
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["run"]  # bicubic is labelled on the plot: the legend names only the joined run
    single = viz.perception_distortion_figure(pts[:1])
    assert single.axes[0].get_legend() is None


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


def test_perception_distortion_labels_overlap_nothing_and_stay_inside():
    """Notebook 05's crowded case: a short run's six checkpoints within a few pixels of each other, one of them
    on top of SRResNet. No label may cover another label or any point, or leave the axes."""
    from itertools import combinations

    from matplotlib.text import Text

    pts = [{"label": "bicubic", "psnr": 21.59, "perceptual": 0.011},
           {"label": "SRResNet", "psnr": 22.67, "perceptual": 0.069},
           {"label": "SRGAN-MSE (shipped)", "psnr": 22.20, "perceptual": 0.100}]
    pts += [{"label": f"step {s}", "psnr": p, "perceptual": h, "group": "this run"}
            for s, p, h in [(50, 22.67, 0.069), (100, 22.68, 0.072), (150, 22.67, 0.077), (200, 22.65, 0.082),
                            (250, 22.63, 0.086), (300, 22.61, 0.088)]]
    fig = viz.perception_distortion_figure(pts, note="a crowded run")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = {p["label"] for p in pts}
    texts = [t for t in ax.texts if t.get_text() in labels]
    for t in texts:
        t.update_positions(renderer)  # as drawing does
    boxes = {t.get_text(): Text.get_window_extent(t, renderer) for t in texts}  # the text, not its leader line
    assert set(boxes) == labels
    for (a, box_a), (b, box_b) in combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), f"labels {a!r} and {b!r} overlap"
    frame = ax.get_window_extent(renderer)
    for name, box in boxes.items():
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, name
        for p in pts:
            x, y = ax.transData.transform((p["psnr"], p["perceptual"]))
            assert not box.contains(x, y), f"label {name!r} covers the point of {p['label']!r}"


def test_split_crops_figure_puts_one_method_on_each_half_of_each_crop():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 128, (60, 80, 3), dtype=np.uint8)
    b = rng.integers(128, 256, (60, 80, 3), dtype=np.uint8)
    fig = viz.split_crops_figure(a, b, [(10, 20, 16), (50, 70, 8)], names=("A", "B"), pad=4)
    first, second = fig.axes
    crop = first.images[0].get_array()
    assert crop.shape == (24, 24, 3)  # the 16-pixel crop and 4 pixels of context on each side
    np.testing.assert_array_equal(crop[:, :12], a[6:30, 16:28])  # oracle: slices of the inputs
    np.testing.assert_array_equal(crop[:, 12:], b[6:30, 28:40])
    near_edge = second.images[0].get_array()  # (50, 70) + 8 + 4 leaves the image: moved inwards
    assert near_edge.shape == (16, 16, 3)
    np.testing.assert_array_equal(near_edge[:, :8], a[44:60, 64:72])
    np.testing.assert_array_equal(near_edge[:, 8:], b[44:60, 72:80])
    assert first.get_xlabel() == "A  |  B" and first.images[0].get_interpolation() == "nearest"
    assert [line.get_xdata()[0] for line in first.lines] == [11.5]  # the white line between the halves
    with pytest.raises(ValueError, match="differ in size"):
        viz.split_crops_figure(a, b[:10], [(0, 0, 8)], names=("A", "B"))
    assert [ax.get_title() for ax in fig.axes] == ["crop 1 at (10, 20)", "crop 2 at (50, 70)"]
    named = viz.split_crops_figure(a, b, [(10, 20, 16), (50, 70, 8)], names=("A", "B"), pad=4,
                                   labels=["the headband", "the neck"])
    assert [ax.get_title() for ax in named.axes] == ["the headband at (10, 20)", "the neck at (50, 70)"]
    np.testing.assert_array_equal(named.axes[0].images[0].get_array(), crop)  # only the titles change
    with pytest.raises(ValueError, match="1 labels for 2 crops"):
        viz.split_crops_figure(a, b, [(10, 20, 16), (50, 70, 8)], names=("A", "B"), labels=["one"])


def test_error_map_figure_shows_the_original_crop():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    fig = viz.error_map_figure(hr, {"same": hr.copy(), "flat": np.full_like(hr, 128)}, box=(4, 4, 16))
    axes = fig.axes
    assert axes[0].get_title() == "original (HR)"
    np.testing.assert_array_equal(axes[0].images[0].get_array(), hr[4:20, 4:20] / 255.0)
    same_err = next(ax for ax in axes if ax.get_title() == "same: |error|\nmean 0.000")  # named, under its crop
    assert same_err.images[0].get_array().max() == 0
    flat_err = next(ax for ax in axes if ax.get_title().startswith("flat: |error|"))
    assert flat_err.get_position().x0 > same_err.get_position().x0


def test_error_map_figure_difference_column_is_the_signed_change_of_the_error():
    """The difference map is |a - HR| - |b - HR| (mean over RGB), computed here by hand, and its caption's shares
    count the pixels where a is further from / nearer to the original."""
    rng = np.random.default_rng(1)
    hr = rng.integers(60, 200, (24, 24, 3), dtype=np.uint8)
    b = hr.copy()
    a = hr.copy()
    a[:, :12] = np.clip(a[:, :12].astype(int) + 40, 0, 255).astype(np.uint8)  # a is worse on the left half only
    fig = viz.error_map_figure(hr, {"a": a, "b": b}, difference=("a", "b"))
    diff_ax = next(ax for ax in fig.axes if ax.get_title() == "change of |error|")
    expected = (np.abs(a / 255.0 - hr / 255.0) - np.abs(b / 255.0 - hr / 255.0)).mean(axis=2)
    np.testing.assert_allclose(diff_ax.images[0].get_array(), expected)
    caption = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "further from HR on\n50% of pixels" in caption and "nearer on 0%" in caption
    with pytest.raises(ValueError, match="names a method"):
        viz.error_map_figure(hr, {"a": a}, difference=("a", "c"))


def test_plot_history_two_panels_a_row_with_the_baselines_in_a_legend():
    history = [{"step": s, "loss": 1.0 / (s + 1), "d_acc": 0.5, "val_psnr": 25 + s / 100} for s in range(0, 300, 50)]
    fig = viz.plot_history(history, keys=("loss", "d_loss", "d_acc", "val_psnr"), baselines={"bicubic": 24.5})
    shown = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in shown] == ["loss", "d_acc", "val_psnr"]  # d_loss is not in the history
    assert fig.get_size_inches()[0] <= 10 and len({round(ax.get_position().x0, 3) for ax in shown}) == 2
    legend = [t.get_text() for t in shown[-1].get_legend().get_texts()]
    assert "bicubic: 24.50" in legend


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


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


def test_image_row_figure_grid_lines_fall_on_block_boundaries():
    img = np.zeros((12, 8, 3), dtype=np.uint8)
    fig = viz.image_row_figure({"a": img, "b": img}, grid=4)
    for ax in fig.axes:  # pixel k covers [k - 0.5, k + 0.5]: a line every 4 pixels sits between blocks
        np.testing.assert_array_equal(ax.get_xticks(), [-0.5, 3.5, 7.5])
        np.testing.assert_array_equal(ax.get_yticks(), [-0.5, 3.5, 7.5, 11.5])
        assert all(line.get_visible() for line in ax.get_xgridlines())
    plain = viz.image_row_figure({"a": img})
    assert not plain.axes[0].axison  # no grid asked: no axes drawn
    with pytest.raises(ValueError, match="grid must be a positive"):
        viz.image_row_figure({"a": img}, grid=0)


def test_patch_pairs_figure_puts_each_crop_in_one_column_under_its_scores():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    fake = rng.random((4, 8, 8, 3))
    scores = {"real": [0.9, 0.12345, 1.0, 0.0], "SRResNet": [0.5, 0.25, 0.001, 0.75]}
    fig = viz.patch_pairs_figure({"real": real, "SRResNet": fake}, scores,
                                 captions=[f"crop {i}" for i in range(4)], title="pairs")
    assert isinstance(fig, Figure)
    axes = np.array(fig.axes).reshape(2, 4)
    for r, (name, patches) in enumerate((("real", real), ("SRResNet", fake))):
        assert axes[r, 0].get_ylabel() == name
        for c in range(4):
            shown = axes[r, c].get_images()[0].get_array()
            np.testing.assert_array_equal(shown, viz.as_display(patches[c]))  # the crop of its column
            assert axes[r, c].get_title().endswith(f"D = {scores[name][c]:.3f}")
    assert axes[0, 1].get_title() == "crop 1\nD = 0.123" and axes[1, 1].get_title() == "D = 0.250"
    assert fig.get_size_inches()[0] <= 10  # fits GitHub's width at dpi 100
    logits = viz.patch_pairs_figure({"real": real}, {"real": [11.26, -0.04, 3.0, -7.5]}, score_name="logit",
                                    score_format="+.1f")
    assert [ax.get_title() for ax in logits.axes] == ["logit = +11.3", "logit = 0.0", "logit = +3.0",
                                                      "logit = -7.5"]  # no sign on a value that rounds to 0
    with pytest.raises(ValueError, match="every version needs 4"):
        viz.patch_pairs_figure({"real": real, "SRResNet": fake[:3]}, scores)
    with pytest.raises(ValueError, match="scores for"):
        viz.patch_pairs_figure({"real": real}, scores)
    with pytest.raises(ValueError, match="captions"):
        viz.patch_pairs_figure({"real": real, "SRResNet": fake}, scores, captions=["a"])


def test_gradient_balance_figure_draws_the_two_norms_and_their_ratio():
    shares = {"bicubic": {"content": 2.0e-4, "adversarial": 3.0e-4, "ratio": 1.5},
              "SRResNet": {"content": 4.0e-4, "adversarial": 1.0e-4, "ratio": 0.25}}
    fig = viz.gradient_balance_figure(shares, title="balance")
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 12) for p in ax.patches)
    assert widths == sorted([2.0e-4, 3.0e-4, 4.0e-4, 1.0e-4])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["bicubic\nadversarial / content = 1.50", "SRResNet\nadversarial / content = 0.25"]
    texts = {t.get_text() for t in ax.texts}
    assert {"2.00e-04", "3.00e-04", "4.00e-04", "1.00e-04"} <= texts  # each bar carries its value
    assert ax.get_xlim()[1] > 4.0e-4  # no bar is cut off
    assert fig.get_size_inches()[0] <= 10
    with pytest.raises(ValueError, match="lacks"):
        viz.gradient_balance_figure({"x": {"content": 1.0}})


def test_gradient_balance_figure_on_a_log_axis_with_a_red_note():
    # notebook 03: one batch under content losses whose gradient norms differ by orders of magnitude
    shares = {"VGG54 x 1/12.75": {"content": 1e-7, "adversarial": 2e-4},
              "pixel MSE": {"content": 3e-4, "adversarial": 2e-4}}
    fig = viz.gradient_balance_figure(shares, content_label="content", title="balance", log=True,
                                      note="VGG54 bars: RANDOM weights", warn=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert sorted(p.get_width() for p in ax.patches) == sorted([1e-7, 3e-4, 2e-4, 2e-4])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["VGG54 x 1/12.75\nadversarial / content = 2e+03", "pixel MSE\nadversarial / content = 0.67"]
    texts = {t.get_text() for t in ax.texts}
    assert {"1.00e-07", "3.00e-04", "2.00e-04"} <= texts  # each bar carries its value
    lo, hi = ax.get_xlim()
    assert lo < 1e-7 and hi > 3e-4 * 10  # every bar and its value label inside the axes
    assert fig._suptitle.get_text() == "balance"
    assert ax.get_title() == "VGG54 bars: RANDOM weights"  # the note on a line of its own, in red
    assert matplotlib.colors.same_color(ax.title.get_color(), "#b00020")
    assert "log scale" in ax.get_xlabel()
    assert fig.get_size_inches()[0] <= 10
    plain = viz.gradient_balance_figure(shares, note="pretrained")
    assert plain.axes[0].get_xscale() == "linear"
    assert matplotlib.colors.same_color(plain.axes[0].title.get_color(), "black")
    with pytest.raises(ValueError, match="positive"):
        viz.gradient_balance_figure({"x": {"content": 0.0, "adversarial": 1.0}}, log=True)


def test_difference_grid_figure_draws_the_box_on_the_maps_and_the_grid_on_the_close_ups():
    rng = np.random.default_rng(2)
    a, b, c = (rng.random((16, 16, 3)) for _ in range(3))
    fig = viz.difference_grid_figure({"A": a, "B": b}, {"C": c[:8, :8]}, box=(4, 8, 8), title="t")
    top_left, top_right, bottom_left, bottom_right = fig.axes
    np.testing.assert_array_equal(top_left.images[0].get_array(), a)
    assert [p.get_xy() for p in top_right.patches] == [(7.5, 3.5)] and top_right.patches[0].get_width() == 8
    assert list(bottom_left.get_xticks()) == [-0.5, 3.5, 7.5]  # a grid line every 4 pixels
    assert not bottom_right.axison and len(bottom_right.images) == 0  # no second close-up: empty
    with pytest.raises(ValueError, match="one or two top images"):
        viz.difference_grid_figure({}, {})


def test_perception_distortion_figure_keeps_the_colour_given_to_a_method():
    from matplotlib.colors import to_hex

    pts = [{"label": "bicubic", "psnr": 25.0, "perceptual": 7.6}, {"label": "GAN", "psnr": 26.0, "perceptual": 5.0},
           {"label": "50", "psnr": 26.5, "perceptual": 6.0, "group": "run"},
           {"label": "100", "psnr": 26.4, "perceptual": 5.9, "group": "run"}]
    fig = viz.perception_distortion_figure(pts, target=None, log=False, colours={"GAN": "#d62728", "run": "#2ca02c"})
    lines = {line.get_label(): to_hex(line.get_color()) for line in fig.axes[0].lines}
    assert lines["GAN"] == "#d62728" and lines["run"] == "#2ca02c" and lines["bicubic"] not in ("#d62728", "#2ca02c")


def test_comparison_figure_crops_each_box_and_styles_its_note():
    from matplotlib.colors import same_color

    rng = np.random.default_rng(0)
    images = {n: rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for n in ("bicubic", "SRResNet", "original")}
    boxes = [(4, 8, 8), (16, 30, 12)]
    fig = viz.comparison_figure(images, boxes=boxes, scores={"bicubic": "20.00 dB"}, title="t", note="a caveat")
    axes = np.array(fig.axes).reshape(3, 3)  # one row of full images, one row per box
    assert axes[0, 0].get_title() == "bicubic\n20.00 dB" and axes[0, 2].get_title() == "original"
    for r, (top, left, size) in enumerate(boxes, start=1):
        for c, name in enumerate(images):
            np.testing.assert_array_equal(axes[r, c].images[0].get_array(),
                                          images[name][top:top + size, left:left + size])
    (caveat,) = [t for t in fig.texts if t.get_text() == "a caveat"]
    assert caveat.get_style() == "italic" and not same_color(caveat.get_color(), "#b00020")
    warned = viz.comparison_figure(images, boxes=boxes, note="random VGG19", warn=True)
    (warning,) = [t for t in warned.texts if t.get_text() == "random VGG19"]
    assert same_color(warning.get_color(), "#b00020") and warning.get_fontweight() == "bold"
    with pytest.raises(ValueError, match="same size"):
        viz.comparison_figure({"a": images["bicubic"], "b": images["bicubic"][:16]})


def test_perception_distortion_label_keeps_off_the_originals_line():
    """A point on the dashed line of the originals (notebook 05: the shipped GAN's Set14 NIQE equals the
    originals'): its label is placed off the line rather than struck through by it."""
    pts = [{"label": "bicubic", "psnr": 26.0, "perceptual": 7.6}, {"label": "SRResNet", "psnr": 27.8, "perceptual": 6.5},
           {"label": "SRGAN-MSE (shipped)", "psnr": 27.2, "perceptual": 4.94}]
    fig = viz.perception_distortion_figure(pts, target=4.94, log=False)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    (label,) = [t for t in ax.texts if t.get_text() == "SRGAN-MSE (shipped)"]
    label.update_positions(renderer)
    box = type(label).get_window_extent(label, renderer)
    line_y = ax.transData.transform((27.2, 4.94))[1]
    assert not box.y0 - 1 <= line_y <= box.y1 + 1, (box, line_y)
