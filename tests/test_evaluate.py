"""srgan_lib.plumbing.evaluate: scoring upscalers on evaluation sets, and the paper's Table 2 baselines (section 3.1).

Oracles: SelfExSR's own per-image MATLAB table (``selfexsr_bicubic_metrics.tsv``, in ../shared), the
paper's printed Table 2, scikit-image's ``rgb2gray``, and the metric functions applied by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2gray

from srgan_lib.data import EvalSet, load_eval_set
from srgan_lib.plumbing.evaluate import (
    BASELINES,
    PAPER_TABLE1,
    PAPER_TABLE2,
    baseline_images,
    bicubic_upscaler,
    evaluate,
    format_table,
    format_table2,
    matches_paper,
    nearest_upscaler,
    originals_niqe,
    paper_value,
    rgb_to_gray,
    score_niqe,
    score_pair,
    score_set,
    table2,
)
from srgan_lib.metrics import evaluate_pair
from srgan_lib.plumbing.diagnostics import grid_artifact, niqe
from srgan_lib.resize import imresize_matlab, modcrop
from srgan_lib.plumbing.samples import load_sample


def _pair(name: str = "coffee", size: int = 96) -> tuple[str, np.ndarray, np.ndarray]:
    hr = modcrop(load_sample(name)[:size, :size], 4)
    return name, imresize_matlab(hr, 0.25), hr


# --------------------------------------------------------------------------------------------------
# gray images and the "standard" flavour
# --------------------------------------------------------------------------------------------------
def test_rgb_to_gray_matches_pillow_and_keeps_gray_levels() -> None:
    img = load_sample("astronaut")
    ours = rgb_to_gray(img).astype(np.int16)
    want = np.asarray(Image.fromarray(img).convert("L")).astype(np.int16)  # Pillow: ITU-R 601-2 luma
    assert ours.shape == img.shape[:2]
    assert np.abs(ours - want).max() <= 1  # same weights to 3 digits; rounding differs by at most 1
    assert np.abs(ours - rgb2gray(img) * 255).mean() > 1  # not scikit-image's BT.709 weights
    levels = np.arange(256, dtype=np.uint8)[:, None].repeat(3, axis=1)[None]  # (1, 256, 3)
    assert np.array_equal(rgb_to_gray(levels)[0], np.arange(256))  # R = G = B: the level itself


def test_score_pair_gray_uses_gray_levels_in_standard_flavour_only() -> None:
    _, lr, hr = _pair("coffee")
    g = hr.mean(axis=2).round().astype(np.uint8)
    hr_g = np.repeat(g[:, :, None], 3, axis=2)  # a gray file read as RGB
    sr_g = bicubic_upscaler(4)(np.repeat(imresize_matlab(g, 0.25)[:, :, None], 3, axis=2))
    want = evaluate_pair(sr_g[..., 0], g, crop_border=4, flavour="standard")  # gray levels as Y
    got = score_pair(sr_g, hr_g, "standard", gray=True)
    assert got == pytest.approx((float(want["psnr"]), float(want["ssim"])), abs=1e-12)
    as_colour = score_pair(sr_g, hr_g, "standard", gray=False)  # studio-range Y compresses errors
    assert as_colour[0] - got[0] == pytest.approx(20 * np.log10(255 / 219), abs=0.1)
    assert score_pair(sr_g, hr_g, "paper", gray=True) == score_pair(sr_g, hr_g, "paper", gray=False)


def test_eval_set_remembers_gray_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 40), dtype=np.uint8)).save(tmp_path / "g.png")  # mode L
    same = np.repeat(rng.integers(0, 256, (40, 40, 1), dtype=np.uint8), 3, axis=2)
    Image.fromarray(same).save(tmp_path / "rgb_equal.png")  # RGB file with equal channels: colour
    s = load_eval_set(tmp_path)
    assert s.gray == {"g"}
    assert [hr.shape for _, _, hr in s] == [(40, 40, 3), (40, 40, 3)]
    scores = score_set(bicubic_upscaler(4), s, flavours=("standard",))
    by_hand = np.mean([score_pair(bicubic_upscaler(4)(lr), hr, "standard", gray=n == "g")[0] for n, lr, hr in s])
    assert scores["standard"]["psnr"] == pytest.approx(by_hand, abs=1e-12)


@pytest.mark.parametrize("name", ["Set5", "Set14"])
def test_evaluation_path_reproduces_selfexsr_per_image_table(shared_datasets: Path, name: str) -> None:
    """load_eval_set + bicubic_upscaler + score_pair == SelfExSR's MATLAB numbers, image by image,
    including Set14's gray bridge.png and its RGB-but-gray man.png."""
    with open(shared_datasets / "SelfExSR_x4_LR" / "selfexsr_bicubic_metrics.tsv", newline="") as fh:
        table = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t") if r["dataset"] == name}
    s = load_eval_set(shared_datasets / name)
    assert len(s) == len(table)
    if name == "Set14":
        assert s.gray == {"bridge"}
    for img, lr, hr in s:
        p, q = score_pair(bicubic_upscaler(4)(lr), hr, "standard", gray=img in s.gray)
        row = table[f"{img}.png"]
        assert abs(p - float(row["bicubic_psnr_selfexsr"])) <= 5e-7 + 1e-9, img
        assert abs(q - float(row["bicubic_ssim_selfexsr"])) <= 5e-7 + 1e-9, img


