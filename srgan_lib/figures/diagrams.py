"""Diagrams of SRGAN drawn from the code: Figure 4's networks, its two blocks, the perceptual loss of
section 2.2 and one alternating training step of section 3.2.

The network diagrams are *derived from the modules*: :func:`generator_layers` and
:func:`discriminator_layers` read the layers of an :class:`~srgan_lib.models.SRResNet` /
:class:`~srgan_lib.models.Discriminator` (kernel, width, stride of every conv), so a change to the model
changes its picture, and ``tests/test_diagrams.py`` compares both with Figure 4. Every function returns a
matplotlib ``Figure`` (boxes and arrows, one style throughout) and never calls ``plt.show()``;
``scripts/make_diagrams.py`` writes them as the SVG files in ``docs/figures/``.
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

from ..layers import ResidualBlock, SubPixelUpsample, pixel_shuffle
from ..losses import ADVERSARIAL_WEIGHT
from ..models import Discriminator, SRResNet
from ..vgg import DEFAULT_PHI
from .viz import fit_width

Item = tuple[str, str]  # (kind, label): one box of a flow diagram

#: Fill colour of each kind of box, the same in every diagram.
COLOURS = {"conv": "#9ecae1", "bn": "#cbc9e2", "act": "#fdd0a2", "shuffle": "#fc9272", "dense": "#a1d99b",
           "pool": "#e5e5e5", "sum": "#ffffff", "data": "#f2f2f2", "net": "#c6dbef", "vgg": "#dadaeb",
           "loss": "#ffeda0", "opt": "#c7e9c0", "frozen": "#eeeeee"}
GRAD = "#c0392b"  # colour of gradient arrows


# ------------------------------------------------------------------------------------------------
# Layer lists, read from the modules (the single source of the diagrams' labels)
# ------------------------------------------------------------------------------------------------

def layer_item(m: nn.Module) -> Item | None:
    """The box of one module, as Figure 4 labels it (``Conv k9 n64 s1``), or ``None`` for a reshape."""
    if isinstance(m, nn.Conv2d):
        return "conv", f"Conv k{m.kernel_size[0]} n{m.out_channels} s{m.stride[0]}"
    if isinstance(m, nn.BatchNorm2d):
        return "bn", "BN"
    if isinstance(m, nn.PReLU):
        return "act", "PReLU"
    if isinstance(m, nn.LeakyReLU):
        return "act", f"LeakyReLU {m.negative_slope:g}"
    if isinstance(m, nn.PixelShuffle):
        return "shuffle", f"PixelShuffle x{m.upscale_factor}"
    if isinstance(m, nn.Linear):
        return "dense", f"Dense {m.out_features}"
    if isinstance(m, nn.AdaptiveAvgPool2d):
        size = m.output_size if isinstance(m.output_size, int) else m.output_size[0]
        return "pool", f"AvgPool to {size}x{size} (ours)"
    if isinstance(m, nn.Flatten):
        return None
    raise TypeError(f"no diagram box for {type(m).__name__}")


def _items(modules) -> list[Item]:
    return [it for it in (layer_item(m) for m in modules) if it is not None]


def residual_block_layers(block: ResidualBlock) -> list[Item]:
    """The boxes of one residual block (Figure 4), without the skip connection."""
    return _items(block.body)


def subpixel_block_layers(block: SubPixelUpsample) -> list[Item]:
    """The boxes of one upsampling block: conv, shuffle, PReLU (Figure 4, ESPCN)."""
    return _items([block.conv, block.shuffle, block.act])


def generator_layers(model: SRResNet) -> dict[str, list]:
    """Figure 4's generator as read from ``model``: ``head``, ``block`` (one residual block),
    ``n_blocks``, ``post``, ``upsample`` (one list per x2 block) and ``tail``."""
    blocks = [residual_block_layers(b) for b in model.blocks]
    if any(b != blocks[0] for b in blocks):
        raise ValueError("the residual blocks differ; the diagram draws one block for all")
    return {"head": _items(model.head), "block": blocks[0] if blocks else [], "n_blocks": len(blocks),
            "post": _items(model.post), "upsample": [subpixel_block_layers(b) for b in model.upsample],
            "tail": _items([model.tail])}


def _size(factor: int, side: str) -> str:
    return side if factor == 1 else f"{factor}{side}"


def generator_shapes(model: SRResNet) -> dict[str, object]:
    """The shape of one image's tensor between the parts of Figure 4's generator, read from ``model``'s layers, as
    ``channels×height×width`` with ``h × w`` the LR input's size: ``input`` (into the head), ``features`` (out of
    the head, through the residual blocks and the long skip), ``upsample`` (one entry per upsampling block: its
    output, each pixel shuffle multiplying the side by its factor) and ``output`` (out of the tail). For the
    paper's x4 network: ``3×h×w``, ``64×h×w``, ``[64×2h×2w, 64×4h×4w]``, ``3×4h×4w``."""
    head_conv = next(m for m in model.head if isinstance(m, nn.Conv2d))
    factor, upsample = 1, []
    for block in model.upsample:
        r = block.shuffle.upscale_factor
        factor *= r
        upsample.append(f"{block.conv.out_channels // (r * r)}×{_size(factor, 'h')}×{_size(factor, 'w')}")
    return {"input": f"{head_conv.in_channels}×h×w", "features": f"{head_conv.out_channels}×h×w",
            "upsample": upsample, "output": f"{model.tail.out_channels}×{_size(factor, 'h')}×{_size(factor, 'w')}"}


