"""Plumbing, not part of the lesson: inference on images of any size (from :data:`MIN_SIDE` pixels a side), the
generator on the whole image or in overlapping tiles.

The generator (Figure 4) is fully convolutional, so a tile that carries enough context around it gives
the same output pixels as the whole image; tiles keep memory bounded whatever the input size. BN uses
its running statistics (eval mode, paper section 3.2), so it is a per-pixel affine map and does not mix
tiles. How much context is enough is :func:`receptive_field_radius` (40 LR pixels for the paper's x4
SRResNet).

Two-stage tiles (SRResNet only). Nearly all of the receptive field (37 of 39.5 LR pixels) comes from
the trunk that runs at LR resolution (head, 16 residual blocks, post conv), while nearly all of the
memory goes to the sub-pixel upsampling stage, whose feature maps are ``scale**2`` times larger. So the
trunk runs on large LR tiles (little recomputed overlap, so the time stays close to one untiled pass),
and the upsampling stage then runs on smaller chunks of the trunk's features with only
:func:`upsampling_radius` (3) pixels of context. Both sizes come from a memory budget
(:func:`plan_tiles`). Any other fully convolutional model is tiled in one stage.

Alpha: an RGBA image's alpha channel is upscaled *separately with bicubic interpolation*, not with the
network. The generator was trained on natural RGB photographs; an alpha mask is neither, and bicubic is
smooth, predictable and cheap for the hard edges and flat regions masks are made of.
"""

from __future__ import annotations

import itertools
import math
import os
import weakref
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from .files import ALPHA_SUFFIXES, SAVE_FORMATS, image_header, read_rgb_alpha, save_image
from ..images import check_unit_range, model_to_unit, tensor_to_uint8, uint8_to_tensor
from ..models import scale_of

#: Float32 bytes.
_BYTES = 4
#: Live feature maps (of ``channels`` floats per LR pixel) at the trunk's peak: block input, skip, the
#: conv/BN/PReLU intermediates, and oneDNN's reordered copies.
TRUNK_MAPS = 6
#: Live floats per LR pixel at the upsampling stage's peak, in units of ``channels * scale**2`` (the
#: last sub-pixel conv's output, its shuffled copy and the PReLU output; 2.25 counted, rounded up).
UPSAMPLE_MAPS = 3
#: Default activation budget on the CPU (bytes); on CUDA half of the free memory is used.
DEFAULT_CPU_BUDGET = 1536 * 2**20
#: Largest upsampling chunk on the CPU (LR pixels a side), whatever the budget allows: at 80 the biggest map
#: (256 channels at 2x, 26 MB in float32) is reused from the allocator's heap instead of fresh pages every call,
#: and stays nearer the caches.
CPU_CHUNK_MAX = 80
#: Smallest input side accepted by :func:`check_input_size`: below the 9 x 9 head kernel every output
#: pixel is mostly made from zero padding.
MIN_SIDE = 9
#: Generator outputs (range [-1, 1], section 3.2) beyond this magnitude in *every* value of a tile are refused as
#: broken weights: a trained network overshoots its range by a few hundredths, never by a whole range everywhere.
SATURATED = 2.0


# -- the network prepared for inference -------------------------------------------------------------


