"""Tests for srgan_lib.resize: the paper's bicubic degradation (sections 3.1, 3.2).

Oracles: the LR PNGs SelfExSR published (made with MATLAB's imresize; the paper's test inputs), a slow
dense-matrix re-derivation of the MATLAB recipe written independently here, and torch's own
antialiased bicubic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from srgan_lib.resize import (
    BORDER_RING,
    downscale_patches,
    downscale_torch,
    imresize_matlab,
    modcrop,
    upscale_bicubic_torch,
)

SETS = ("Set5", "Set14", "BSD100")



def _read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)  # mode L -> (H, W), RGB -> (H, W, 3)


# ---------------------------------------------------------------------------------------------------
# The published LR images, bit for bit
# ---------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("name", SETS)
def test_reproduces_selfexsr_lr_bit_exactly(selfexsr_datasets: Path, name: str) -> None:
    files = sorted((selfexsr_datasets / "SelfExSR_x4_LR" / name).glob("*.png"))
    assert len(files) == {"Set5": 5, "Set14": 14, "BSD100": 100}[name]
    for f in files:
        lr = _read(f)
        hr = modcrop(_read(selfexsr_datasets / name / f.name), 4)
        # bridge.png is 8-bit gray in both folders: resized as a single plane, like MATLAB does.
        assert lr.ndim == hr.ndim, f.name
        out = imresize_matlab(hr, 0.25)
        assert out.dtype == np.uint8 and out.shape == lr.shape, f.name
        assert np.array_equal(out, lr), f"{name}/{f.name}: {(out != lr).sum()} pixels differ"


# ---------------------------------------------------------------------------------------------------
# An independent, slow re-derivation of the recipe (paper-metrics.md step 2)
# ---------------------------------------------------------------------------------------------------
def _keys(x: float) -> float:
    x = abs(x)
    if x <= 1:
        return 1.5 * x**3 - 2.5 * x**2 + 1
    if x <= 2:
        return -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2
    return 0.0


def _matrix(n_in: int, n_out: int, s: float) -> np.ndarray:
    """(n_out, n_in) resampling matrix built pixel by pixel from the definition."""
    a = np.zeros((n_out, n_in))
    stretch = min(s, 1.0)  # shrinking widens the kernel by 1/s (antialiasing)
    for i in range(1, n_out + 1):
        u = i / s + 0.5 * (1 - 1 / s)
        reach = 2 / stretch
        row = np.zeros(n_in)
        for p in range(math.floor(u - reach) - 1, math.ceil(u + reach) + 2):
            wgt = stretch * _keys(stretch * (u - p))
            row[min(max(p, 1), n_in) - 1] += wgt  # out-of-range taps clamp to the edge pixel
        a[i - 1] = row / row.sum()
    return a


def _reference(img: np.ndarray, s: float) -> np.ndarray:
    h, w = img.shape[:2]
    ah = _matrix(h, math.ceil(s * h), s)
    aw = _matrix(w, math.ceil(s * w), s)
    x = img.astype(np.float64)
    rows = lambda m: np.einsum("oi,i...->o...", ah, m)  # noqa: E731
    cols = lambda m: np.einsum("oj,ij...->io...", aw, m)  # noqa: E731
    if img.dtype != np.uint8:
        return cols(rows(x))
    rnd = lambda m: np.clip(np.floor(m + 0.5), 0, 255)  # noqa: E731  # values >= 0 after the clip
    return rnd(cols(rnd(rows(x)))).astype(np.uint8)  # same scale both ways: rows first


def _rounding_ties(img: np.ndarray, s: float) -> np.ndarray:
    """Output pixels whose uint8 value rests on a rounding tie: a value within 1e-9 of k + 1/2 after the
    row pass (and every output it feeds) or after the column pass. There the reference and the library
    sum the same terms in a different order, and the last bit decides which way the half rounds."""
    h, w = img.shape[:2]
    ah, aw = _matrix(h, math.ceil(s * h), s), _matrix(w, math.ceil(s * w), s)
    near_half = lambda m: np.abs(m - np.floor(m) - 0.5) < 1e-9  # noqa: E731
    first = np.einsum("oi,i...->o...", ah, img.astype(np.float64))
    rounded = np.clip(np.floor(first + 0.5), 0, 255)
    fed = np.einsum("oj,ij...->io...", np.abs(aw), near_half(first).astype(np.float64)) > 0
    second = np.einsum("oj,ij...->io...", aw, rounded)
    return fed | near_half(second)


scales = st.sampled_from([0.25, 0.5, 1 / 3, 0.3, 0.75, 1.5, 2.0, 3.0, 4.0])


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    c=st.sampled_from([None, 1, 3]),
    s=scales,
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_slow_reference(h: int, w: int, c: int | None, s: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (h, w) if c is None else (h, w, c)
    img8 = rng.integers(0, 256, shape, dtype=np.uint8)
    out8 = imresize_matlab(img8, s)
    assert out8.shape == (math.ceil(s * h), math.ceil(s * w)) + shape[2:]
    diff = np.abs(out8.astype(int) - _reference(img8, s).astype(int))
    ties = _rounding_ties(img8, s)
    assert not diff[~ties].any() and diff.max() <= 1  # equal, but for the last bit of an exact half
    imgf = rng.random(shape)
    np.testing.assert_allclose(imresize_matlab(imgf, s), _reference(imgf, s), rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 300), w=st.integers(1, 300), s=scales)
def test_output_size_is_ceil(h: int, w: int, s: float) -> None:
    out = imresize_matlab(np.zeros((h, w, 3), np.uint8), s)
    assert out.shape == (math.ceil(s * h), math.ceil(s * w), 3)


def test_dimension_with_smaller_scale_goes_first() -> None:
    # Shrink rows by 4 and stretch columns by 2: rows must go first (it changes uint8 rounding).
    img = np.random.default_rng(0).integers(0, 256, (24, 10), dtype=np.uint8)
    out = imresize_matlab(img, output_shape=(6, 20))
    ah, aw = _matrix(24, 6, 0.25), _matrix(10, 20, 2.0)
    rnd = lambda m: np.clip(np.floor(m + 0.5), 0, 255)  # noqa: E731
    rows_first = rnd(rnd(ah @ img) @ aw.T).astype(np.uint8)
    assert np.array_equal(out, rows_first)


def test_mirror_border_changes_only_the_outer_ring() -> None:
    hr = modcrop(skimage.data.astronaut(), 4)
    a = imresize_matlab(hr, 0.25).astype(int)
    b = imresize_matlab(hr, 0.25, border="mirror").astype(int)
    assert np.array_equal(a[2:-2, 2:-2], b[2:-2, 2:-2])
    assert (a != b).any()


def test_constant_image_stays_constant_and_uint8_saturates() -> None:
    flat = np.full((17, 13, 3), 200, np.uint8)
    assert np.array_equal(imresize_matlab(flat, 0.25), np.full((5, 4, 3), 200, np.uint8))
    edge = np.zeros((16, 16), np.uint8)
    edge[:, 8:] = 255  # overshoot of the cubic lobes must saturate, not wrap
    up = imresize_matlab(edge, 4.0)
    assert up.min() == 0 and up.max() == 255


def test_bad_arguments_raise() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="exactly one"):
        imresize_matlab(img)
    with pytest.raises(ValueError, match="exactly one"):
        imresize_matlab(img, 0.5, output_shape=(4, 4))
    with pytest.raises(ValueError, match="positive"):
        imresize_matlab(img, -1.0)
    with pytest.raises(ValueError, match="shape"):
        imresize_matlab(np.zeros((2, 2, 2, 2), np.uint8), 0.5)
    with pytest.raises(ValueError, match="int16"):
        imresize_matlab(img.astype(np.int16), 0.5)
    with pytest.raises(ValueError, match="border"):
        imresize_matlab(img, 0.5, border="wrap")
    with pytest.raises(ValueError, match="tensor"):
        downscale_torch(torch.zeros(8, 8), 4)


# ---------------------------------------------------------------------------------------------------
# The fast torch path versus the MATLAB path
# ---------------------------------------------------------------------------------------------------
IMAGES = ("astronaut", "coffee", "chelsea")  # real photographs shipped with scikit-image


def _hr(name: str) -> np.ndarray:
    return modcrop(getattr(skimage.data, name)(), 4)


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1).to(torch.float64) / 255  # (3, H, W)


@pytest.mark.parametrize("name", IMAGES)
def test_torch_path_equals_matlab_inside_a_border_ring(name: str) -> None:
    hr = _hr(name)
    fast = downscale_torch(_to_tensor(hr), 4).permute(1, 2, 0).numpy()  # (h, w, 3)
    ref = np.clip(imresize_matlab(hr.astype(np.float64) / 255, 0.25), 0, 1)  # float: no rounding
    r = BORDER_RING
    diff = np.abs(fast - ref)
    assert diff[r:-r, r:-r].max() < 1e-9  # identical inside
    ring = diff.copy()
    ring[r:-r, r:-r] = 0
    assert ring.max() > 1e-3  # and measurably different on the ring (renormalised vs replicated taps)
    # The difference is largest on the outermost pixels and fades inwards.
    assert ring[r - 1].max() < ring[0].max()


@pytest.mark.parametrize("name", IMAGES)
def test_torch_path_within_one_level_of_matlab_uint8(name: str) -> None:
    hr = _hr(name)
    fast = downscale_torch(_to_tensor(hr), 4).permute(1, 2, 0).numpy()
    fast8 = np.floor(fast * 255 + 0.5).astype(int)
    matlab8 = imresize_matlab(hr, 0.25).astype(int)
    r = BORDER_RING
    d = np.abs(fast8 - matlab8)[r:-r, r:-r]
    # MATLAB rounds (and saturates) between its two passes; torch keeps floats. Beyond one level they
    # differ only where the first pass overshot [0, 255] next to saturated pixels (< 0.2 % of pixels).
    assert (d > 1).mean() < 2e-3
    assert d.max() <= 3


def test_torch_path_is_batched_and_on_unit_range() -> None:
    one = _to_tensor(_hr("astronaut"))[:, :160, :128]  # (3, 160, 128)
    hr = torch.stack([one, one.flip(-1)])  # (2, 3, 160, 128)
    lr = downscale_torch(hr.float(), 4)  # (2, 3, 40, 32)
    assert lr.shape == (2, 3, 40, 32) and lr.dtype == torch.float32
    assert lr.min() >= 0 and lr.max() <= 1
    torch.testing.assert_close(lr[1], downscale_torch(hr[1].float(), 4))
    up = upscale_bicubic_torch(lr, 4)
    assert up.shape == (2, 3, 160, 128) and up.min() >= 0 and up.max() <= 1


def test_torch_upscale_uses_a_minus_075_unless_antialiased() -> None:
    lr8 = imresize_matlab(_hr("coffee"), 0.25)
    lr = _to_tensor(lr8)
    matlab = imresize_matlab(lr8.astype(np.float64) / 255, 4.0)
    plain = F.interpolate(lr[None], scale_factor=4, mode="bicubic", align_corners=False)[0]
    aa = F.interpolate(lr[None], scale_factor=4, mode="bicubic", align_corners=False, antialias=True)[0]
    inner = (slice(8, -8), slice(8, -8))
    np.testing.assert_allclose(aa.permute(1, 2, 0).numpy()[inner], matlab[inner], atol=1e-9)  # a = -0.5
    assert np.abs(plain.permute(1, 2, 0).numpy()[inner] - matlab[inner]).max() > 0.01  # a = -0.75


def _psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """Plain BT.601 PSNR-Y with a 4 px crop, written out here so this file does not need metrics."""
    w = np.array([65.481, 128.553, 24.966]) / 255
    ya, yb = (16 + x.astype(np.float64) @ w for x in (a, b))
    mse = np.mean((ya[4:-4, 4:-4] - yb[4:-4, 4:-4]) ** 2)
    return 10 * math.log10(255**2 / mse)


def test_aliased_downscale_is_measurably_different() -> None:
    """The bicubic baseline on aliased LR loses about a dB; on the torch path it loses nothing."""
    gap_aliased, gap_torch = [], []
    for name in IMAGES:
        hr = _hr(name)
        t = _to_tensor(hr)
        lrs = {
            "matlab": imresize_matlab(hr, 0.25),
            "torch": np.floor(downscale_torch(t, 4).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8),
            "aliased": np.floor(downscale_torch(t, 4, antialias=False).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8),
        }
        p = {k: _psnr_y(imresize_matlab(v, 4.0), hr) for k, v in lrs.items()}
        gap_aliased.append(p["matlab"] - p["aliased"])
        gap_torch.append(abs(p["matlab"] - p["torch"]))
    assert min(gap_aliased) > 0.5, gap_aliased
    assert max(gap_torch) < 0.02, gap_torch


# ---------------------------------------------------------------------------------------------------
# modcrop
# ---------------------------------------------------------------------------------------------------
@given(h=st.integers(1, 40), w=st.integers(1, 40), s=st.integers(1, 8))
def test_modcrop_numpy_and_torch(h: int, w: int, s: int) -> None:
    a = np.arange(h * w * 3).reshape(h, w, 3)
    out = modcrop(a, s)
    assert out.shape == (h - h % s, w - w % s, 3)
    assert np.array_equal(out, a[: out.shape[0], : out.shape[1]])  # top-left
    t = torch.from_numpy(a).permute(2, 0, 1)[None]  # (1, 3, H, W)
    assert torch.equal(modcrop(t, s), t[..., : h - h % s, : w - w % s])
    assert modcrop(a[..., 0], s).shape == (h - h % s, w - w % s)


def test_downscale_patches_matches_interpolate() -> None:
    x = torch.rand(5, 3, 96, 96, dtype=torch.float32)
    assert (downscale_patches(x, 4) - downscale_torch(x, 4)).abs().max() < 1e-6
    x2 = torch.rand(2, 3, 24, 24, dtype=torch.float64)
    assert (downscale_patches(x2, 2) - downscale_torch(x2, 2)).abs().max() < 1e-12
    with pytest.raises(ValueError, match="multiple of the scale"):
        downscale_patches(torch.rand(1, 3, 10, 10), 4)
