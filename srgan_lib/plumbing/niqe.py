"""Plumbing, not part of the lesson: NIQE, a no-reference "naturalness" score, the one that stands beside the MOS of section 3.3 in later SR work.

Mittal, Soundararajan and Bovik, "Making a 'Completely Blind' Image Quality Analyzer", IEEE Signal Processing
Letters 20(3), 209-212, 2013. The SRGAN paper ranks its methods by a mean opinion score (section 3.3, Table 2)
because PSNR and SSIM prefer blur; a MOS needs people. NIQE needs neither people nor a reference image: it fits
a multivariate Gaussian to natural-scene statistics of the image's patches and measures how far that Gaussian
lies from one fitted to a corpus of pristine photographs. **Lower = more natural.** The PIRM 2018 SR challenge
scored perceptual quality with it (perceptual index = ((10 - Ma) + NIQE) / 2), with a 4 px border removed.

The steps, each with the subsection of the letter's section II it implements:

1. II-A, "Spatial domain NSS": mean-subtracted contrast-normalised (MSCN) coefficients
   ``I^(i, j) = (I(i, j) - mu(i, j)) / (sigma(i, j) + C)``, ``mu = sum_kl w_kl I(i+k, j+l)``,
   ``sigma = sqrt(sum_kl w_kl (I(i+k, j+l) - mu)^2)``, ``w`` a 7x7 Gaussian (sigma 7/6, the release's
   window, shipped in the parameter file), ``C = 1`` on the 0-255 scale. Borders replicate the edge pixel.
2. II-C, "Characterizing image patches": the image is cut into P x P patches, P = 96, without overlap (the release
   crops the image to whole patches first). Per patch, a generalised Gaussian ``GGD(alpha, beta)`` fitted to the
   MSCN coefficients gives 2 features, and an asymmetric GGD ``AGGD(alpha, beta_l, beta_r)`` fitted to each of the
   four neighbour products (horizontal, vertical, two diagonals; the release wraps around inside the patch) gives
   4 more each: ``alpha``, the mean ``eta = (beta_r - beta_l) Gamma(2/alpha) / Gamma(1/alpha)``, ``beta_l``,
   ``beta_r``. 18 features; the same 18 again at half resolution (MATLAB ``imresize(img, 0.5)``, bicubic with
   antialiasing, patches of 48) make 36. Fits by moment matching over ``alpha`` in 0.2:0.001:10.
   Release detail followed here: the first pair is also fitted with the AGGD estimator (which is the GGD moment
   match when the two sides have equal spread), ``beta = (beta_l + beta_r) / 2``.
3. II-D, "Multivariate Gaussian model": mean ``nu`` and covariance ``Sigma`` of the 36 features over the image's
   patches (a feature that is undefined, e.g. no negative product in a flat patch, is left out of that mean, and its
   patch out of the covariance, as MATLAB's ``nanmean``/``nancov`` do). II-B's sharpness-based patch selection is
   used only to build the pristine model, not when scoring an image: every patch counts.
4. II-E, "NIQE index": ``D = sqrt((nu_1 - nu_2)^T ((Sigma_1 + Sigma_2) / 2)^+ (nu_1 - nu_2))`` against the
   pristine model (``^+``: the pseudo-inverse, as the release).

The pristine model is the MATLAB release's ``modelparameters.mat`` (LIVE, UT Austin), as redistributed by BasicSR;
attribution in ``weights/niqe_pris_params.md``. This module is written from the letter and the release's
documented behaviour, and agrees with the release to about 1e-3 (``tests/test_niqe.py``, Set14's ``baboon``).
Closer agreement is not to be had by design: a fitted alpha moves by a whole grid step (0.001) when its moment
ratio sits near the middle of two grid values, so round-off in the filter alone (the order of the sums) moves a
score in its fourth decimal.
:func:`srgan_lib.plumbing.diagnostics.niqe` is the entry point for RGB images (the luma conversion, the border
crop, batches).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from ..resize import imresize_matlab

#: Section II-C: patch side P in pixels (the release's 96, no overlap); the second scale uses P / 2.
PATCH = 96
#: Section II-A: the constant added to sigma in the MSCN denominator (0-255 scale).
MSCN_C = 1.0
#: Section II-C: the shape parameters tried by the moment-matching fits, 0.2:0.001:10 as in the release.
ALPHAS = 0.2 + 0.001 * np.arange(9801)
#: The pristine model (``mu_pris_param`` (1, 36), ``cov_pris_param`` (36, 36), ``gaussian_window`` (7, 7)).
PARAMS_FILE = Path(__file__).resolve().parents[1] / "weights" / "niqe_pris_params.npz"
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # (rows, columns): horizontal, vertical, main and anti-diagonal


@functools.lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu (36,), cov (36, 36), window (7, 7))`` of the pristine corpus, read once from :data:`PARAMS_FILE`."""
    with np.load(PARAMS_FILE) as f:
        return f["mu_pris_param"][0].copy(), f["cov_pris_param"].copy(), f["gaussian_window"].copy()


