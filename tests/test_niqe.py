"""srgan_lib.plumbing.niqe and diagnostics.niqe: NIQE (Mittal, Soundararajan, Bovik, IEEE SPL 2013).

Oracles: MATLAB's published value on Set14's baboon (5.7296, in ../shared); SciPy for each step on its own
(``scipy.ndimage.correlate`` for the MSCN filter, ``scipy.stats.gennorm`` samples and fits for the GGD/AGGD
moment matching, ``scipy.special.gamma`` for the AGGD mean, ``numpy.linalg.inv`` for the distance); brute force
for the nearest-ratio search; and simple images whose ranking is not in doubt (blur and noise are less natural
than the photograph).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage, special, stats

from srgan_lib.plumbing import diagnostics

from srgan_lib.plumbing import niqe
from srgan_lib.metrics import rgb_to_y_bt601
from srgan_lib.resize import imresize_matlab
from srgan_lib.plumbing.samples import load_sample

#: MATLAB R2021a, NIQE of Set14's baboon (Y of rgb2ycbcr, no crop): ../shared/reference/niqe/SOURCE.md.
MATLAB_BABOON = 5.7296
#: sha256 of the parameter file as BasicSR ships it (../shared/reference/niqe/SOURCE.md).
PARAMS_SHA256 = "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296"


def _y(rgb: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr's Y of an (H, W, 3) uint8 image, rounded to integers, as a float64 (H, W) array."""
    return rgb_to_y_bt601(torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None])[0].numpy()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A bundled photograph (no ../shared needed): astronaut, 512 x 512 RGB."""
    return load_sample("astronaut")


# ------------------------------------------------------------------------------------------------------------
# The shipped pristine model
# ------------------------------------------------------------------------------------------------------------
def test_parameter_file_is_basicsr_s_copy_and_packaged() -> None:
    assert hashlib.sha256(niqe.PARAMS_FILE.read_bytes()).hexdigest() == PARAMS_SHA256
    mu, cov, window = niqe.pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36) and window.shape == (7, 7)
    assert np.allclose(cov, cov.T) and np.linalg.eigvalsh(cov).min() > 0  # a covariance
    g = np.exp(-((np.arange(7) - 3) ** 2) / (2 * (7 / 6) ** 2))
    assert np.allclose(window, np.outer(g, g) / np.outer(g, g).sum(), atol=1e-15)  # fspecial('gaussian', 7, 7/6)
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"weights/*.npz"' in pyproject  # installed with the package
    assert niqe.PARAMS_FILE.with_suffix(".md").is_file()  # its attribution


# ------------------------------------------------------------------------------------------------------------
# Section II-A: MSCN coefficients
# ------------------------------------------------------------------------------------------------------------
def test_mscn_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 256, (23, 31)).astype(np.float64)
    w = niqe.pristine_model()[2]
    mu = ndimage.correlate(y, w, mode="nearest")  # 'nearest' = MATLAB imfilter's 'replicate'
    padded = np.pad(y, 3, mode="edge")
    # the letter's sigma, sqrt(sum_kl w_kl (I(i+k, j+l) - mu(i, j))^2), pixel by pixel
    sigma = np.sqrt(np.array([[np.sum(w * (padded[i:i + 7, j:j + 7] - mu[i, j]) ** 2) for j in range(y.shape[1])]
                              for i in range(y.shape[0])]))
    assert np.allclose(niqe.mscn(y), (y - mu) / (sigma + 1), atol=1e-9)
    assert np.allclose(niqe.mscn(np.full((20, 20), 77.0)), 0, atol=1e-12)  # flat: zero (to the window's round-off)


# ------------------------------------------------------------------------------------------------------------
# Section II-C: GGD / AGGD fits
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [0.6, 1.0, 2.0, 3.5])
def test_symmetric_fit_recovers_gennorm_parameters(shape: float) -> None:
    """Samples of scipy's generalised normal: alpha is its shape, beta its scale, on both sides."""
    x = stats.gennorm.rvs(shape, scale=0.7, size=400_000, random_state=1)
    alpha, beta_l, beta_r = niqe.fit_aggd(x)
    assert alpha == pytest.approx(shape, rel=0.04)
    assert beta_l == pytest.approx(0.7, rel=0.03) and beta_r == pytest.approx(0.7, rel=0.03)


def test_symmetric_fit_agrees_with_scipy_s_own_fit() -> None:
    """Moment matching and scipy's maximum-likelihood ``gennorm.fit`` on the same (smaller) sample."""
    x = stats.gennorm.rvs(1.3, scale=2.0, size=20_000, random_state=2)
    shape, _, scale = stats.gennorm.fit(x, floc=0)
    alpha, beta_l, beta_r = niqe.fit_aggd(x)
    assert alpha == pytest.approx(shape, abs=0.06)
    assert (beta_l + beta_r) / 2 == pytest.approx(scale, rel=0.03)


