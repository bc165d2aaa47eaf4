"""Figures: side-by-side comparisons with zoomed crops (the paper's Figures 2 and 6), training curves.

All functions take uint8 ``(H, W, 3)`` images (or [0, 1] floats) and return a matplotlib ``Figure``;
they never call ``plt.show()`` themselves, so notebooks and the command line decide what to do with it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

Box = tuple[int, int, int]  # (top, left, size) in HR pixels


def pick_boxes(hr: np.ndarray, n: int = 2, size: int = 48) -> list[Box]:
    """``n`` non-overlapping ``size x size`` windows with the most texture (local variance of luma).

    Fine texture is where SR methods differ most: MSE blurs it, a GAN re-invents it.
    """
    from scipy.ndimage import uniform_filter

    y = hr[..., :3].astype(np.float64).mean(axis=2) if hr.ndim == 3 else hr.astype(np.float64)
    h, w = y.shape
    size = min(size, h, w)
    var = uniform_filter(y * y, size) - uniform_filter(y, size) ** 2  # local variance, window centred
    half = size // 2
    var[:half, :] = var[h - size + half + 1 :, :] = -1  # keep windows inside the image
    var[:, :half] = var[:, w - size + half + 1 :] = -1
    boxes: list[Box] = []
    for _ in range(n):
        cy, cx = np.unravel_index(int(np.argmax(var)), var.shape)
        if var[cy, cx] < 0:
            break
        top, left = int(cy) - half, int(cx) - half
        boxes.append((top, left, size))
        var[max(0, top - half) : top + size + half, max(0, left - half) : left + size + half] = -1
    return boxes


def _as_display(img: np.ndarray) -> np.ndarray:
    return img if img.dtype == np.uint8 else np.clip(img, 0, 1)


def comparison_figure(
    images: Mapping[str, np.ndarray],
    boxes: Sequence[Box] | None = None,
    scores: Mapping[str, str] | None = None,
    title: str | None = None,
    note: str | None = None,
    reference: str | None = None,
    width: float = 3.2,
):
    """Full images in the first row, then one row of zoomed crops per box.

    ``images``: name -> uint8 image, all the same size (e.g. bicubic | SRResNet | SRGAN | original).
    ``boxes``: crops as (top, left, size); default :func:`pick_boxes` on ``reference`` (default the last
    image, the original). ``scores``: name -> caption such as ``"28.43 dB / 0.8211"``. ``note`` is printed
    under the figure (use it to say, for example, that VGG was not pretrained).
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
        ax.imshow(_as_display(images[name]))
        caption = name if not scores or name not in scores else f"{name}\n{scores[name]}"
        ax.set_title(caption, fontsize=10)
        for k, (top, left, size) in enumerate(boxes):
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, lw=1.5,
                                   ec=colours[k % len(colours)]))
        for r, (top, left, size) in enumerate(boxes, start=1):
            crop = images[name][top : top + size, left : left + size]
            axes[r, c].imshow(_as_display(crop), interpolation="nearest")
            for side in axes[r, c].spines.values():
                side.set_edgecolor(colours[(r - 1) % len(colours)])
                side.set_linewidth(2)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=12)
    if note:
        fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=9, color="#b00020", wrap=True)
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    return fig


def plot_history(history: Sequence[Mapping[str, float]], keys: Sequence[str] = ("loss", "val_psnr"),
                 baselines: Mapping[str, float] | None = None):
    """One panel per key of the engine's history (``loss``, ``val_psnr``, ``d_acc`` ...) against step.

    ``baselines``: horizontal reference lines, e.g. ``{"bicubic": 28.43}`` on the PSNR panel.
    """
    import matplotlib.pyplot as plt

    keys = [k for k in keys if any(k in h for h in history)]
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.5 * max(1, len(keys)), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(h["step"], h[key]) for h in history if key in h]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 30 else None)
        ax.set_xlabel("step")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if key == "loss":
            ax.set_yscale("log")
        if baselines and key.startswith("val_psnr"):
            for label, value in baselines.items():
                ax.axhline(value, ls="--", color="grey")
                ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, va="bottom")
    fig.tight_layout()
    return fig


def error_map_figure(hr: np.ndarray, candidates: Mapping[str, np.ndarray], box: Box | None = None,
                     vmax: float = 0.25):
    """Absolute error |SR - HR| (mean over RGB, in [0, 1]) of each candidate, on a shared colour scale.

    Where a GAN invents texture that is not in the original, its error map lights up even though the
    result looks sharp: the fidelity cost of photo-realism.
    """
    import matplotlib.pyplot as plt

    ref = hr.astype(np.float64) / 255.0
    if box is not None:
        top, left, size = box
        ref = ref[top : top + size, left : left + size]
    names = list(candidates)
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 6.6), squeeze=False)
    im = None
    for c, name in enumerate(names):
        img = candidates[name].astype(np.float64) / 255.0
        if box is not None:
            img = img[top : top + size, left : left + size]
        err = np.abs(img - ref).mean(axis=2)
        axes[0, c].imshow(np.clip(img, 0, 1), interpolation="nearest")
        axes[0, c].set_title(name, fontsize=10)
        im = axes[1, c].imshow(err, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[1, c].set_title(f"|error|, mean {err.mean():.3f}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if im is not None:
        fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.8, label="mean |SR - HR| over RGB")
    return fig