def discriminator_layers(model: Discriminator) -> dict[str, list]:
    """Figure 4's discriminator as read from ``model``: ``convs`` (one list per conv: conv [, BN], act),
    ``pool`` and ``classifier``; the sigmoid sits in the loss (:mod:`srgan_lib.losses`)."""
    convs: list[list[Item]] = []
    for m in model.features:
        item = layer_item(m)
        if item[0] == "conv":
            convs.append([item])
        else:
            convs[-1].append(item)
    return {"convs": convs, "pool": _items([model.pool]), "classifier": _items(model.classifier)}


# ------------------------------------------------------------------------------------------------
# Drawing helpers: one style for every diagram
# ------------------------------------------------------------------------------------------------

def _canvas(width: float, height: float, scale: float = 0.72):
    """A figure whose data units are ``scale`` inches, axes filling it, no frame."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width * scale, height * scale))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _box(ax, x: float, y: float, text: str, kind: str, w: float = 0.5, h: float = 2.6,
         fontsize: float = 8.5, dashed: bool = False):
    """A rounded box centred at (x, y) with its label horizontal, so that no reader tilts their head."""
    from matplotlib.patches import Circle, FancyBboxPatch

    if kind == "sum":
        patch = Circle((x, y), w / 2, fc=COLOURS["sum"], ec="black", lw=1.2)
        ax.add_patch(patch)
        ax.text(x, y, "+", ha="center", va="center", fontsize=12)
        return patch
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                           fc=COLOURS[kind], ec="black", lw=1.0, ls="--" if dashed else "-")
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, multialignment="center")
    return patch


def _label_width(text: str, fontsize: float) -> float:
    """About how wide (in inches) ``text`` is at ``fontsize`` in DejaVu Sans: 0.6 em per character of its
    longest line (measured: ``Conv k3 n256 s1`` at 9 pt is 1.08 inches)."""
    return max(len(line) for line in text.split("\n")) * 0.6 * fontsize / 72


def _arrow(ax, a, b, colour: str = "black", style: str = "-|>", ls: str = "-", rad: float = 0.0,
           text: str | None = None, text_offset: tuple[float, float] = (0, 0.25), lw: float = 1.2,
           fontsize: float = 8):
    """An arrow from patch (or point) ``a`` to patch (or point) ``b``, clipped at the boxes."""
    from matplotlib.patches import FancyArrowPatch, Patch

    def centre(p):
        if isinstance(p, Patch):
            bb = p.get_extents().transformed(ax.transData.inverted())
            return ((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2), p
        return p, None

    (pa, patch_a), (pb, patch_b) = centre(a), centre(b)
    arrow = FancyArrowPatch(pa, pb, patchA=patch_a, patchB=patch_b, arrowstyle=style, mutation_scale=11,
                            color=colour, lw=lw, ls=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=1, shrinkB=1)
    ax.add_patch(arrow)
    if text:
        ax.text((pa[0] + pb[0]) / 2 + text_offset[0], (pa[1] + pb[1]) / 2 + text_offset[1], text,
                ha="center", va="bottom", fontsize=fontsize, color=colour)
    return arrow


def _item_width(kind: str, label: str, w: float | None, fontsize: float) -> float:
    """The width of one box of :func:`_flow`: sums ``w`` (their diameter; 0.36 when None), data boxes 1.25 and
    the rest ``w``, or, when ``w`` is None, each box its label's width plus a margin."""
    if kind == "sum":
        return w or 0.36
    if w is None:
        return max(0.5, _label_width(label, fontsize) + 0.2)
    return 1.25 if kind == "data" else w


def _flow(ax, items: Sequence[Item], x: float, y: float, w: float | None = 0.5,
          gap: float | Sequence[float] = 0.28, h: float = 2.6, fontsize: float = 8.5) -> list:
    """Boxes left to right from ``x``, joined by arrows; data boxes are wide, sums are circles; ``w=None``
    fits each box to its label; ``gap`` is one space for all or one per arrow."""
    gaps = [gap] * len(items) if isinstance(gap, (int, float)) else list(gap)
    patches = []
    for (kind, label), g in zip(items, [*gaps, 0.0]):
        bw = _item_width(kind, label, w, fontsize)
        patch = _box(ax, x + bw / 2, y, label, kind, w=bw, h=1.0 if kind == "data" else h, fontsize=fontsize)
        if patches:
            _arrow(ax, patches[-1], patch)
        patches.append(patch)
        x += bw + g
    return patches


def _skip(ax, start, end, height: float, label: str | None = None, fontsize: float = 8) -> None:
    """A skip connection drawn above the boxes: up from ``start``'s right edge, across, down into ``end``."""
    bb_s = start.get_extents().transformed(ax.transData.inverted())
    bb_e = end.get_extents().transformed(ax.transData.inverted())
    xs, xe = bb_s.x1 + 0.14, (bb_e.x0 + bb_e.x1) / 2
    ax.plot([xs, xs, xe], [(bb_s.y0 + bb_s.y1) / 2, height, height], color="black", lw=1.2)
    _arrow(ax, (xe, height), (xe, bb_e.y1))
    if label:
        ax.text((xs + xe) / 2, height + 0.08, label, ha="center", va="bottom", fontsize=fontsize)


