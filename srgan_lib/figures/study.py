"""A small mean-opinion-score (MOS) study, following the paper's protocol (section
3.3).

The paper asked 26 raters to score super-resolved images from 1 (bad quality) to 5 (excellent quality).
Raters were calibrated first on the nearest-neighbour (NN) upscale, to be scored 1, and the original HR
image, to be scored 5, of a few images; the images of the study were then shown in random order, the
method never revealed. Table 2 gives the resulting MOS per method (``PAPER_TABLE2``, third value).

Here one reader rates themselves: :class:`MOSStudy` builds the blind, shuffled trial list (calibration
trials first), records scores, and tabulates mean MOS per method (count, std) beside the paper's.
:meth:`MOSStudy.widget` is the interactive UI (image + five buttons); :meth:`MOSStudy.rate_all` scores
programmatically (a scripted demo rater in quick runs: label such results, they are not a human's).

Deviations from the paper, stated: one rater instead of 26, a handful of images instead of the 100 of
BSD100 per method, and the images are shown in a browser, magnified by an integer factor with
nearest-neighbour pixels to fit about 800 px.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from ..plumbing.evaluate import PAPER_TABLE2, paper_value
from .widgets import set_pixel_image, snapshot_box, snapshot_png

#: Section 3.3: the score scale and its two calibration anchors.
MOS_MIN, MOS_MAX = 1, 5
MOS_LABELS = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}
CALIBRATION = {"nearest": 1, "HR": 5}  # method -> the score the rater is told to give


@dataclass(frozen=True)
class Trial:
    """One image shown to the rater. ``method`` is kept for scoring and never displayed."""

    index: int
    image: str
    method: str
    calibration: bool = False

    @property
    def expected(self) -> int | None:
        """The instructed score of a calibration trial (NN = 1, original = 5), else ``None``."""
        return CALIBRATION[self.method] if self.calibration else None


class MOSStudy:
    """A blind MOS study over ``images[image_name][method] -> uint8 (H, W, 3)``.

    ``methods``: the methods to rate (default: every method present for all images, except the
    calibration anchors, which are still rated in the study proper when listed explicitly).
    ``calibration_images``: images whose NN and HR versions are shown first, with their instructed
    scores (default: the first image that has both). ``seed``: the shuffle is a pure function of it.
    """

    def __init__(self, images: Mapping[str, Mapping[str, np.ndarray]], methods: Sequence[str] | None = None,
                 seed: int = 0, calibration_images: Sequence[str] | None = None) -> None:
        if not images:
            raise ValueError("MOSStudy needs at least one image")
        self.images = {k: dict(v) for k, v in images.items()}
        common = set.intersection(*(set(v) for v in self.images.values()))
        if methods is None:
            methods = sorted(common - set(CALIBRATION))
        missing = [(img, m) for img in self.images for m in methods if m not in self.images[img]]
        if missing:
            raise ValueError(f"MOSStudy: missing images for (image, method): {missing}")
        if not methods:
            raise ValueError("MOSStudy: no methods to rate")
        self.methods = list(methods)
        self.seed = seed
        if calibration_images is None:
            calibration_images = [n for n, v in self.images.items() if all(m in v for m in CALIBRATION)][:1]
        for n in calibration_images:
            absent = [m for m in CALIBRATION if m not in self.images.get(n, {})]
            if absent:
                raise ValueError(f"MOSStudy: calibration image {n!r} lacks {absent}")
        rng = random.Random(seed)
        calib = [(n, m) for n in calibration_images for m in CALIBRATION]
        rng.shuffle(calib)
        study = [(n, m) for n in sorted(self.images) for m in self.methods]
        rng.shuffle(study)
        pairs = [(n, m, True) for n, m in calib] + [(n, m, False) for n, m in study]
        self.trials = [Trial(i, n, m, c) for i, (n, m, c) in enumerate(pairs)]
        self.scores: dict[int, int] = {}

    # -- recording ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.trials)

    @property
    def done(self) -> bool:
        return len(self.scores) == len(self.trials)

    def next_trial(self) -> Trial | None:
        """The first trial without a score, or ``None`` when all are scored."""
        return next((t for t in self.trials if t.index not in self.scores), None)

    def pixels(self, trial: Trial) -> np.ndarray:
        """The image a trial shows (the caller must not print ``trial.method`` before the end)."""
        return self.images[trial.image][trial.method]

    def record(self, trial: Trial | int, score: int) -> None:
        """Store an integer score 1..5 for a trial (re-scoring a trial replaces its score)."""
        index = trial.index if isinstance(trial, Trial) else int(trial)
        if not 0 <= index < len(self.trials):
            raise IndexError(f"no trial {index}; the study has {len(self.trials)}")
        if isinstance(score, bool) or not isinstance(score, (int, np.integer)) or not MOS_MIN <= score <= MOS_MAX:
            raise ValueError(f"a MOS score is an integer from {MOS_MIN} (bad) to {MOS_MAX} (excellent), got {score!r}")
        self.scores[index] = int(score)

    def rate_all(self, rater: Callable[[np.ndarray, Trial], int]) -> None:
        """Score every remaining trial with ``rater(pixels, trial)`` (a scripted or automatic rater).

        ``rater`` receives the trial so that a *scripted* rater can follow the calibration instruction;
        a fair automatic rater must not read ``trial.method`` outside calibration.
        """
        while (t := self.next_trial()) is not None:
            self.record(t, rater(self.pixels(t), t))

    # -- results ------------------------------------------------------------------------------------
    def results(self, dataset: str | None = None) -> list[dict]:
        """One row per method (study trials only; calibration excluded, as in the paper):
        ``{"method", "n", "mos", "std", "paper"}``; ``paper`` is Table 2's MOS on ``dataset`` if known."""
        rows = []
        for m in self.methods:
            s = [self.scores[t.index] for t in self.trials if not t.calibration and t.method == m
                 and t.index in self.scores]
            pv = paper_value(m, dataset) if dataset else None
            if pv is None and dataset and m == "HR":
                pv = PAPER_TABLE2["HR"].get(dataset)
            rows.append({"method": m, "n": len(s), "mos": float(np.mean(s)) if s else float("nan"),
                         "std": float(np.std(s)) if s else float("nan"), "paper": pv[2] if pv else None})
        return rows

    def calibration_agreement(self) -> float:
        """Fraction of scored calibration trials where the rater gave the instructed score."""
        cal = [t for t in self.trials if t.calibration and t.index in self.scores]
        return float(np.mean([self.scores[t.index] == t.expected for t in cal])) if cal else float("nan")

    def format_results(self, dataset: str | None = None, label: str | None = None) -> str:
        """A plain-text table of :meth:`results`; ``label`` (e.g. "scripted demo scores") heads it."""
        lines = [label] if label else []
        paper_col = f"paper MOS ({dataset})" if dataset else "paper MOS"
        rows = self.results(dataset)
        wm = max([14] + [len(r["method"]) + 2 for r in rows])  # "SRGAN-MSE (shipped)" needs more than 14
        lines.append(f"{'method':<{wm}}{'n':>4}{'MOS':>7}{'std':>7}   {paper_col}")
        for r in rows:
            p = f"{r['paper']:.2f}" if r["paper"] is not None else "-"
            lines.append(f"{r['method']:<{wm}}{r['n']:>4}{r['mos']:7.2f}{r['std']:7.2f}   {p}")
        return "\n".join(lines)

    # -- the interactive UI -------------------------------------------------------------------------
    def widget(self, on_done: Callable[["MOSStudy"], None] | None = None, dataset: str | None = None):
        """An ipywidgets UI: five buttons (1 bad ... 5 excellent) above the current image; calibration
        trials say which score to give. When all trials are scored it shows :meth:`format_results`.

        Images are shown at an integer magnification with nearest-neighbour pixels (the same for every
        trial of one size, so no method looks sharper for being scaled differently), and the display
        carries a PNG snapshot of the current trial for frontends without widgets
        (:func:`srgan_lib.figures.widgets.snapshot_box`).
        """
        import ipywidgets as W

        header, view, table = W.HTML(), W.Image(format="png"), W.HTML()
        buttons = [W.Button(description=f"{s} {MOS_LABELS[s]}", layout=W.Layout(width="110px"))
                   for s in range(MOS_MIN, MOS_MAX + 1)]

        def show() -> None:
            t = self.next_trial()
            if t is None:
                header.value = "<b>Done.</b> Methods revealed below (calibration trials excluded)."
                view.layout.display = "none"
                for b in buttons:
                    b.disabled = True
                table.value = f"<pre>{self.format_results(dataset)}</pre>"
                if on_done:
                    on_done(self)
                return
            k = sum(1 for x in self.trials if x.index in self.scores) + 1
            hint = (f" &mdash; <b>calibration</b>: score this one {t.expected} "
                    f"({MOS_LABELS[t.expected]})" if t.calibration else "")
            header.value = f"Image {k} of {len(self.trials)}{hint}. How good is it, 1 (bad) to 5 (excellent)?"
            set_pixel_image(view, self.pixels(t))

        def snapshot() -> bytes:
            t = self.next_trial()
            if t is None:
                return snapshot_png(np.full((8, 8, 3), 255, np.uint8), "MOS study done: results in the live widget")
            buttons_line = "   ".join(f"[{s} {MOS_LABELS[s]}]" for s in range(MOS_MIN, MOS_MAX + 1))
            text = re.sub(r"<[^>]+>", "", header.value).replace("&mdash;", "-")
            return snapshot_png(self.pixels(t), f"{text}\n{buttons_line}  (static snapshot: rate in a live notebook)")

        def click(score: int) -> Callable:
            def handler(_b) -> None:
                t = self.next_trial()
                if t is not None:
                    self.record(t, score)
                show()
            return handler

        for s, b in zip(range(MOS_MIN, MOS_MAX + 1), buttons):
            b.on_click(click(s))
        show()
        box = snapshot_box([header, W.HBox(buttons), view, table], snapshot)  # buttons above the image
        box.buttons, box.view = buttons, view  # for tests
        return box


def scripted_rater(seed: int = 0, scores: Mapping[str, float] | None = None) -> Callable[[np.ndarray, Trial], int]:
    """A *scripted demo* rater for quick runs and tests: NOT a human opinion.

    It obeys calibration and otherwise draws a score around ``scores[method]`` (default: the paper's
    Set14 MOS from Table 2), plus noise; used only to exercise the tabulation code path.
    """
    table = dict(scores or {})
    rng = np.random.default_rng(seed)

    def rate(_pixels: np.ndarray, trial: Trial) -> int:
        if trial.calibration:
            return int(trial.expected)
        key = trial.method if trial.method in table else ("SRGAN" if trial.method.lower().startswith("srgan")
                                                          else trial.method)
        mean = table.get(key, PAPER_TABLE2.get(key, {}).get("Set14", (0, 0, 3.0))[2])
        return int(np.clip(round(mean + rng.normal(0, 0.5)), MOS_MIN, MOS_MAX))

    return rate
