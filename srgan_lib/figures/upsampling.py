"""Figures of notebooks 01 and 02: the sub-pixel convolution of the generator (section 2.1, Figure 4, after
ESPCN), its checkerboard and ICNR, a tiny ESPCN's training against bicubic, and SRResNet's learned PReLU slopes.

Each function draws one figure from numbers the notebook computed (the computation is the lesson and stays in
the notebook), checks its input, and returns the Figure without showing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from .viz import Box, as_display, fit_width

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _grid_colours(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours: matplotlib's tab10 cycle, or samples of a hue circle beyond ten."""
    import matplotlib.pyplot as plt

    return plt.colormaps["tab10"](np.arange(n)) if n <= 10 else plt.colormaps["hsv"](np.arange(n) / n)


def _check_window(box: Box, h: int, w: int, what: str) -> None:
    top, left, size = box
    if size < 1 or top < 0 or left < 0 or top + size > h or left + size > w:
        raise ValueError(f"{what}: the window (top={top}, left={left}, size={size}) is not inside the "
                         f"{h} x {w} image")


def upsampling_cost_figure(layers: Mapping[str, tuple[int, int]], networks: Mapping[str, int],
                           layers_title: str = "one upsampling layer",
                           networks_title: str = "the whole network") -> Figure:
    """What upsampling costs, in floating-point operations: single layers (left) and whole networks (right).

    Notebook 01, section 3: the sub-pixel convolution of the paper's section 2.1 and Figure 4 (after ESPCN)
    costs what a resize-convolution or a transposed convolution costs, and a network that upsamples last runs
    its body on r^2 times fewer pixels. ``layers``: label -> (parameters, FLOPs) of one layer; each bar is its
    MFLOPs, labelled with its parameters in thousands. ``networks``: label -> FLOPs of one forward pass; each
    bar is its GFLOPs, labelled with its value and, after the first, its ratio to the first.
    """
    import matplotlib.pyplot as plt

    if not layers or not networks:
        raise ValueError("upsampling_cost_figure: needs at least one layer and one network")
    for label, (params, flops) in layers.items():
        if params < 0 or flops < 0:
            raise ValueError(f"upsampling_cost_figure: layer {label!r} has a negative count ({params}, {flops})")
    if min(networks.values()) <= 0:
        raise ValueError(f"upsampling_cost_figure: network FLOPs must be positive, got {dict(networks)}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    names = list(layers)
    bars = ax1.bar(names, [layers[n][1] / 1e6 for n in names], color=[f"C{i % 10}" for i in range(len(names))])
    ax1.bar_label(bars, [f"{layers[n][0] / 1e3:.0f}k params" for n in names], fontsize=9, padding=2)
    ax1.set_ylabel("MFLOPs per call")
    ax1.set_title(layers_title)
    ax1.margins(y=0.15)
    nets = list(networks)
    first = networks[nets[0]]
    palette = ["C0", "C3", "C1", "C2", "C4", "C5", "C6", "C7", "C8", "C9"]
    bars = ax2.bar(nets, [networks[n] / 1e9 for n in nets], color=[palette[i % 10] for i in range(len(nets))])
    ax2.bar_label(bars, [f"{networks[n] / 1e9:.2f}" + ("" if i == 0 else f" ({networks[n] / first:.1f}x)")
                         for i, n in enumerate(nets)], fontsize=9, padding=2)
    ax2.set_ylabel("GFLOPs per call")
    ax2.set_title(networks_title)
    ax2.margins(y=0.15)
    return fig


def subkernel_interleave_figure(sub_kernels: np.ndarray, kernel: np.ndarray, title: str | None = None) -> Figure:
    """The r^2 k x k kernels of a sub-pixel convolution beside the rk x rk kernel of the transposed convolution
    that equals it, every weight printed and coloured by the sub-kernel it comes from.

    Notebook 01, section 3: Figure 4's sub-pixel blocks (section 2.1) are transposed convolutions (Shi et al.,
    arXiv:1609.07009). ``sub_kernels``: (r^2, k, k), sub-kernel i r + j paints sub-position (i, j) of every
    r x r block; ``kernel``: (r k, r k). The weights must be distinct (number them 1, 2, ...): each weight of
    ``kernel`` is traced, by value, to the one sub-kernel that holds it, and a weight held by none raises
    ValueError.
    """
    import matplotlib.pyplot as plt

    sub = np.asarray(sub_kernels, dtype=np.float64)
    big = np.asarray(kernel, dtype=np.float64)
    if sub.ndim != 3 or sub.shape[1] != sub.shape[2]:
        raise ValueError(f"subkernel_interleave_figure: sub_kernels must be (r^2, k, k), got shape {sub.shape}")
    n, k = sub.shape[0], sub.shape[1]
    r = int(round(n ** 0.5))
    if r * r != n:
        raise ValueError(f"subkernel_interleave_figure: {n} sub-kernels is not a square number r^2")
    if big.shape != (r * k, r * k):
        raise ValueError(f"subkernel_interleave_figure: kernel must be ({r * k}, {r * k}) for {n} sub-kernels "
                         f"of {k} x {k}, got {big.shape}")
    if np.unique(sub).size != sub.size:
        raise ValueError("subkernel_interleave_figure: the sub-kernels' weights must be distinct, so that each "
                         "weight of the large kernel can be traced to its sub-kernel")
    holder = {float(v): s for s in range(n) for v in sub[s].ravel()}
    source = np.empty(big.shape, dtype=int)  # (r k, r k): the sub-kernel each weight came from
    for (u, v), value in np.ndenumerate(big):
        if float(value) not in holder:
            raise ValueError(f"subkernel_interleave_figure: kernel weight {value:g} at ({u}, {v}) is in no sub-kernel")
        source[u, v] = holder[float(value)]
    colours = _grid_colours(n)
    fig, axes = plt.subplots(1, n + 1, figsize=(2.2 * (n + r), 3), layout="constrained",
                             gridspec_kw={"width_ratios": [1] * n + [r]})
    for s, ax in enumerate(axes[:n]):
        ax.imshow(np.broadcast_to(colours[s], (k, k, 4)))
        for (a, b), value in np.ndenumerate(sub[s]):
            ax.text(b, a, f"{value:g}", ha="center", va="center")
        ax.set_title(f"sub-kernel {s}\n(i={s // r}, j={s % r})", fontsize=9)  # two lines: a narrow panel
    axes[n].imshow(colours[source])
    for (u, v), value in np.ndenumerate(big):
        axes[n].text(v, u, f"{value:g}", ha="center", va="center")
    axes[n].set_title(f"the transposed conv's {r * k}x{r * k} kernel", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fit_width(fig, height=3.8)


def checkerboard_figure(panels: Mapping[str, np.ndarray], zoom: Box, zoom_title: str = "zoom") -> Figure:
    """Images in grey side by side (top row), each stretched to its own full grey range, and one window of each
    enlarged with nearest-neighbour pixels (bottom row), where a pattern of period r shows pixel by pixel.

    Notebook 01, section 4: the checkerboard of a fresh sub-pixel convolution and its removal by ICNR
    (Aitken et al. 2017), for the upsampling blocks of the paper's Figure 4. ``panels``: title -> (H, W) or
    (H, W, C) array (the mean over C is shown). ``zoom``: (top, left, size) in the pixels of the largest panel;
    a panel s times smaller (the LR input) shows the window divided by s, the same part of the picture.
    """
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("checkerboard_figure: no panels")
    grey = {}
    for name, img in panels.items():
        g = np.asarray(img, dtype=np.float64)
        if g.ndim == 3:
            g = g.mean(axis=2)
        if g.ndim != 2:
            raise ValueError(f"checkerboard_figure: panel {name!r} must be (H, W) or (H, W, C), got {np.shape(img)}")
        span = g.max() - g.min()
        grey[name] = (g - g.min()) / span if span > 0 else np.zeros_like(g)
    big_h, big_w = max(g.shape[0] for g in grey.values()), max(g.shape[1] for g in grey.values())
    _check_window(zoom, big_h, big_w, "checkerboard_figure")
    top, left, size = zoom
    fig, axes = plt.subplots(2, len(grey), figsize=(3.5 * len(grey), 7), layout="constrained", squeeze=False)
    for col, (name, g) in enumerate(grey.items()):
        s = big_h // g.shape[0]
        if s * g.shape[0] != big_h or s * g.shape[1] != big_w or top % s or left % s or size % s:
            raise ValueError(f"checkerboard_figure: panel {name!r} of {g.shape[0]} x {g.shape[1]} is not the "
                             f"{big_h} x {big_w} grid shrunk by an integer factor that divides the window {zoom}")
        axes[0, col].imshow(g, cmap="gray", vmin=0, vmax=1)
        axes[0, col].set_title(name, fontsize=10)
        axes[1, col].imshow(g[top // s : (top + size) // s, left // s : (left + size) // s], cmap="gray",
                            vmin=0, vmax=1, interpolation="nearest")
        axes[1, col].set_title(zoom_title, fontsize=10)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return fit_width(fig, height=6)


def training_progress_figure(steps: Sequence[int], psnr: Sequence[float], baselines: Mapping[str, float],
                             images: Mapping[str, np.ndarray], box: Box | None = None, label: str = "network",
                             ylabel: str = "PSNR [dB]", images_title: str | None = None) -> Figure:
    """Held-out PSNR against training step with the baselines as horizontal lines (left), beside crops of the
    results, two per row (three from five crops on, so that they fill the width) (right).

    Notebook 01, section 5: ESPCN trained with the pixel MSE of section 3.2, against the bicubic and
    nearest-neighbour baselines of the paper's Table 2. The PSNR axis spans the baselines and every point but
    the first, with 1 dB to spare: the first point, an untrained network, may lie far below, and a point under
    the axis is drawn on its bottom edge as a triangle labelled with its value. ``images``: title -> uint8 or
    [0, 1] float (H, W, 3), all the same size; ``box``: (top, left, size), the crop shown of each (default the
    whole image).
    """
    import matplotlib.pyplot as plt

    steps, psnr = list(steps), [float(p) for p in psnr]
    if not psnr or len(steps) != len(psnr):
        raise ValueError(f"training_progress_figure: {len(steps)} steps and {len(psnr)} PSNR values; need as "
                         "many of each, at least one")
    if not images:
        raise ValueError("training_progress_figure: no images")
    shapes = {img.shape[:2] for img in images.values()}
    if len(shapes) != 1:
        raise ValueError(f"training_progress_figure: all images must have the same size, got {sorted(shapes)}")
    h, w = shapes.pop()
    top, left, size = box if box is not None else (0, 0, 0)
    if box is not None:
        _check_window(box, h, w, "training_progress_figure")
    fig = plt.figure(figsize=(12, 6.8), layout="constrained")
    left_fig, right_fig = fig.subfigures(1, 2, width_ratios=[1, 2.2])
    ax = left_fig.subplots()
    ax.plot(steps, psnr, "o-", label=label)
    styles = ["--", ":", "-.", (0, (5, 1))]
    for i, (name, value) in enumerate(baselines.items()):
        ax.axhline(value, color=f"C{i + 1}", ls=styles[i % len(styles)], label=name)
    kept = [*baselines.values(), *(psnr[1:] or psnr)]
    bottom, top_y = min(kept) - 1, max([*baselines.values(), *psnr]) + 1
    ax.set_ylim(bottom, top_y)
    for s, p in zip(steps, psnr):
        if p < bottom:  # off the scale: drawn on the bottom edge, with its value
            ax.plot(s, bottom, marker="v", ms=9, color="C0", clip_on=False)
            ax.annotate(f"step {s}: {p:.1f} dB\n(off the scale)", (s, bottom), xytext=(40, 12),
                        textcoords="offset points", fontsize=8, arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.set_title("held-out PSNR during training")
    cols = 3 if len(images) > 4 else 2 if len(images) > 1 else 1  # 5-6 crops: two rows of three fill the width
    grid = right_fig.subplots(-(-len(images) // cols), cols, squeeze=False)
    for ax_img, (name, img) in zip(grid.flat, images.items()):
        ax_img.imshow(as_display(img[top : top + size, left : left + size] if box is not None else img))
        ax_img.set_title(name, fontsize=10)
    for ax_img in grid.flat:
        ax_img.set_xticks([])
        ax_img.set_yticks([])
    for ax_img in grid.flat[len(images):]:
        ax_img.set_axis_off()
    if images_title:
        right_fig.suptitle(images_title)
    return fit_width(fig, height=5.2)


def prelu_slopes_figure(slopes: Sequence[float], init: float = 0.25, title: str = "learned slope a of each PReLU",
                        first_label: str = "first PReLU") -> Figure:
    """PReLU(x) = max(0, x) + a min(0, x) (He et al. 2015), the activation of the paper's Figure 4 (section 2.1).

    Notebook 02, section 2. Left: the function for ReLU (a = 0), for the initial slope ``init`` and for the first
    learned slope (``first_label``), on [-2, 2]. Right: every learned slope as a bar, in network order (input to
    output), against a dashed line at ``init``.
    """
    import matplotlib.pyplot as plt

    a = np.asarray(slopes, dtype=np.float64)
    if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all():
        raise ValueError(f"prelu_slopes_figure: need a non-empty list of finite slopes, got {slopes!r}")
    x = np.linspace(-2, 2, 101)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for slope, name in [(0.0, "ReLU"), (init, f"PReLU at init (a = {init:g})"),
                        (a[0], f"{first_label}, learned a = {a[0]:.2f}")]:
        axes[0].plot(x, np.where(x > 0, x, slope * x), label=name)
    axes[0].legend(fontsize=8)
    axes[0].set_title("PReLU(x) = max(0, x) + a·min(0, x)")
    axes[0].set_xlabel("x")
    axes[0].grid(alpha=0.3)
    axes[1].bar(np.arange(a.size), a)
    axes[1].axhline(init, ls="--", color="grey", label=f"initial a = {init:g}")
    axes[1].xaxis.get_major_locator().set_params(integer=True)
    axes[1].set_xlabel("PReLU layer, input to output")
    axes[1].set_ylabel("a")
    axes[1].set_title(title)
    axes[1].legend(fontsize=8)
    return fig
