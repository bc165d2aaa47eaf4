"""Figures: side-by-side comparisons with zoomed crops (the paper's Figures 2 and 6) and split crops, training
curves, error maps, the perception-distortion plot (section 3.4, Table 1 against MOS) and the figures of the
shipped models' cards.

All functions take uint8 ``(H, W, 3)`` images (or [0, 1] floats) and return a matplotlib ``Figure``;
they never call ``plt.show()`` themselves, so notebooks and the command line decide what to do with it.
The interactive comparison is in :mod:`srgan_lib.figures.widgets`; the figures that belong to one notebook's lesson
are in :mod:`srgan_lib.figures.upsampling` (notebooks 01, 02), :mod:`srgan_lib.figures.loss_figures` (notebooks 03, 04) and
:mod:`srgan_lib.figures.result_figures` (notebook 05's scores beside the paper's tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..resize import matlab_lr, modcrop
from ..plumbing.samples import HELD_OUT_SAMPLES, load_sample

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Box = tuple[int, int, int]  # (top, left, size) in HR pixels
WARNING_RED = "#b00020"  # titles and notes that say a figure is not the paper's (random VGG weights)


def pick_boxes(hr: np.ndarray, n: int = 2, size: int = 48, flattest: bool = False) -> list[Box]:
    """``n`` non-overlapping ``size x size`` windows with the most fine texture: the largest mean squared
    Laplacian of luma (the detail energy of :func:`srgan_lib.plumbing.diagnostics.high_frequency_ratio`) over the window.
    With ``flattest=True``, the windows with the least: where a generator's own pattern (a grid, a stipple)
    shows alone, with no texture of the image to hide in. Windows holding a clipped pixel (0 or 255 in a
    channel) are skipped there: a patch saturated to black or white is flat because the sensor clipped it,
    and SR outputs clip there too, which would pass for texture.

    Fine texture is where SR methods differ most: MSE blurs it, a GAN re-invents it. The Laplacian, unlike
    the local variance, scores a window by detail spread over its area, so hair, fabric or foliage win over a
    single high-contrast edge (whose variance is large but whose detail is one line of pixels).
    """
    from scipy.ndimage import laplace, uniform_filter

    y = hr[..., :3].astype(np.float64).mean(axis=2) if hr.ndim == 3 else hr.astype(np.float64)
    h, w = y.shape
    size = min(size, h, w)
    score = uniform_filter(laplace(y) ** 2, size)  # local detail energy, window centred
    if flattest:
        channels = hr[..., :3] if hr.ndim == 3 else hr[..., None]  # (H, W, C)
        clipped = ((channels == 0) | (channels == 255)).any(axis=-1)  # (H, W)
        score = np.where(uniform_filter(clipped.astype(np.float64), size) > 1e-9, -np.inf, -score)
    half = size // 2
    score[:half, :] = score[h - size + half + 1 :, :] = -np.inf  # keep windows inside the image
    score[:, :half] = score[:, w - size + half + 1 :] = -np.inf
    boxes: list[Box] = []
    for _ in range(n):
        cy, cx = np.unravel_index(int(np.argmax(score)), score.shape)
        if not np.isfinite(score[cy, cx]):
            break
        top, left = int(cy) - half, int(cx) - half
        boxes.append((top, left, size))
        score[max(0, top - half) : top + size + half, max(0, left - half) : left + size + half] = -np.inf
    return boxes


def held_out_pair(image: str = "astronaut", size: int = 256, scale: int = 4) -> tuple[np.ndarray, np.ndarray, Box]:
    """A demonstration pair from a bundled photograph never used in training: ``(hr, lr, box)``.

    ``hr`` is the ``size x size`` window of the photograph with the most fine texture (:func:`pick_boxes`),
    because fine texture is where bicubic, an MSE generator and a GAN differ most (a
    centre crop of ``astronaut`` is mostly smooth suit); ``size=0`` keeps the whole photograph. The crop is
    cut to a multiple of ``scale`` and ``lr`` is its MATLAB-era bicubic ``1/scale`` version, the paper's
    kind of test input (section 3.1). ``box`` is ``(top, left, side)`` of the crop in the photograph.
    """
    if image not in HELD_OUT_SAMPLES:
        raise ValueError(f"{image!r} is not a held-out sample; use one of {', '.join(HELD_OUT_SAMPLES)} "
                         "(the others were used in training)")
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be a whole number >= 0 (0: the whole image), got {size!r}")
    photo = load_sample(image)
    if size and size < min(photo.shape[:2]):
        box = pick_boxes(photo, 1, size)[0]
        top, left, side = box
        photo = photo[top : top + side, left : left + side]
    else:
        box = (0, 0, min(photo.shape[:2]))
    hr = modcrop(photo, scale)
    return hr, matlab_lr(hr, scale), box


def as_display(img: np.ndarray) -> np.ndarray:
    """``img`` as ``imshow`` takes it: uint8 as it is, floats clipped to [0, 1]."""
    return img if img.dtype == np.uint8 else np.clip(img, 0, 1)


def comparison_figure(
    images: Mapping[str, np.ndarray],
    boxes: Sequence[Box] | None = None,
    scores: Mapping[str, str] | None = None,
    title: str | None = None,
    note: str | None = None,
    reference: str | None = None,
    width: float = 3.2,
    warn: bool = False,
):
    """Full images in the first row, then one row of zoomed crops per box.

    ``images``: name -> uint8 image, all the same size (e.g. bicubic | SRResNet | SRGAN | original).
    ``boxes``: crops as (top, left, size); default :func:`pick_boxes` on ``reference`` (default the last
    image, the original). ``scores``: name -> caption such as ``"28.43 dB / 0.8211"``. ``note`` is printed
    under the figure, in dark grey italics (a caveat: "2,000 CPU steps, not the paper's model"), or in bold red
    with ``warn`` (a warning: a VGG loss that was not pretrained).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    names = list(images)
    shapes = {images[n].shape[:2] for n in names}
    if len(shapes) != 1:
        raise ValueError(f"all images must have the same size, got {sorted(shapes)}")
    ref = images[reference or names[-1]]
    boxes = list(boxes) if boxes is not None else pick_boxes(ref)
    colours = ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"]
    h, w = ref.shape[:2]
    rows = 1 + len(boxes)
    fig, axes = plt.subplots(rows, len(names), figsize=(width * len(names), width * (h / w + len(boxes)) + 0.6),
                             squeeze=False, gridspec_kw={"height_ratios": [h / w] + [1] * len(boxes)})
    for c, name in enumerate(names):
        ax = axes[0, c]
        ax.imshow(as_display(images[name]))
        caption = name if not scores or name not in scores else f"{name}\n{scores[name]}"
        ax.set_title(caption, fontsize=10)
        for k, (top, left, size) in enumerate(boxes):
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, lw=1.5,
                                   ec=colours[k % len(colours)]))
        for r, (top, left, size) in enumerate(boxes, start=1):
            crop = images[name][top : top + size, left : left + size]
            axes[r, c].imshow(as_display(crop), interpolation="nearest")
            for side in axes[r, c].spines.values():
                side.set_edgecolor(colours[(r - 1) % len(colours)])
                side.set_linewidth(2)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=12)
    if note:
        # the caveat (what a column is not) must be read at GitHub's width, where the figure shrinks to about 70 %
        # a caveat in dark grey italics; a warning (``warn``: random VGG weights, say) in bold red
        look = ({"fontweight": "bold", "color": WARNING_RED} if warn else {"style": "italic", "color": "#333333"})
        fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=13, wrap=True, **look)
    # tight_layout ignores the suptitle: keep a 0.35-inch band free for it, or it overlaps two-line column titles.
    top = 1 - 0.35 / fig.get_figheight() if title else 1
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight() if note else 0, 1, top))
    return fig


