"""PSNR and SSIM on the luma channel, in two named flavours (section 3.1, Table 2); and a grid-artifact score.

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
    Table 2 (``benchmarks/table2.py``). The port lives in :mod:`srgan_lib.plumbing.daala` (plumbing; credits there).

The paper's SSIM runs about 0.01 to 0.05 higher than the standard flavour on the same images (larger,
image-size dependent window; chroma-aware luma): never compare numbers across flavours.

Inputs: float tensors in [0, 1] shaped ``(N, C, H, W)`` or ``(C, H, W)`` with C = 3 (RGB) or 1 (gray),
uint8 tensors of the same shapes, or numpy arrays ``(H, W, 3)`` / ``(H, W)`` (uint8, or float in [0, 1]).
Float values are clamped to [0, 1] and quantised to 8 bits (round half up), as saving the image to a
PNG would: both protocols were defined on 8-bit image files. Batched input gives per-image values
``(N,)``; a single image gives a 0-d tensor.

:func:`grid_artifact` (not in the paper) scores the periodic error at the pixel-shuffle period, a GAN
artifact that PSNR and SSIM barely see; it is a plain RGB measure, the same in both flavours.
:func:`high_frequency_ratio` (not in the paper either) is the fine-detail energy of SR relative to HR.
:func:`niqe` is the no-reference NIQE (Mittal et al. 2013; :mod:`srgan_lib.plumbing.niqe`) on the "standard" flavour's Y.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .plumbing.daala import paper_lumas, psnr_daala, ssim_daala
from .plumbing.files import GRAY_MODES, read_with_mode
from .images import check_unit_range
from .plumbing.niqe import PATCH, niqe_luma

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
def _to_uint8_batch(x, name: str) -> tuple[torch.Tensor, bool]:
    """Any accepted input -> ((N, C, H, W) uint8 tensor, was_single). Floats are quantised to 8 bits."""
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


def _prepare(sr, hr, crop_border: int, flavour: str) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Validate, convert to (N, C, H, W) uint8 and remove the border strip from both images."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; choose one of {FLAVOURS}")
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border!r}")
    a, single_a = _to_uint8_batch(sr, "sr")
    b, _ = _to_uint8_batch(hr, "hr")
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
    a, b, single = _prepare(sr, hr, crop_border, flavour)
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


def _read_image(path: Path) -> np.ndarray:
    rgb, _, mode = read_with_mode(path)  # (H, W, 3) uint8; alpha dropped, as png2y4m strips it
    return rgb[..., 0] if mode in GRAY_MODES else rgb  # a gray file stays (H, W)


def psnr_ssim_files(
    sr_path, hr_path, *, crop_border: int = CROP_BORDER, flavour: str = "standard"
) -> dict[str, float]:
    """PSNR and SSIM between two image files: ``{"psnr": float, "ssim": float}``.

    8-bit gray and RGB files are read as they are (gray stays gray, which the "standard" flavour uses
    as Y directly); if one file is gray and the other colour, the gray one is expanded to RGB.
    Raises ``FileNotFoundError``/``ValueError`` naming the file when it is missing or unreadable, and
    ``ValueError`` naming both when their sizes differ.
    """
    sr_path, hr_path = Path(sr_path), Path(hr_path)
    a, b = _read_image(sr_path), _read_image(hr_path)
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"image sizes differ: {sr_path} is {a.shape[1]}x{a.shape[0]}, {hr_path} is {b.shape[1]}x{b.shape[0]}"
        )
    if a.ndim != b.ndim:
        a, b = (np.repeat(x[:, :, None], 3, axis=2) if x.ndim == 2 else x for x in (a, b))
    out = evaluate_pair(a, b, crop_border=crop_border, flavour=flavour)
    return {k: float(v) for k, v in out.items()}


# =====================================================================================================
# Detail measures (issue 15, not in the paper): grid artifacts at the pixel-shuffle period, fine detail
# =====================================================================================================
def grid_artifact(sr, hr, *, period: int = 4, crop_border: int = CROP_BORDER) -> torch.Tensor:
    """RMS amplitude, in 8-bit grey levels, of the part of the error ``SR - HR`` that repeats every
    ``period`` pixels: the checkerboard/grid that sub-pixel convolution (section 2.1, two x2 pixel-shuffle
    stages at x4) can print on an image. 0 means no such grid.

    Each of the ``period x period`` output positions of an upsampling block comes from its own channels,
    so a bias between them shows as a pattern of period 4 (at x4). In the 2D spectrum of the error that
    pattern lives only at the frequencies ``(a H / period, b W / period)``, ``a, b = 0 .. period-1``. The
    score is the energy at those ``period^2 - 1`` frequencies (not the mean, ``a = b = 0``), per pixel and
    colour channel, square-rooted:

        grid = sqrt( sum_{(a,b) != (0,0)} |FFT(SR - HR)[a H/p, b W/p]|^2 / (H W)^2 ),   mean over channels

    By Parseval this equals the RMS of the ``period x period`` tile that the error repeats on average
    (the mean of all ``p x p`` tiles, minus its own mean). Images are quantised to 8 bits as in
    :func:`psnr`; ``crop_border`` pixels are removed from every side, then the bottom/right edge is
    trimmed to a multiple of ``period``.

    How to read it: a clean result scores near its noise floor, about ``rms(SR - HR) * sqrt((p^2 - 1) / (H W))``
    (0.1 to 0.3 levels on a 256 x 256 crop for bicubic or SRResNet), because an error with no period
    spreads its energy over all ``H W`` frequencies and only ``p^2 - 1`` of them count. A score several
    times that floor is a grid: a checkerboard of 1 to 1.5 levels is plain to see, a stipple of 0.5 to 1 level
    shows on flat areas when magnified. Patterns of another period (5, say) or plain noise of the same energy
    hardly count. The HR image is used only through the error,
    so a regular texture in the original (brick) does not count as long as SR reproduces it.

    Args:
        sr, hr: images as :func:`psnr` takes them (same shape), e.g. ``(H, W, 3)`` uint8 or
            ``(N, 3, H, W)`` floats in [0, 1].
        period: the upscaling factor of one pixel-shuffle stack (4 for the paper's x4 generator).
        crop_border: border strip to ignore (4, as the paper's PSNR; a multiple of ``period`` keeps the phase).

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image.
    """
    if not isinstance(period, (int, np.integer)) or period < 2:
        raise ValueError(f"period must be an integer >= 2, got {period!r}")
    a, b, single = _prepare(sr, hr, crop_border, "standard")  # (N, C, H', W') uint8; the flavour plays no role
    h, w = (a.shape[-2] // period) * period, (a.shape[-1] // period) * period
    if h == 0 or w == 0:
        raise ValueError(f"image of {tuple(a.shape[-2:])} after crop_border={crop_border} is smaller than "
                         f"one period ({period})")
    err = a[..., :h, :w].double() - b[..., :h, :w].double()  # (N, C, h, w) in grey levels
    spectrum = torch.fft.fft2(err)  # (N, C, h, w)
    peaks = spectrum[..., :: h // period, :: w // period].abs() ** 2  # (N, C, p, p): the grid frequencies
    peaks[..., 0, 0] = 0  # the mean error (a colour or brightness shift) is not a grid
    energy = peaks.sum(dim=(-2, -1)) / float(h * w) ** 2  # (N, C): mean square of the periodic part
    return _finish(energy.mean(dim=1).sqrt(), single)


def high_frequency_ratio(sr: np.ndarray, hr: np.ndarray, crop_border: int = 4) -> float:
    """Fine-detail energy of ``sr`` relative to ``hr``: mean squared Laplacian of luma, SR over HR.

    A no-reference texture statistic (the reference is used only to normalise): 1.0 means as much
    high-frequency energy as the original, below 1 a blurrier image (MSE-trained SRResNet, bicubic),
    near or above 1 a sharper one (SRGAN; the detail may be invented, see :func:`srgan_lib.figures.viz.error_map_figure`).
    It is *not* a perceptual-quality score such as MOS; it tracks the "sharpness" axis only. The Laplacian
    scales each frequency's amplitude by its square, so fine noise raises it cheaply: white grain of 2.5 grey
    levels on SRResNet's output more than doubles its Set14 ratio (benchmarks/detail_bound.txt). Read it
    beside the images, never alone.
    """
    from scipy.ndimage import laplace

    def energy(img: np.ndarray) -> float:
        y = img[..., :3].astype(np.float64).mean(axis=2) / 255.0
        if crop_border:
            y = y[crop_border:-crop_border, crop_border:-crop_border]
        return float(np.mean(laplace(y) ** 2))

    if sr.shape != hr.shape:
        raise ValueError(f"high_frequency_ratio: SR {sr.shape} and HR {hr.shape} differ in size")
    return energy(sr) / max(energy(hr), 1e-12)


def niqe(img, *, crop_border: int = 0) -> torch.Tensor:
    """NIQE of one image or a batch (no reference; lower = more natural): :func:`srgan_lib.plumbing.niqe.niqe_luma` of its Y.

    Y is the "standard" flavour's, MATLAB ``rgb2ycbcr`` on 8-bit RGB rounded to integers (:func:`rgb_to_y_bt601`;
    a gray image is used as it is), which is what the MATLAB reference values and the PIRM 2018 challenge used.
    ``crop_border`` pixels are removed from every side after the conversion: 0 (the default) scores the whole
    image, as MATLAB's ``niqe``; PIRM 2018 removed 4 at x4 (the scale, as for PSNR), which :mod:`srgan_lib.plumbing.evaluate`
    does too. Set14's ``baboon`` uncropped: 5.7296 (MATLAB: 5.7296; agreement to about 1e-3, see :mod:`srgan_lib.plumbing.niqe`).

    Args:
        img: as :func:`psnr` takes one image: ``(N, C, H, W)`` or ``(C, H, W)`` floats in [0, 1] or uint8, or a
            numpy ``(H, W, 3)`` / ``(H, W)`` image.
        crop_border: border strip to ignore.

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image.

    Raises:
        ValueError: bad shapes, dtypes or values (as :func:`psnr`), or an image smaller than one 96 x 96 patch
            after the crop.
    """
    if isinstance(img, (torch.Tensor, np.ndarray)):
        check_unit_range(img, "img")
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border!r}")
    q, single = _to_uint8_batch(img, "img")  # (N, C, H, W) uint8
    h, w = q.shape[-2:]
    if min(h, w) - 2 * crop_border < PATCH:
        raise ValueError(f"NIQE needs at least one {PATCH}x{PATCH} patch: the image is {w}x{h} (width x height), "
                         f"{w - 2 * crop_border}x{h - 2 * crop_border} after crop_border={crop_border}")
    if crop_border:
        q = q[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
    y = rgb_to_y_bt601(q.cpu())  # (N, H', W') float64 integer levels
    return _finish(torch.tensor([niqe_luma(p.numpy()) for p in y], dtype=torch.float64), single)
