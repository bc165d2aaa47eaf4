"""Building blocks of the SRGAN generator (paper Figure 4) and of ESPCN's sub-pixel convolution.

- :func:`pixel_shuffle` / :func:`pixel_unshuffle`: the periodic shuffle of Shi et al., "Real-Time Single
  Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network" (ESPCN,
  CVPR 2016), written with reshape/permute so a reader can follow every pixel. They equal
  ``torch.nn.functional.pixel_shuffle`` / ``pixel_unshuffle`` bit for bit (tests/test_layers.py).
- :func:`icnr_`: ICNR initialisation (Aitken et al., "Checkerboard artifact free sub-pixel convolution",
  arXiv:1707.02937, 2017): a fresh sub-pixel layer then equals nearest-neighbour upsampling.
- :class:`SubPixelUpsample`: the paper's upsampling block, Conv k3 n256 -> PixelShuffler x2 -> PReLU.
- :class:`ResidualBlock`: the paper's block, Conv k3 n64 -> BN -> PReLU -> Conv k3 n64 -> BN, plus skip.
"""

from __future__ import annotations

import torch
from torch import nn


def _check_channels(channels: int, r: int) -> None:
    if r < 1:
        raise ValueError(f"upscale factor must be a positive integer, got {r}")
    if channels % (r * r) != 0:
        raise ValueError(
            f"pixel shuffle needs a channel count divisible by r^2 = {r * r}; got {channels} channels"
        )


def pixel_shuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """Rearrange ``(N, C*r^2, H, W)`` into ``(N, C, H*r, W*r)`` (ESPCN's periodic shuffle).

    Output pixel ``(c, h*r + i, w*r + j)`` is input channel ``c*r^2 + i*r + j`` at ``(h, w)``.
    """
    n, c_in, h, w = x.shape
    _check_channels(c_in, r)
    c = c_in // (r * r)
    x = x.reshape(n, c, r, r, h, w)  # (N, C, r, r, H, W): split channels into (c, i, j)
    x = x.permute(0, 1, 4, 2, 5, 3)  # (N, C, H, r, W, r): put i next to h and j next to w
    return x.reshape(n, c, h * r, w * r)  # (N, C, H*r, W*r)


def pixel_unshuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(N, C, H*r, W*r)`` -> ``(N, C*r^2, H, W)``."""
    n, c, hr, wr = x.shape
    if r < 1 or hr % r or wr % r:
        raise ValueError(f"pixel unshuffle needs height and width divisible by r = {r}; got {hr}x{wr}")
    h, w = hr // r, wr // r
    x = x.reshape(n, c, h, r, w, r)  # (N, C, H, r, W, r)
    x = x.permute(0, 1, 3, 5, 2, 4)  # (N, C, r, r, H, W)
    return x.reshape(n, c * r * r, h, w)  # (N, C*r^2, H, W)


@torch.no_grad()
def icnr_(weight: torch.Tensor, r: int, init=nn.init.kaiming_normal_) -> torch.Tensor:
    """Initialise a sub-pixel conv weight ``(C*r^2, C_in, k, k)`` in place with ICNR.

    One sub-kernel per output channel ``c`` is drawn with ``init`` and copied to the ``r^2`` channels
    that pixel shuffle sends to the ``r x r`` block of ``c``. The shuffled output is then exactly the
    nearest-neighbour upsampling of a plain convolution with the sub-kernels: no checkerboard at start.
    """
    out_channels = weight.shape[0]
    _check_channels(out_channels, r)
    sub = torch.empty(out_channels // (r * r), *weight.shape[1:], dtype=weight.dtype, device=weight.device)
    init(sub)
    weight.copy_(sub.repeat_interleave(r * r, dim=0))  # channel c*r^2 + k gets sub-kernel c
    return weight


class SubPixelUpsample(nn.Module):
    """Conv k3 (C -> C*r^2) -> pixel shuffle x r -> PReLU (paper Figure 4, one "upsampling block").

    ``(N, C, H, W)`` -> ``(N, C, H*r, W*r)``. With ``icnr=True`` (default) the conv starts as
    nearest-neighbour upsampling (Aitken et al. 2017); the bias of each group of r^2 channels is equal.
    """

    def __init__(self, channels: int = 64, r: int = 2, icnr: bool = True) -> None:
        super().__init__()
        self.r = r
        self.conv = nn.Conv2d(channels, channels * r * r, kernel_size=3, padding=1)
        self.shuffle = nn.PixelShuffle(r)
        self.act = nn.PReLU()
        if icnr:
            icnr_(self.conv.weight, r)
            with torch.no_grad():
                sub_bias = self.conv.bias[:: r * r].clone()
                self.conv.bias.copy_(sub_bias.repeat_interleave(r * r))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)  # (N, C*r^2, H, W)
        x = self.shuffle(x)  # (N, C, H*r, W*r)
        return self.act(x)


class ResidualBlock(nn.Module):
    """Conv k3 -> BN -> PReLU -> Conv k3 -> BN, added to the block input (paper Figure 4)."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.PReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # shape unchanged: (N, C, H, W)
