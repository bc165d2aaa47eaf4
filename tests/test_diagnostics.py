"""Tests for srgan_lib.plumbing.diagnostics: the grid-artifact score and the fine-detail ratio (NIQE: test_niqe.py).

Oracles: the error's mean tile computed in the image domain (Parseval), closed forms, and the shipped weights on
held-out photographs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from srgan_lib.plumbing import diagnostics
from srgan_lib.resize import modcrop


# =====================================================================================================
# grid_artifact: the periodic error at the pixel-shuffle period
# =====================================================================================================
def _flat_image(size: int = 128, seed: int = 0) -> np.ndarray:
    """A smooth image in the middle of the range, so that patterns added to it are never clipped."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    base = 128 + 40 * np.sin(3 * x + 2 * y)[..., None] + rng.integers(-20, 21, (1, 1, 3))
    return base.round().astype(np.uint8)  # (size, size, 3)


def _pattern(period: int, size: int = 128, seed: int = 1) -> np.ndarray:
    """A zero-mean random ``period x period`` tile repeated over the image, unit RMS, same for R, G, B."""
    tile = np.random.default_rng(seed).standard_normal((period, period))
    tile = (tile - tile.mean()) / np.sqrt(((tile - tile.mean()) ** 2).mean())
    reps = -(-size // period)
    return np.tile(tile, (reps, reps))[:size, :size, None].repeat(3, axis=2)  # (size, size, 3)


def _add(hr: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    return np.clip(hr + np.round(pattern), 0, 255).astype(np.uint8)


def _tile_mean_rms(sr: np.ndarray, hr: np.ndarray, period: int = 4, crop: int = 4) -> float:
    """Oracle in the image domain: the mean ``period x period`` tile of the error, minus its mean, RMS over
    pixels and channels."""
    err = sr.astype(np.float64)[crop:-crop, crop:-crop] - hr.astype(np.float64)[crop:-crop, crop:-crop]
    h, w = (err.shape[0] // period) * period, (err.shape[1] // period) * period
    tiles = err[:h, :w].reshape(h // period, period, w // period, period, -1).mean(axis=(0, 2))  # (p, p, C)
    tiles -= tiles.mean(axis=(0, 1))
    return float(np.sqrt((tiles**2).mean()))


def test_grid_artifact_is_zero_for_a_clean_result_and_a_colour_shift() -> None:
    hr = _flat_image()
    assert float(diagnostics.grid_artifact(hr, hr)) == 0.0
    assert float(diagnostics.grid_artifact(_add(hr, np.full(hr.shape, 7.0)), hr)) == pytest.approx(0.0, abs=1e-9)


def test_grid_artifact_equals_the_mean_tile_of_the_error() -> None:
    """Parseval: the spectral peaks at multiples of N/period are the error's mean tile."""
    hr = _flat_image(size=100)
    rng = np.random.default_rng(3)
    sr = _add(hr, rng.normal(0, 6, hr.shape) + 3 * _pattern(4, 100))
    assert float(diagnostics.grid_artifact(sr, hr)) == pytest.approx(_tile_mean_rms(sr, hr), rel=1e-9)
    # batches, float tensors, and another period
    t_sr = torch.from_numpy(sr).permute(2, 0, 1)[None].repeat(2, 1, 1, 1).float() / 255
    t_hr = torch.from_numpy(hr).permute(2, 0, 1)[None].repeat(2, 1, 1, 1).float() / 255
    batch = diagnostics.grid_artifact(t_sr, t_hr)
    assert batch.shape == (2,) and torch.allclose(batch, torch.full((2,), _tile_mean_rms(sr, hr), dtype=torch.float64))
    assert float(diagnostics.grid_artifact(sr, hr, period=2)) == pytest.approx(_tile_mean_rms(sr, hr, period=2), rel=1e-9)


def test_grid_artifact_grows_with_the_amplitude_of_a_period_4_pattern() -> None:
    hr = _flat_image()
    scores = [float(diagnostics.grid_artifact(_add(hr, a * _pattern(4)), hr)) for a in (0, 1, 2, 4, 8, 16)]
    assert scores[0] == 0.0
    assert all(b > a for a, b in zip(scores, scores[1:]))
    assert scores[-1] == pytest.approx(16, rel=0.05)  # the pattern's RMS, in grey levels (up to rounding)
    checkerboard = 5.0 * (np.indices(hr.shape[:2]).sum(axis=0) % 2 * 2 - 1)[..., None]  # period 2 is period 4 too
    assert float(diagnostics.grid_artifact(_add(hr, checkerboard), hr)) == pytest.approx(5.0, rel=1e-6)


def test_grid_artifact_hardly_counts_other_periods_or_noise_of_the_same_energy() -> None:
    hr = _flat_image()
    four = float(diagnostics.grid_artifact(_add(hr, 8 * _pattern(4)), hr))
    five = float(diagnostics.grid_artifact(_add(hr, 8 * _pattern(5)), hr))  # 120 px after the crop: 24 periods
    noisy = _add(hr, np.random.default_rng(5).normal(0, 8, hr.shape))
    noise = float(diagnostics.grid_artifact(noisy, hr))
    assert five < 0.05 * four and noise < 0.1 * four
    floor = 8 * math.sqrt((4**2 - 1) / 120**2)  # the noise floor the docstring gives
    assert 0.5 * floor < noise < 2 * floor


def test_grid_artifact_gray_and_errors() -> None:
    hr = _flat_image()[..., 0]
    sr = _add(hr[..., None], 4 * _pattern(4)[..., :1])[..., 0]
    assert float(diagnostics.grid_artifact(sr, hr)) == pytest.approx(_tile_mean_rms(sr[..., None], hr[..., None]))
    with pytest.raises(ValueError, match="period"):
        diagnostics.grid_artifact(sr, hr, period=1)
    with pytest.raises(ValueError, match="smaller than one period"):
        diagnostics.grid_artifact(sr[:10, :10], hr[:10, :10], period=4, crop_border=4)
    with pytest.raises(ValueError, match="shapes differ"):
        diagnostics.grid_artifact(sr, hr[:64])


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_grid_artifact_ranks_a_pixel_shuffle_grid_far_above_srresnet(name: str) -> None:
    """On held-out photographs (never trained on): SRResNet's output stays near the noise floor (bicubic's
    level); the same output with the period-4 offsets of a GAN's drifting pixel-shuffle phases (each of the 16
    positions of a 4x4 cell shifted by its own +-1.5 grey levels, the size the previous shipped srgan_mse_x4
    printed: 1 to 1.5 levels here) scores several times higher; and the shipped srgan_mse_x4 scores above
    SRResNet, as its card says (a stipple of period 4 in textured regions: 0.39 against 0.25 on astronaut's crop,
    1.1 against 0.14 on coffee's)."""
    from srgan_lib.resize import matlab_lr
    from srgan_lib.plumbing.samples import load_sample
    from srgan_lib.plumbing.evaluate import bicubic_upscaler, model_upscaler
    from srgan_lib.plumbing.weights import load_generator

    hr = modcrop(load_sample(name), 4)[:128, :128]
    lr = matlab_lr(hr, 4)
    sr = {w: model_upscaler(load_generator(w), tile=None)(lr) for w in ("srresnet_x4", "srgan_mse_x4")}
    score = {w: float(diagnostics.grid_artifact(img, hr)) for w, img in sr.items()}
    bicubic = float(diagnostics.grid_artifact(bicubic_upscaler(4)(lr), hr))
    offsets = np.random.default_rng(0).choice([-1.5, 1.5], size=(4, 4, 3))  # one offset per phase and channel
    gridded = np.clip(sr["srresnet_x4"] + np.tile(offsets, (32, 32, 1)), 0, 255).round().astype(np.uint8)
    assert float(diagnostics.grid_artifact(gridded, hr)) > 4 * score["srresnet_x4"]
    assert score["srresnet_x4"] < 3 * max(bicubic, 0.1)
    assert score["srgan_mse_x4"] > 1.3 * score["srresnet_x4"]


# =====================================================================================================
# high_frequency_ratio: fine-detail energy relative to the original
# =====================================================================================================
def test_high_frequency_ratio():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert diagnostics.high_frequency_ratio(hr, hr) == pytest.approx(1.0)
    flat = np.full_like(hr, 100)
    assert diagnostics.high_frequency_ratio(flat, hr) == pytest.approx(0.0)