def _bracket(ax, first, last, y: float, label: str, fontsize: float = 8.5) -> None:
    """A bracket under boxes ``first``..``last`` with a label."""
    x0 = first.get_extents().transformed(ax.transData.inverted()).x0
    x1 = last.get_extents().transformed(ax.transData.inverted()).x1
    ax.plot([x0, x0, x1, x1], [y + 0.15, y, y, y + 0.15], color="0.3", lw=1.0)
    ax.text((x0 + x1) / 2, y - 0.08, label, ha="center", va="top", fontsize=fontsize)


def _column(ax, items: Sequence[Item], x0: float, y_first: float, w: float, h: float, gap_y: float = 0.06,
            pad: float = 0.07, dashed: Sequence[int] = (), fontsize: float = 9):
    """One block as a framed column: its boxes from ``y_first`` (centre of the first) downwards, left edge
    ``x0``, labels horizontal (a `` (`` starts a second line); returns the frame."""
    from matplotlib.patches import FancyBboxPatch

    for n, (kind, label) in enumerate(items):
        _box(ax, x0 + w / 2, y_first - n * (h + gap_y), label.replace(" (", "\n("), kind, w=w, h=h,
             fontsize=fontsize, dashed=n in dashed)
    bottom = y_first - (len(items) - 1) * (h + gap_y) - h / 2
    frame = FancyBboxPatch((x0 - pad, bottom - pad), w + 2 * pad, y_first + h / 2 - bottom + 2 * pad,
                           boxstyle="round,pad=0,rounding_size=0.1", fc="#f7f7f7", ec="0.6", lw=0.8, zorder=0.5)
    ax.add_patch(frame)
    return frame


def _title(fig, text: str, y: float = 0.985) -> None:
    fig.text(0.5, y, text, ha="center", va="top", fontsize=11, weight="bold")


def _width_of(items: Sequence[Item], w: float | None = 0.5, gap: float = 0.28, fontsize: float = 8.5) -> float:
    return sum(_item_width(k, label, w, fontsize) + gap for k, label in items)


# ------------------------------------------------------------------------------------------------
# The diagrams
# ------------------------------------------------------------------------------------------------