# --------------------------------------------------------------------------------------------------
# evaluate / format_table
# --------------------------------------------------------------------------------------------------
def test_evaluate_rows_carry_the_paper_numbers_and_match_by_hand() -> None:
    sets = {"Set5": [_pair("coffee"), _pair("astronaut")]}
    rows = evaluate({"bicubic": bicubic_upscaler(4), "nearest": nearest_upscaler(4)}, sets)
    assert {(r["method"], r["flavour"]) for r in rows} == {(m, f) for m in ("bicubic", "nearest")
                                                         for f in ("standard", "paper")}
    for r in rows:
        up = bicubic_upscaler(4) if r["method"] == "bicubic" else nearest_upscaler(4)
        want = np.mean([score_pair(up(lr), hr, r["flavour"]) for _, lr, hr in sets["Set5"]], axis=0)
        assert (r["psnr"], r["ssim"]) == pytest.approx(tuple(want), abs=1e-12)
        assert r["paper"] == (PAPER_TABLE2[r["method"]]["Set5"] if r["flavour"] == "paper" else None)
    text = format_table(rows)
    assert "28.43/0.8211" in text and "26.26/0.7552" in text


def test_evaluate_crops_and_measures_the_grid_at_its_scale() -> None:
    """At x2 the border removed is 2 px and the grid's period 2 (section 3.1: a border as wide as the scale), as
    validation does; the default stays the paper's x4."""
    hr = modcrop(load_sample("coffee")[:96, :96], 2)
    pairs = [("coffee", imresize_matlab(hr, 0.5), hr)]
    up = bicubic_upscaler(2)
    rows = evaluate({"bicubic": up}, {"Set5": pairs}, scale=2)
    for r in rows:
        want = evaluate_pair(up(pairs[0][1]), hr, crop_border=2, flavour=r["flavour"])
        assert (r["psnr"], r["ssim"]) == pytest.approx((float(want["psnr"]), float(want["ssim"])), abs=1e-12)
        assert r["grid"] == pytest.approx(float(grid_artifact(up(pairs[0][1]), hr, period=2, crop_border=2)), rel=1e-12)
    four = evaluate({"bicubic": up}, {"Set5": pairs})[0]
    assert four["psnr"] != rows[0]["psnr"]  # a 4 px border measures other pixels