def split_crops_figure(left: np.ndarray, right: np.ndarray, boxes: Sequence[Box], names: tuple[str, str],
                       pad: int = 8, title: str | None = None, width: float = 4.4,
                       labels: Sequence[str] | None = None):
    """Each crop of ``boxes`` split down the middle: the pixels of ``left`` on the left half, those of ``right``
    on the right half, one panel per crop, nearest-neighbour pixels and a thin white line at the split.

    ``labels``: one name per crop for the panel titles (e.g. ``"the headband"``), shown with the crop's
    (top, left); by default the crops are numbered.

    Where two methods meet on one crop, a difference in texture is easier to see than between two panels of
    :func:`comparison_figure` (notebook 05, the paper's Figure 2). Each crop is widened by ``pad`` pixels of
    context on every side (moved inwards where the image ends) and framed in the colour of its box in
    :func:`comparison_figure`. Static, so it renders wherever the notebook is read; the interactive version is
    :func:`srgan_lib.figures.widgets.interactive_comparison`.
    """
    import matplotlib.pyplot as plt

    if left.shape != right.shape:
        raise ValueError(f"split_crops_figure: images differ in size, {left.shape} vs {right.shape}")
    if not boxes:
        raise ValueError("split_crops_figure: no crops")
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"split_crops_figure: {len(labels)} labels for {len(boxes)} crops")
    colours = ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"]
    h, w = left.shape[:2]
    fig, axes = plt.subplots(1, len(boxes), figsize=(width * len(boxes), width + 0.5), squeeze=False,
                             layout="constrained")
    for k, ((top, lft, size), ax) in enumerate(zip(boxes, axes[0])):
        side_h, side_w = min(size + 2 * pad, h), min(size + 2 * pad, w)
        t0, l0 = min(max(0, top - pad), h - side_h), min(max(0, lft - pad), w - side_w)
        crop = left[t0 : t0 + side_h, l0 : l0 + side_w].copy()  # (side_h, side_w, 3)
        cut = side_w // 2
        crop[:, cut:] = right[t0 : t0 + side_h, l0 + cut : l0 + side_w]  # right half from the other image
        ax.imshow(as_display(crop), interpolation="nearest")
        ax.axvline(cut - 0.5, color="white", lw=1.2)
        name = labels[k] if labels is not None else f"crop {k + 1}"
        ax.set_title(f"{name} at ({top}, {lft})", fontsize=10)
        ax.set_xlabel(f"{names[0]}  |  {names[1]}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        for edge in ax.spines.values():
            edge.set_edgecolor(colours[k % len(colours)])
            edge.set_linewidth(2)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_history(history: Sequence[Mapping[str, float]], keys: Sequence[str] = ("loss", "val_psnr"),
                 baselines: Mapping[str, float] | None = None):
    """One panel per key of the engine's history (``loss``, ``val_psnr``, ``d_acc`` ...) against step.

    ``baselines``: horizontal reference lines, e.g. ``{"bicubic": 28.43}`` on the PSNR panel.
    """
    import matplotlib.pyplot as plt

    keys = [k for k in keys if any(k in h for h in history)]
    cols = min(2, max(1, len(keys)))  # two panels a row: legible at GitHub's width
    rows = -(-max(1, len(keys)) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 3.4 * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    for ax, key in zip(axes.flat, keys):
        pts = [(h["step"], h[key]) for h in history if key in h]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 30 else None, label=key)
        ax.set_xlabel("step", fontsize=10)
        ax.set_title(key, fontsize=11)
        ax.tick_params(labelsize=9.5)
        ax.grid(alpha=0.3)
        if key == "loss":
            ax.set_yscale("log")
        if baselines and key.startswith("val_psnr"):
            for (label, value), style in zip(baselines.items(), ("--", ":", "-.", (0, (1, 3)))):
                ax.axhline(value, ls=style, color="grey", label=f"{label}: {value:.2f}")
            ax.legend(fontsize=9.5, loc="best")
    return fig


PAGE_WIDTH = 9.0  # inches: GitHub's notebook column at 100 dpi; a wider figure is shrunk, its labels with it
MIN_POINTS = 10.0  # the smallest text of a figure drawn at PAGE_WIDTH


def fit_width(fig: Figure, height: float, width: float = PAGE_WIDTH, min_points: float = MIN_POINTS) -> Figure:
    """``fig`` resized to ``width`` x ``height`` inches with every text at least ``min_points``, and the labels
    drawn on a dark cell of an image written in white, so that a figure reads at GitHub's width, where a wider
    one is shrunk. Returns ``fig``."""
    from matplotlib.text import Text

    fig.set_size_inches(width, height)
    for text in fig.findobj(Text):
        text.set_fontsize(max(text.get_fontsize(), min_points))
    for ax in fig.axes:
        cells = ax.images[0].get_array() if ax.images else None  # (rows, cols, RGBA): the fill of each cell
        if cells is None or cells.ndim != 3:
            continue
        for text in ax.texts:
            x, y = text.get_position()  # data coordinates: the column and row of the cell the label sits on
            row, col = round(y), round(x)
            if 0 <= row < cells.shape[0] and 0 <= col < cells.shape[1]:
                luma = float(np.asarray(cells[row, col, :3], dtype=np.float64) @ [0.299, 0.587, 0.114])
                text.set_color("white" if luma < 0.42 else "black")
    return fig


def _block_grid(ax, shape: tuple[int, ...], period: int, colour: str, alpha: float) -> None:
    """Thin lines between the ``period x period`` blocks of an image of ``shape`` drawn by ``imshow`` on ``ax``
    (pixel k covers [k - 0.5, k + 0.5]), with no tick marks or labels: the pixel shuffle's blocks (Figure 4)."""
    ax.set_xticks(np.arange(-0.5, shape[1], period), labels=[])
    ax.set_yticks(np.arange(-0.5, shape[0], period), labels=[])
    ax.grid(color=colour, linewidth=0.4, alpha=alpha)
    ax.tick_params(length=0)


def difference_grid_figure(top: Mapping[str, np.ndarray], bottom: Mapping[str, np.ndarray], box: Box | None = None,
                           period: int = 4, title: str | None = None) -> Figure:
    """Difference images in a 2 x 2 grid (notebook 00, section 2): whole-crop maps in the top row, with ``box``
    (top, left, size) drawn on each in yellow, and close-ups in the bottom row with grid lines every ``period``
    pixels, so that a pattern of the pixel shuffle's 4 x 4 blocks (Figure 4) can be checked cell by cell. Each
    mapping is title -> (H, W, 3) image in [0, 1], already amplified by the caller; a missing bottom image leaves
    its panel empty."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if not top or len(top) > 2 or len(bottom) > 2:
        raise ValueError(f"difference_grid_figure: one or two top images and at most two bottom ones, got "
                         f"{len(top)} and {len(bottom)}")
    fig, axes = plt.subplots(2, 2, figsize=(9, 9.4), layout="constrained")
    for ax, (name, img) in zip(axes[0], top.items()):
        ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
        ax.set_title(name, fontsize=10)
        if box is not None:
            b_top, b_left, size = box
            ax.add_patch(Rectangle((b_left - 0.5, b_top - 0.5), size, size, fill=False, edgecolor="yellow", lw=2))
    for ax, (name, img) in zip(axes[1], bottom.items()):
        ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
        ax.set_title(name, fontsize=10)
        _block_grid(ax, img.shape, period, colour="black", alpha=0.4)
    for ax in axes[0].tolist() + axes[1, len(bottom):].tolist():
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def error_map_figure(hr: np.ndarray, candidates: Mapping[str, np.ndarray], box: Box | None = None,
                     vmax: float = 0.25, difference: tuple[str, str] | None = None):
    """Absolute error |SR - HR| (mean over RGB, in [0, 1]) of each candidate, on a shared colour scale.

    The first column is the original (HR) crop, the reference every map is measured against; then one
    column per candidate: its crop above, its error map below. Where a GAN invents texture that is not in
    the original, its error map lights up even though the result looks sharp: the fidelity cost of
    photo-realism. ``difference=(a, b)`` adds a last column: |a - HR| - |b - HR| on a diverging scale (red:
    ``a`` further from the original than ``b`` there, blue: nearer), above it the share of pixels of each sign.
    """
    import matplotlib.pyplot as plt

    def crop(img: np.ndarray) -> np.ndarray:
        img = img.astype(np.float64) / 255.0
        if box is None:
            return img
        top, left, size = box
        return img[top : top + size, left : left + size]

    ref = crop(hr)
    names = list(candidates)
    if difference is not None and not set(difference) <= set(names):
        raise ValueError(f"error_map_figure: difference={difference!r} names a method not among {names}")
    cols = len(names) + 1 + (difference is not None)
    fig, axes = plt.subplots(2, cols, figsize=(min(10.0, 2.5 * cols), 5.6), squeeze=False,
                             layout="constrained")  # each map under its own crop, the colour bar beside
    axes[0, 0].imshow(np.clip(ref, 0, 1), interpolation="nearest")
    axes[0, 0].set_title("original (HR)", fontsize=10)
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, "|SR - HR| below:\nblack = exact,\nbright = wrong", ha="center", va="center",
                    fontsize=9, transform=axes[1, 0].transAxes)
    im = None
    for c, name in enumerate(names, start=1):
        img = crop(candidates[name])
        err = np.abs(img - ref).mean(axis=2)
        axes[0, c].imshow(np.clip(img, 0, 1), interpolation="nearest")
        axes[0, c].set_title(name, fontsize=10)
        im = axes[1, c].imshow(err, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[1, c].set_title(f"{name}: |error|\nmean {err.mean():.3f}", fontsize=9.5)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if im is not None and difference is None:
        fig.colorbar(im, ax=axes[:, -1].tolist(), shrink=0.6, label="mean |SR - HR| over RGB")
    elif im is not None:  # under the maps, so that the difference column keeps its room
        fig.colorbar(im, ax=axes[1, 1:-1].tolist(), orientation="horizontal", shrink=0.8,
                     label="mean |SR - HR| over RGB")
    if difference is not None:
        a, b = difference
        diff = (np.abs(crop(candidates[a]) - ref) - np.abs(crop(candidates[b]) - ref)).mean(axis=2)
        worse, better = float((diff > 0.01).mean()), float((diff < -0.01).mean())
        axes[0, -1].axis("off")
        axes[0, -1].text(0.5, 0.5, f"{a}\nminus {b}:\nfurther from HR on\n{worse:.0%} of pixels,\n"
                         f"nearer on {better:.0%}\n(beyond 0.01)", ha="center", va="center", fontsize=9,
                         transform=axes[0, -1].transAxes)
        dim = axes[1, -1].imshow(diff, cmap="RdBu_r", vmin=-vmax / 2, vmax=vmax / 2, interpolation="nearest")
        axes[1, -1].set_title("change of |error|", fontsize=9.5)
        fig.colorbar(dim, ax=axes[1, -1], orientation="horizontal", label="red: further, blue: nearer")
    return fig


# ------------------------------------------------------------------------------------------------
# The perception-distortion trade-off (Blau and Michaeli, CVPR 2018; the paper's Table 1 vs MOS)
# ------------------------------------------------------------------------------------------------

def perception_distortion_figure(points: Sequence[Mapping], perceptual_label: str = "high-frequency energy ratio",
                                 target: float | None = 1.0, note: str | None = None, log: bool = True,
                                 colours: Mapping[str, str] | None = None):
    """PSNR (distortion, x) against a perceptual measure (y) for labelled points.

    ``points``: dicts with ``label``, ``psnr``, ``perceptual`` and optionally ``group`` (points of one
    group, such as the checkpoints of one run, are joined by a line in order). ``target``: the value of the
    original image on the perceptual axis (a dashed line). ``log``: a logarithmic perceptual axis, so that
    methods at a few hundredths and the original at 1 are all readable. The labels are placed by
    :func:`place_labels` (no label on another, on a point or outside the axes; a thin leader line where a
    label had to move away from its point); a legend outside the axes names the joined groups only, since a
    single point carries its own label. ``colours``: group (or label) -> colour, for a method to keep one colour in
    every figure (:func:`~srgan_lib.figures.result_figures.method_colours`).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    groups: dict[str, list[Mapping]] = {}
    for p in points:
        groups.setdefault(p.get("group") or p["label"], []).append(p)
    series = []  # the joined runs: their points are labelled by step, so the legend names the run
    for g, pts in groups.items():  # ``colours``: group -> colour, so that a method keeps its colour across figures
        line, = ax.plot([p["psnr"] for p in pts], [p["perceptual"] for p in pts], marker="o",
                        ls="-" if len(pts) > 1 else "none", label=g,
                        **({"color": colours[g]} if g in (colours or {}) else {}))
        if len(pts) > 1:
            series.append(line)
    if target is not None:
        ax.axhline(target, ls="--", color="grey")
    if log:
        ax.set_yscale("log")
    xs = [p["psnr"] for p in points]
    if xs:
        pad = max(0.25, 0.08 * (max(xs) - min(xs)))
        ax.set_xlim(min(xs) - pad, max(xs) + 3 * pad)  # room on the right for labels
    ax.autoscale_view()
    ax.margins(y=0.12)
    obstacles = []
    if target is not None:
        obstacles.append(ax.annotate("original", (ax.get_xlim()[0], target), xytext=(4, 2), textcoords="offset points",
                                     fontsize=8, va="bottom"))
    ax.set_xlabel("PSNR (dB), higher = less distortion")
    ax.set_ylabel(perceptual_label + (" (log scale)" if log else ""))
    ax.grid(alpha=0.3, which="both")
    if series:  # a single point carries its own label: only the runs need a legend
        ax.legend(handles=series, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if note:
        ax.set_title(note, fontsize=9)
    fig.tight_layout()  # before the labels: they are placed in the final pixel coordinates
    paths = [[(p["psnr"], p["perceptual"]) for p in pts] for pts in groups.values() if len(pts) > 1]
    if target is not None:  # the originals' dashed line: a label on it is struck through
        paths.append([(ax.get_xlim()[0], target), (ax.get_xlim()[1], target)])
    place_labels(ax, [(p["label"], p["psnr"], p["perceptual"]) for p in points], paths=paths, avoid=obstacles)
    return fig


_DIRECTIONS = [(1, 0), (1, 1), (1, -1), (-1, 0), (-1, 1), (-1, -1), (0, 1), (0, -1)]  # right first


def place_labels(ax, labels: Sequence[tuple[str, float, float]], paths: Sequence[Sequence[tuple[float, float]]] = (),
                 avoid: Sequence = (), fontsize: float = 7.5, radii: Sequence[float] = (7, 14, 24, 36, 50)) -> list:
    """Annotate points ``(text, x, y)`` (data coordinates) of ``ax`` so that no label covers another label, a
    point, an artist of ``avoid`` (texts already drawn) or leaves the axes, and labels stay off the lines
    ``paths`` (lists of data points) where they can.

    Each label tries eight directions around its point (right first) at growing distances ``radii`` (points)
    and takes the nearest place with the least overlap; beyond the first distance a thin leader line joins it
    to its point. Call it after the figure's layout is final (``tight_layout``): places are measured in
    pixels. Returns the annotations, in the order of ``labels``.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72
    frame = ax.get_window_extent(renderer)
    xy = ax.transData.transform(np.array([(x, y) for _, x, y in labels], dtype=float).reshape(-1, 2))  # (n, 2) px
    r = 4.0 * px_per_pt  # a marker (6 pt across) and a little air
    hard = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in xy]
    hard += [a.get_window_extent(renderer) for a in avoid]
    soft = []  # the lines joining a run's points: sampled every few pixels
    for path in paths:
        line = ax.transData.transform(np.asarray(path, dtype=float))  # (m, 2) px
        for a, b in zip(line[:-1], line[1:]):
            for t in np.linspace(0, 1, max(2, int(np.hypot(*(b - a)) // 4) + 1)):
                q = a + t * (b - a)
                soft.append(Bbox.from_extents(q[0] - 1, q[1] - 1, q[0] + 1, q[1] + 1))

    def overlap(box, others) -> float:
        total = 0.0
        for o in others:
            w = min(box.x1, o.x1) - max(box.x0, o.x0)
            h = min(box.y1, o.y1) - max(box.y0, o.y0)
            if w > 0 and h > 0:
                total += w * h
        return total

    def outside(box) -> float:
        inner = Bbox.intersection(box, frame)
        return box.width * box.height - (inner.width * inner.height if inner is not None else 0.0)

    placed, notes = [], []
    for (text, x, y), (px, py) in zip(labels, xy):
        probe = ax.text(0, 0, text, fontsize=fontsize)
        size = probe.get_window_extent(renderer)
        probe.remove()
        w, h = size.width + 2, size.height + 1
        best = None
        for rank, radius in enumerate(radii):
            for dx, dy in _DIRECTIONS:
                norm = np.hypot(dx, dy)
                ox, oy = radius * dx / norm, radius * dy / norm  # points
                ax_, ay_ = px + ox * px_per_pt, py + oy * px_per_pt  # the text's anchor, px
                x0 = ax_ if dx > 0 else (ax_ - w if dx < 0 else ax_ - w / 2)
                y0 = ay_ if dy > 0 else (ay_ - h if dy < 0 else ay_ - h / 2)
                box = Bbox.from_bounds(x0, y0, w, h)
                cost = (overlap(box, hard + placed) + outside(box)) * 100 + overlap(box, soft) + rank * 5
                if best is None or cost < best[0]:
                    best = (cost, box, (ox, oy), dx, dy, rank)
        _, box, offset, dx, dy, rank = best
        arrow = {"arrowstyle": "-", "lw": 0.5, "color": "0.45", "shrinkA": 1, "shrinkB": 3} if rank else None
        notes.append(ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", fontsize=fontsize,
                                 ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                                 va="bottom" if dy > 0 else ("top" if dy < 0 else "center"), arrowprops=arrow))
        placed.append(box)
    return notes


def model_card_figure(history: Sequence[Mapping], curve: Sequence[Mapping], bicubic: float,
                      metric: str = "set5_psnr_standard", metric_title: str = "Set5 PSNR-Y (standard flavour)") -> Figure:
    """A shipped model's training record, from its model card: the logged loss against step (left, log scale)
    and the score of its saved snapshots against the bicubic baseline (right).

    Notebook 02, section 3: the pixel MSE of equation 4, trained as in section 3.2, scored as in Table 2.
    ``history``: the card's log; entries with ``step`` and ``loss`` are plotted, others skipped. ``curve``:
    snapshots with ``step``, ``metric`` and optionally ``bn``: ``"running statistics"`` (the default; joined by
    a line) or ``"recalibrated"`` (batch-norm statistics recomputed for the weights; stars).
    """
    import matplotlib.pyplot as plt

    losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
    if not losses:
        raise ValueError("model_card_figure: the history has no entry with a loss")
    if not curve:
        raise ValueError("model_card_figure: the curve has no snapshot")
    kinds = {"running statistics": {"marker": "o", "ms": 4}, "recalibrated": {"marker": "*", "ms": 12, "ls": ""}}
    for c in curve:
        if c.get("bn", "running statistics") not in kinds:
            raise ValueError(f"model_card_figure: snapshot at step {c.get('step')} has bn={c['bn']!r}; "
                             f"expected one of {list(kinds)}")
        if metric not in c:
            raise ValueError(f"model_card_figure: snapshot at step {c.get('step')} has no {metric!r}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    axes[0].plot([s for s, _ in losses], [v for _, v in losses])
    axes[0].set_yscale("log")
    axes[0].set_title("training loss (MSE on [-1, 1])")
    axes[0].set_xlabel("step")
    axes[0].grid(alpha=0.3, which="both")
    for kind, style in kinds.items():
        pts = [c for c in curve if c.get("bn", "running statistics") == kind]
        if pts:
            axes[1].plot([c["step"] for c in pts], [c[metric] for c in pts], label=f"snapshot, BN {kind}", **style)
    axes[1].axhline(bicubic, ls="--", color="grey", label="bicubic")
    axes[1].set_title(metric_title)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("dB")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    return fig


def baseline_gap_figure(rows: Sequence[Mapping], datasets: Sequence[str], methods: Mapping[str, str],
                        reference: str = "bicubic", reference_label: str | None = None) -> Figure:
    """How far the baseline numbers move with the protocol (the paper's section 3.1 and Table 2).

    Notebook 02, section 4. Left: the PSNR of each of ``methods`` minus the ``reference`` method's, both in the
    paper flavour, one group of bars per dataset. Right: the ``reference`` method's SSIM in the paper flavour
    minus the standard flavour. Every bar is labelled with its value. ``rows``: rows of
    :func:`srgan_lib.plumbing.evaluate.table2` (``method``, ``dataset``, ``flavour``, ``psnr``, ``ssim``); ``methods``:
    method -> legend label; ``reference_label`` names the reference in the labels (default ``reference``). A
    missing row raises ValueError naming it.
    """
    import matplotlib.pyplot as plt

    if not datasets or not methods:
        raise ValueError("baseline_gap_figure: needs at least one dataset and one method")
    by = {(r["method"], r["dataset"], r["flavour"]): r for r in rows}
    ref_name = reference_label or reference

    def row(method: str, dataset: str, flavour: str) -> Mapping:
        try:
            return by[(method, dataset, flavour)]
        except KeyError:
            raise ValueError(f"baseline_gap_figure: no row for method {method!r}, dataset {dataset!r}, "
                             f"flavour {flavour!r}") from None

    x = np.arange(len(datasets))
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for i, (m, name) in enumerate(methods.items()):
        gaps = [row(m, d, "paper")["psnr"] - row(reference, d, "paper")["psnr"] for d in datasets]
        bars = axes[0].bar(x + i * width, gaps, width, label=name)
        axes[0].bar_label(bars, fmt="%+.2f", fontsize=7, padding=2)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set_xticks(x + width * (len(methods) - 1) / 2, list(datasets))
    axes[0].set_ylabel(f"PSNR - {ref_name} [dB]")
    axes[0].set_title(f"what a different {ref_name} moves (paper flavour)")
    axes[0].margins(y=0.15)
    axes[0].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1)
    gap = [row(reference, d, "paper")["ssim"] - row(reference, d, "standard")["ssim"] for d in datasets]
    bars = axes[1].bar(list(datasets), gap, color="tab:purple")
    axes[1].bar_label(bars, fmt="%+.3f", fontsize=8, padding=2)
    axes[1].axhline(0, color="black", lw=0.8)
    axes[1].set_ylabel("SSIM difference")
    axes[1].set_title(f"SSIM of the same {ref_name} images:\npaper flavour minus standard flavour")
    axes[1].margins(y=0.15)
    return fig


def image_row_figure(images: Mapping[str, np.ndarray], title: str | None = None, width: float = 2.6,
                     grid: int | None = None) -> Figure:
    """Images in one row, each with its title, nearest-neighbour pixels, in their own sizes (a small LR image
    fills its panel like the large ones); uint8, [0, 1] floats (clipped) or (H, W) grey in [0, 1].

    Notebook 02, section 7: the paper's Figure 3 argument (section 1), several sharp candidates with one LR
    image and their pixel-wise mean. ``grid``: faint lines every ``grid`` pixels, so that a pattern of the pixel
    shuffle's blocks (4 x 4 at x4, Figure 4) can be checked block by block (notebook 01, section 4).
    """
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("image_row_figure: no images")
    if grid is not None and grid < 1:
        raise ValueError(f"image_row_figure: grid must be a positive number of pixels, got {grid}")
    for name, img in images.items():
        if img.ndim not in (2, 3):
            raise ValueError(f"image_row_figure: {name!r} must be (H, W) or (H, W, C), got shape {img.shape}")
    fig, axes = plt.subplots(1, len(images), figsize=(width * len(images), width + 0.7), layout="constrained",
                             squeeze=False)
    for ax, (name, img) in zip(axes[0], images.items()):
        grey = {"cmap": "gray", "vmin": 0, "vmax": 255 if img.dtype == np.uint8 else 1} if img.ndim == 2 else {}
        ax.imshow(as_display(img), interpolation="nearest", **grey)
        ax.set_title(name, fontsize=9)
        if grid:
            _block_grid(ax, img.shape, grid, colour="white", alpha=0.35)
            for spine in ax.spines.values():
                spine.set_visible(False)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def _score_text(score: float, score_format: str) -> str:
    """``score`` formatted, with no sign on a value that rounds to zero: ``-0.04`` as ``"+.1f"`` reads ``0.0``."""
    text = format(score, score_format)
    zero = format(0.0, score_format).lstrip("+-")
    return zero if text.lstrip("+-") == zero else text


def patch_pairs_figure(patches: Mapping[str, np.ndarray], scores: Mapping[str, Sequence[float]],
                       captions: Sequence[str] | None = None, title: str | None = None,
                       score_name: str = "D", score_format: str = ".3f", width: float = 1.45) -> Figure:
    """The same crops in every version side by side, one row per version, each patch titled with its score.

    Notebook 04, section 4: held-out crops as the real HR patch and as each upscaler's version, under the
    discriminator's probability "real" (Figure 4's D, section 2.2.2). A ranking mixes crops of different content;
    here each column is one crop, so a difference down a column can only come from how the patch was made.

    ``patches``: version name -> ``(K, H, W, 3)`` patches (uint8, or floats in [0, 1]), the same ``K`` crops in
    the same order for every version; ``scores``: version name -> ``K`` numbers, shown as
    ``f"{score_name} = {score:{score_format}}"`` (a probability ``D = 0.123``, or a logit with ``"+.1f"``: the
    sigmoid rounds a confident D to 0.000 or 1.000, and the logit keeps the difference);
    ``captions``: ``K`` column headings (above the first row), optional.
    """
    import matplotlib.pyplot as plt

    if not patches:
        raise ValueError("patch_pairs_figure: no patches")
    if set(scores) != set(patches):
        raise ValueError(f"patch_pairs_figure: scores for {sorted(scores)} but patches for {sorted(patches)}")
    arrays = {name: np.asarray(p) for name, p in patches.items()}
    k = len(next(iter(arrays.values())))
    for name, p in arrays.items():
        if p.ndim != 4 or p.shape[-1] != 3:
            raise ValueError(f"patch_pairs_figure: {name!r} patches must be (K, H, W, 3), got {p.shape}")
        if len(p) != k or len(scores[name]) != k:
            raise ValueError(f"patch_pairs_figure: {name!r} has {len(p)} patches and {len(scores[name])} "
                             f"scores; every version needs {k} of each")
    if captions is not None and len(captions) != k:
        raise ValueError(f"patch_pairs_figure: {len(captions)} captions for {k} crops")
    rows = len(arrays)
    fig, axes = plt.subplots(rows, k, figsize=(width * k + 0.8, (width + 0.45) * rows + 0.5),
                             squeeze=False, layout="constrained")
    for r, (name, p) in enumerate(arrays.items()):
        for c in range(k):
            ax = axes[r, c]
            ax.imshow(as_display(p[c]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            head = f"{captions[c]}\n" if captions is not None and r == 0 else ""
            ax.set_title(f"{head}{score_name} = {_score_text(float(scores[name][c]), score_format)}", fontsize=9)
        axes[r, 0].set_ylabel(name, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _ratio_text(ratio: float) -> str:
    """A ratio adversarial / content as the bar labels write it: two decimals where they read well, else 3 digits."""
    return f"{ratio:.2f}" if 0.1 <= ratio < 100 else f"{ratio:.3g}"


def gradient_balance_figure(shares: Mapping[str, Mapping[str, float]], weight_label: str = "10⁻³",
                            content_label: str = "content (pixel MSE)",
                            title: str | None = None, *, log: bool = False, note: str | None = None,
                            warn: bool = False) -> Figure:
    """How hard each term of equation 3 pulls on the SR image, for one or more batches: two bars per batch.

    Notebook 03, section 3 (one batch under three content losses, ``log=True``), notebook 04, section 5 and
    notebook 05, section 2. ``shares``: row name (a batch, or a content loss) ->
    :func:`srgan_lib.losses.gradient_shares`'s dict (``content``, ``adversarial``: L2 norms of each term's
    gradient with respect to the SR pixels, the adversarial one already weighted by ``weight_label``). Each pair
    of bars is labelled with its values and the row's ratio adversarial / content.

    ``log``: a log axis, for norms that differ by orders of magnitude (every norm must then be positive).
    ``note``: a line under ``title`` (say which VGG weights made the content norms), in red when ``warn``.
    8 inches wide (GitHub's 900 px at 100 dpi).
    """
    import matplotlib.pyplot as plt

    if not shares:
        raise ValueError("gradient_balance_figure: no batches")
    for name, s in shares.items():
        missing = {"content", "adversarial"} - set(s)
        if missing:
            raise ValueError(f"gradient_balance_figure: {name!r} lacks {sorted(missing)}")
        if log and not (float(s["content"]) > 0 and float(s["adversarial"]) > 0):
            raise ValueError(f"gradient_balance_figure: {name!r} needs positive 'content' and 'adversarial' "
                             f"norms on a log axis, got {dict(s)}")
    names = list(shares)
    heading_lines = sum(1 for t in (title, note) if t)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.95 * len(names) + 0.25 * heading_lines), layout="constrained")
    y = np.arange(len(names), dtype=float)
    height = 0.36
    content = [float(shares[n]["content"]) for n in names]
    adversarial = [float(shares[n]["adversarial"]) for n in names]
    bars_c = ax.barh(y - height / 2, content, height, color="tab:blue", label=content_label)
    bars_a = ax.barh(y + height / 2, adversarial, height, color="tab:red",
                     label=f"adversarial ({weight_label} × l_Gen)")
    ax.bar_label(bars_c, fmt="%.2e", padding=3, fontsize=9)
    ax.bar_label(bars_a, fmt="%.2e", padding=3, fontsize=9)
    ratios = [a / c if c > 0 else np.inf for a, c in zip(adversarial, content)]
    ax.set_yticks(y, [f"{n}\nadversarial / content = {_ratio_text(r)}" for n, r in zip(names, ratios)],
                  fontsize=9)
    ax.invert_yaxis()
    xlabel = "norm of the term's gradient with respect to the SR pixels (whole batch)"
    if log:
        ax.set_xscale("log")
        values = content + adversarial
        ax.set_xlim(min(values) / 3, max(values) * 40)  # room for the value labels right of the bars
        xlabel += ", log scale"
    else:
        ax.set_xlim(0, 1.3 * max(content + adversarial))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    ax.set_xlabel(xlabel)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    if title and note:
        fig.suptitle(title, fontsize=10)
    if title or note:
        ax.set_title(note if note else title, fontsize=10 if not note else 9,
                     color=WARNING_RED if note and warn else "black")
    return fig
