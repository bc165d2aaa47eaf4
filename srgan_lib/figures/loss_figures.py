"""Figures of notebooks 03 and 04: the perceptual loss of section 2.2. VGG19's blocks, its feature maps and the
pixel-vs-feature distance ranking (section 2.2.1, equations 4 and 5); the 1D minimax game, the two generator
losses, their race, and the discriminator's patch ranking (section 2.2.2, equations 2 and 6, Figure 4's
discriminator); and :class:`ToyGANRecord`, the snapshots and statistics of the toy GAN that two of those figures
draw. The gradient balance of equation 3 (notebooks 03-05) is :func:`srgan_lib.figures.viz.gradient_balance_figure`.

Each function draws one figure from numbers the notebook computed (the computation is the lesson and stays in
the notebook), checks its input, and returns the Figure without showing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..losses import ADVERSARIAL_KINDS, generator_adversarial_loss
from .viz import WARNING_RED, as_display

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: Legend labels and colours of the two generator losses (``srgan_lib.losses.ADVERSARIAL_KINDS``).
ADVERSARIAL_STYLE = {"saturating": ("saturating: log(1 - D), equation 2", "C3"),
                     "non_saturating": ("non-saturating: -log D, equation 6 (SRGAN)", "C0")}


def _check_kinds(kinds, where: str) -> None:
    unknown = [k for k in kinds if k not in ADVERSARIAL_STYLE]
    if unknown or not kinds:
        raise ValueError(f"{where}: the keys must be generator-loss kinds {sorted(ADVERSARIAL_STYLE)}, "
                         f"got {list(kinds)}")


def top_channels(features: np.ndarray, k: int = 6) -> list[int]:
    """The ``k`` channels of a ``(C, h, w)`` feature map with the largest mean activation, largest first.

    Notebook 03, section 1: which of the maps phi_{i,j} of section 2.2.1 :func:`feature_maps_figure` shows.
    """
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"top_channels: want a (C, h, w) feature map, got shape {features.shape}")
    if not 1 <= k <= features.shape[0]:
        raise ValueError(f"top_channels: k must be in 1..{features.shape[0]} (the channels), got {k}")
    means = features.reshape(features.shape[0], -1).mean(axis=1)  # (C,)
    return [int(c) for c in np.argsort(-means, kind="stable")[:k]]


def feature_maps_figure(image: np.ndarray, features: Mapping[str, np.ndarray], k: int = 4,
                        image_title: str = "input", title: str | None = None, note: str | None = None,
                        warn: bool = False, width: float = 9.0) -> Figure:
    """The VGG19 feature maps phi_{i,j} of section 2.2.1 (the maps compared by equation 5) for one image.

    Notebook 03, section 1.

    The input ``image`` (uint8 or [0, 1] float, ``(H, W, 3)``) once on the left, titled ``image_title``; on its
    right one row per entry of ``features`` (name -> ``(C, h, w)`` array, e.g. ``{"VGG22": ..., "VGG54": ...}``):
    the ``k`` channels with the largest mean activation (:func:`top_channels`), each on its own colour scale and
    titled ``"channel 60"``, under a horizontal row heading with the layer's name and map size
    (``"VGG22: 128 maps of 96x96"``). The suptitle is ``title`` and, on a line of its own, ``note`` (say which
    VGG weights were used), in red when ``warn``. ``width`` (inches, default 9 = GitHub's 900 px at 100 dpi) is
    the figure's width: the fonts are sized for it, so the figure is shown without being scaled down.
    """
    import matplotlib.pyplot as plt

    if np.asarray(image).ndim != 3:
        raise ValueError(f"feature_maps_figure: image must be (H, W, 3), got shape {np.shape(image)}")
    if not features:
        raise ValueError("feature_maps_figure: no feature maps given")
    maps = {name: np.asarray(f) for name, f in features.items()}
    chosen = {name: top_channels(f, k) for name, f in maps.items()}  # raises on a bad shape or k
    panel = width / (k + 1.2)  # inches per square panel
    heading = "\n".join(t for t in (title, note) if t)
    lines = heading.count("\n") + 1 if heading else 0
    height = (panel + 0.65) * len(maps) + 0.3 * lines  # each row: heading, panel titles, panels
    fig = plt.figure(figsize=(width, height), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.2, k])
    ax_in = left.subplots()
    ax_in.imshow(as_display(image))
    ax_in.set_title(image_title, fontsize=10)
    for sub, (name, f) in zip(right.subfigures(len(maps), 1, squeeze=False).flat, maps.items()):
        sub.suptitle(f"{name}: {f.shape[0]} maps of {f.shape[1]}x{f.shape[2]}", fontsize=10,
                     fontweight="bold", x=0.02, ha="left")
        for ax, ch in zip(sub.subplots(1, k, squeeze=False)[0], chosen[name]):
            ax.imshow(f[ch], cmap="viridis", interpolation="nearest")
            ax.set_title(f"channel {ch}", fontsize=10)
    for ax in fig.get_axes():
        ax.set_xticks([])
        ax.set_yticks([])
    if heading:
        fig.suptitle(heading, fontsize=11, color=WARNING_RED if warn else "black")
    return fig


def ranks(values: Sequence[float]) -> list[int]:
    """Rank of each value, 1 for the smallest (for distances: 1 = judged closest); ties keep their order.

    Notebook 03, section 2: how pixel MSE (equation 4) and the VGG distances (equation 5) order the same distortions.
    """
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    out = [0] * len(order)
    for rank, k in enumerate(order, start=1):
        out[int(k)] = rank
    return out


def distance_ranking_figure(patches: Mapping[str, np.ndarray], scores: Mapping[str, Sequence[float]],
                            title: str = "distortions of one patch, ranked by each distance (#1 = closest)",
                            note: str | None = None, warn: bool = False) -> Figure:
    """Pixel MSE (equation 4) against VGG feature distances (equation 5): how each ranks the same distortions.

    Notebook 03, section 2.

    ``patches``: name -> uint8 (or [0, 1] float) image; the first is the reference, the others its distortions.
    ``scores``: distance name -> one value per distortion, in the order of ``patches`` (e.g.
    ``{"pixel MSE (eq. 4)": [...], "VGG22 (eq. 5)": [...]}``). Top row: the patches, each distortion titled
    with its rank under every distance, one a line (:func:`ranks`; the short name is the distance's name up to
    `` (``). The figure is 9 inches wide (GitHub's 900 px), so it is shown unscaled.
    Bottom: one group of bars per distortion, every distance divided by its value for the *first* distortion,
    so that distances of very different scales share one axis. ``note`` titles the bar panel (say which VGG
    weights were used), in red when ``warn``.
    """
    import matplotlib.pyplot as plt

    names = list(patches)
    distortions = names[1:]
    if not distortions:
        raise ValueError("distance_ranking_figure: give the reference and at least one distortion")
    if not scores:
        raise ValueError("distance_ranking_figure: no distances given")
    for metric, vals in scores.items():
        if len(vals) != len(distortions):
            raise ValueError(f"distance_ranking_figure: {metric!r} has {len(vals)} values for "
                             f"{len(distortions)} distortions {distortions}")
        if not vals[0] > 0:
            raise ValueError(f"distance_ranking_figure: {metric!r} is {vals[0]} for {distortions[0]!r}, "
                             "the distortion every bar is divided by; it must be positive")
    rank_of = {m: ranks(v) for m, v in scores.items()}
    short = {m: m.split(" (")[0] for m in scores}
    panel = 9.0 / len(names)  # inches per patch: the figure is 9 inches wide (GitHub's 900 px), read unscaled
    top_height = panel + 0.2 * (len(scores) + 1) + 0.45  # the patches, their titles (name, one rank a line)
    fig = plt.figure(figsize=(9.0, top_height + 3.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_height, 3.2])
    for ax, name in zip(top.subplots(1, len(names), squeeze=False)[0], names):
        ax.imshow(as_display(patches[name]))
        if name == names[0]:
            ax.set_title(name, fontsize=9.5)
        else:
            k = distortions.index(name)
            ax.set_title(name + "".join(f"\n{short[m]} #{rank_of[m][k]}" for m in scores), fontsize=9.5)
        ax.set_xticks([])
        ax.set_yticks([])
    top.suptitle(title, fontsize=11)
    ax = bottom.subplots()
    width = 0.8 / len(scores)
    for m, (metric, vals) in enumerate(scores.items()):
        rel = np.asarray(vals, dtype=np.float64) / vals[0]  # (n_distortions,)
        ax.bar(np.arange(len(distortions)) + (m - (len(scores) - 1) / 2) * width, rel, width, label=metric)
    ax.set_xticks(np.arange(len(distortions)), distortions, fontsize=9.5)
    ax.set_ylabel(f"distance / distance of the {distortions[0].split(' (')[0]}", fontsize=9.5)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.legend(fontsize=9.5)
    if note:
        ax.set_title(note, fontsize=10, color=WARNING_RED if warn else "black")
    return fig


def vgg_blocks_figure(table: Sequence, marks: Mapping[str, tuple[int, int]], crop: int = 96,
                      title: str = "VGG19's feature stack: five blocks of 3x3 convolutions, each closed by a 2x2 "
                                   "max-pool", width: float = 9.0) -> Figure:
    """VGG19's five blocks as a diagram, with the feature maps phi_{i,j} of section 2.2.1 marked on it.

    Notebook 03, section 1.

    ``table``: the rows of :func:`srgan_lib.vgg.vgg_layer_table` (anything with ``name``, ``kind``,
    ``out_channels``, ``downscale`` and ``phi``). Every convolution is drawn as a box (ReLU included), filled
    by its channel count, every max-pool as a narrow grey box marked ``/2``; box heights shrink with the
    resolution. Above each block: its number, channels and resolution (``1/4`` = a quarter of the input side).
    ``marks``: phi name (``"VGG22"``) -> (receptive field, stride) in input pixels, as the notebook computed
    them; each marked ReLU's box is outlined and annotated below with its stride, its receptive field and the
    size of its map for a ``crop`` x ``crop`` input. ``width`` inches (9 = GitHub's 900 px): shown unscaled.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Rectangle

    rows = list(table)
    convs = [r for r in rows if str(r.kind).startswith("conv")]
    if not convs:
        raise ValueError("vgg_blocks_figure: the table has no convolutions")
    phis = {r.phi: r for r in rows if r.phi}
    unknown = [m for m in marks if m not in phis]
    if unknown:
        raise ValueError(f"vgg_blocks_figure: {unknown} are not phi_(i,j) of the table; valid: {list(phis)}")
    fills = {64: "#dbe9f6", 128: "#b3d1ec", 256: "#7fb2de", 512: "#4a8fcb"}
    conv_w, pool_w, gap = 0.8, 0.45, 0.18
    fig, ax = plt.subplots(figsize=(width, 3.9), layout="constrained")
    x = 0.0
    ax.text(x, 0, f"input\n{crop}x{crop}\nx 3", ha="left", va="center", fontsize=9)
    x += 1.3
    boxes: dict[str, tuple[float, float]] = {}  # relu name -> (centre x, half height) of its conv's box
    block_start, block_convs = x, []
    for r in rows:
        half = 1.25 * r.downscale ** -0.2  # (1, 1/2, ... 1/16) -> the box shrinks as the map does
        kind = str(r.kind)
        if kind.startswith("conv"):
            ax.add_patch(Rectangle((x, -half), conv_w, 2 * half, facecolor=fills.get(r.out_channels, "#4a8fcb"),
                                   edgecolor="0.3", lw=0.8))
            block_convs.append(r)
            last_conv = (x + conv_w / 2, half)
            x += conv_w + gap
        elif kind == "ReLU":
            boxes[r.phi] = last_conv
        elif kind.startswith("maxpool"):
            half_in = 1.25 * (r.downscale // 2) ** -0.2
            ax.add_patch(Rectangle((x, -half_in * 0.8), pool_w, 1.6 * half_in, facecolor="0.85",
                                   edgecolor="0.5", lw=0.8))
            ax.text(x + pool_w / 2, 0, "/2", ha="center", va="center", fontsize=9)
            first = block_convs[0]
            block = first.name[4:].split("_")[0]
            ax.text((block_start + x) / 2, 1.45, f"block {block}\n{first.out_channels} ch, "
                    f"1/{first.downscale}", ha="center", va="bottom", fontsize=9)
            x += pool_w + 0.55
            block_start, block_convs = x, []
    right = x - 0.4  # the last pool's right edge
    for phi, (rf, stride) in marks.items():
        cx, half = boxes[phi]
        ax.add_patch(Rectangle((cx - conv_w / 2 - 0.07, -half - 0.07), conv_w + 0.14, 2 * half + 0.14,
                               fill=False, edgecolor=WARNING_RED, lw=2.2))
        i, j = phi[3], phi[4]
        side = crop // stride
        ax.add_patch(FancyArrowPatch((cx, -1.9), (cx, -half - 0.1), arrowstyle="-|>", mutation_scale=10,
                                     color=WARNING_RED, lw=1.2))
        near_edge = cx > right - 2.6  # the text would run off the right: end it at the edge instead
        ax.text(right if near_edge else cx, -1.95, f"$\\phi_{{{i},{j}}}$ ({phi}): stride {stride} px,\n"
                f"receptive field {rf} px; {crop}x{crop} -> {phis[phi].out_channels}x{side}x{side}",
                ha="right" if near_edge else "center", va="top", fontsize=9, color=WARNING_RED)
    handles = [Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="0.3") for c in fills.values()]
    handles.append(Rectangle((0, 0), 1, 1, facecolor="0.85", edgecolor="0.5"))
    fig.legend(handles, [f"conv 3x3 + ReLU, {c} ch" for c in fills] + ["max-pool 2x2 (/2)"],
               loc="outside lower center", ncol=3, fontsize=9, frameon=False, handlelength=1.2)
    ax.set_xlim(-0.1, right)
    ax.set_ylim(-2.9, 2.3)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    return fig


def toy_gan_figure(data: np.ndarray, snapshots: Mapping[int, tuple[np.ndarray, np.ndarray]], grid: np.ndarray,
                   bins: int = 96, ymax: float = 1.6,
                   title: str = ("The minimax game of equation 2 in 1D: G's samples (orange) move onto the data "
                                 "(grey);\nD(x) (blue) is D's probability that x is real"),
                   per_row: int = 3) -> Figure:
    """Equation 2's game in one dimension (section 2.2.2): one panel per snapshot of a toy GAN's training.

    Notebook 04, section 1.

    ``data``: samples of the real distribution (a grey histogram). ``snapshots``: G step -> (G's samples, D's
    probability "real" at the points of ``grid``), drawn as an orange histogram and a blue curve, panels in
    step order. Histograms are densities over ``bins`` bins spanning ``grid``; the y axis stops at ``ymax`` so
    that D's curve (0 to 1) stays readable, and a histogram taller than that is marked with its peak value.
    Panels go ``per_row`` to a row, 9 inches wide (GitHub's 900 px), so that they read unscaled.
    """
    import matplotlib.pyplot as plt

    grid = np.asarray(grid, dtype=np.float64).ravel()
    if not snapshots:
        raise ValueError("toy_gan_figure: no snapshots given")
    for step, (_, curve) in snapshots.items():
        if np.asarray(curve).size != grid.size:
            raise ValueError(f"toy_gan_figure: D's curve at step {step} has {np.asarray(curve).size} points, "
                             f"the grid {grid.size}")
    edges = np.linspace(grid[0], grid[-1], bins + 1)
    steps = sorted(snapshots)
    rows = -(-len(steps) // per_row)
    cols = -(-len(steps) // rows)  # rows as full as they can be: 4 panels are 2 x 2, 6 are 2 x 3
    fig, axes = plt.subplots(rows, cols, figsize=(9.0, 2.7 * rows + 0.6), sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(steps):]:
        ax.set_visible(False)  # an incomplete last row
    for ax, step in zip(axes.flat, steps):
        samples, curve = snapshots[step]
        ax.hist(data, bins=edges, density=True, color="0.75", label="real data")
        heights, _, _ = ax.hist(samples, bins=edges, density=True, color="C1", alpha=0.7, label="G(z)")
        ax.plot(grid, np.asarray(curve).ravel(), color="C0", lw=2, label="D(x)")
        if heights.max() > ymax:  # a narrow spike of G's samples: say how tall it is
            i = int(np.argmax(heights))
            ax.annotate(f"G(z) peak\n{heights[i]:.1f}, off scale", ((edges[i] + edges[i + 1]) / 2, ymax),
                        xytext=(8, -4), textcoords="offset points", ha="left", va="top", fontsize=8, color="C1")
        ax.set_title(f"after {step} steps", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylim(0, ymax)
    axes[0, 0].legend(loc="upper right", fontsize=9)  # G's first samples are far left, D's curve below 1
    fig.suptitle(title, fontsize=11)
    return fig


class ToyGANRecord:
    """What notebook 04's toy GAN (section 1, equation 2 in one dimension) records for its figures and printouts,
    kept out of its training loop so that the loop shows only the game.

    ``z``: a fixed ``(n, d)`` batch of G's noise, whose samples the snapshots follow; ``grid``: ``(m, 1)``
    points where D's opinion is drawn; ``snapshot_at``: the G steps to snapshot (G steps taken so far; step 0
    is before G's first update, after any head start of D). In the loop:

    - ``record.snapshot_if_due(step, generator, discriminator)`` at the start of G step ``step`` (negative
      during D's head start: nothing is taken);
    - ``record.g_step(fake, logits)`` after each generator update, with the batch G produced and D's logits
      on it: appends the mean of ``fake``, the mean D(G(z)) = sigmoid(logit), and the mean size, per sample,
      of the gradient of the generator loss ``kind`` (:func:`srgan_lib.losses.generator_adversarial_loss`)
      with respect to each logit, recomputed from the logits (the loss is a batch mean, so per sample it is
      ``B`` times the gradient of the mean);
    - ``record.result(g_steps, generator, discriminator)`` after the loop: takes the final snapshot and
      returns ``{"kind", "mean", "d_fake", "grad", "snapshots", "grid"}``, what :func:`toy_gan_figure`
      (``snapshots``: G step -> (G's samples, D's probability on the grid)) and :func:`saturation_race_figure`
      read.

    Nothing here trains: every forward pass runs without a graph, on detached tensors.
    """

    def __init__(self, kind: str, z, grid, snapshot_at: Sequence[int] = ()) -> None:

        if kind not in ADVERSARIAL_KINDS:
            raise ValueError(f"ToyGANRecord: kind must be one of {ADVERSARIAL_KINDS}, got {kind!r}")
        if grid.ndim != 2 or grid.shape[1] != 1:
            raise ValueError(f"ToyGANRecord: grid must be (m, 1), got shape {tuple(grid.shape)}")
        self.kind, self.z, self.grid, self.snapshot_at = kind, z, grid, tuple(snapshot_at)
        self.mean: list[float] = []
        self.d_fake: list[float] = []
        self.grad: list[float] = []
        self.snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _snapshot(self, step: int, generator, discriminator) -> None:
        import torch

        with torch.no_grad():
            samples = generator(self.z)[:, 0].numpy()  # (n,)
            belief = torch.sigmoid(discriminator(self.grid))[:, 0].numpy()  # (m,): D's probability "real"
        self.snapshots[step] = (samples, belief)

    def snapshot_if_due(self, step: int, generator, discriminator) -> None:
        if step in self.snapshot_at:
            self._snapshot(step, generator, discriminator)

    def g_step(self, fake, logits) -> None:
        import torch


        logits = logits.detach().reshape(-1).requires_grad_(True)  # (B,)
        (grad,) = torch.autograd.grad(generator_adversarial_loss(logits, self.kind), logits)  # (B,)
        self.mean.append(fake.detach().mean().item())
        self.d_fake.append(torch.sigmoid(logits.detach()).mean().item())
        self.grad.append(grad.abs().mean().item() * logits.numel())  # per sample (the loss is a mean)

    def result(self, g_steps: int, generator, discriminator) -> dict:
        self._snapshot(g_steps, generator, discriminator)
        return {"kind": self.kind, "mean": self.mean, "d_fake": self.d_fake, "grad": self.grad,
                "snapshots": self.snapshots, "grid": self.grid[:, 0].numpy()}


def generator_loss_figure(d_fake: np.ndarray, losses: Mapping[str, np.ndarray], gradients: Mapping[str, np.ndarray],
                          early: float = 0.1) -> Figure:
    """The two generator losses of section 2.2.2 against D(G(x)): equation 2's log(1 - D) and equation 6's
    -log D (left), and the size of the gradient each sends back through D's logit (right).

    Notebook 04, section 2.

    ``losses`` and ``gradients``: kind (``"saturating"``, ``"non_saturating"``) -> values at the points
    ``d_fake``; the right panel plots ``|gradient|``. The band ``0 <= D(G(x)) <= early`` marks early
    training, where D rejects the generated images.
    """
    import matplotlib.pyplot as plt

    _check_kinds(list(losses), "generator_loss_figure")
    if set(gradients) != set(losses):
        raise ValueError(f"generator_loss_figure: losses for {sorted(losses)} but gradients for {sorted(gradients)}")
    d_fake = np.asarray(d_fake, dtype=np.float64)
    for kind in losses:
        for what, values in (("loss", losses[kind]), ("gradient", gradients[kind])):
            if np.asarray(values).shape != d_fake.shape:
                raise ValueError(f"generator_loss_figure: {kind} {what} has shape {np.shape(values)}, "
                                 f"D(G(x)) {d_fake.shape}")
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    for kind in losses:
        label, colour = ADVERSARIAL_STYLE[kind]
        ax_loss.plot(d_fake, np.asarray(losses[kind]), color=colour, lw=2, label=label)
        ax_grad.plot(d_fake, np.abs(np.asarray(gradients[kind])), color=colour, lw=2, label=label)
    for ax in (ax_loss, ax_grad):
        ax.axvspan(0, early, color="0.9")
        ax.set_xlabel("D(G(x)): the discriminator's belief that the generated image is real")
        ax.legend()
    ax_loss.text(0.01, 0.05, "early training:\nD rejects the fakes", transform=ax_loss.transAxes, fontsize=9)
    ax_loss.set_ylabel("generator loss (minimised)")
    ax_loss.set_title("the two generator losses")
    ax_grad.set_ylabel("|d loss / d logit|")
    ax_grad.set_title("the gradient that reaches G through D's logit")
    return fig


def saturation_race_figure(runs: Mapping[str, Mapping[str, Sequence[float]]], data_mean: float,
                           title: str = ("Same start, same D head start: the saturating loss stalls, "
                                         "the non-saturating one escapes")) -> Figure:
    """The saturating and non-saturating generator losses (section 2.2.2, equations 2 and 6) racing from one start.

    Notebook 04, section 2.

    ``runs``: kind -> a toy GAN's record with ``"mean"`` (mean of G's samples after every G step) and ``"d_fake"``
    (mean D(G(z)), in (0, 1]). Left: where G's samples are, with the data's mean dashed; right: how real D
    finds them, on a log axis (the saturating run's D(G(z)) sinks by orders of magnitude).
    """
    import matplotlib.pyplot as plt

    _check_kinds(list(runs), "saturation_race_figure")
    for kind, run in runs.items():
        missing = [key for key in ("mean", "d_fake") if key not in run]
        if missing:
            raise ValueError(f"saturation_race_figure: the {kind} run has no {missing}")
        if not np.all(np.asarray(run["d_fake"], dtype=np.float64) > 0):
            raise ValueError(f"saturation_race_figure: the {kind} run's D(G(z)) must be > 0 for the log axis")
    fig, (ax_mean, ax_d) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    for kind, run in runs.items():
        label, colour = ADVERSARIAL_STYLE[kind]
        ax_mean.plot(np.asarray(run["mean"]), color=colour, lw=2, label=label)
        ax_d.semilogy(np.asarray(run["d_fake"]), color=colour, lw=2, label=label)
    ax_mean.axhline(data_mean, color="0.5", ls="--", label="data mean")
    ax_mean.set_ylabel("mean of G's samples")
    ax_mean.set_title("where the generator's samples are")
    ax_d.set_ylabel("mean D(G(z))")
    ax_d.set_title("how real D finds them")
    for ax in (ax_mean, ax_d):
        ax.set_xlabel("generator step (after D's head start)")
        ax.legend(fontsize=9)
    fig.suptitle(title, fontsize=12)
    return fig


def patch_ranking_figure(real: np.ndarray, fake: np.ndarray, p_real: np.ndarray, p_fake: np.ndarray,
                         fake_name: str = "generated", k: int = 6, title: str | None = None) -> Figure:
    """Patches ranked by a discriminator (Figure 4's D, section 2.2.2): what it finds most and least real.

    Notebook 04, section 4.

    ``real``, ``fake``: ``(N, H, W, 3)`` patches (uint8, or floats in [0, 1]); ``p_real``, ``p_fake``: D's
    probability "real" for each (the sigmoid of its logit). Four rows of ``k`` patches: the most real of the
    pooled real and ``fake_name`` patches, the least real, the ``fake_name`` patches it takes most for real,
    and the real patches it doubts most; each titled with its source (green real, red ``fake_name``) and
    ``D = p``.
    """
    import matplotlib.pyplot as plt

    real, fake = np.asarray(real), np.asarray(fake)
    p_real, p_fake = np.asarray(p_real, dtype=np.float64).ravel(), np.asarray(p_fake, dtype=np.float64).ravel()
    for what, imgs, probs in (("real", real, p_real), (fake_name, fake, p_fake)):
        if imgs.ndim != 4 or imgs.shape[-1] != 3:
            raise ValueError(f"patch_ranking_figure: {what} patches must be (N, H, W, 3), got {imgs.shape}")
        if len(imgs) != len(probs):
            raise ValueError(f"patch_ranking_figure: {len(imgs)} {what} patches but {len(probs)} probabilities")
        if not np.all((probs >= 0) & (probs <= 1)):
            raise ValueError(f"patch_ranking_figure: {what} probabilities must lie in [0, 1] (apply the sigmoid)")
    if not 1 <= k <= min(len(real), len(fake)):
        raise ValueError(f"patch_ranking_figure: k must be in 1..{min(len(real), len(fake))}, got {k}")
    images = np.concatenate([real, fake])  # (N_real + N_fake, H, W, 3)
    probs = np.concatenate([p_real, p_fake])  # (N_real + N_fake,)
    labels = ["real"] * len(real) + [fake_name] * len(fake)
    order = np.argsort(-probs, kind="stable")
    rows = [("most real of all", order[:k]),
            ("least real of all", order[::-1][:k]),
            (f"{fake_name} it takes\nfor real", np.argsort(-p_fake, kind="stable")[:k] + len(real)),
            ("real patches it\ndoubts most", np.argsort(p_real, kind="stable")[:k])]
    fig, axes = plt.subplots(len(rows), k, figsize=(1.9 * k, 2.3 * len(rows)), squeeze=False, layout="constrained")
    for axes_row, (heading, idx) in zip(axes, rows):
        for ax, i in zip(axes_row, idx):
            ax.imshow(as_display(images[i]), interpolation="nearest")
            ax.set_title(f"{labels[i]}\nD = {probs[i]:.3f}", fontsize=9, color="C2" if labels[i] == "real" else "C3")
            ax.set_xticks([])
            ax.set_yticks([])
        axes_row[0].set_ylabel(heading, fontsize=10)
    h, w = real.shape[1:3]
    fig.suptitle(title or f"Held-out patches ({h}x{w}) ranked by the discriminator", fontsize=11)
    return fig