@functools.lru_cache(maxsize=1)
def _alpha_tables() -> tuple[np.ndarray, np.ndarray]:
    """For every alpha in :data:`ALPHAS`: the ratio ``Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))`` the fit matches
    (increasing in alpha, from 0 towards 3/4) and the factor ``sqrt(Gamma(1/a) / Gamma(3/a))`` from a root mean
    square to beta. ``math.lgamma``: no SciPy at run time."""
    lg = np.array([[math.lgamma(k / a) for k in (1, 2, 3)] for a in ALPHAS])  # (9801, 3)
    return np.exp(2 * lg[:, 1] - lg[:, 0] - lg[:, 2]), np.exp(0.5 * (lg[:, 0] - lg[:, 2]))


def aggd_mean(alpha: np.ndarray, beta_l: np.ndarray, beta_r: np.ndarray) -> np.ndarray:
    """Section II-C: the mean of an AGGD, ``eta = (beta_r - beta_l) Gamma(2/alpha) / Gamma(1/alpha)``."""
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    return (beta_r - beta_l) * np.exp(lgamma(2 / alpha) - lgamma(1 / alpha))


def _correlate_replicate(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``imfilter(img, window, 'replicate')`` for the separable window ``outer(g, g)``: 2-D correlation, same size,
    edge pixels repeated outward; rows and columns filtered one after the other (2 x 7 shifted sums instead of 49,
    the same result to round-off)."""
    r = len(g) // 2
    padded = np.pad(img, r, mode="edge")  # (H + 2r, W + 2r)
    h, w = img.shape
    rows = np.zeros((h + 2 * r, w))
    for j, gj in enumerate(g):
        rows += gj * padded[:, j:j + w]  # (H + 2r, W)
    out = np.zeros((h, w))
    for i, gi in enumerate(g):
        out += gi * rows[i:i + h]  # (H, W)
    return out


def mscn(y: np.ndarray) -> np.ndarray:
    """Section II-A: the MSCN coefficients of a luma image ``(H, W)`` on the 0-255 scale, same shape.

    The window is the release's 7x7 Gaussian (:func:`pristine_model`), the outer product of its row sums. ``abs``
    guards the local variance against round-off below zero, as the release does.
    """
    g = pristine_model()[2].sum(axis=1)  # (7,): the window is outer(g, g)
    y = np.asarray(y, dtype=np.float64)
    mu = _correlate_replicate(y, g)
    sigma = np.sqrt(np.abs(_correlate_replicate(y * y, g) - mu * mu))
    return (y - mu) / (sigma + MSCN_C)


def fit_aggd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Section II-C: fit an asymmetric generalised Gaussian to each row of samples by moment matching.

    The AGGD is ``alpha / ((beta_l + beta_r) Gamma(1/alpha)) exp(-(-x / beta_l)^alpha)`` for ``x < 0`` and the same
    with ``beta_r`` and ``x`` for ``x >= 0``. With ``s_l``, ``s_r`` the root mean squares of the negative and the
    positive samples, ``g = s_l / s_r`` and ``r = mean(|x|)^2 / mean(x^2)``, alpha is the grid value whose
    ``Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a))`` is nearest to ``r (g^3 + 1)(g + 1) / (g^2 + 1)^2`` (the first on a
    tie), and ``beta = s sqrt(Gamma(1/alpha) / Gamma(3/alpha))`` on each side. For ``g = 1`` this is the symmetric
    GGD fit: ``alpha`` is ``scipy.stats.gennorm``'s shape, ``beta`` its scale.

    Args:
        x: samples along the last axis, ``(..., n)``, any leading shape (vectorised over patches).

    Returns:
        ``(alpha, beta_l, beta_r)``, each of the leading shape. A side without samples has ``beta`` NaN and, as
        in the release (MATLAB's ``min`` over NaNs), ``alpha`` = 0.2.
    """
    ratio, to_beta = _alpha_tables()
    x = np.asarray(x, dtype=np.float64)
    sq = x * x
    neg, pos = x < 0, x > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        s_l = np.sqrt(np.where(neg, sq, 0.0).sum(-1) / neg.sum(-1))  # NaN where no negative sample
        s_r = np.sqrt(np.where(pos, sq, 0.0).sum(-1) / pos.sum(-1))
        g = s_l / s_r
        r_hat = np.abs(x).mean(-1) ** 2 / sq.mean(-1)
        target = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    # Nearest grid ratio: the ratio increases with alpha, so the nearest is one of the two around the target.
    hi = np.clip(np.searchsorted(ratio, target), 1, len(ratio) - 1)
    lo = hi - 1
    idx = np.where((ratio[lo] - target) ** 2 <= (ratio[hi] - target) ** 2, lo, hi)
    idx = np.where(np.isnan(target), 0, idx)
    return ALPHAS[idx], s_l * to_beta[idx], s_r * to_beta[idx]


def patch_features(coeffs: np.ndarray, patch: int) -> np.ndarray:
    """Section II-C: the 18 features of every ``patch x patch`` block of an MSCN image, ``(n_patches, 18)``.

    ``coeffs`` is ``(H, W)`` with H and W multiples of ``patch``; patches are taken row by row. Per patch:
    ``alpha, beta`` of the MSCN coefficients, then for each neighbour product (horizontal, vertical, diagonal,
    anti-diagonal; the neighbour wraps around inside the patch, as MATLAB's ``circshift`` in the release)
    ``alpha, eta, beta_l, beta_r``.
    """
    h, w = coeffs.shape
    if h % patch or w % patch:
        raise ValueError(f"patch_features: a {w}x{h} image is not made of whole {patch}x{patch} patches")
    blocks = coeffs.reshape(h // patch, patch, w // patch, patch).swapaxes(1, 2).reshape(-1, patch, patch)  # (n, P, P)
    products = [blocks * np.roll(blocks, s, axis=(1, 2)) for s in _SHIFTS]  # 4 x (n, P, P)
    samples = np.stack([blocks, *products], axis=1).reshape(len(blocks), 5, patch * patch)  # (n, 5, P*P)
    alpha, beta_l, beta_r = fit_aggd(samples)  # each (n, 5)
    eta = aggd_mean(alpha, beta_l, beta_r)  # (n, 5)
    columns = [alpha[:, 0], (beta_l[:, 0] + beta_r[:, 0]) / 2]
    for k in range(1, 5):
        columns += [alpha[:, k], eta[:, k], beta_l[:, k], beta_r[:, k]]
    return np.stack(columns, axis=1)  # (n, 18)


def image_features(y: np.ndarray) -> np.ndarray:
    """Sections II-A and II-C at both scales: ``(n_patches, 36)`` for a luma image ``(H, W)`` on the 0-255 scale.

    The image is cropped to whole :data:`PATCH` x :data:`PATCH` patches (top-left kept), then halved with MATLAB's
    ``imresize(img, 0.5)`` (bicubic, antialiased; today's MATLAB mirrors at the border, the release's reference
    values need it), so row ``k`` holds patch ``k`` at full and at half resolution.

    Raises:
        ValueError: not a 2-D array, values not finite, or smaller than one patch in either direction.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"NIQE: expected a luma image (H, W), got shape {y.shape}")
    h, w = y.shape
    if h < PATCH or w < PATCH:
        raise ValueError(f"NIQE needs at least one {PATCH}x{PATCH} patch (and {PATCH // 2}x{PATCH // 2} at half "
                         f"scale), but the image is {w}x{h} (width x height)")
    if not np.isfinite(y).all():
        raise ValueError("NIQE: the image has NaN or infinite values")
    y = y[: h - h % PATCH, : w - w % PATCH]  # whole patches only
    full = patch_features(mscn(y), PATCH)  # (n, 18)
    half = patch_features(mscn(imresize_matlab(y, 0.5, border="mirror")), PATCH // 2)  # (n, 18)
    return np.concatenate([full, half], axis=1)  # (n, 36)


def _pinv(a: np.ndarray) -> np.ndarray:
    """MATLAB's ``pinv``: singular values below ``max(size) * eps(largest)`` are treated as zero."""
    u, s, vt = np.linalg.svd(a)
    keep = s > max(a.shape) * np.spacing(s[0])
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def mvg_distance(features: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> float:
    """Sections II-D and II-E: fit a Gaussian to ``features`` ``(n, d)`` and return its NIQE distance to
    ``N(mu, cov)``. Undefined (NaN) features are skipped as MATLAB's ``nanmean``/``nancov`` skip them; one complete
    patch gives a zero covariance (the sample covariance of a single patch is undefined)."""
    complete = features[~np.isnan(features).any(axis=1)]
    if len(complete) == 0:
        raise ValueError("NIQE is undefined for this image: no patch has both positive and negative MSCN values "
                         "and neighbour products (a flat or nearly flat image?)")
    with np.errstate(invalid="ignore"):
        nu = np.nanmean(features, axis=0)  # (d,)
    sigma = np.cov(complete, rowvar=False) if len(complete) > 1 else np.zeros_like(cov)  # (d, d)
    diff = mu - nu
    return float(np.sqrt(max(diff @ _pinv((cov + sigma) / 2) @ diff, 0.0)))


def niqe_luma(y: np.ndarray) -> float:
    """NIQE of one luma image ``(H, W)`` in grey levels 0-255 (lower = more natural).

    Give it integer levels, as the release's uint8 images have (:func:`srgan_lib.plumbing.diagnostics.niqe` rounds the
    Y of an RGB image as MATLAB's ``rgb2ycbcr`` does): the +1 in the MSCN denominator is not scale-free, so unrounded
    levels give another score. Any border crop is the caller's.
    """
    mu, cov, _ = pristine_model()
    return mvg_distance(image_features(y), mu, cov)