def generator_figure(model: SRResNet | None = None):
    """Figure 4's generator, SRResNet, with labels read from ``model`` (default ``SRResNet()``).

    Drawn 9 inches wide (GitHub's 900 px, shown unscaled) with every label horizontal, in two rows: first the
    part at LR resolution (head, the B residual blocks drawn as one framed block with its skip, the conv
    after them and the long skip), then the x2 upsampling blocks and the output conv. Each framed column is
    one part of the network, its layers top to bottom, named under it as in notebook 02's table. Under the
    arrows, the shape of one image's tensor there (:func:`generator_shapes`: ``3×h×w`` in, ``64×h×w`` through
    the first row, ``64×2h×2w`` and ``64×4h×4w`` after the upsampling blocks, ``3×4h×4w`` out).
    """
    model = model or SRResNet()
    g = generator_layers(model)
    shapes = generator_shapes(model)
    col_w, box_h, gap_y, pad, gap_x, fs = 1.2, 0.34, 0.06, 0.07, 0.5, 9
    data_w, sum_d = 0.9, 0.32
    # the arrows that carry a shape are wide enough for it at 9 pt (64×2h×2w is 0.73 inches)
    gap_in, gap_feat, gap_up = 0.65, 0.75, 0.9
    up_w = max(col_w, max((_label_width(lab, fs) + 0.14 for up in g["upsample"] for _, lab in up), default=0))

    def depth(n: int) -> float:
        """From the centre of a column's first box to the bottom of its frame, for ``n`` boxes."""
        return (n - 1) * (box_h + gap_y) + box_h / 2 + pad

    # x of every element: row 1 at LR resolution, row 2 the upsampling
    x_lr = 0.1
    x_head = x_lr + data_w + gap_in + pad  # left edge of a column's boxes (its frame is ``pad`` wider)
    x_body = x_head + col_w + 2 * pad + gap_feat
    x_sum1 = x_body + col_w + pad + gap_x * 0.8 + sum_d / 2  # centre
    x_post = x_sum1 + sum_d / 2 + gap_x * 0.8 + pad
    x_sum2 = x_post + col_w + pad + gap_x * 0.8 + sum_d / 2
    x_back = x_lr + 0.1  # the line down to row 2, which starts at the left edge
    x_up0 = x_back + 0.3 + pad
    x_ups = [x_up0 + k * (up_w + 2 * pad + gap_up) for k in range(len(g["upsample"]))]
    x_tail = x_up0 + len(g["upsample"]) * (up_w + 2 * pad + gap_up)
    x_sr = x_tail + col_w + pad + gap_up
    width = max(9.0, x_sr + data_w + 0.1, x_sum2 + sum_d / 2 + 0.45)
    # y: the title and a note, the two skips, row 1 (the body is the deepest column), its bracket, row 2
    n_up = max([len(up) for up in g["upsample"]] + [len(g["tail"]), 1])
    y_note, skip_room = 0.85, 0.85
    row1_drop = max(depth(len(g["block"])), depth(len(g["head"])), depth(len(g["post"])))
    height = y_note + skip_room + box_h / 2 + pad + row1_drop + 0.75 + 0.35 + box_h / 2 + pad + depth(n_up) + 0.5
    fig, ax = _canvas(width, height, scale=1.0)
    y0 = height - y_note - skip_room - box_h / 2 - pad  # centre of row 1's first boxes
    y_bracket = y0 - row1_drop - 0.12
    y_mid = y_bracket - 0.62  # where the line to row 2 runs
    y1 = y_mid - 0.3 - box_h / 2 - pad  # centre of row 2's first boxes

    def shape(x_from: float, x_to: float, y: float, text: str) -> None:
        """A tensor's shape under the arrow from ``x_from`` to ``x_to`` at height ``y``."""
        ax.text((x_from + x_to) / 2, y - 0.07, text, ha="center", va="top", fontsize=fs, color="0.25")

    lr = _box(ax, x_lr + data_w / 2, y0, "LR image\n$I^{LR}$", "data", w=data_w, h=0.8, fontsize=fs)
    head = _column(ax, g["head"], x_head, y0, col_w, box_h, gap_y, pad, fontsize=fs)
    body = _column(ax, g["block"], x_body, y0, col_w, box_h, gap_y, pad, fontsize=fs)
    sum1 = _box(ax, x_sum1, y0, "+", "sum", w=sum_d)
    post = _column(ax, g["post"], x_post, y0, col_w, box_h, gap_y, pad, fontsize=fs)
    sum2 = _box(ax, x_sum2, y0, "+", "sum", w=sum_d)
    x_branch = x_head + col_w + pad + gap_feat / 2  # the head's output: into the body and along both skips
    _arrow(ax, lr, (x_head - pad, y0))
    ax.plot([x_head + col_w + pad, x_branch], [y0, y0], color="black", lw=1.2)
    _arrow(ax, (x_branch, y0), (x_body - pad, y0))
    _arrow(ax, (x_body + col_w + pad, y0), sum1)
    _arrow(ax, sum1, (x_post - pad, y0))
    _arrow(ax, (x_post + col_w + pad, y0), sum2)
    ax.plot([x_branch], [y0], "o", color="black", ms=4)
    shape(x_lr + data_w, x_head - pad, y0, shapes["input"])
    shape(x_head + col_w + pad, x_body - pad, y0, shapes["features"])
    top = y0 + box_h / 2 + pad
    for x_to, y_line, label in [(x_sum1, top + 0.25, "skip"),
                                (x_sum2, top + 0.62, "long skip (output of the head)")]:
        ax.plot([x_branch, x_branch, x_to], [y0, y_line, y_line], color="black", lw=1.2)
        _arrow(ax, (x_to, y_line), (x_to, y0 + sum_d / 2))
        ax.text((x_branch + x_to) / 2, y_line + 0.05, label, ha="center", va="bottom", fontsize=fs)
    for frame, x0, name in [(head, x_head, "head"), (post, x_post, "post")]:
        bottom = frame.get_y()
        ax.text(x0 + col_w / 2, bottom - 0.08, name, ha="center", va="top", fontsize=fs)
    _bracket(ax, body, sum1, y_bracket, f"body: B = {g['n_blocks']} residual blocks\n(one drawn, with its skip)",
             fontsize=fs)

    # to row 2: right, down between the rows, left, into the first upsampling block
    x_turn = x_sum2 + sum_d / 2 + 0.25
    ax.plot([x_sum2 + sum_d / 2, x_turn, x_turn, x_back, x_back], [y0, y0, y_mid, y_mid, y1], color="black",
            lw=1.2)
    ax.text(x_turn - 0.07, (y0 + y_mid) / 2, shapes["features"], ha="right", va="center", fontsize=fs,
            color="0.25")
    x_prev = x_back
    for k, (up, x0) in enumerate(zip(g["upsample"], x_ups)):
        frame = _column(ax, up, x0, y1, up_w, box_h, gap_y, pad, fontsize=fs)
        _arrow(ax, (x_prev, y1), (x0 - pad, y1))
        if k:
            shape(x_prev, x0 - pad, y1, shapes["upsample"][k - 1])
        ax.text(x0 + up_w / 2, frame.get_y() - 0.08, f"upsampling block {k + 1}", ha="center", va="top",
                fontsize=fs)
        x_prev = x0 + up_w + pad
    tail = _column(ax, g["tail"], x_tail, y1, col_w, box_h, gap_y, pad, fontsize=fs)
    _arrow(ax, (x_prev, y1), (x_tail - pad, y1))
    shape(x_prev, x_tail - pad, y1, shapes["upsample"][-1])
    ax.text(x_tail + col_w / 2, tail.get_y() - 0.08, "tail", ha="center", va="top", fontsize=fs)
    sr = _box(ax, x_sr + data_w / 2, y1, "SR image\n$G(I^{LR})$", "data", w=data_w, h=0.8, fontsize=fs)
    _arrow(ax, (x_tail + col_w + pad, y1), sr)
    shape(x_tail + col_w + pad, x_sr, y1, shapes["output"])
    ax.text(x_sr + data_w / 2, y1 - 0.48, f"x{2 ** len(g['upsample'])} in all", ha="center", va="top",
            fontsize=fs)
    _title(fig, "Generator (SRResNet), Figure 4", y=1 - 0.08 / height)
    fig.text(0.5, 1 - 0.4 / height, "Each framed column is one part of the network, its layers top to bottom. "
             "Under the arrows: one image's\ntensor, channels × height × width. The first row works at the LR "
             "image's size (h × w); each upsampling block doubles it.", ha="center", va="top", fontsize=9.5)
    return fig


