"""Plumbing, not part of the lesson: score any upscaler on evaluation sets, in both metric flavours, beside the paper's tables.

An *upscaler* is any function ``lr_uint8 (h, w, 3) -> sr_uint8 (s*h, s*w, 3)``: the MATLAB-era bicubic
(the paper's baseline, section 3.1), nearest neighbour, or a generator (:func:`model_upscaler`). Scores
are per-image means over a set, computed on the saved uint8 result as the paper did:

- ``"paper"``: the SRGAN paper's own protocol (daala tools, BT.709 Y, 4 px crop): compare with Table 1/2;
- ``"standard"``: the VDSR/EDSR-era protocol (MATLAB BT.601 Y, Wang's SSIM): compare with other papers.

Never compare a number from one flavour with a number from the other.

Beside PSNR/SSIM every row has ``grid``: :func:`srgan_lib.plumbing.diagnostics.grid_artifact`, the RMS in grey levels
of the error's part that repeats at the pixel-shuffle period (the checkerboard a sub-pixel generator can
print; not in the paper, the same in both flavours). Read it against bicubic in the same table: near
bicubic's (a few tenths of a level, the noise floor) means no grid; several times that is a grid that a
viewer can see on flat regions (the shipped weights' scores are in their model cards).

And ``niqe``: :func:`srgan_lib.plumbing.diagnostics.niqe` of the result alone (no reference; lower = more natural), the
no-reference measure the PIRM 2018 SR challenge scored perceptual quality with, a stand-in for the MOS of
section 3.3 that needs no raters. Measured as PIRM did: the Y of MATLAB ``rgb2ycbcr`` and the same border as PSNR
(``scale`` pixels, PIRM's 4 at x4); the same in both flavours. ``None`` for a set with an image smaller than one
96 x 96 NIQE patch after the crop (a set mean over fewer images would not compare).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from torch import nn

from ..images import tensor_to_uint8, uint8_to_tensor
from ..metrics import FLAVOURS, evaluate_pair
from .diagnostics import grid_artifact, niqe
from .niqe import PATCH
from ..resize import downscale_torch, imresize_matlab, matlab_lr, upscale_bicubic_torch
from .upscale import upscale_array

Upscaler = Callable[[np.ndarray], np.ndarray]

# Paper Table 2 (x4): PSNR / SSIM / MOS. Table 1 adds the loss variants on Set5 and Set14.
PAPER_TABLE2: dict[str, dict[str, tuple[float, float, float]]] = {
    "nearest": {"Set5": (26.26, 0.7552, 1.28), "Set14": (24.64, 0.7100, 1.20), "BSD100": (25.02, 0.6606, 1.11)},
    "bicubic": {"Set5": (28.43, 0.8211, 1.97), "Set14": (25.99, 0.7486, 1.80), "BSD100": (25.94, 0.6935, 1.47)},
    "SRResNet": {"Set5": (32.05, 0.9019, 3.37), "Set14": (28.49, 0.8184, 2.98), "BSD100": (27.58, 0.7620, 2.29)},
    "SRGAN": {"Set5": (29.40, 0.8472, 3.58), "Set14": (26.02, 0.7397, 3.72), "BSD100": (25.16, 0.6688, 3.56)},
    "HR": {"Set5": (float("inf"), 1.0, 4.32), "Set14": (float("inf"), 1.0, 4.32), "BSD100": (float("inf"), 1.0, 4.46)},
}
PAPER_TABLE1: dict[str, dict[str, tuple[float, float, float]]] = {
    "SRResNet-MSE": {"Set5": (32.05, 0.9019, 3.37), "Set14": (28.49, 0.8184, 2.98)},
    "SRResNet-VGG22": {"Set5": (30.51, 0.8803, 3.46), "Set14": (27.19, 0.7807, 3.15)},
    "SRGAN-MSE": {"Set5": (30.64, 0.8701, 3.77), "Set14": (26.92, 0.7611, 3.43)},
    "SRGAN-VGG22": {"Set5": (29.84, 0.8468, 3.78), "Set14": (26.44, 0.7518, 3.57)},
    "SRGAN-VGG54": {"Set5": (29.40, 0.8472, 3.58), "Set14": (26.02, 0.7397, 3.72)},
}


def paper_value(method: str, dataset: str) -> tuple[float, float, float] | None:
    """The paper's (PSNR, SSIM, MOS) for a method name used here, or ``None``.

    A note in parentheses after the name is ignored: ``"SRGAN-MSE (shipped)"`` and ``"SRGAN-MSE (this run)"``
    are both Table 1's SRGAN-MSE.
    """
    method = method.split(" (")[0].strip()
    aliases = {"srresnet": "SRResNet", "srresnet-mse": "SRResNet", "srgan": "SRGAN", "srgan-vgg54": "SRGAN",
               "bicubic": "bicubic", "nearest": "nearest"}
    key = aliases.get(method.lower())
    if key and dataset in PAPER_TABLE2.get(key, {}):
        return PAPER_TABLE2[key][dataset]
    for name, rows in PAPER_TABLE1.items():
        if name.lower() == method.lower() and dataset in rows:
            return rows[dataset]
    return None


def bicubic_upscaler(scale: int = 4) -> Upscaler:
    """The paper's bicubic baseline: MATLAB-era ``imresize(lr, scale, 'bicubic')`` (Keys a = -0.5)."""
    return lambda lr: imresize_matlab(lr, float(scale))