def test_asymmetric_fit_recovers_both_sides_and_the_mean() -> None:
    """An AGGD sample: |gennorm| magnitudes, scaled by beta_l on the left and beta_r on the right, each side with
    probability proportional to its beta (the AGGD's mass on a side)."""
    z = np.abs(stats.gennorm.rvs(1.5, size=400_000, random_state=3))
    left = np.random.default_rng(3).random(z.size) < 0.4 / (0.4 + 1.1)
    x = np.where(left, -0.4 * z, 1.1 * z)
    alpha, beta_l, beta_r = niqe.fit_aggd(x)
    assert alpha == pytest.approx(1.5, rel=0.04)
    assert beta_l == pytest.approx(0.4, rel=0.03) and beta_r == pytest.approx(1.1, rel=0.03)
    eta = niqe.aggd_mean(alpha, beta_l, beta_r)
    assert eta == pytest.approx((beta_r - beta_l) * special.gamma(2 / alpha) / special.gamma(1 / alpha), rel=1e-12)
    assert eta == pytest.approx(x.mean(), abs=0.01)  # the AGGD's mean is the sample's


def test_fit_picks_the_nearest_grid_ratio_like_a_brute_force_search() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_t(df=rng.uniform(2.5, 30, size=(300, 1)), size=(300, 500)) + rng.normal(0, 0.3, (300, 1))
    alpha, _, _ = niqe.fit_aggd(x)  # (300,): vectorised over rows
    a = niqe.ALPHAS
    ratio = special.gamma(2 / a) ** 2 / (special.gamma(1 / a) * special.gamma(3 / a))  # (9801,), with scipy
    want = []
    for row in x:
        g = np.sqrt(np.mean(row[row < 0] ** 2)) / np.sqrt(np.mean(row[row > 0] ** 2))
        r = np.mean(np.abs(row)) ** 2 / np.mean(row**2) * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
        want.append(a[np.argmin((ratio - r) ** 2)])
    assert np.array_equal(alpha, want)


def test_fit_of_a_one_sided_sample_follows_the_release() -> None:
    x = np.abs(np.random.default_rng(5).normal(size=1000))  # no negative sample: the left side is undefined
    alpha, beta_l, beta_r = niqe.fit_aggd(x)
    assert alpha == 0.2 and np.isnan(beta_l)  # MATLAB's min over NaNs returns the first alpha
    assert beta_r == pytest.approx(np.sqrt(np.mean(x**2)) * math.sqrt(math.gamma(5) / math.gamma(15)), rel=1e-12)


