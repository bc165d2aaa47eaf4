"""PSNR and SSIM on the luma channel, in two named flavours (section 3.1, Table 2).

Super-resolution papers disagree by up to a dB on the *same* images because they measure differently
(RGB or Y, which Y, border crop, which SSIM). Every number here therefore names its protocol:

``flavour="standard"``  (VDSR / EDSR era; SelfExSR's published per-image tables)
    Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255) with R, G, B in [0, 255]: BT.601 studio
    range as MATLAB's ``rgb2ycbcr`` computes it on uint8 images (including the rounding to uint8).
    Single-channel (grayscale) images are used as Y directly. ``crop_border`` pixels are removed from
    every side. PSNR = 10 log10(255^2 / MSE) on doubles. SSIM = Wang et al.'s ``ssim_index.m``: 11x11
    Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, "valid" region only, plain mean.
    Batched torch code in float64 on the input's device (a separable filter as shifted sums; Apple's
    MPS has no float64, so there it runs on the CPU).

``flavour="paper"``  (what the SRGAN paper's Table 2 used: the daala tools at commit 8d03668)
    Crop, then daala's ``png2y4m`` BT.709 luma (4:2:0 chroma, KISS99 dither), ``dump_psnr -y`` and
    ``dump_ssim -y -r``: reproduces all twelve bicubic / nearest-neighbour x4 numbers of the paper's
    Table 2 (tested). The port lives in :mod:`srgan_lib.plumbing.daala` (plumbing; credits there).

The paper's SSIM runs about 0.01 to 0.05 higher than the standard flavour on the same images (larger,
image-size dependent window; chroma-aware luma): never compare numbers across flavours.

Inputs: float tensors in [0, 1] shaped ``(N, C, H, W)`` or ``(C, H, W)`` with C = 3 (RGB) or 1 (gray),
uint8 tensors of the same shapes, or numpy arrays ``(H, W, 3)`` / ``(H, W)`` (uint8, or float in [0, 1]).
Float values are clamped to [0, 1] and quantised to 8 bits (round half up), as saving the image to a
PNG would: both protocols were defined on 8-bit image files. Batched input gives per-image values
``(N,)``; a single image gives a 0-d tensor.

Measures the paper does not use (the grid-artifact score, the fine-detail ratio, NIQE) are in
:mod:`srgan_lib.plumbing.diagnostics`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .images import check_unit_range
from .plumbing.daala import paper_lumas, psnr_daala, ssim_daala

#: The two measuring protocols (see the module docstring).
FLAVOURS = ("standard", "paper")

#: Section 3.1: "removal of a 4-pixel wide strip from each border" (= the scale factor, 4).
CROP_BORDER = 4

# --- "standard" flavour constants (MATLAB rgb2ycbcr, Wang et al. 2004 ssim_index.m) -----------------
_BT601_Y = (65.481, 128.553, 24.966)  # Y row of MATLAB's rgb2ycbcr matrix, for RGB in [0, 1]
_SSIM_WIN = 11  # Gaussian window size
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_PEAK = 255.0


# =====================================================================================================
# Input handling
# =====================================================================================================
def to_uint8_batch(x, name: str) -> tuple[torch.Tensor, bool]:
    """Any accepted input (module docstring) -> ``((N, C, H, W) uint8 tensor, was_single)``; floats are quantised
    to 8 bits. ``name`` names the argument in errors."""
    if isinstance(x, np.ndarray):
        if x.ndim == 2:
            t = torch.from_numpy(np.array(x))[None, None]  # (1, 1, H, W)
        elif x.ndim == 3 and x.shape[2] in (1, 3):
            t = torch.from_numpy(np.array(x)).permute(2, 0, 1)[None]  # (1, C, H, W)
        else:
            raise ValueError(f"{name}: expected a numpy (H, W, 3) or (H, W) image, got shape {x.shape}")
        single = True
    elif isinstance(x, torch.Tensor):
        if x.ndim == 3:
            t, single = x[None], True  # (1, C, H, W)
        elif x.ndim == 4:
            t, single = x, False
        else:
            raise ValueError(f"{name}: expected a (N, C, H, W) or (C, H, W) tensor, got shape {tuple(x.shape)}")
        if t.shape[1] not in (1, 3):
            raise ValueError(f"{name}: expected 3 (RGB) or 1 (gray) channels, got shape {tuple(x.shape)}")
    else:
        raise ValueError(f"{name}: expected a torch tensor or numpy array, got {type(x).__name__}")
    if t.dtype == torch.uint8:
        return t, single
    if not t.is_floating_point():
        raise ValueError(f"{name}: expected uint8 or float values, got dtype {t.dtype}")
    q = (t.detach().to(torch.float64).clamp(0.0, 1.0) * 255.0 + 0.5).floor()  # 8-bit, as in a PNG
    return q.to(torch.uint8), single


def prepare_pair(sr, hr, crop_border: int, flavour: str) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Validate, convert to ``(N, C, H, W)`` uint8 and remove the border strip from both images:
    ``(sr, hr, was_single)``."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; choose one of {FLAVOURS}")
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border!r}")
    a, single_a = to_uint8_batch(sr, "sr")
    b, _ = to_uint8_batch(hr, "hr")
    if a.shape != b.shape:
        raise ValueError(f"sr and hr shapes differ: {tuple(a.shape)} vs {tuple(b.shape)} (as (N, C, H, W))")
    h, w = a.shape[-2:]
    if min(h, w) - 2 * crop_border < 1:
        raise ValueError(f"image of {h}x{w} is too small for crop_border={crop_border}")
    if crop_border:
        a = a[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
        b = b[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
    return a, b, single_a


def _finish(v: torch.Tensor, single: bool) -> torch.Tensor:
    return v[0] if single else v


# =====================================================================================================
# "standard" flavour: MATLAB rgb2ycbcr + Wang's ssim_index, batched torch
# =====================================================================================================
def rgb_to_y_bt601(q: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) uint8 -> (N, H, W) float64 Y as MATLAB ``rgb2ycbcr`` on uint8 (rounded to uint8).

    Gray (N, 1, H, W) input is returned as is, as the SelfExSR/VDSR MATLAB scripts do.
    """
    q = q.to(torch.float64)
    if q.shape[1] == 1:
        return q[:, 0]  # (N, H, W)
    # MATLAB: T = (1/255) * origT, then imlincomb(T1, R, T2, G, T3, B, 16): coefficients scaled first
    # (a multiplication by 1/255, not a division: it decides a few rounding ties), summed in this
    # order, rounded half away from zero. This reproduces SelfExSR's published values exactly.
    c = [(1.0 / 255.0) * v for v in _BT601_Y]
    y = c[0] * q[:, 0] + c[1] * q[:, 1] + c[2] * q[:, 2] + 16.0  # (N, H, W)
    return (y + 0.5).floor().clamp(0.0, 255.0)  # round half away from zero (y > 0), saturate


