"""Tests for srgan_lib.metrics: PSNR / SSIM in the "standard" and the "paper" flavours (section 3.1).

Oracles: scikit-image's metrics on the same Y; SelfExSR's published per-image bicubic PSNR/SSIM
(MATLAB); the paper's Table 2 (the parts of the daala port are checked against daala's C tools in
test_daala.py). The detail measures are tested in test_diagnostics.py.
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srgan_lib.plumbing import daala

from srgan_lib.metrics import FLAVOURS, evaluate_pair, psnr, rgb_to_y_bt601, ssim
from srgan_lib.resize import imresize_matlab, modcrop


#: The paper's Table 2 (x4), PSNR / SSIM as printed.
TABLE2 = {
    "Set5": {"bicubic": (28.43, 0.8211), "nearest": (26.26, 0.7552)},
    "Set14": {"bicubic": (25.99, 0.7486), "nearest": (24.64, 0.7100)},
    "BSD100": {"bicubic": (25.94, 0.6935), "nearest": (25.02, 0.6606)},
}



def _read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)  # L -> (H, W), RGB -> (H, W, 3)


@functools.lru_cache(maxsize=None)
def _pairs(root: Path, name: str) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(file, HR modcropped, SelfExSR LR, MATLAB bicubic x4 of that LR) for every image of a set."""
    out = []
    for f in sorted((root / "SelfExSR_x4_LR" / name).glob("*.png")):
        lr = _read(f)
        out.append((f.name, modcrop(_read(root / name / f.name), 4), lr, imresize_matlab(lr, 4.0)))
    return out


def _nearest(lr: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1)  # pixel replication = MATLAB 'nearest' at x4


