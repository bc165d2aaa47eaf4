"""The SRGAN networks of the paper's Figure 4: the SRResNet generator and the discriminator.

Generator (SRResNet; the same network is SRGAN's generator), x4 with the paper's settings:

    LR (N, 3, h, w) in [0, 1]
      -> Conv k9 n64 -> PReLU                              = skip        (N, 64, h, w)
      -> 16 x ResidualBlock                                              (N, 64, h, w)
      -> Conv k3 n64 -> BN, + skip                                       (N, 64, h, w)
      -> 2 x SubPixelUpsample (Conv k3 n256 -> shuffle x2 -> PReLU)      (N, 64, 4h, 4w)
      -> Conv k9 n3                                                      (N, 3, 4h, 4w) in ~[-1, 1]

1,549,462 parameters. As in Figure 4 there is no output activation: the network learns the [-1, 1]
range from its [-1, 1] targets (section 3.2); use :func:`srgan_lib.images.model_to_unit` to display.

Discriminator: eight Conv k3 layers 64 -> 512 (stride 2 whenever the width is repeated), BN after all
but the first, LeakyReLU 0.2, Dense 1024, LeakyReLU, Dense 1. It returns the *logit*; the sigmoid of
Figure 4 is applied inside the numerically stable loss (:mod:`srgan_lib.losses`). Deviation, stated:
an adaptive average pool to 6 x 6 sits before the dense layers. On the paper's 96 x 96 crops the map
is already 6 x 6 and the pool is the identity; on other crop sizes it makes the network usable.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from .layers import ResidualBlock, SubPixelUpsample

LEAKY_SLOPE = 0.2  # LeakyReLU alpha, Figure 4
#: The largest generators weight files may describe (and ``srgan train`` builds): a file claiming more is refused
#: before anything is allocated (:func:`~srgan_lib.plumbing.weights.generator_config`). The paper's: 16 and 64.
MAX_BLOCKS, MAX_CHANNELS = 256, 1024


class SRResNet(nn.Module):
    """The paper's generator. ``scale`` must be a power of two (x2, x4, x8: one x2 block per factor 2);
    ``n_blocks`` and ``channels`` whole numbers of at least 1."""

    def __init__(self, scale: int = 4, n_blocks: int = 16, channels: int = 64, icnr: bool = True) -> None:
        super().__init__()
        for name, value in (("scale", scale), ("n_blocks", n_blocks), ("channels", channels)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"SRResNet: {name} must be a whole number, got {value!r}")
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of two (2, 4, 8, ...), got {scale}")
        for name, value in (("n_blocks", n_blocks), ("channels", channels)):
            if value < 1:
                raise ValueError(f"SRResNet: {name} must be at least 1, got {value}")
        self.scale, self.n_blocks, self.channels = scale, n_blocks, channels
        self.head = nn.Sequential(nn.Conv2d(3, channels, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(n_blocks)])
        self.post = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels))
        n_up = int(math.log2(scale))
        self.upsample = nn.Sequential(*[SubPixelUpsample(channels, 2, icnr=icnr) for _ in range(n_up)])
        self.tail = nn.Conv2d(channels, 3, 9, padding=4)

    def config(self) -> dict:
        """The constructor arguments, stored in checkpoints and weight files."""
        return {"scale": self.scale, "n_blocks": self.n_blocks, "channels": self.channels}

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        if lr.ndim != 4 or lr.shape[1] != 3:
            raise ValueError(f"SRResNet takes (N, 3, h, w) RGB images in [0, 1], got shape {tuple(lr.shape)}; "
                             "repeat a gray channel three times first")
        skip = self.head(lr)  # (N, 3, h, w) -> (N, 64, h, w)
        x = self.post(self.blocks(skip)) + skip  # (N, 64, h, w)
        x = self.upsample(x)  # (N, 64, h*scale, w*scale)
        return self.tail(x)  # (N, 3, h*scale, w*scale)


def scale_of(model: nn.Module) -> int:
    """The upscaling factor ``r`` of a generator (section 2: ``I^SR`` is ``r`` times ``I^LR`` on each side): its
    ``scale`` attribute, which :class:`SRResNet` sets and loaded weights take from their required metadata.

    The one place the library reads the factor; everything that depends on it (output sizes, tile context, the
    metrics' border crop) is given it from here. A model without one is refused, never assumed to be x4.
    """
    scale = getattr(model, "scale", None)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale < 1:
        raise ValueError(f"{type(model).__name__} has no upscaling factor: a generator must carry a whole-number "
                         f"'scale' attribute, as SRResNet does (got {scale!r})")
    return int(scale)


def _d_block(c_in: int, c_out: int, stride: int, bn: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    return layers


class Discriminator(nn.Module):
    """The paper's discriminator (Figure 4). ``(N, 3, H, W)`` in [-1, 1] -> ``(N,)`` logits.

    Any input of at least 16 x 16 works; 96 x 96 (the paper's) gives a 512 x 6 x 6 map with no pooling.
    """

    def __init__(self, channels: int = 64, dense: int = 1024, pool: int = 6) -> None:
        super().__init__()
        widths = [channels, channels, 2 * channels, 2 * channels, 4 * channels, 4 * channels,
                  8 * channels, 8 * channels]
        layers: list[nn.Module] = []
        c_in = 3
        for i, c_out in enumerate(widths):
            layers += _d_block(c_in, c_out, stride=1 if i % 2 == 0 else 2, bn=i > 0)
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * pool * pool, dense),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Linear(dense, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < 16 or x.shape[-2] < 16:
            raise ValueError(f"the discriminator needs inputs of at least 16x16, got {tuple(x.shape[-2:])}")
        x = self.features(x)  # (N, 3, H, W) -> (N, 512, H/16, W/16): 512 x 6 x 6 for 96 x 96
        x = self.pool(x)  # (N, 512, 6, 6)
        return self.classifier(x).squeeze(1)  # (N,) logits


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