def _gaussian_1d() -> list[float]:
    """Normalised 11-tap Gaussian, sigma 1.5: ``fspecial('gaussian', 11, 1.5)`` is its outer product."""
    g = [math.exp(-((i - (_SSIM_WIN - 1) / 2) ** 2) / (2 * _SSIM_SIGMA**2)) for i in range(_SSIM_WIN)]
    return [v / sum(g) for v in g]


def _valid_filter(x: torch.Tensor, g: list[float], dim: int) -> torch.Tensor:
    """1-D correlation along `dim` keeping only full windows ("valid"), as shifted in-place sums.

    On CPU this is several times faster than ``conv2d`` in float64, and it runs unchanged on a GPU.
    """
    n = x.shape[dim] - len(g) + 1
    out = x.narrow(dim, 0, n) * g[0]
    for i in range(1, len(g)):
        out.add_(x.narrow(dim, i, n), alpha=g[i])
    return out


def _psnr_standard(ya: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    mse = (ya - yb).pow(2).mean(dim=(-2, -1))  # (N,)
    return 10.0 * torch.log10(_PEAK**2 / mse)  # inf where mse == 0


def _ssim_standard(ya: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    if min(ya.shape[-2:]) < _SSIM_WIN:
        raise ValueError(
            f"SSIM needs at least {_SSIM_WIN}x{_SSIM_WIN} pixels after cropping, got {tuple(ya.shape[-2:])}"
        )
    g = _gaussian_1d()
    maps = torch.stack([ya, yb, ya * ya, yb * yb, ya * yb], dim=1)  # (N, 5, H, W)
    f = _valid_filter(_valid_filter(maps, g, -1), g, -2)  # (N, 5, H-10, W-10): filter2(..., 'valid')
    mu_a, mu_b, e_aa, e_bb, e_ab = f.unbind(1)  # each (N, H-10, W-10)
    c1, c2 = (_SSIM_K1 * _PEAK) ** 2, (_SSIM_K2 * _PEAK) ** 2
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean(dim=(-2, -1))  # (N,)


# =====================================================================================================
# Public API
# =====================================================================================================
def _lumas(sr, hr, crop_border: int, flavour: str):
    a, b, single = prepare_pair(sr, hr, crop_border, flavour)
    if a.device.type == "mps":  # no float64 on Apple GPUs: measure on the CPU instead
        a, b = a.cpu(), b.cpu()
    if flavour == "standard":
        return rgb_to_y_bt601(a), rgb_to_y_bt601(b), single, a.device
    return paper_lumas(a), paper_lumas(b), single, a.device


def _psnr_from(ya, yb, flavour: str, device) -> torch.Tensor:
    if flavour == "standard":
        return _psnr_standard(ya, yb)
    return torch.tensor([psnr_daala(p, q) for p, q in zip(ya, yb)], dtype=torch.float64, device=device)


def _ssim_from(ya, yb, flavour: str, device) -> torch.Tensor:
    if flavour == "standard":
        return _ssim_standard(ya, yb)
    return torch.tensor([ssim_daala(p, q) for p, q in zip(ya, yb)], dtype=torch.float64, device=device)


def _check_inputs(sr, hr) -> None:
    """Public entry points: float images must be finite and in [0, 1] (a NaN would otherwise be clamped
    into a plausible-looking score; 0-255 or [-1, 1] floats would be silently saturated)."""
    for name, x in (("sr", sr), ("hr", hr)):
        if isinstance(x, (torch.Tensor, np.ndarray)):
            check_unit_range(x, name)


def psnr(sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard") -> torch.Tensor:
    """PSNR [dB] on the luma channel after removing ``crop_border`` pixels from every side.

    Args:
        sr, hr: images as described in the module docstring (same shape), e.g. ``(N, 3, H, W)`` floats
            in [0, 1].
        crop_border: border strip to ignore; the paper uses 4 (= the scale).
        flavour: ``"standard"`` (BT.601 Y, MATLAB) or ``"paper"`` (daala tools, as in Table 2).

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image; ``inf`` for identical images.

    Raises:
        ValueError: wrong shapes or dtypes, float values that are not finite or outside [0, 1].
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return _finish(_psnr_from(ya, yb, flavour, dev), single)


def ssim(sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard") -> torch.Tensor:
    """SSIM on the luma channel after removing ``crop_border`` pixels from every side.

    Same arguments, return shape and errors as :func:`psnr`; 1 for identical images.
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return _finish(_ssim_from(ya, yb, flavour, dev), single)


def evaluate_pair(
    sr, hr, *, crop_border: int = CROP_BORDER, flavour: str = "standard"
) -> dict[str, torch.Tensor]:
    """Both metrics at once (the luma conversion is shared): ``{"psnr": ..., "ssim": ...}``.

    Values have the shapes :func:`psnr` returns: ``(N,)`` for a batch, 0-d for a single image.
    """
    _check_inputs(sr, hr)
    ya, yb, single, dev = _lumas(sr, hr, crop_border, flavour)
    return {
        "psnr": _finish(_psnr_from(ya, yb, flavour, dev), single),
        "ssim": _finish(_ssim_from(ya, yb, flavour, dev), single),
    }