def discriminator_figure(model: Discriminator | None = None):
    """Figure 4's discriminator: eight 3x3 convs (BN after all but the first, LeakyReLU 0.2), our
    adaptive pooling, Dense 1024, LeakyReLU, Dense 1 and the sigmoid; labels read from ``model``.

    Drawn 9 inches wide (GitHub's 900 px) with every label horizontal: one framed column per conv block
    (its layers top to bottom, its output shape on a 96 x 96 input under it), four blocks to a row, then
    the classifier as one column. The pooling we add and the sigmoid, which the loss applies, are dashed.
    """
    model = model or Discriminator()
    d = discriminator_layers(model)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    per_row, col_w, gap_x, box_h, gap_y, pad = 4, 1.3, 0.3, 0.34, 0.06, 0.07
    head = d["pool"] + d["classifier"] + [("act", "Sigmoid (in the loss)")]
    head_w, head_h = 1.35, 0.42
    n_rows = -(-len(d["convs"]) // per_row)
    row_step, top_margin = 1.85, 1.25
    head_drop = len(head) * (head_h + gap_y) + 0.75  # the classifier column and P(real) under the last row
    height = top_margin + row_step * (n_rows - 1) + head_drop + 0.1
    fig, ax = _canvas(9.0, height, scale=1.0)

    def column(items, x0, y_first, w, h, dashed=()):
        return _column(ax, items, x0, y_first, w, h, gap_y=gap_y, pad=pad, dashed=dashed)

    def col_x(k):
        return 1.15 + (k % per_row) * (col_w + gap_x)

    block_bottom = 2 * (box_h + gap_y) + box_h / 2 + pad  # below the first layer's centre, for a full block
    row_y = [height - top_margin - r * row_step for r in range(n_rows)]  # centre of each row's first layers
    image = _box(ax, 0.5, row_y[0], "HR or SR\nimage", "data", w=0.8, h=0.8, fontsize=9)
    ax.text(0.5, row_y[0] - block_bottom - 0.08, "3x96x96", ha="center", va="top", fontsize=9)
    side, x_prev = 96, 0.9
    for k, (items, m) in enumerate(zip(d["convs"], convs)):
        side = (side - 1) // m.stride[0] + 1  # 3x3, padding 1
        y0 = row_y[k // per_row]
        column(items, col_x(k), y0, col_w, box_h)
        ax.text(col_x(k) + col_w / 2, y0 - block_bottom - 0.08, f"{m.out_channels}x{side}x{side}", ha="center",
                va="top", fontsize=9)
        if k and k % per_row == 0:  # to the next row: right, down between the rows, left, into the block
            y_prev = row_y[k // per_row - 1]
            x_turn, x_back = x_prev + 0.12, col_x(0) - pad - 0.2
            y_mid = y_prev - block_bottom - 0.45
            ax.plot([x_prev, x_turn, x_turn, x_back, x_back], [y_prev, y_prev, y_mid, y_mid, y0], color="black",
                    lw=1.2)
            _arrow(ax, (x_back, y0), (col_x(k) - pad, y0))
        else:
            _arrow(ax, (x_prev, y0), (col_x(k) - pad, y0))
        x_prev = col_x(k) + col_w + pad
    x_head, y_last = col_x(per_row - 1) + col_w + gap_x, row_y[-1]
    column(head, x_head, y_last, head_w, head_h, dashed=(0, len(head) - 1))
    _arrow(ax, (x_prev, y_last), (x_head - pad, y_last))
    y_end = y_last - (len(head) - 1) * (head_h + gap_y) - head_h / 2 - pad
    out = _box(ax, x_head + head_w / 2, y_end - 0.5, "P(real)", "data", w=head_w, h=0.4, fontsize=9)
    _arrow(ax, (x_head + head_w / 2, y_end), out)
    _title(fig, "Discriminator, Figure 4", y=1 - 0.08 / height)
    fig.text(0.5, 1 - 0.4 / height, "Each framed column is one block, its layers top to bottom; under it, the "
             "block's output (channels x height x width)\nfor a 96 x 96 input. Dashed: the pooling added here (the "
             "identity at 96 x 96) and the sigmoid, which the loss applies.", ha="center", va="top", fontsize=9.5)
    return fig


def residual_block_figure(block: ResidualBlock | None = None):
    """One residual block of Figure 4: Conv-BN-PReLU-Conv-BN, added to its input (shape unchanged).

    About 9 inches wide (GitHub's 900 px, shown unscaled), labels horizontal at 9 pt, each box as wide as its label.
    """
    block = block or ResidualBlock()
    c = block.body[0].in_channels
    items = [("data", f"x\n({c}, h, w)"), *residual_block_layers(block), ("sum", "+"),
             ("data", f"x + F(x)\n({c}, h, w)")]
    fig, ax = _canvas(_width_of(items, w=None, gap=0.28, fontsize=9) + 0.3, 3.0, scale=1.0)
    p = _flow(ax, items, 0.15, 1.25, w=None, gap=0.28, h=0.8, fontsize=9)
    _skip(ax, p[0], p[-2], 2.25, "identity (skip connection)", fontsize=9)
    _bracket(ax, p[1], p[-3], 0.5, "F(x): the residual the block learns", fontsize=9)
    _title(fig, "Residual block (Figure 4)")
    return fig


def subpixel_block_figure(block: SubPixelUpsample | None = None):
    """One upsampling block (Figure 4, ESPCN): Conv C -> C r^2 at LR, pixel shuffle, PReLU; below, where
    the r^2 channels of one output channel land, computed with :func:`srgan_lib.layers.pixel_shuffle`.

    Drawn 9 inches wide (GitHub's 900 px, shown unscaled), every label horizontal and 9 pt.
    """
    import numpy as np
    import torch
    from matplotlib.patches import Rectangle

    block = block or SubPixelUpsample()
    r, c = block.r, block.conv.in_channels
    items = [("data", f"({c}, h, w)"), *subpixel_block_layers(block), ("data", f"({c}, {r}h, {r}w)")]
    fs = 9  # every label: 9 pt on a 9-inch figure, which GitHub shows unscaled
    fig, ax = _canvas(9.0, 4.75, scale=1.0)
    p = _flow(ax, items, 0.3, 3.55, w=None, gap=[0.55, 1.25, 0.55, 0.55], h=0.7, fontsize=fs)
    conv_box = p[1].get_extents().transformed(ax.transData.inverted())
    ax.text(conv_box.x1 + 1.25 / 2, 3.62, f"({c * r * r}, h, w)", ha="center", va="bottom", fontsize=fs,
            color="0.25")
    # the shuffle of one output channel: its r^2 input channels (one colour each), then the output grid
    n, cell, letters = 2, 0.4, "abcdefghijklmnop"  # LR side of the illustration, cell size
    channel = torch.arange(r * r).view(1, r * r, 1, 1).expand(1, r * r, n, n)  # value = its channel
    where = torch.arange(n * n).view(1, 1, n, n).expand(1, r * r, n, n)  # value = its LR position
    out_ch, out_pos = pixel_shuffle(channel, r)[0, 0].numpy(), pixel_shuffle(where, r)[0, 0].numpy()
    colours = [COLOURS[k] for k in ("conv", "act", "dense", "shuffle", "bn", "loss", "vgg", "pool", "net")]

    def grid(x0: float, y0: float, ch, pos) -> None:
        for i in range(ch.shape[0]):
            for j in range(ch.shape[1]):
                y = y0 + (ch.shape[0] - 1 - i) * cell
                ax.add_patch(Rectangle((x0 + j * cell, y), cell, cell, fc=colours[int(ch[i, j]) % len(colours)],
                                       ec="black", lw=0.6))
                ax.text(x0 + (j + 0.5) * cell, y + cell / 2, f"{int(ch[i, j])}{letters[int(pos[i, j])]}",
                        ha="center", va="center", fontsize=fs)

    out_side = r * n * cell
    y_in = 0.25 + (out_side - n * cell) / 2  # the input grids level with the middle of the output grid
    for k in range(r * r):
        x0 = 0.3 + k * (n * cell + 0.3)
        grid(x0, y_in, np.full((n, n), k), np.arange(n * n).reshape(n, n))
        ax.text(x0 + n * cell / 2, y_in + n * cell + 0.06, f"ch {k}", ha="center", va="bottom", fontsize=fs)
    x_end = 0.3 + r * r * (n * cell + 0.3)
    y_arrow = 0.25 + out_side / 2
    ax.annotate("", (x_end + 1.3, y_arrow), (x_end, y_arrow), arrowprops={"arrowstyle": "-|>", "lw": 1.2})
    ax.text(x_end + 0.65, y_arrow + 0.1, f"shuffle x{r}", ha="center", va="bottom", fontsize=fs)
    grid(x_end + 1.6, 0.25, out_ch, out_pos)
    ax.text(0.3, 2.15, f"For one output channel: {r * r} LR channels of {n} x {n} (positions a, b, c, d) become "
            f"one {r * n} x {r * n} channel;\nevery LR position turns into a {r} x {r} block holding one value of "
            "each channel (computed with srgan_lib.layers.pixel_shuffle).", fontsize=fs, va="bottom")
    _title(fig, f"Upsampling block (Figure 4): sub-pixel convolution, x{r}")
    return fig


def shuffle_map_figure(C: int, r: int, H: int, W: int, title: str | None = None):
    """Where every value goes in a pixel shuffle (ESPCN; Figure 4's "PixelShuffler"): each of the C r^2
    input channels of H x W gets a colour and each LR position a letter; the output panels show, for every
    pixel, the channel and position it came from, computed with :func:`srgan_lib.layers.pixel_shuffle`.
    With C = 3 the channels of colour c are shades of that colour, so the R, G, B panels look it."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from matplotlib.patches import Rectangle

    k = C * r * r
    channel = torch.arange(k).view(1, k, 1, 1).expand(1, k, H, W)  # (1, C*r^2, H, W): value = its channel
    where = torch.arange(H * W).view(1, 1, H, W).expand(1, k, H, W)  # (1, C*r^2, H, W): value = its position
    out_channel = pixel_shuffle(channel, r)[0]  # (C, rH, rW)
    out_where = pixel_shuffle(where, r)[0]  # (C, rH, rW)
    if C == 3:  # the r^2 channels of colour c in shades of that colour
        shades = np.linspace(0.25, 0.6, r * r)
        colours = np.array([plt.colormaps[m](s) for m in ("Reds", "Greens", "Blues") for s in shades])
    else:
        colours = plt.colormaps["tab20" if k > 10 else "tab10"](np.arange(k) % 20)
    letters = "abcdefghijklmnopqrstuvwxyz"

    fig = plt.figure(figsize=(13, 5.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.2])
    top.suptitle(f"input: {k} channels of {H} x {W}, shape (C·r², H, W)", fontsize=11)
    for ch, ax in enumerate(np.atleast_1d(top.subplots(1, k))):
        ax.imshow(np.broadcast_to(colours[ch], (H, W, 4)))
        for h in range(H):
            for w in range(W):
                ax.text(w, h, letters[h * W + w], ha="center", va="center", fontsize=9)
        ax.set_title(f"ch {ch}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.suptitle(f"output after pixel_shuffle(r={r}): {C} channel{'s' if C > 1 else ''} of {r * H} x {r * W}, "
                    "shape (C, rH, rW)",
                    fontsize=11)
    for c, ax in enumerate(np.atleast_1d(bottom.subplots(1, C))):
        ax.imshow(colours[out_channel[c].numpy()])
        for yy in range(r * H):
            for xx in range(r * W):
                label = f"{out_channel[c, yy, xx].item()}{letters[out_where[c, yy, xx].item()]}"
                ax.text(xx, yy, label, ha="center", va="center", fontsize=8)
        for h in range(H):
            for w in range(W):  # one r x r block per LR position
                ax.add_patch(Rectangle((w * r - 0.5, h * r - 0.5), r, r, fill=False, lw=2))
        ax.set_title("RGB"[c] if C == 3 else f"output channel {c}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=12, weight="bold")
    return fit_width(fig, height=6)  # GitHub's width, labels of 10 pt or more, white on dark fills


def _weight_tex(w: float | None = None) -> str:
    """The adversarial weight (default :data:`~srgan_lib.losses.ADVERSARIAL_WEIGHT`) for mathtext:
    ``1e-3`` -> ``10^{-3}``."""
    import math

    w = ADVERSARIAL_WEIGHT if w is None else w
    e = math.log10(w)
    return f"10^{{{int(round(e))}}}" if abs(e - round(e)) < 1e-9 else f"{w:g}"


def _system(with_d_loss: bool, title: str):
    """G, its output, VGG (content loss) and D (adversarial loss) feeding the perceptual loss."""
    fig, ax = _canvas(16.8, 7.3)
    _title(fig, title)
    i, j = DEFAULT_PHI
    w = _weight_tex()
    lr = _box(ax, 1.0, 4.0, "LR image\n$I^{LR}$", "data", w=1.4, h=1.0, fontsize=9)
    gen = _box(ax, 3.2, 4.0, "G\ngenerator\n(SRResNet)", "net", w=1.5, h=1.5, fontsize=9)
    sr = _box(ax, 5.6, 4.0, "SR image\n$G(I^{LR})$", "data", w=1.5, h=1.0, fontsize=9)
    hr = _box(ax, 5.6, 6.3, "HR image\n$I^{HR}$", "data", w=1.5, h=1.0, fontsize=9)
    vgg = _box(ax, 8.4, 5.9, f"VGG19 $\\phi_{{{i},{j}}}$\n(frozen, ImageNet)", "vgg", w=2.1, h=1.2, fontsize=9)
    disc = _box(ax, 8.4, 2.1, "D\ndiscriminator", "net", w=2.1, h=1.2, fontsize=9)
    content = _box(ax, 11.9, 5.9, "content loss (eq. 5)\n"
                   f"$l^{{SR}}_{{VGG/{i}.{j}}} = \\frac{{1}}{{WH}}\\sum(\\phi(I^{{HR}}) - \\phi(G(I^{{LR}})))^2$",
                   "loss", w=4.2, h=1.3, fontsize=9)
    adv = _box(ax, 11.9, 2.1, "adversarial loss (eq. 6)\n$l^{SR}_{Gen} = -\\log D(G(I^{LR}))$", "loss",
               w=4.2, h=1.3, fontsize=9)
    total = _box(ax, 15.4, 4.0, f"perceptual loss\n(eq. 3)\n$l^{{SR}} = l^{{SR}}_X$\n$+ {w}\\, l^{{SR}}_{{Gen}}$",
                 "loss", w=2.2, h=2.0, fontsize=9)
    for a, b in [(lr, gen), (gen, sr), (hr, vgg), (sr, vgg), (sr, disc), (vgg, content), (disc, adv),
                 (content, total)]:
        _arrow(ax, a, b)
    _arrow(ax, adv, total, text=f"$\\times {w}$", text_offset=(-0.2, 0.0), fontsize=10)
    ax.plot([15.4, 15.4, 3.2], [3.0, 0.35, 0.35], color=GRAD, ls="--", lw=1.2)  # back to G, under everything
    _arrow(ax, (3.2, 0.35), gen, colour=GRAD, ls="--")
    ax.text(9.3, 0.45, "gradient of $l^{SR}$: updates G only", color=GRAD, fontsize=10, ha="center",
            va="bottom")
    if with_d_loss:
        real = _box(ax, 5.6, 1.6, "HR image\n$I^{HR}$", "data", w=1.5, h=1.0, fontsize=9)
        _arrow(ax, real, disc)
        ax.text(8.4, 3.0, "real or generated?\n(D's own loss: eq. 2)", ha="center", va="bottom", fontsize=9.5)
    return fig


def perceptual_loss_figure():
    """Section 2.2's perceptual loss: G's output through VGG19's phi_{5,4} against the HR image's
    (content loss, eq. 5) and through D (adversarial loss, eq. 6), summed with the 10^-3 weight (eq. 3)."""
    return _system(False, "The perceptual loss (section 2.2): what the generator is trained on")


def srgan_figure():
    """The whole SRGAN at a glance: generator G, discriminator D, the VGG19 content loss and the
    adversarial loss, combined into the perceptual loss; D learns real vs. generated images."""
    return _system(True, "SRGAN: a generator, a discriminator and the perceptual loss (sections 2.1-2.2)")


def training_step_figure():
    """One SRGAN training step (section 3.2, k = 1): first D is updated on the HR images and the
    *detached* G(LR); then G is updated through the just-updated D with content + 10^-3 adversarial loss."""
    w = _weight_tex()
    fig, ax = _canvas(14.2, 10.8)
    # 1. the discriminator's update
    ax.text(0.3, 10.0, "1 · update D (G's output detached: no gradient reaches G)", fontsize=10, weight="bold",
            va="center")
    lr = _box(ax, 1.0, 8.2, "$I^{LR}$", "data", w=1.2, h=0.8)
    gen = _box(ax, 3.0, 8.2, "G", "frozen", w=1.2, h=1.0)
    det = _box(ax, 5.1, 8.2, "detach()\n$G(I^{LR})$", "data", w=1.6, h=1.0)
    hr = _box(ax, 5.1, 6.4, "$I^{HR}$", "data", w=1.6, h=0.8)
    disc = _box(ax, 7.6, 7.3, "D", "net", w=1.2, h=1.4)
    d_loss = _box(ax, 11.2, 7.3, "D's loss (eq. 2, D's side)\n"
                  "$-\\log D(I^{HR}) - \\log(1 - D(G(I^{LR})))$", "loss", w=4.4, h=1.3)
    for a, b in [(lr, gen), (gen, det), (det, disc), (hr, disc), (disc, d_loss)]:
        _arrow(ax, a, b)
    _arrow(ax, (9.0, 6.5), (7.9, 6.5), colour=GRAD, ls="--")
    ax.text(8.45, 6.1, "gradient", color=GRAD, fontsize=8, ha="center")
    _box(ax, 11.2, 5.75, "Adam step on D's weights only", "opt", w=4.4, h=0.6, fontsize=9)
    ax.plot([0.3, 13.9], [4.95, 4.95], color="0.6", lw=0.8, ls=":")
    # 2. the generator's update
    ax.text(0.3, 4.55, "2 · update G through the updated D (D's weights are not stepped)", fontsize=10,
            weight="bold", va="center")
    lr2 = _box(ax, 1.0, 2.8, "$I^{LR}$", "data", w=1.2, h=0.8)
    gen2 = _box(ax, 3.0, 2.8, "G", "net", w=1.2, h=1.0)
    sr = _box(ax, 5.1, 2.8, "$G(I^{LR})$", "data", w=1.6, h=0.8)
    hr2 = _box(ax, 5.1, 0.9, "$I^{HR}$", "data", w=1.6, h=0.8)
    disc2 = _box(ax, 7.6, 3.55, "D\n(updated)", "frozen", w=1.4, h=1.0)
    content = _box(ax, 7.6, 1.55, "content loss\n$l^{SR}_X$ (VGG or MSE)", "loss", w=2.2, h=1.0)
    total = _box(ax, 11.2, 2.55, f"$l^{{SR}} = l^{{SR}}_X + {w} \\cdot (-\\log D(G(I^{{LR}})))$\n(eq. 3 with eq. 6)",
                 "loss", w=4.4, h=1.3)
    for a, b in [(lr2, gen2), (gen2, sr), (sr, disc2), (sr, content), (hr2, content), (disc2, total),
                 (content, total)]:
        _arrow(ax, a, b)
    # D gets one batch, cat([I^HR, G(I^LR)]); the HR half only shapes its batch-norm statistics
    ax.plot([5.9, 6.3, 6.3], [0.7, 0.7, 3.35], color="0.45", ls=":", lw=1.3)
    _arrow(ax, (6.3, 3.35), (6.9, 3.35), colour="0.45", ls=":")
    ax.text(9.7, 3.75, "D's batch also holds $I^{HR}$:\nonly for its batch-norm statistics", fontsize=8,
            color="0.3", ha="center", va="center")
    ax.plot([11.2, 11.2, 3.0], [3.2, 4.25, 4.25], color=GRAD, ls="--", lw=1.2)  # above D, back to G
    _arrow(ax, (3.0, 4.25), gen2, colour=GRAD, ls="--")
    ax.text(4.3, 3.75, "gradient, back through D\nand $G(I^{LR})$ into G", color=GRAD, fontsize=8, ha="center",
            va="center")
    _box(ax, 11.2, 0.95, "Adam step on G's weights only", "opt", w=4.4, h=0.6, fontsize=9)
    _title(fig, "One SRGAN training step (section 3.2): D and G take turns", y=0.995)
    return fig


#: name -> function, for ``scripts/make_diagrams.py`` and the tests.
DIAGRAMS = {"srgan": srgan_figure, "generator": generator_figure, "discriminator": discriminator_figure,
            "residual_block": residual_block_figure, "subpixel_block": subpixel_block_figure,
            "perceptual_loss": perceptual_loss_figure, "training_step": training_step_figure}