class SpaceToDepthConv(nn.Module):
    """A stride-1 convolution at full output resolution, computed on the space-to-depth image instead.

    SRResNet's last layer (Figure 4: k9 n3 s1 at HR) has 3 output channels, a shape CPU convolution libraries run
    at a fraction of their speed. The same
    linear map, written on ``pixel_unshuffle(x, s)`` (``C * s * s`` channels at ``1/s`` resolution), is a conv with
    ``3 * s * s`` outputs and a ``(2b+1) x (2b+1)`` kernel of blocks (``b = ceil(radius / s)``), followed by
    ``pixel_shuffle(s)``: more multiply-adds (the rearranged kernel holds zeros) but a shape that runs near peak.
    The output equals the original conv's up to float rounding; inputs need sides divisible by ``s`` (always true
    for the output of an ``s x`` upsampler).
    """

    def __init__(self, conv: nn.Conv2d, s: int) -> None:
        super().__init__()
        k = conv.kernel_size[0]
        r = conv.padding[0]
        if conv.kernel_size != (k, k) or conv.padding != (r, r) or k != 2 * r + 1 or conv.stride != (1, 1) \
                or conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError("SpaceToDepthConv needs a square, 'same'-padded, stride-1, undilated, ungrouped conv")
        o, c = conv.out_channels, conv.in_channels
        b = -(-r // s)  # block radius: output phase p + offset d spans blocks -b .. b
        w = conv.weight.detach()
        w2 = w.new_zeros(o * s * s, c * s * s, 2 * b + 1, 2 * b + 1)
        for p in range(s):
            for q in range(s):
                for dy in range(-r, r + 1):
                    by, i = divmod(p + dy, s)  # input block row and phase of this tap
                    for dx in range(-r, r + 1):
                        bx, j = divmod(q + dx, s)
                        w2[p * s + q :: s * s, i * s + j :: s * s, by + b, bx + b] = w[:, :, dy + r, dx + r]
        self.s, self.radius = s, r
        self.conv = nn.Conv2d(c * s * s, o * s * s, 2 * b + 1, padding=b, bias=conv.bias is not None)
        self.conv.weight.data.copy_(w2)
        if conv.bias is not None:
            self.conv.bias.data.copy_(conv.bias.detach().repeat_interleave(s * s))
        self.conv.to(w.device, w.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.pixel_unshuffle(x, self.s)  # (N, C, H, W) -> (N, C*s*s, H/s, W/s)
        return nn.functional.pixel_shuffle(self.conv(x), self.s)  # (N, O*s*s, H/s, W/s) -> (N, O, H, W)


class SubPixelTail(nn.Module):
    """The last sub-pixel block and the output conv of a generator, fused for inference: same map, fewer passes.

    Figure 4 ends with conv (C -> C r^2) -> pixel shuffle x r -> PReLU, then the k9 n3 conv at full resolution. The
    PReLU acts on each value alone (one slope, or one per channel, which the shuffle repeats r^2 times), so it can
    run before the shuffle; and the shuffled map is exactly what :class:`SpaceToDepthConv` would unshuffle again.
    So the output conv runs, as that class's rearranged conv (``3 r^2`` outputs, a ``(2b+1)^2`` kernel of blocks),
    directly on the block's pre-shuffle map, and only its 3-channel result is shuffled: the two full-resolution
    rearrangements of the C-channel map (shuffle, then unshuffle) disappear.
    """

    def __init__(self, block: nn.Module, tail: nn.Conv2d) -> None:
        super().__init__()
        r, act = block.r, block.act
        self.conv = block.conv  # (N, C, H, W) -> (N, C*r^2, H, W)
        if isinstance(act, nn.PReLU) and act.num_parameters > 1:  # channel c's slope serves its r^2 sub-channels
            self.act = nn.PReLU(act.num_parameters * r * r).to(act.weight.device, act.weight.dtype)
            self.act.weight.data.copy_(act.weight.detach().repeat_interleave(r * r))
        else:  # one slope (a PReLU, or the in-place leaky ReLU inference_copy makes of it): the same for all
            self.act = act
        self.out = SpaceToDepthConv(tail, r).conv  # (N, C*r^2, H, W) -> (N, 3*r^2, H, W)
        self.r = r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(x))  # (N, C*r^2, H, W): the block's output before its shuffle
        return nn.functional.pixel_shuffle(self.out(x), self.r)  # (N, 3*r^2, H, W) -> (N, 3, rH, rW)


def _fusable_tail(fast: nn.Module) -> bool:
    """An SRResNet-like ending: a last block ``conv -> PixelShuffle(r) -> PReLU`` and a small 'same' output conv."""
    upsample, tail = getattr(fast, "upsample", None), getattr(fast, "tail", None)
    if not (isinstance(upsample, nn.Sequential) and len(upsample) and isinstance(tail, nn.Conv2d)):
        return False
    block = upsample[-1]
    return (isinstance(getattr(block, "conv", None), nn.Conv2d)
            and isinstance(getattr(block, "act", None), (nn.PReLU, nn.LeakyReLU))
            and isinstance(getattr(block, "shuffle", None), nn.PixelShuffle) and block.shuffle.upscale_factor == block.r
            and tail.out_channels < 8 and tail.stride == (1, 1)
            and tail.padding[0] <= block.r * 2)  # the rearranged kernel stays within 5 x 5 blocks


def inference_copy(model: nn.Module) -> nn.Module:
    """A copy of an eval-mode generator made faster for inference, same outputs up to float rounding.

    At test time batch norm is a fixed per-channel affine map (running statistics, section 3.2), so each
    ``Conv2d`` directly followed by a ``BatchNorm2d`` inside an ``nn.Sequential`` (SRResNet's residual blocks
    and post-trunk conv) becomes one conv with folded weights and bias (``torch.nn.utils.fusion.fuse_conv_bn_eval``):
    33 fewer passes over the trunk's feature maps. The weights are stored channels_last, the layout oneDNN's CPU
    convolutions and CUDA's tensor cores run fastest, SRResNet's last upsampling
    block and k9 n3 output conv run as one :class:`SubPixelTail`, and another small ``tail`` conv as a
    :class:`SpaceToDepthConv`; a PReLU with one slope (the paper's) becomes the same leaky ReLU, applied in place
    (no new tensor per layer). A model in training
    mode is returned as it is (its batch norm uses batch statistics, which cannot be folded). A bf16 or fp16
    model (``srgan upscale --precision``, :func:`srgan_lib.plumbing.runtime.inference_dtype`) is folded in float32 and its
    copy cast back, so the folding adds no rounding of its own.
    """
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if model.training:
        return model
    dtype = next(model.parameters()).dtype
    fast = copy.deepcopy(model).float()  # folded in float32 even for a bf16/fp16 model, then cast back below
    for seq in [m for m in fast.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                seq._modules[b] = nn.Identity()
    for parent in list(fast.modules()):  # one-slope PReLU -> the same leaky ReLU, in place (no new tensor per layer)
        for name, child in parent.named_children():
            if isinstance(child, nn.PReLU) and child.num_parameters == 1:
                setattr(parent, name, nn.LeakyReLU(float(child.weight.detach()), inplace=True))
    tail = getattr(fast, "tail", None)
    if _fusable_tail(fast):  # SRResNet: the last upsampling block and the k9 n3 output conv as one SubPixelTail
        fast.tail = SubPixelTail(fast.upsample[-1], tail)
        fast.upsample = fast.upsample[:-1]
    elif isinstance(tail, nn.Conv2d) and tail.out_channels < 8:  # another small output conv
        scale = scale_of(fast)
        if tail.padding[0] <= scale:
            fast.tail = SpaceToDepthConv(tail, scale)  # same map, a faster shape
    return fast.to(dtype=dtype, memory_format=torch.channels_last)


#: model -> (the state its weights were in, its inference copy): one copy per state, not one per image.
_INFERENCE_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inference_model(model: nn.Module) -> nn.Module:
    """:func:`inference_copy` of ``model``, made again only when its weights changed (moved, loaded or trained:
    every tensor's storage and in-place version counter are compared), so that upscaling a set of images one by
    one folds the network once."""
    if model.training:
        return model
    state = tuple((t.data_ptr(), t._version) for t in itertools.chain(model.parameters(), model.buffers()))
    cached = _INFERENCE_COPIES.get(model)
    if cached is None or cached[0] != state:
        cached = (state, inference_copy(model))
        _INFERENCE_COPIES[model] = cached
    return cached[1]


def seconds_per_pixel(model: nn.Module, probe: int = 64) -> float:
    """Seconds of network work per LR pixel on the model's device and in its precision: one forward pass of a
    ``probe x probe`` patch, timed after a warm-up pass. A small probe runs less efficiently than a large image, so
    this errs on the long side."""
    import time

    weight = next(model.parameters())
    device = weight.device
    fast = _inference_model(model)
    x = torch.rand(1, 3, probe, probe, device=device, dtype=weight.dtype)  # in the model's precision
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        fast(x)  # warm-up: oneDNN / cuDNN pick their kernels
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fast(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return (time.perf_counter() - t0) / probe**2


def _tiling_overhead(model: nn.Module, h: int, w: int, tile: int | str | None, overlap: int | None) -> float:
    """:func:`tile_overhead` of :func:`upscale_pieces`' tiles: ``"auto"`` from :func:`plan_tiles`, ``None`` one pass;
    the context is ``overlap`` or the receptive field."""
    if tile is None:
        return 1.0
    if tile == "auto":
        tile = plan_tiles(model, device=next(model.parameters()).device)[0]
    ctx = receptive_field_radius(model) if overlap is None else int(overlap)
    return tile_overhead(h, w, int(tile), ctx)


def estimate_seconds(model: nn.Module, h: int, w: int, probe: int = 64, tile: int | str | None = "auto",
                     overlap: int | None = None) -> float:
    """Rough seconds to upscale an ``h x w`` LR image on the model's device: :func:`seconds_per_pixel` times the LR
    pixels the network runs over, the context that tiles of ``tile`` recompute included (arguments as
    :func:`upscale_pieces`; :func:`tile_overhead`)."""
    return seconds_per_pixel(model, probe) * h * w * _tiling_overhead(model, h, w, tile, overlap)


def tile_slowdown(model: nn.Module, h: int, w: int, tile: int, overlap: int | None = None) -> float:
    """How many times more network work tiles of ``tile`` LR pixels cost than ``tile="auto"`` for an ``h x w``
    image (``srgan upscale`` warns when a chosen ``--tile`` makes a run long this way)."""
    return _tiling_overhead(model, h, w, tile, overlap) / _tiling_overhead(model, h, w, "auto", overlap)


# -- receptive field ---------------------------------------------------------------------------------


def _is_srresnet(model: nn.Module) -> bool:
    return all(hasattr(model, a) for a in ("head", "blocks", "post", "upsample", "tail", "scale"))


def _conv_radius(module: nn.Module) -> int:
    """Sum of the (stride-1) convolution radii along a sequential path (in the path's own pixels)."""
    if isinstance(module, SpaceToDepthConv):
        return module.radius  # its inner conv works in blocks of s pixels: count the conv it stands for
    if isinstance(module, nn.Conv2d):
        return ((module.kernel_size[0] - 1) // 2) * module.dilation[0]
    return sum(_conv_radius(child) for child in module.children())


def trunk_radius(model: nn.Module) -> int:
    """Receptive-field radius of SRResNet's LR trunk (head + residual blocks + post conv), in LR pixels:
    4 + 2 * 16 + 1 = 37 for the paper's network."""
    return _conv_radius(model.head) + _conv_radius(model.blocks) + _conv_radius(model.post)


def upsampling_radius(model: nn.Module) -> int:
    """Radius of the upsampling stage (sub-pixel blocks + 9 x 9 tail) in LR pixels, rounded up: the
    first block's conv runs at LR (1), the next at 2x (0.5), the tail at 4x (4 / 4 = 1): 2.5 -> 3."""
    r, factor = 0.0, 1
    for block in model.upsample:
        r += _conv_radius(block) / factor
        factor *= getattr(block, "r", 2)
    r += _conv_radius(model.tail) / factor
    return math.ceil(r)


def receptive_field_radius(model: nn.Module) -> int:
    """Context (LR pixels on each side of a tile) that makes tiled output equal untiled output.

    SRResNet: :func:`trunk_radius` + :func:`upsampling_radius` (37 + 3 = 40 for the paper's x4 network;
    the exact radius is 39.5). Other models: the sum of every convolution's radius at LR (an upper bound
    for models whose convolutions all run at LR or higher resolution).
    """
    if _is_srresnet(model):
        return trunk_radius(model) + upsampling_radius(model)
    return _conv_radius(model)


# -- memory budget -----------------------------------------------------------------------------------


def default_budget(device: torch.device | str = "cpu") -> int:
    """Activation memory to plan for: :data:`DEFAULT_CPU_BUDGET` on the CPU (capped at a quarter of the
    physical memory), half of the free memory on CUDA."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * 0.5)
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 4 * DEFAULT_CPU_BUDGET
    return int(min(DEFAULT_CPU_BUDGET, physical // 4))


def _channels(model: nn.Module) -> int:
    return int(getattr(model, "channels", 64))


def plan_tiles(model: nn.Module, budget: int | None = None, device: torch.device | str = "cpu") -> tuple[int, int]:
    """``(tile, chunk)``: LR sides for the trunk tiles and the upsampling chunks that fit ``budget`` bytes.

    The trunk needs about ``TRUNK_MAPS * channels * 4`` bytes per LR pixel of a tile *with* its context;
    the upsampling stage ``UPSAMPLE_MAPS * channels * scale**2 * 4`` per LR pixel of a chunk, while the
    trunk's output for the current tile (``channels * 4`` bytes per pixel) stays alive beside it. On the CPU
    the chunk is at most :data:`CPU_CHUNK_MAX`, which runs faster than larger ones.
    """
    budget = int(budget or default_budget(device))
    c, s = _channels(model), scale_of(model)
    ctx = receptive_field_radius(model)
    side = int(math.sqrt(budget / (_BYTES * c * TRUNK_MAPS)))  # tile + 2 * context
    tile = max(side - 2 * ctx, 16)
    features = _BYTES * c * (tile + 2 * ctx) ** 2
    up_ctx = upsampling_radius(model) if _is_srresnet(model) else 0
    chunk_side = int(math.sqrt(max(budget - features, budget // 4) / (_BYTES * c * s * s * UPSAMPLE_MAPS)))
    chunk = max(chunk_side - 2 * up_ctx, 8)
    if torch.device(device).type == "cpu":
        chunk = min(chunk, CPU_CHUNK_MAX)
    return tile, chunk


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Split ``0..length`` into near-equal spans of at most ``tile``."""
    n = max(1, math.ceil(length / tile))
    step = math.ceil(length / n)
    return [(a, min(a + step, length)) for a in range(0, length, step)]


def tile_overhead(h: int, w: int, tile: int, ctx: int) -> float:
    """LR pixels the network reads per pixel of an ``h x w`` image cut into tiles of ``tile`` with ``ctx`` pixels of
    context around each, clipped at the image's edges: 1.0 for one tile; ``(81 / 1)**2`` in the middle of a large
    image for ``tile=1`` and the paper network's 40 pixels. The windows are a grid, so the two axes multiply."""
    def covered(length: int) -> int:  # rows (or columns) read by the tiles of one axis, context included
        return sum(min(b + ctx, length) - max(a - ctx, 0) for a, b in _spans(length, tile))

    return covered(h) * covered(w) / (h * w)


# -- the forward passes ------------------------------------------------------------------------------

Piece = tuple[int, int, torch.Tensor]  # (top, left) in HR pixels, (N, 3, hh, ww) in [0, 1]


def _windows(h: int, w: int, tile: int, ctx: int) -> Iterator[tuple[int, int, int, int, int, int, int, int]]:
    """Tiles ``(top, bottom, left, right)`` with their context window ``(t0, t1, l0, l1)`` clipped to the image."""
    for top, bottom in _spans(h, tile):
        for left, right in _spans(w, tile):
            yield top, bottom, left, right, max(top - ctx, 0), min(bottom + ctx, h), max(left - ctx, 0), min(right + ctx, w)


def _checked_unit(out: torch.Tensor, top: int) -> torch.Tensor:
    """Generator output ``[-1, 1]`` -> ``[0, 1]``, refusing NaN/inf and outputs saturated everywhere (beyond
    :data:`SATURATED` in every value), which clamping would hide as a black, white or two-colour image."""
    out = out.float()
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"the generator's output holds NaN or infinite values (from LR row {top} on): its weights "
                         "are broken or the input is extreme; nothing was written")
    if bool((out.abs() > SATURATED).all()):
        raise ValueError(f"the generator's output is saturated everywhere (from LR row {top} on, every value beyond "
                         f"+-{SATURATED:g} where [-1, 1] is expected): its weights are broken (absurdly scaled?); "
                         "nothing was written")
    return model_to_unit(out)


def _one_stage(model: nn.Module, lr: torch.Tensor, tile: int, ctx: int, scale: int) -> Iterator[Piece]:
    _, _, h, w = lr.shape
    for top, bottom, left, right, t0, t1, l0, l1 in _windows(h, w, tile, ctx):
        piece = model(lr[:, :, t0:t1, l0:l1])  # (N, 3, s*(t1-t0), s*(l1-l0))
        dt, dl = (top - t0) * scale, (left - l0) * scale
        piece = piece[:, :, dt : dt + (bottom - top) * scale, dl : dl + (right - left) * scale]  # kept part
        yield top * scale, left * scale, _checked_unit(piece, top)


def _two_stage(model: nn.Module, lr: torch.Tensor, tile: int, chunk: int, scale: int) -> Iterator[Piece]:
    """SRResNet: trunk on ``tile`` tiles (+ full context), then upsampling on ``chunk`` chunks (+ 3 px).

    The composition is :meth:`srgan_lib.models.SRResNet.forward` split in two (tested equal to it).
    """
    _, _, h, w = lr.shape
    up_ctx = upsampling_radius(model)
    ctx = trunk_radius(model) + up_ctx
    for top, bottom, left, right, t0, t1, l0, l1 in _windows(h, w, tile, ctx):
        skip = model.head(lr[:, :, t0:t1, l0:l1])  # (N, 3, th, tw) -> (N, C, th, tw)
        feats = model.post(model.blocks(skip)) + skip  # (N, C, th, tw); exact >= 37 px from cut edges
        del skip
        fh, fw = t1 - t0, l1 - l0
        for ctop, cbottom in _spans(bottom - top, chunk):
            for cleft, cright in _spans(right - left, chunk):
                # the chunk in feature coordinates, with the upsampling stage's context (clipped)
                a, b = top - t0 + ctop, top - t0 + cbottom
                c, d = left - l0 + cleft, left - l0 + cright
                a0, b0, c0, d0 = max(a - up_ctx, 0), min(b + up_ctx, fh), max(c - up_ctx, 0), min(d + up_ctx, fw)
                out = model.tail(model.upsample(feats[:, :, a0:b0, c0:d0]))  # (N, 3, s*(b0-a0), s*(d0-c0))
                dt, dl = (a - a0) * scale, (c - c0) * scale
                out = out[:, :, dt : dt + (b - a) * scale, dl : dl + (d - c) * scale]  # kept part
                yield (top + ctop) * scale, (left + cleft) * scale, _checked_unit(out, top + ctop)
        del feats


@torch.inference_mode()
def upscale_pieces(model: nn.Module, lr: torch.Tensor, tile: int | str | None = "auto",
                   overlap: int | None = None, chunk: int | None = None,
                   budget: int | None = None) -> Iterator[Piece]:
    """Upscale ``lr`` ``(N, 3, h, w)`` in [0, 1] piece by piece: yields ``(top, left, piece)`` with
    ``piece`` ``(N, 3, hh, ww)`` in [0, 1] placed at HR ``(top, left)``; the pieces tile the output.

    ``tile``: ``"auto"`` (from the memory budget, :func:`plan_tiles`), an LR side, or ``None`` (the whole
    image in one forward pass). ``overlap``: context on each side of a tile (default
    :func:`receptive_field_radius`, which makes the output equal the untiled one); giving it uses
    one-stage tiles. ``chunk``: LR side of the upsampling chunks of two-stage tiles (default from the
    budget). ``budget``: bytes of activations to plan for (default :func:`default_budget`).
    """
    check_lr_tensor(lr)
    for name, value in (("overlap", overlap), ("chunk", chunk), ("budget", budget)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < (0 if name == "overlap" else 1)):
            least = "0 or more" if name == "overlap" else "a positive number"
            raise ValueError(f"{name} must be {least} (LR pixels; bytes for budget), got {value!r}")
    if not (tile is None or tile == "auto" or (isinstance(tile, (int, np.integer)) and not isinstance(tile, bool))):
        raise ValueError(f"tile must be 'auto', None or a number of LR pixels, got {tile!r}")
    scale = scale_of(model)
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    model = _inference_model(model)  # BN folded into the convs, channels_last (made once per state of the weights)
    lr = lr.to(device, dtype).contiguous(memory_format=torch.channels_last)  # (N, 3, h, w)
    if tile is None:
        yield 0, 0, _checked_unit(model(lr), 0)  # (N, 3, s*h, s*w)
        return
    auto_tile, auto_chunk = plan_tiles(model, budget, device)
    tile = auto_tile if tile == "auto" else int(tile)
    if tile < 1:
        raise ValueError(f"tile must be a positive number of LR pixels, got {tile}")
    if _is_srresnet(model) and overlap is None:
        yield from _two_stage(model, lr, tile, int(chunk or auto_chunk), scale)
    else:
        ctx = receptive_field_radius(model) if overlap is None else int(overlap)
        yield from _one_stage(model, lr, tile, ctx, scale)


def check_lr_tensor(lr: torch.Tensor) -> None:
    """Refuse an LR input the generator cannot use: not a float ``(N, 3, h, w)`` tensor, empty, not
    finite, or outside [0, 1] (the LR range, section 3.2; see :mod:`srgan_lib.images`)."""
    if not isinstance(lr, torch.Tensor):
        raise ValueError(f"lr: expected a torch tensor (N, 3, h, w) in [0, 1], got {type(lr).__name__}")
    if not lr.is_floating_point():
        hint = " (uint8 pixels: use x.float() / 255)" if lr.dtype == torch.uint8 else ""
        raise ValueError(f"lr: expected float values in [0, 1], got dtype {lr.dtype}{hint}")
    if lr.ndim != 4 or lr.shape[1] != 3 or lr.shape[0] < 1 or min(lr.shape[2:]) < 1:
        raise ValueError(f"lr: expected an (N, 3, h, w) tensor, got shape {tuple(lr.shape)}")
    check_unit_range(lr, "lr")


def upscale_array(model: nn.Module, lr: np.ndarray, tile: int | str | None = "auto",
                  overlap: int | None = None, chunk: int | None = None, budget: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Upscale an ``(h, w, 3)`` uint8 image -> ``(s*h, s*w, 3)`` uint8 (rounded).

    The output is filled piece by piece, so no full-size float copy of the result is ever made (an
    8192 x 8192 float image alone would be 805 MB). ``progress(done_pixels, total_pixels)`` is called
    after each piece.
    """
    check_rgb_array(lr, "lr")
    scale = scale_of(model)
    h, w = lr.shape[:2]
    out = np.empty((h * scale, w * scale, 3), dtype=np.uint8)  # (s*h, s*w, 3)
    total, done = out.shape[0] * out.shape[1], 0
    x = uint8_to_tensor(lr)[None]  # (1, 3, h, w)
    for top, left, piece in upscale_pieces(model, x, tile, overlap, chunk, budget):
        out[top : top + piece.shape[2], left : left + piece.shape[3]] = tensor_to_uint8(piece[0])
        done += piece.shape[2] * piece.shape[3]
        if progress:
            progress(done, total)
    if done != total:  # never return uninitialised memory
        raise RuntimeError(f"tiling covered {done} of {total} output pixels")
    return out


# -- images and files ----------------------------------------------------------------------------------


def check_rgb_array(img: np.ndarray, name: str) -> None:
    """Refuse anything but an ``(h, w, 3)`` uint8 array (a list, floats, gray, RGBA), naming it ``name``; gray
    and RGBA images are made RGB by :func:`srgan_lib.plumbing.files.as_rgb_uint8`."""
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        what = f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f"{name}: expected an (h, w, 3) uint8 array, got a {what} (files.as_rgb_uint8 converts "
                         "gray and RGBA arrays)")


def upscale_alpha(alpha: np.ndarray, scale: int) -> np.ndarray:
    """An ``(h, w)`` uint8 alpha channel -> ``(s*h, s*w)`` uint8 by bicubic interpolation (Pillow's)."""
    from PIL import Image

    h, w = alpha.shape
    return np.asarray(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8)).resize((w * scale, h * scale), Image.BICUBIC))


def check_input_size(shape: tuple[int, ...], name: str = "image") -> None:
    """Refuse images smaller than :data:`MIN_SIDE` pixels on a side, naming the file."""
    h, w = shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ValueError(f"{name}: {w}x{h} pixels is too small to upscale (need at least {MIN_SIDE}x{MIN_SIDE}); "
                         f"pass a larger image")


def upscale_image(model: nn.Module, rgb: np.ndarray, alpha: np.ndarray | None = None,
                  **kwargs) -> tuple[np.ndarray, np.ndarray | None]:
    """``(rgb (h, w, 3) uint8, alpha (h, w) uint8 or None)`` -> the same at ``scale`` times the size.

    RGB goes through the network (:func:`upscale_array`, keyword arguments passed on); alpha through
    :func:`upscale_alpha` (bicubic; see the module docstring for why).
    """
    check_rgb_array(rgb, "rgb")
    if alpha is not None:
        if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2]:
            shape = getattr(alpha, "shape", type(alpha).__name__)
            raise ValueError(f"alpha: expected an (h, w) = {rgb.shape[:2]} array like rgb, got {shape}")
        if alpha.dtype != np.uint8:
            raise ValueError(f"alpha: expected uint8 levels 0-255, got {alpha.dtype} (for [0, 1] floats use "
                             "(a * 255).round().astype(np.uint8))")
    sr = upscale_array(model, rgb, **kwargs)
    return sr, (upscale_alpha(alpha, scale_of(model)) if alpha is not None else None)


def output_name(src: Path, scale: int, has_alpha: bool) -> str:
    """``photo.jpg`` -> ``photo_x4.jpg``; formats that cannot be written, or cannot hold an alpha
    channel that the image has, become ``.png``."""
    suffix = src.suffix.lower()
    if suffix not in SAVE_FORMATS or (has_alpha and suffix not in ALPHA_SUFFIXES):
        suffix = ".png"
    return f"{src.stem}_x{scale}{suffix}"


#: Default input limit of :func:`upscale_file` in the command line: 16 megapixels (a 4096 x 4096 input,
#: whose x4 output alone is 805 MB of uint8 and takes minutes on a CPU).
MAX_MEGAPIXELS = 16.0


def inspect_input(src: str | Path, scale: int, max_megapixels: float | None = None) -> tuple[int, int, int]:
    """``(width, height, frames)`` of an image file from its header (:func:`srgan_lib.plumbing.files.image_header`;
    nothing decoded, errors name the file).

    Refuses an input above ``max_megapixels`` (``None`` or 0: no limit) with an estimate of the output,
    and warns that only the first frame of a multi-frame file (animated GIF/WebP, multi-page TIFF) is used.
    """
    import warnings

    w, h, frames = image_header(src)
    mp = w * h / 1e6
    if max_megapixels and mp > max_megapixels:
        out_gb = w * h * scale * scale * 3 / 1e9
        raise ValueError(f"{src}: {w}x{h} is {mp:.1f} megapixels, above the limit of {max_megapixels:g}; its x{scale} "
                         f"output would be {w * scale}x{h * scale} ({out_gb:.1f} GB in memory, a long run on a CPU); "
                         "pass --max-megapixels 0 (no limit) or a larger number to go ahead")
    if frames > 1:
        warnings.warn(f"{src}: has {frames} frames (an animation or several pages); only the first is upscaled",
                      stacklevel=2)
    return w, h, frames


def upscale_file(model: nn.Module, src: str | Path, dst: str | Path, overwrite: bool = False,
                 max_megapixels: float | None = None, **kwargs) -> Path:
    """Read any image file (:func:`srgan_lib.plumbing.files.read_rgb_alpha`: grayscale, palette, 16-bit, EXIF
    orientation, alpha), upscale it (:func:`upscale_image`) and write ``dst`` atomically
    (:func:`srgan_lib.plumbing.files.save_image`; an existing ``dst`` raises ``FileExistsError`` unless
    ``overwrite``). Grayscale inputs come out as RGB (the network's output need not be gray).

    The output path and the input's size (``max_megapixels``, see :func:`inspect_input`) are checked
    *before* the (slow) upscaling, so a refusal costs nothing. Multi-frame files give their first
    frame, with a warning. Errors name ``src`` or ``dst``.
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst}: already exists (pass --overwrite to replace it)")
    if not dst.parent.is_dir():
        kind = "is not a folder" if dst.parent.exists() else "does not exist"
        raise FileNotFoundError(f"{dst}: the output folder {dst.parent} {kind}")
    if dst.resolve() == src.resolve():
        raise ValueError(f"{dst}: is the input file itself; choose another output name")
    inspect_input(src, scale_of(model), max_megapixels)
    rgb, alpha = read_rgb_alpha(src)
    check_input_size(rgb.shape, str(src))
    try:
        sr, sr_alpha = upscale_image(model, rgb, alpha, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{src}: {exc}") from exc
    img = sr if sr_alpha is None else np.concatenate([sr, sr_alpha[..., None]], axis=2)  # (H, W, 3|4)
    return save_image(dst, img, overwrite=overwrite)