def _photo_pair(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A real photograph (scikit-image sample) and its MATLAB bicubic x4 reconstruction."""
    hr = modcrop(getattr(skimage.data, name)(), 4)
    return imresize_matlab(imresize_matlab(hr, 0.25), 4.0), hr


# ---------------------------------------------------------------------------------------------------
# "standard" flavour
# ---------------------------------------------------------------------------------------------------
def test_bt601_luma_is_matlab_rgb2ycbcr_rounded() -> None:
    img = skimage.data.astronaut()
    ours = rgb_to_y_bt601(torch.from_numpy(img).permute(2, 0, 1)[None])[0].numpy()
    exact = rgb2ycbcr(img)[..., 0]  # scikit-image: same BT.601 matrix, unrounded
    assert np.abs(ours - exact).max() <= 0.5 + 1e-9
    assert np.array_equal(ours, np.round(ours))


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_standard_matches_scikit_image(name: str) -> None:
    sr, hr = _photo_pair(name)
    got = evaluate_pair(sr, hr, crop_border=4)
    ya, yb = (rgb_to_y_bt601(torch.from_numpy(x).permute(2, 0, 1)[None])[0, 4:-4, 4:-4].numpy() for x in (sr, hr))
    # Same Gaussian (11 taps: truncate 3.5 * sigma 1.5), population covariance; scikit-image averages
    # the map after cropping (11 - 1) / 2 pixels, i.e. exactly the "valid" region.
    want_ssim = structural_similarity(
        ya, yb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    want_psnr = peak_signal_noise_ratio(yb, ya, data_range=255)
    assert abs(float(got["ssim"]) - want_ssim) < 1e-4
    assert abs(float(got["psnr"]) - want_psnr) < 1e-4
    assert abs(float(got["ssim"]) - want_ssim) < 1e-10  # in fact equal to float precision


@pytest.mark.shared
@pytest.mark.parametrize("name", ["Set5", "Set14", "BSD100"])
def test_standard_reproduces_selfexsr_table(selfexsr_datasets: Path, name: str) -> None:
    """SelfExSR's MATLAB numbers (6 decimals) for every image, bridge.png (gray) included."""
    with open(selfexsr_datasets / "SelfExSR_x4_LR" / "selfexsr_bicubic_metrics.tsv", newline="") as fh:
        table = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t") if r["dataset"] == name}
    pairs = _pairs(selfexsr_datasets, name)
    assert len(pairs) == len(table) > 0
    for file, hr, _, sr in pairs:
        got = evaluate_pair(sr, hr, crop_border=4, flavour="standard")
        row = table[file]
        assert abs(float(got["psnr"]) - float(row["bicubic_psnr_selfexsr"])) <= 5e-7 + 1e-9, file
        assert abs(float(got["ssim"]) - float(row["bicubic_ssim_selfexsr"])) <= 5e-7 + 1e-9, file


# ---------------------------------------------------------------------------------------------------
# "paper" flavour: the twelve Table 2 numbers
# ---------------------------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("name", ["Set5", "Set14", pytest.param("BSD100", marks=pytest.mark.slow)])
def test_paper_flavour_reproduces_table2(selfexsr_datasets: Path, name: str) -> None:
    scores = {"bicubic": [], "nearest": []}
    for _, hr, lr, bicubic in _pairs(selfexsr_datasets, name):
        y_hr = daala.daala_luma(hr[4:-4, 4:-4])  # shared by both rows
        for method, sr in (("bicubic", bicubic), ("nearest", _nearest(lr))):
            y_sr = daala.daala_luma(sr[4:-4, 4:-4])
            scores[method].append((daala.psnr_daala(y_sr, y_hr), daala.ssim_daala(y_sr, y_hr)))
    for method, (paper_psnr, paper_ssim) in TABLE2[name].items():
        mean_psnr, mean_ssim = np.mean(scores[method], axis=0)
        assert f"{mean_psnr:.2f}" == f"{paper_psnr:.2f}", (name, method, mean_psnr)
        assert f"{mean_ssim:.4f}" == f"{paper_ssim:.4f}", (name, method, mean_ssim)


@pytest.mark.shared
def test_paper_flavour_public_api_on_one_image(selfexsr_datasets: Path) -> None:
    """The shortcut above equals the public API (crop, then daala conversion), on a gray image too."""
    for file, hr, _, sr in _pairs(selfexsr_datasets, "Set14")[2:4]:  # bridge.png (gray), coastguard.png
        got = evaluate_pair(sr, hr, flavour="paper")
        y_sr, y_hr = (daala.daala_luma(x[4:-4, 4:-4]) for x in (sr, hr))
        assert float(got["psnr"]) == daala.psnr_daala(y_sr, y_hr), file
        assert float(got["ssim"]) == daala.ssim_daala(y_sr, y_hr), file



# ---------------------------------------------------------------------------------------------------
# Shapes, batches, input types, identities, errors
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_batched_equals_per_image_and_input_types_agree(flavour: str) -> None:
    pairs = [_photo_pair(n) for n in ("astronaut", "coffee")]
    pairs = [(sr[:96, :120], hr[:96, :120]) for sr, hr in pairs]  # same size, so they batch
    as_t = lambda x: torch.from_numpy(x).permute(2, 0, 1).float() / 255  # noqa: E731  # (3, H, W)
    sr_b = torch.stack([as_t(sr) for sr, _ in pairs])  # (2, 3, 96, 120)
    hr_b = torch.stack([as_t(hr) for _, hr in pairs])
    batch = evaluate_pair(sr_b, hr_b, flavour=flavour)
    assert batch["psnr"].shape == (2,) and batch["ssim"].shape == (2,)
    for i, (sr, hr) in enumerate(pairs):
        one = psnr(sr, hr, flavour=flavour)  # uint8 numpy (H, W, 3)
        assert one.ndim == 0
        assert float(one) == pytest.approx(float(batch["psnr"][i]), abs=1e-12)
        want = pytest.approx(float(batch["ssim"][i]), abs=1e-12)
        assert float(ssim(as_t(sr), as_t(hr), flavour=flavour)) == want
        u8 = torch.from_numpy(sr).permute(2, 0, 1)  # uint8 (3, H, W)
        assert float(ssim(u8, as_t(hr), flavour=flavour)) == want


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_identical_images_give_inf_and_one(flavour: str) -> None:
    img = skimage.data.chelsea()[:64, :80]
    out = evaluate_pair(img, img.copy(), flavour=flavour)
    assert math.isinf(float(out["psnr"])) and float(out["psnr"]) > 0
    assert float(out["ssim"]) == pytest.approx(1.0, abs=1e-12)
    worse = np.clip(img.astype(int) + 8, 0, 255).astype(np.uint8)
    assert 0 < float(psnr(worse, img, flavour=flavour)) < 40
    assert float(ssim(worse, img, flavour=flavour)) < 1


def test_gray_is_used_directly_in_standard_and_expanded_in_paper() -> None:
    sr, hr = (x[..., 0] for x in _photo_pair("chelsea"))  # (H, W) uint8
    std = evaluate_pair(sr, hr)
    y = lambda x: torch.from_numpy(x.astype(np.float64))[4:-4, 4:-4]  # noqa: E731
    want = 10 * math.log10(255**2 / float((y(sr) - y(hr)).pow(2).mean()))
    assert float(std["psnr"]) == pytest.approx(want, abs=1e-10)
    rgb = lambda x: np.stack([x] * 3, axis=2)  # noqa: E731
    assert float(psnr(sr, hr, flavour="paper")) == float(psnr(rgb(sr), rgb(hr), flavour="paper"))


def test_crop_border_changes_the_region() -> None:
    sr, hr = _photo_pair("coffee")
    a = float(psnr(sr, hr, crop_border=0))
    b = float(psnr(sr, hr, crop_border=4))
    assert a != b
    c = float(psnr(sr[8:-8, 8:-8], hr[8:-8, 8:-8], crop_border=0))
    assert float(psnr(sr, hr, crop_border=8)) == pytest.approx(c, abs=1e-12)


def test_clear_errors() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="flavour"):
        psnr(img, img, flavour="matlab")
    with pytest.raises(ValueError, match="shapes differ"):
        ssim(img, img[:16])
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(torch.zeros(2, 3, 32, 32), torch.zeros(3, 3, 32, 32))
    with pytest.raises(ValueError, match="crop_border"):
        psnr(img, img, crop_border=-1)
    with pytest.raises(ValueError, match="too small"):
        psnr(img, img, crop_border=16)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(img[:16, :16], img[:16, :16], crop_border=4)
    with pytest.raises(ValueError, match="channels"):
        psnr(torch.zeros(2, 4, 8, 8), torch.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match="dtype"):
        psnr(torch.zeros(3, 8, 8, dtype=torch.int32), torch.zeros(3, 8, 8, dtype=torch.int32))
    with pytest.raises(ValueError, match="list"):
        psnr([[0]], [[0]])


