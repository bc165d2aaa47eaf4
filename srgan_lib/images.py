"""Value ranges used by the paper (section 3.2), converted only at the edges.

- LR input to the generator: [0, 1].
- HR target and generator output: [-1, 1] (the pixel MSE is computed there).
- Images for display and files: [0, 1] floats or uint8 (files are read and written by
  :mod:`srgan_lib.plumbing.files`).
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


#: Tolerance of :func:`check_unit_range`: half an 8-bit level, so values that still round to 0..255 pass.
UNIT_TOLERANCE = 0.5 / 255


def check_unit_range(x: "torch.Tensor | np.ndarray", name: str) -> None:
    """Refuse floats that are not finite or not in [0, 1] (within :data:`UNIT_TOLERANCE`), with a hint
    when they look like 0-255 levels or the generator's [-1, 1] range. Other dtypes are not checked."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind != "f" or x.size == 0:
            return
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    else:
        if not x.is_floating_point() or x.numel() == 0:
            return
        bad = int(x.numel() - torch.isfinite(x).sum())
    if bad:
        raise ValueError(f"{name}: {bad} value(s) are NaN or infinite; replace them (e.g. torch.nan_to_num) first")
    lo, hi = float(x.min()), float(x.max())
    if lo >= -UNIT_TOLERANCE and hi <= 1 + UNIT_TOLERANCE:
        return
    hint = ""
    if hi > 1 and hi <= 255.5 and lo >= -UNIT_TOLERANCE:
        hint = " (they look like 0-255 levels: divide by 255)"
    elif lo < 0 and lo >= -1 - UNIT_TOLERANCE and hi <= 1 + UNIT_TOLERANCE:
        hint = " (they look like the generator's [-1, 1] range: use model_to_unit, i.e. (x + 1) / 2)"
    raise ValueError(f"{name}: float values from {lo:.4g} to {hi:.4g}, but [0, 1] is expected{hint}")


def uint8_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 in [0, 1]."""
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError(f"expected an (H, W, C) uint8 array, got {img.dtype} with shape {img.shape}")
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8, rounded half up and clamped. NaN and infinite
    values are refused (``ValueError``): clamping would write them as black or white pixels."""
    if x.ndim != 3:
        raise ValueError(f"expected a (C, H, W) tensor, got shape {tuple(x.shape)}")
    y = x.detach().float().cpu()
    bad = int(y.numel() - torch.isfinite(y).sum())
    if bad:
        raise ValueError(f"tensor_to_uint8: {bad} value(s) are NaN or infinite, which no pixel value stands for; "
                         "replace them (e.g. torch.nan_to_num) first")
    y = (y.clamp(0, 1) * 255.0 + 0.5).floor().to(torch.uint8)
    return y.permute(1, 2, 0).numpy()