def test_evaluate_rows_carry_the_grid_artifact_score() -> None:
    """``grid`` is the mean of diagnostics.grid_artifact over the set, the same in both flavours, and a column
    of the text table; a period-4 grid stamped on bicubic's result shows in it."""
    pairs = [_pair("coffee"), _pair("astronaut")]
    pattern = 6.0 * (np.indices((96, 96)).sum(axis=0) % 4 == 0)[..., None]  # period 4, 6 levels at 1 px in 4

    def gridded(lr: np.ndarray) -> np.ndarray:
        return np.clip(bicubic_upscaler(4)(lr) + pattern, 0, 255).astype(np.uint8)

    rows = evaluate({"bicubic": bicubic_upscaler(4), "gridded": gridded}, {"Set5": pairs})
    for r in rows:
        up = bicubic_upscaler(4) if r["method"] == "bicubic" else gridded
        want = np.mean([float(grid_artifact(up(lr), hr)) for _, lr, hr in pairs])
        assert r["grid"] == pytest.approx(want, rel=1e-12)
    by = {(r["method"], r["flavour"]): r["grid"] for r in rows}
    assert by[("bicubic", "paper")] == by[("bicubic", "standard")]
    assert by[("gridded", "paper")] > 5 * by[("bicubic", "paper")]
    text = format_table(rows)
    assert "grid" in text.splitlines()[0]
    assert f"{by[('gridded', 'paper')]:7.2f}" in text
    assert format_table([{k: v for k, v in rows[0].items() if k != "grid"}])  # rows made without it still print


def test_evaluate_rows_carry_niqe_measured_as_pirm_did() -> None:
    """``niqe`` is the set mean of diagnostics.niqe of each result with the PSNR's border (the scale) removed, the
    same in both flavours and a column of the text table; ``None`` (a blank cell) for a set with an image too
    small for one 96 x 96 NIQE patch."""
    pairs = [_pair("coffee", 136), _pair("astronaut", 120)]
    rows = evaluate({"bicubic": bicubic_upscaler(4)}, {"Set5": pairs})
    want = np.mean([float(niqe(bicubic_upscaler(4)(lr), crop_border=4)) for _, lr, _ in pairs])
    assert [r["niqe"] for r in rows] == [pytest.approx(want, rel=1e-12)] * 2
    x2 = [("coffee", imresize_matlab(pairs[0][2], 0.5), pairs[0][2])]
    two = evaluate({"bicubic": bicubic_upscaler(2)}, {"Set5": x2}, flavours=("paper",), scale=2)[0]
    assert two["niqe"] == pytest.approx(float(niqe(bicubic_upscaler(2)(x2[0][1]), crop_border=2)), rel=1e-12)
    small = evaluate({"bicubic": bicubic_upscaler(4)}, {"Set5": [pairs[0], _pair("astronaut", 100)]})
    assert [r["niqe"] for r in small] == [None, None]  # 100 - 2 x 4 = 92 < 96: not a mean over fewer images
    assert score_niqe(np.zeros((104, 200, 3), np.uint8) + 9, crop_border=5) is None
    header, first, _, blank, _ = format_table(rows + small).splitlines()
    cell = slice(header.index("NIQE") - 3, header.index("NIQE") + 4)  # the 7-character column
    assert first[cell] == f"{want:7.2f}" and blank[cell] == " " * 7


def test_originals_niqe_is_the_mean_niqe_of_the_hr_images_with_the_results_border() -> None:
    """The reference the ``niqe`` column reads against: diagnostics.niqe of each HR image, ``scale`` pixels of border
    removed as for the results, averaged; ``None`` where the results' column is ``None`` too."""
    pairs = [_pair("coffee", 136), _pair("astronaut", 120)]
    want = np.mean([float(niqe(hr, crop_border=4)) for _, _, hr in pairs])
    assert originals_niqe(pairs) == pytest.approx(want, rel=1e-12)
    assert originals_niqe(pairs[:1], scale=2) == pytest.approx(float(niqe(pairs[0][2], crop_border=2)), rel=1e-12)
    small = [pairs[0], _pair("astronaut", 100)]  # 100 - 2 x 4 = 92 < 96
    assert evaluate({"bicubic": bicubic_upscaler(4)}, {"Set5": small}, flavours=("paper",))[0]["niqe"] is None
    assert originals_niqe(small) is None and originals_niqe([]) is None