@pytest.mark.parametrize("fn", [psnr, ssim, lambda a, b: evaluate_pair(a, b)["psnr"]])
def test_non_finite_and_out_of_range_floats_are_refused(fn) -> None:
    """Issue 17, case 10: the PSNR of a NaN image was 6.96 dB (the NaN clamped into a plausible score),
    and 0-255 or [-1, 1] floats were silently saturated."""
    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.random((3, 32, 32)))
    nan = hr.clone()
    nan[0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match=r"sr: 1 value\(s\) are NaN or infinite"):
        fn(nan, hr)
    with pytest.raises(ValueError, match=r"hr: float values from .* \(they look like 0-255 levels"):
        fn(hr, hr * 255)
    with pytest.raises(ValueError, match=r"sr: .*generator's \[-1, 1\] range"):
        fn(hr * 2 - 1, hr)
    with pytest.raises(ValueError, match="sr: 1 value"):
        fn(np.where(np.arange(32 * 32 * 3).reshape(32, 32, 3) == 7, np.inf, 0.5), hr.permute(1, 2, 0).numpy())
    # in range (within half an 8-bit level) is measured as before: the same as its uint8 quantisation
    slight = (hr + 0.5 / 255 * 0.99).clamp(max=1 + 0.5 / 255 * 0.99)
    as_uint8 = (slight.clamp(0, 1) * 255 + 0.5).floor().to(torch.uint8)
    assert float(fn(slight, hr)) == float(fn(as_uint8, hr))
