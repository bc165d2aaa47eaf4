"""Inference on images of any size: the generator on the whole image or in overlapping tiles.

The generator is fully convolutional, so a tile that carries enough context around it (``overlap`` LR
pixels, at least the network's receptive-field radius) gives the same output pixels as the whole image;
tiles keep memory bounded whatever the input size. BN uses its running statistics (eval mode, paper
section 3.2), so it is a per-pixel affine map and does not mix tiles.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .images import model_to_unit

# Receptive-field radius of the paper's SRResNet, in LR pixels: 9x9 head (4) + 33 3x3 convs at LR (33)
# + one 3x3 conv at 2x (0.5) + one at 4x (0.25) + the 9x9 tail at 4x (1): about 39.
SRRESNET_RF_RADIUS = 39


@torch.no_grad()
def upscale_tensor(model: nn.Module, lr: torch.Tensor, tile: int | None = None,
                   overlap: int = SRRESNET_RF_RADIUS) -> torch.Tensor:
    """Upscale ``lr`` ``(N, 3, h, w)`` in [0, 1] -> ``(N, 3, s*h, s*w)`` in [0, 1] (clamped).

    ``tile``: side of the LR tiles (``None``: the whole image at once). ``overlap``: context added on
    each side of a tile, cropped away after the forward pass.
    """
    scale = getattr(model, "scale", None) or 4
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    n, _, h, w = lr.shape
    if tile is None or (h <= tile and w <= tile):
        return model_to_unit(model(lr.to(device, dtype)).float())
    out = torch.empty(n, 3, h * scale, w * scale, device=device)  # (N, 3, s*h, s*w)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - overlap, 0), max(left - overlap, 0)
            t1, l1 = min(bottom + overlap, h), min(right + overlap, w)
            piece = model(lr[:, :, t0:t1, l0:l1].to(device, dtype)).float()  # (N, 3, s*(t1-t0), s*(l1-l0))
            dt, dl = (top - t0) * scale, (left - l0) * scale
            out[:, :, top * scale : bottom * scale, left * scale : right * scale] = model_to_unit(
                piece[:, :, dt : dt + (bottom - top) * scale, dl : dl + (right - left) * scale])
    return out


def upscale_array(model: nn.Module, lr: np.ndarray, tile: int | None = None,
                  overlap: int = SRRESNET_RF_RADIUS) -> np.ndarray:
    """Upscale an ``(h, w, 3)`` uint8 image -> ``(s*h, s*w, 3)`` uint8 (rounded)."""
    from .images import tensor_to_uint8, uint8_to_tensor

    sr = upscale_tensor(model, uint8_to_tensor(lr)[None], tile=tile, overlap=overlap)  # (1, 3, s*h, s*w)
    return tensor_to_uint8(sr[0])