def test_score_set_rejects_a_wrong_size_with_the_image_name() -> None:
    with pytest.raises(ValueError, match="coffee"):
        score_set(lambda lr: lr, [_pair("coffee")])


def test_paper_value_aliases() -> None:
    assert paper_value("SRResNet-MSE", "Set14") == PAPER_TABLE2["SRResNet"]["Set14"]
    assert paper_value("SRGAN-VGG22", "Set5")[0] == 29.84
    assert paper_value("SRGAN-VGG22", "BSD100") is None  # Table 1 has no BSD100
    assert paper_value("mine", "Set5") is None
    # a parenthesised note names which model it is, not another method
    assert paper_value("SRGAN-MSE (shipped)", "Set5") == PAPER_TABLE1["SRGAN-MSE"]["Set5"]
    assert paper_value("SRResNet (this run)", "BSD100") == PAPER_TABLE2["SRResNet"]["BSD100"]
    assert paper_value("mine (SRGAN-MSE)", "Set5") is None


# --------------------------------------------------------------------------------------------------
# Table 2 baselines
# --------------------------------------------------------------------------------------------------
def test_baseline_images_are_the_named_pipelines() -> None:
    _, lr, hr = _pair("gravel", 128)  # fine texture: where aliasing shows
    out = baseline_images(hr)
    assert list(out) == list(BASELINES)
    assert all(v.shape == hr.shape and v.dtype == np.uint8 for v in out.values())
    assert np.array_equal(out["bicubic"], imresize_matlab(lr, 4.0))
    assert np.array_equal(out["nearest"], np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1))
    pil = Image.fromarray(hr).resize((32, 32), Image.Resampling.BICUBIC).resize((128, 128), Image.Resampling.BICUBIC)
    assert np.array_equal(out["PIL bicubic"], np.asarray(pil))
    psnr = {k: score_pair(v, hr, "standard")[0] for k, v in out.items()}
    assert psnr["nearest"] < psnr["bicubic"]
    assert psnr["aliased LR"] < psnr["bicubic"]  # aliasing costs fidelity
    with pytest.raises(ValueError, match="multiple of the scale"):
        baseline_images(hr[:127])


def test_matches_paper_uses_the_printed_precision() -> None:
    row = {"method": "bicubic", "dataset": "Set5", "flavour": "paper", "psnr": 28.4261, "ssim": 0.82108,
           "paper": PAPER_TABLE2["bicubic"]["Set5"]}
    assert matches_paper(row) is True
    assert matches_paper({**row, "psnr": 28.4361}) is False
    assert matches_paper({**row, "ssim": 0.82104}) is False
    assert matches_paper({**row, "flavour": "standard"}) is None
    assert matches_paper({**row, "paper": None}) is None


def test_table2_on_small_images_has_every_row() -> None:
    sets = {"tiny": EvalSet([_pair("coffee", 64)], name="tiny")}
    rows = table2(sets)
    assert len(rows) == len(BASELINES) * 2
    text = format_table2(rows)
    assert "Paper's numbers reproduced: 0 of 0" in text  # the paper has no "tiny" set
    assert all(label in text for label in BASELINES.values())


def test_table2_reproduces_the_paper_on_set5(shared_datasets: Path) -> None:
    rows = table2({"Set5": load_eval_set(shared_datasets / "Set5")})
    checked = [r for r in rows if matches_paper(r) is not None]
    assert {r["method"] for r in checked} == {"bicubic", "nearest"}
    assert all(matches_paper(r) for r in checked), [(r["method"], r["psnr"], r["ssim"]) for r in checked]
    assert "Paper's numbers reproduced: 4 of 4" in format_table2(rows)
