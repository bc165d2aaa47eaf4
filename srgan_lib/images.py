"""Value ranges used by the paper (section 3.2), converted only at the edges.

- LR input to the generator: [0, 1].
- HR target and generator output: [-1, 1] (the pixel MSE is computed there).
- Images for display and files: [0, 1] floats or uint8.
"""

from __future__ import annotations

import numpy as np
import torch


def unit_to_model(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1] (how HR targets enter the MSE, section 3.2)."""
    return x * 2.0 - 1.0


def model_to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] generator output -> displayable [0, 1], clamped."""
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0)


def uint8_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 in [0, 1]."""
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError(f"expected an (H, W, C) uint8 array, got {img.dtype} with shape {img.shape}")
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8, rounded half up and clamped."""
    if x.ndim != 3:
        raise ValueError(f"expected a (C, H, W) tensor, got shape {tuple(x.shape)}")
    y = (x.detach().float().cpu().clamp(0, 1) * 255.0 + 0.5).floor().to(torch.uint8)
    return y.permute(1, 2, 0).numpy()
