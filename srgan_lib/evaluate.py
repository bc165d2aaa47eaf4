"""Score any upscaler on evaluation sets, in both metric flavours, beside the paper's tables.

An *upscaler* is any function ``lr_uint8 (h, w, 3) -> sr_uint8 (s*h, s*w, 3)``: the MATLAB-era bicubic
(the paper's baseline, section 3.1), nearest neighbour, or a generator (:func:`model_upscaler`). Scores
are per-image means over a set, computed on the saved uint8 result as the paper did:

- ``"paper"``: the SRGAN paper's own protocol (daala tools, BT.709 Y, 4 px crop): compare with Table 1/2;
- ``"standard"``: the VDSR/EDSR-era protocol (MATLAB BT.601 Y, Wang's SSIM): compare with other papers.

Never compare a number from one flavour with a number from the other.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from torch import nn

from .metrics import FLAVOURS, psnr, ssim

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
    """The paper's (PSNR, SSIM, MOS) for a method name used here, or ``None``."""
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
    from .resize import imresize_matlab

    return lambda lr: imresize_matlab(lr, float(scale))


def nearest_upscaler(scale: int = 4) -> Upscaler:
    """Nearest-neighbour upscaling (each LR pixel becomes a ``scale x scale`` block)."""
    return lambda lr: np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)


def model_upscaler(model: nn.Module, tile: int | None = 256) -> Upscaler:
    """A generator as an upscaler (eval mode: BN uses running statistics, section 3.2)."""
    from .upscale import upscale_array

    model.eval()
    return lambda lr: upscale_array(model, lr, tile=tile)


def score_set(upscaler: Upscaler, pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
              flavours: Sequence[str] = FLAVOURS, crop_border: int = 4) -> dict[str, dict[str, float]]:
    """Mean PSNR/SSIM of ``upscaler`` over ``(name, lr, hr)`` pairs: ``{flavour: {"psnr":, "ssim":}}``."""
    sums = {f: {"psnr": [], "ssim": []} for f in flavours}
    for name, lr, hr in pairs:
        sr = upscaler(lr)
        if sr.shape != hr.shape:
            raise ValueError(f"{name}: the upscaler returned {sr.shape}, the HR image is {hr.shape}")
        for f in flavours:
            sums[f]["psnr"].append(float(psnr(sr, hr, crop_border=crop_border, flavour=f)))
            sums[f]["ssim"].append(float(ssim(sr, hr, crop_border=crop_border, flavour=f)))
    return {f: {k: float(np.mean(v)) for k, v in d.items()} for f, d in sums.items()}


def evaluate(upscalers: Mapping[str, Upscaler], sets: Mapping[str, Sequence], flavours: Sequence[str] = FLAVOURS,
             crop_border: int = 4) -> list[dict]:
    """One row per (method, dataset, flavour): ``{"method", "dataset", "flavour", "psnr", "ssim", "paper"}``."""
    rows = []
    for method, up in upscalers.items():
        for dataset, pairs in sets.items():
            scores = score_set(up, pairs, flavours, crop_border)
            for f in flavours:
                rows.append({"method": method, "dataset": dataset, "flavour": f, **scores[f],
                             "paper": paper_value(method, dataset) if f == "paper" else None})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of :func:`evaluate` rows, the paper's numbers beside the "paper" flavour."""
    lines = [f"{'method':<16}{'dataset':<9}{'flavour':<10}{'PSNR':>8}{'SSIM':>8}   paper (PSNR/SSIM)"]
    for r in rows:
        p = r.get("paper")
        paper = f"{p[0]:.2f}/{p[1]:.4f}" if p else ""
        lines.append(f"{r['method']:<16}{r['dataset']:<9}{r['flavour']:<10}{r['psnr']:8.2f}{r['ssim']:8.4f}   {paper}")
    return "\n".join(lines)