# ------------------------------------------------------------------------------------------------------------
# Patches, the two scales and the distance
# ------------------------------------------------------------------------------------------------------------
def test_patch_features_are_per_patch_row_by_row_with_wrap_around_neighbours() -> None:
    rng = np.random.default_rng(6)
    m = rng.laplace(size=(2 * 48, 3 * 48)) * np.linspace(0.5, 1.5, 3 * 48)  # patches with different spreads
    f = niqe.patch_features(m, 48)
    assert f.shape == (6, 18)  # section II-C: GGD (2) + 4 orientations x AGGD (4)
    for k in range(6):
        b = m[48 * (k // 3):48 * (k // 3 + 1), 48 * (k % 3):48 * (k % 3 + 1)]
        assert np.array_equal(f[k], niqe.patch_features(b, 48)[0])  # patch k alone gives row k
    b = m[:48, :48]
    horizontal = b * np.concatenate([b[:, -1:], b[:, :-1]], axis=1)  # left neighbour, wrapping inside the patch
    anti = b * np.roll(np.roll(b, 1, axis=0), -1, axis=1)  # circshift(b, [1 -1])
    for cols, prod in ((slice(2, 6), horizontal), (slice(14, 18), anti)):
        a, bl, br = niqe.fit_aggd(prod.ravel())
        assert np.allclose(f[0, cols], [a, niqe.aggd_mean(a, bl, br), bl, br])
    with pytest.raises(ValueError, match="whole 48x48 patches"):
        niqe.patch_features(m[:50], 48)


def test_image_features_use_whole_patches_and_matlab_s_half_scale() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 256, (200, 300)).astype(np.float64)
    f = niqe.image_features(y)
    assert f.shape == (2 * 3, 36)  # 200 x 300 -> 192 x 288: 2 x 3 patches
    crop = y[:192, :288]
    assert np.array_equal(f[:, :18], niqe.patch_features(niqe.mscn(crop), 96))
    half = imresize_matlab(crop, 0.5, border="mirror")  # (96, 144)
    assert np.array_equal(f[:, 18:], niqe.patch_features(niqe.mscn(half), 48))


def test_mvg_distance_is_the_paper_s_formula_and_skips_undefined_features() -> None:
    rng = np.random.default_rng(8)
    mu, cov = rng.normal(size=4), np.cov(rng.normal(size=(50, 4)), rowvar=False)
    feats = rng.normal(1.0, 2.0, size=(30, 4))
    d = mu - feats.mean(0)
    want = math.sqrt(d @ np.linalg.inv((cov + np.cov(feats, rowvar=False)) / 2) @ d)
    assert niqe.mvg_distance(feats, mu, cov) == pytest.approx(want, rel=1e-10)
    with_nan = np.vstack([feats, [np.nan, 5.0, 5.0, 5.0]])  # nanmean uses the row, nancov does not
    d = mu - np.nanmean(with_nan, 0)
    want = math.sqrt(d @ np.linalg.inv((cov + np.cov(feats, rowvar=False)) / 2) @ d)
    assert niqe.mvg_distance(with_nan, mu, cov) == pytest.approx(want, rel=1e-10)
    assert niqe.mvg_distance(np.tile(mu, (3, 1)), mu, cov) == pytest.approx(0, abs=1e-12)  # the pristine mean
    assert niqe.mvg_distance(mu[None] + 1, mu, cov) == pytest.approx(math.sqrt(np.ones(4) @ np.linalg.inv(cov / 2)
                                                                               @ np.ones(4)))  # one patch
    with pytest.raises(ValueError, match="flat"):
        niqe.mvg_distance(np.full((3, 4), np.nan), mu, cov)


# ------------------------------------------------------------------------------------------------------------
# The score
# ------------------------------------------------------------------------------------------------------------
def test_baboon_matches_matlab(shared_datasets: Path) -> None:
    path = shared_datasets / "Set14" / "baboon.png"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    got = float(diagnostics.niqe(rgb))
    assert got == pytest.approx(MATLAB_BABOON, abs=1e-3)
    assert niqe.niqe_luma(_y(rgb)) == got


def test_baboon_needs_the_mirrored_half_scale(shared_datasets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The older imresize (edge pixels replicated) moves baboon by 0.01: the MATLAB check sees that detail."""
    path = shared_datasets / "Set14" / "baboon.png"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with Image.open(path) as im:
        y = _y(np.asarray(im.convert("RGB")))
    monkeypatch.setattr(niqe, "imresize_matlab", lambda img, s, border: imresize_matlab(img, s, border="replicate"))
    assert abs(niqe.niqe_luma(y) - MATLAB_BABOON) > 5e-3


def test_blur_and_noise_score_worse_than_the_photograph(photo: np.ndarray) -> None:
    rng = np.random.default_rng(9)
    smooth = np.stack([ndimage.gaussian_filter(photo[..., c].astype(float), 4) for c in range(3)], -1)
    noise = rng.integers(0, 256, photo.shape, dtype=np.uint8)
    grainy = np.clip(photo + rng.normal(0, 25, photo.shape), 0, 255)
    scores = {name: float(diagnostics.niqe(np.round(img).astype(np.uint8))) for name, img in
              {"photo": photo, "smooth": smooth, "noise": noise, "grainy": grainy}.items()}
    assert scores["photo"] < 4 < 8 < scores["smooth"] and scores["photo"] < 4 < 8 < scores["grainy"]
    assert scores["noise"] > 20


def test_metrics_niqe_inputs_batches_and_crop(photo: np.ndarray) -> None:
    img = photo[:200, :250]
    single = float(diagnostics.niqe(img))
    t = torch.from_numpy(img.copy()).permute(2, 0, 1).float() / 255  # (3, H, W) in [0, 1]
    batch = diagnostics.niqe(torch.stack([t, t.flip(-1)]))  # (2, 3, H, W)
    assert batch.shape == (2,) and batch.dtype == torch.float64
    assert float(batch[0]) == single == float(diagnostics.niqe(t)) == float(diagnostics.niqe(torch.from_numpy(img.copy())
                                                                                       .permute(2, 0, 1)))
    assert float(diagnostics.niqe(img, crop_border=4)) == niqe.niqe_luma(_y(img)[4:-4, 4:-4])
    gray = _y(img).astype(np.uint8)
    assert float(diagnostics.niqe(gray)) == niqe.niqe_luma(gray)  # a gray image is its own Y


def test_bad_input_is_refused_with_the_size(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="95x300"):
        diagnostics.niqe(photo[:300, :95])
    with pytest.raises(ValueError, match="120x100 .* 100x80 after crop_border=10"):
        diagnostics.niqe(photo[:100, :120], crop_border=10)
    with pytest.raises(ValueError, match="at least one 96x96 patch"):
        niqe.niqe_luma(np.zeros((96, 95)))
    with pytest.raises(ValueError, match="flat"):
        diagnostics.niqe(np.full((96, 96, 3), 128, np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        diagnostics.niqe(np.full((96, 96, 3), np.nan))
    with pytest.raises(ValueError, match="crop_border"):
        diagnostics.niqe(photo, crop_border=-1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        niqe.niqe_luma(np.full((100, 100), np.inf))