def nearest_upscaler(scale: int = 4) -> Upscaler:
    """Nearest-neighbour upscaling (each LR pixel becomes a ``scale x scale`` block)."""
    return lambda lr: np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)


def model_upscaler(model: nn.Module, tile: int | None = 256) -> Upscaler:
    """A generator as an upscaler (eval mode: BN uses running statistics, section 3.2)."""
    model.eval()
    return lambda lr: upscale_array(model, lr, tile=tile)


def rgb_to_gray(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint8 gray levels as MATLAB ``rgb2gray`` (BT.601 weights, full range).

    Exact on images whose channels are equal (the gray level comes back unchanged).
    """
    w = (0.298936021293775, 0.587043074451121, 0.114020904255103)  # MATLAB rgb2gray
    g = w[0] * img[..., 0].astype(np.float64) + w[1] * img[..., 1] + w[2] * img[..., 2]
    return np.clip(np.floor(g + 0.5), 0, 255).astype(np.uint8)


def score_pair(sr: np.ndarray, hr: np.ndarray, flavour: str, crop_border: int = 4,
               gray: bool = False) -> tuple[float, float]:
    """(PSNR, SSIM) of one uint8 result ``(H, W, 3)`` against its HR image, as the flavour measures it.

    ``gray``: the HR image came from a single-channel file (Set14's ``bridge``; ``EvalSet.gray`` lists
    them). The SelfExSR/VDSR-era MATLAB scripts of the "standard" flavour use a gray file's levels as Y
    directly, not ``rgb2ycbcr``'s studio-range Y (which compresses errors by 219/255: PSNR + 20 log10(255/219),
    +1.3 dB), so such an image is compared on gray levels, the result converted with
    :func:`rgb_to_gray`. An RGB file whose channels happen to be equal (Set14's ``man``) is measured as
    colour, as those scripts did. The "paper" flavour expands gray to RGB, as daala's png2y4m does.
    """
    if flavour == "standard" and gray:
        sr, hr = rgb_to_gray(sr), hr[..., 0]  # (H, W), (H, W)
    r = evaluate_pair(sr, hr, crop_border=crop_border, flavour=flavour)
    return float(r["psnr"]), float(r["ssim"])


def score_niqe(sr: np.ndarray, crop_border: int = 4) -> float | None:
    """NIQE of one uint8 result ``(H, W, 3)`` with ``crop_border`` pixels removed from every side (PIRM 2018: the
    scale, as for PSNR), or ``None`` when what is left is smaller than one 96 x 96 NIQE patch."""
    if min(sr.shape[:2]) - 2 * crop_border < PATCH:
        return None
    return float(niqe(sr, crop_border=crop_border))


def score_set(upscaler: Upscaler, pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
              flavours: Sequence[str] = FLAVOURS, scale: int = 4) -> dict[str, dict[str, float | None]]:
    """Mean PSNR/SSIM of ``upscaler`` (a x``scale`` one, default the paper's x4) over ``(name, lr, hr)`` pairs,
    the mean :func:`grid_artifact` and the mean NIQE (:func:`score_niqe`): ``{flavour: {"psnr":, "ssim":, "grid":,
    "niqe":}}``. The border removed before measuring is ``scale`` pixels wide (section 3.1: 4 px at x4), the grid's
    period ``scale`` (the pixel shuffle's). ``niqe`` is ``None`` when an image is too small for it."""
    sums = {f: {"psnr": [], "ssim": []} for f in flavours}
    grids, niqes = [], []
    gray = getattr(pairs, "gray", frozenset())  # an EvalSet knows which images were gray files
    for name, lr, hr in pairs:
        sr = upscaler(lr)
        if sr.shape != hr.shape:
            raise ValueError(f"{name}: the upscaler returned {sr.shape}, the HR image is {hr.shape}")
        for f in flavours:
            p, s = score_pair(sr, hr, f, crop_border=scale, gray=name in gray)
            sums[f]["psnr"].append(p)
            sums[f]["ssim"].append(s)
        grids.append(float(grid_artifact(sr, hr, period=scale, crop_border=scale)))
        niqes.append(score_niqe(sr, crop_border=scale))
    set_niqe = None if None in niqes or not niqes else float(np.mean(niqes))
    return {f: {**{k: float(np.mean(v)) for k, v in d.items()}, "grid": float(np.mean(grids)), "niqe": set_niqe}
            for f, d in sums.items()}


def originals_niqe(pairs: Iterable[tuple[str, np.ndarray, np.ndarray]], scale: int = 4) -> float | None:
    """The mean NIQE of a set's HR originals themselves, measured as :func:`score_set` measures the results
    (:func:`score_niqe`, ``scale`` pixels of border removed): what the ``niqe`` column reads against. ``None``
    where :func:`score_set` gives ``None``: an image too small for one NIQE patch, or no image."""
    scores = [score_niqe(hr, crop_border=scale) for _, _, hr in pairs]
    return None if not scores or None in scores else float(np.mean(scores))


def evaluate(upscalers: Mapping[str, Upscaler], sets: Mapping[str, Sequence], flavours: Sequence[str] = FLAVOURS,
             scale: int = 4) -> list[dict]:
    """One row per (method, dataset, flavour): ``{"method", "dataset", "flavour", "psnr", "ssim", "grid", "niqe",
    "paper"}``; ``grid`` (:func:`grid_artifact`) and ``niqe`` (:func:`score_niqe`, ``None`` where a set has an image
    too small for it) are equal in both flavours. ``scale``: the upscalers' factor
    (default the paper's x4; :func:`srgan_lib.models.scale_of` of a generator), which :func:`score_set` crops
    and measures the grid with."""
    rows = []
    for method, up in upscalers.items():
        for dataset, pairs in sets.items():
            scores = score_set(up, pairs, flavours, scale)
            for f in flavours:
                rows.append({"method": method, "dataset": dataset, "flavour": f, **scores[f],
                             "paper": paper_value(method, dataset) if f == "paper" else None})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of :func:`evaluate` rows, the paper's numbers beside the "paper" flavour; ``grid``
    (grey levels, :func:`grid_artifact`) and ``NIQE`` (lower = more natural) after SSIM, blank where a row has none."""
    wm = max([16] + [len(r["method"]) + 2 for r in rows])
    wd = max([9] + [len(r["dataset"]) + 2 for r in rows])
    lines = [f"{'method':<{wm}}{'dataset':<{wd}}{'flavour':<10}{'PSNR':>8}{'SSIM':>8}{'grid':>7}{'NIQE':>7}"
             "   paper (PSNR/SSIM)"]
    for r in rows:
        p = r.get("paper")
        paper = f"{p[0]:.2f}/{p[1]:.4f}" if p else ""
        grid = f"{r['grid']:7.2f}" if r.get("grid") is not None else " " * 7
        nq = f"{r['niqe']:7.2f}" if r.get("niqe") is not None else " " * 7
        lines.append(f"{r['method']:<{wm}}{r['dataset']:<{wd}}{r['flavour']:<10}{r['psnr']:8.2f}{r['ssim']:8.4f}"
                     f"{grid}{nq}   {paper}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# The paper's Table 2 baselines, reproduced, and what each resize choice costs (section 3.1)
# ------------------------------------------------------------------------------------------------

#: Ways of making a x4 result from an HR image that the Table 2 reproduction compares. The first two
#: are the paper's rows (its LR images came from SelfExSR, i.e. MATLAB ``imresize``); the others show
#: what a different but common choice moves.
BASELINES: dict[str, str] = {
    "bicubic": "bicubic: MATLAB imresize down and up",
    "nearest": "nearest neighbour up (MATLAB LR)",
    "torch bicubic": "torch: antialias=True down, a=-0.75 up",
    "PIL bicubic": "PIL: Image.BICUBIC down and up",
    "aliased LR": "antialias=False down, MATLAB up",
}


def baseline_images(hr: np.ndarray, scale: int = 4) -> dict[str, np.ndarray]:
    """Every :data:`BASELINES` reconstruction of one (mod-cropped) uint8 HR image ``(H, W, 3)``."""
    from PIL import Image

    h, w = hr.shape[:2]

    def pil(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BICUBIC))

    lr = matlab_lr(hr, scale)  # (h/s, w/s, 3): SelfExSR's LR, bit for bit at x4 (refuses sizes not a multiple)
    lr_torch = tensor_to_uint8(downscale_torch(uint8_to_tensor(hr), scale))  # (h/s, w/s, 3)
    lr_aliased = tensor_to_uint8(downscale_torch(uint8_to_tensor(hr), scale, antialias=False))  # (h/s, w/s, 3)
    return {
        "bicubic": imresize_matlab(lr, float(scale)),  # (H, W, 3)
        "nearest": nearest_upscaler(scale)(lr),
        "torch bicubic": tensor_to_uint8(upscale_bicubic_torch(uint8_to_tensor(lr_torch), scale)),
        "PIL bicubic": pil(pil(hr, (w // scale, h // scale)), (w, h)),
        "aliased LR": imresize_matlab(lr_aliased, float(scale)),
    }


def table2(sets: Mapping[str, Sequence[tuple[str, np.ndarray, np.ndarray]]], scale: int = 4,
           flavours: Sequence[str] = FLAVOURS) -> list[dict]:
    """Score every :data:`BASELINES` method on ``sets`` (``{name: [(img, lr, hr), ...]}``, e.g. from
    :func:`srgan_lib.data.load_eval_set`); rows as :func:`evaluate` returns them. Only the HR images are
    used: each method makes its own LR."""
    scores: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for dataset, pairs in sets.items():
        gray = getattr(pairs, "gray", frozenset())
        for name, _, hr in pairs:
            for method, sr in baseline_images(hr, scale).items():
                for f in flavours:
                    score = score_pair(sr, hr, f, crop_border=scale, gray=name in gray)
                    scores.setdefault((method, dataset, f), []).append(score)
    rows = []
    for method in BASELINES:
        for dataset in sets:
            for f in flavours:
                p, s = np.mean(scores[(method, dataset, f)], axis=0)
                rows.append({"method": method, "dataset": dataset, "flavour": f, "psnr": float(p), "ssim": float(s),
                             "paper": paper_value(method, dataset) if f == "paper" else None})
    return rows


def _printed_digits_match(row: dict) -> tuple[bool, bool] | None:
    """(PSNR equal to 2 decimals, SSIM equal to 4) against the paper's number, or ``None`` without one."""
    p = row.get("paper")
    if not p or row["flavour"] != "paper":
        return None
    return f"{row['psnr']:.2f}" == f"{p[0]:.2f}", f"{row['ssim']:.4f}" == f"{p[1]:.4f}"


def matches_paper(row: dict) -> bool | None:
    """Whether a "paper"-flavour row equals the paper's number at its printed precision (PSNR to 2
    decimals, SSIM to 4); ``None`` when the paper has no such number."""
    both = _printed_digits_match(row)
    return None if both is None else all(both)


def format_table2(rows: Sequence[dict]) -> str:
    """The Table 2 reproduction as text: the paper's row above ours (``=`` where every printed digit
    matches, ``x`` where not), then the "standard" flavour, then the count of matching numbers."""
    sets = list(dict.fromkeys(r["dataset"] for r in rows))
    by = {(r["method"], r["dataset"], r["flavour"]): r for r in rows}
    methods = [m for m in BASELINES if any(k[0] == m for k in by)]
    width = 41
    out = ["Table 2 (x4): mean PSNR [dB] / SSIM on Y, 4-pixel border removed",
           "(=: equals the paper's printed value, PSNR to 2 decimals and SSIM to 4; x: does not)", "",
           " " * width + "".join(f"{s:>21}" for s in sets)]
    matched = total = 0
    for flavour, title in (("paper", "flavour='paper' (daala png2y4m + dump_psnr + dump_ssim: what the paper used)"),
                           ("standard", "flavour='standard' (MATLAB rgb2ycbcr + Wang's ssim_index: VDSR/EDSR-era papers)")):
        if not any(k[2] == flavour for k in by):
            continue
        out.append(title)
        for m in methods:
            if flavour == "paper" and all(paper_value(m, s) for s in sets):
                out.append(f"  paper's Table 2, {m}".ljust(width)
                           + "".join(f"{paper_value(m, s)[0]:>12.2f} / {paper_value(m, s)[1]:.4f}  " for s in sets))
            line = f"  {BASELINES[m]}".ljust(width)
            for s in sets:
                r = by[(m, s, flavour)]
                digits = _printed_digits_match(r)
                ok = None if digits is None else all(digits)
                if digits is not None:
                    matched += sum(digits)
                    total += 2
                line += f"{r['psnr']:>9.4f} / {r['ssim']:.4f}" + (" =" if ok else " x" if ok is False else "  ")
            out.append(line)
        out.append("")
    out.append(f"Paper's numbers reproduced: {matched} of {total} (PSNR and SSIM of the rows the paper prints)")
    return "\n".join(out)
