"""Plumbing, not part of the lesson: detail diagnostics beside PSNR and SSIM (section 3.1 measures only those two).

- :func:`grid_artifact`: the periodic error at the pixel-shuffle period, the checkerboard a sub-pixel generator
  (section 2.1, Figure 4) can print, which PSNR and SSIM barely see; a plain RGB measure.
- :func:`high_frequency_ratio`: the fine-detail energy of SR relative to HR (the "sharpness" axis only).
- :func:`niqe`: the no-reference NIQE (Mittal et al. 2013; :mod:`srgan_lib.plumbing.niqe`) on the Y of
  :mod:`srgan_lib.metrics`' "standard" flavour, a stand-in for section 3.3's MOS that needs no raters.

They take images as :func:`srgan_lib.metrics.psnr` does (float tensors in [0, 1], uint8 tensors, numpy images),
quantised to 8 bits in the same way. None of them is in the paper.
"""

from __future__ import annotations

import numpy as np
import torch

from ..images import check_unit_range
from ..metrics import CROP_BORDER, prepare_pair, rgb_to_y_bt601, to_uint8_batch
from .niqe import PATCH, niqe_luma


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
    :func:`srgan_lib.metrics.psnr`; ``crop_border`` pixels are removed from every side, then the bottom/right
    edge is trimmed to a multiple of ``period``.

    How to read it: a clean result scores near its noise floor, about ``rms(SR - HR) * sqrt((p^2 - 1) / (H W))``,
    because an error with no period spreads its energy over all ``H W`` frequencies and only ``p^2 - 1`` of them
    count (0.1 to 0.3 levels on a 256 x 256 crop for bicubic or SRResNet). A score several times that floor is a
    grid: a checkerboard of 1 to 1.5 levels is plain to see, a stipple of 0.5 to 1 level shows on flat areas when
    magnified. Patterns of another period (5, say) or plain noise of the
    same energy hardly count. The HR image is used only through the error, so a regular texture in the original
    (brick) does not count as long as SR reproduces it.

    Args:
        sr, hr: images as :func:`srgan_lib.metrics.psnr` takes them (same shape), e.g. ``(H, W, 3)`` uint8 or
            ``(N, 3, H, W)`` floats in [0, 1].
        period: the upscaling factor of one pixel-shuffle stack (4 for the paper's x4 generator).
        crop_border: border strip to ignore (4, as the paper's PSNR; a multiple of ``period`` keeps the phase).

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image.
    """
    if not isinstance(period, (int, np.integer)) or period < 2:
        raise ValueError(f"period must be an integer >= 2, got {period!r}")
    a, b, single = prepare_pair(sr, hr, crop_border, "standard")  # (N, C, H', W') uint8; the flavour plays no role
    h, w = (a.shape[-2] // period) * period, (a.shape[-1] // period) * period
    if h == 0 or w == 0:
        raise ValueError(f"image of {tuple(a.shape[-2:])} after crop_border={crop_border} is smaller than "
                         f"one period ({period})")
    err = a[..., :h, :w].double() - b[..., :h, :w].double()  # (N, C, h, w) in grey levels
    spectrum = torch.fft.fft2(err)  # (N, C, h, w)
    peaks = spectrum[..., :: h // period, :: w // period].abs() ** 2  # (N, C, p, p): the grid frequencies
    peaks[..., 0, 0] = 0  # the mean error (a colour or brightness shift) is not a grid
    energy = peaks.sum(dim=(-2, -1)) / float(h * w) ** 2  # (N, C): mean square of the periodic part
    score = energy.mean(dim=1).sqrt()  # (N,)
    return score[0] if single else score


def high_frequency_ratio(sr: np.ndarray, hr: np.ndarray, crop_border: int = 4) -> float:
    """Fine-detail energy of ``sr`` relative to ``hr``: mean squared Laplacian of luma, SR over HR.

    ``sr``, ``hr``: ``(H, W, 3)`` uint8 images of the same size; luma is the channel mean. A no-reference
    texture statistic (the reference is used only to normalise): 1.0 means as much high-frequency energy as the
    original, below 1 a blurrier image (MSE-trained SRResNet, bicubic), near or above 1 a sharper one (SRGAN; the
    detail may be invented, see :func:`srgan_lib.figures.viz.error_map_figure`). It is *not* a perceptual-quality
    score such as MOS; it tracks the "sharpness" axis only. The Laplacian scales each frequency's amplitude by its
    square, so fine noise raises it cheaply: read it beside the images, never alone.
    """
    from scipy.ndimage import laplace

    def energy(img: np.ndarray) -> float:
        y = img[..., :3].astype(np.float64).mean(axis=2) / 255.0  # (H, W) luma in [0, 1]
        if crop_border:
            y = y[crop_border:-crop_border, crop_border:-crop_border]
        return float(np.mean(laplace(y) ** 2))

    if sr.shape != hr.shape:
        raise ValueError(f"high_frequency_ratio: SR {sr.shape} and HR {hr.shape} differ in size")
    return energy(sr) / max(energy(hr), 1e-12)


def niqe(img, *, crop_border: int = 0) -> torch.Tensor:
    """NIQE of one image or a batch (no reference; lower = more natural): :func:`srgan_lib.plumbing.niqe.niqe_luma`
    of its Y.

    Y is the "standard" flavour's, MATLAB ``rgb2ycbcr`` on 8-bit RGB rounded to integers
    (:func:`srgan_lib.metrics.rgb_to_y_bt601`; a gray image is used as it is), which is what the MATLAB reference
    values and the PIRM 2018 challenge used. ``crop_border`` pixels are removed from every side after the
    conversion: 0 (the default) scores the whole image, as MATLAB's ``niqe``; PIRM 2018 removed 4 at x4 (the
    scale, as for PSNR), which :mod:`srgan_lib.plumbing.evaluate` does too.

    Args:
        img: as :func:`srgan_lib.metrics.psnr` takes one image: ``(N, C, H, W)`` or ``(C, H, W)`` floats in
            [0, 1] or uint8, or a numpy ``(H, W, 3)`` / ``(H, W)`` image.
        crop_border: border strip to ignore.

    Returns:
        float64 tensor ``(N,)`` per image, or 0-d for a single image.

    Raises:
        ValueError: bad shapes, dtypes or values (as :func:`srgan_lib.metrics.psnr`), or an image smaller than
            one 96 x 96 patch after the crop.
    """
    if isinstance(img, (torch.Tensor, np.ndarray)):
        check_unit_range(img, "img")
    if not isinstance(crop_border, (int, np.integer)) or crop_border < 0:
        raise ValueError(f"crop_border must be a non-negative integer, got {crop_border!r}")
    q, single = to_uint8_batch(img, "img")  # (N, C, H, W) uint8
    h, w = q.shape[-2:]
    if min(h, w) - 2 * crop_border < PATCH:
        raise ValueError(f"NIQE needs at least one {PATCH}x{PATCH} patch: the image is {w}x{h} (width x height), "
                         f"{w - 2 * crop_border}x{h - 2 * crop_border} after crop_border={crop_border}")
    if crop_border:
        q = q[..., crop_border:-crop_border, crop_border:-crop_border]  # (N, C, H-2c, W-2c)
    y = rgb_to_y_bt601(q.cpu())  # (N, H', W') float64 integer levels
    scores = torch.tensor([niqe_luma(p.numpy()) for p in y], dtype=torch.float64)  # (N,)
    return scores[0] if single else scores
