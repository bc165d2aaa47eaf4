"""Tests for the MOS study (section 3.3): blind deterministic shuffle, calibration first, score
validation, and the table's arithmetic checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from srgan_lib.plumbing.evaluate import PAPER_TABLE2
from srgan_lib.figures.study import CALIBRATION, MOSStudy, scripted_rater


def _images(n_images=3, methods=("nearest", "bicubic", "SRResNet", "SRGAN", "HR")):
    rng = np.random.default_rng(0)
    return {f"img{i}": {m: rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for m in methods}
            for i in range(n_images)}


def test_trials_cover_every_pair_once_and_calibration_comes_first():
    s = MOSStudy(_images(), seed=1)
    assert s.methods == ["SRGAN", "SRResNet", "bicubic"]  # anchors are not rated by default
    cal = [t for t in s.trials if t.calibration]
    assert [t.index for t in cal] == [0, 1]  # the first trials
    assert {(t.method, t.expected) for t in cal} == set(CALIBRATION.items())
    study = [(t.image, t.method) for t in s.trials if not t.calibration]
    assert sorted(study) == sorted((f"img{i}", m) for i in range(3) for m in s.methods)
    assert [t.index for t in s.trials] == list(range(len(s)))


def test_shuffle_is_deterministic_per_seed_and_differs_between_seeds():
    order = lambda seed: [(t.image, t.method) for t in MOSStudy(_images(), seed=seed).trials]  # noqa: E731
    assert order(3) == order(3)
    assert order(3) != order(4)
    # blind: consecutive trials are not grouped by method (a sorted order would be)
    seq = [m for _, m in order(3)[2:]]
    assert seq != sorted(seq)


def test_display_path_hides_the_method():
    s = MOSStudy(_images(), seed=0)
    t = s.next_trial()
    px = s.pixels(t)
    assert isinstance(px, np.ndarray) and px.dtype == np.uint8  # pixels only, no name attached


@pytest.mark.parametrize("bad", [0, 6, 2.5, "3", True, None])
def test_scores_must_be_integers_from_1_to_5(bad):
    s = MOSStudy(_images(), seed=0)
    with pytest.raises(ValueError, match="1 .*5"):
        s.record(0, bad)
    with pytest.raises(IndexError):
        s.record(len(s), 3)


def test_table_math_by_hand():
    imgs = _images(n_images=2, methods=("nearest", "bicubic", "SRGAN", "HR"))
    s = MOSStudy(imgs, methods=["bicubic", "SRGAN"], seed=0)
    given = {("img0", "bicubic"): 2, ("img1", "bicubic"): 3, ("img0", "SRGAN"): 4, ("img1", "SRGAN"): 5}
    for t in s.trials:
        s.record(t, t.expected if t.calibration else given[(t.image, t.method)])
    assert s.done and s.next_trial() is None
    rows = {r["method"]: r for r in s.results("Set14")}
    assert rows["bicubic"]["n"] == 2 and rows["bicubic"]["mos"] == pytest.approx(2.5)
    assert rows["bicubic"]["std"] == pytest.approx(0.5)
    assert rows["SRGAN"]["mos"] == pytest.approx(4.5)
    assert rows["SRGAN"]["paper"] == PAPER_TABLE2["SRGAN"]["Set14"][2]  # 3.72
    assert s.calibration_agreement() == 1.0
    text = s.format_results("Set14", label="scripted demo scores, not a human")
    assert text.splitlines()[0] == "scripted demo scores, not a human" and "3.72" in text


def test_scripted_rater_obeys_calibration_and_fills_the_study():
    s = MOSStudy(_images(), seed=0)
    s.rate_all(scripted_rater(seed=0))
    assert s.done and s.calibration_agreement() == 1.0
    assert all(1 <= v <= 5 for v in s.scores.values())


def test_missing_images_are_named():
    imgs = _images()
    del imgs["img1"]["SRGAN"]
    with pytest.raises(ValueError, match="img1"):
        MOSStudy(imgs, methods=["SRGAN", "bicubic"])


def test_widget_scores_through_its_buttons():
    pytest.importorskip("ipywidgets")
    s = MOSStudy(_images(n_images=1), seed=0)
    ui = s.widget()
    first = s.next_trial()
    ui.buttons[first.expected - 1].click()  # calibration: press the instructed score
    assert s.scores[first.index] == first.expected
    while not s.done:
        ui.buttons[2].click()  # "3 fair"
    assert all(b.disabled for b in ui.buttons)


def test_format_results_keeps_columns_aligned_for_long_method_names():
    long = "SRGAN-MSE (shipped)"
    s = MOSStudy(_images(methods=("nearest", "bicubic", long, "HR")), seed=0)
    s.rate_all(scripted_rater(seed=0))
    lines = s.format_results("Set14").splitlines()
    # every row's MOS column ends where the header's does, whatever the method name's length
    ends = {line.index(word) + len(word) for line, word in
            zip(lines, ["MOS"] + [f"{r['mos']:.2f}" for r in s.results("Set14")])}
    assert len(ends) == 1
    assert lines[[r["method"] for r in s.results("Set14")].index(long) + 1].startswith(long + " ")
    assert "3.43" in s.format_results("Set14")  # still compared with Table 1's SRGAN-MSE (Set14 MOS)


def test_widget_shows_an_integer_magnification_and_a_png_snapshot():
    pytest.importorskip("ipywidgets")
    import base64
    import io

    from PIL import Image

    s = MOSStudy(_images(n_images=1), seed=0)  # 8 x 8 images
    ui = s.widget()
    with Image.open(io.BytesIO(ui.view.value)) as im:
        assert im.size == (640, 640)  # 8 x 8 at 80x (fits 800 x 640), nearest neighbour
        shown = np.asarray(im.convert("RGB"))
    assert np.array_equal(shown[::80, ::80], s.pixels(s.next_trial()))
    assert "srgan-pixelated" in ui.view._dom_classes
    children = list(ui.children)
    assert children.index(ui.view) > max(i for i, c in enumerate(children) if ui.buttons[0] in getattr(c, "children", ()))
    png = base64.b64decode(ui._repr_mimebundle_()["image/png"])
    assert png[:4] == b"\x89PNG"
    first = s.next_trial()
    ui.buttons[first.expected - 1].click()
    assert base64.b64decode(ui._repr_mimebundle_()["image/png"]) != png  # the snapshot follows the trial
