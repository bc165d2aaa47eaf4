"""What does issue 15's detail goal cost when the detail is not a GAN's? (issue 15, item 5)

Issue 15 asks for SRGAN-MSE weights with Set5 >= bicubic + 1.0 dB (paper flavour), a Set14
high-frequency ratio (:func:`srgan_lib.plumbing.diagnostics.high_frequency_ratio`, the mean squared Laplacian of
luma, SR over HR) of at least twice SRResNet's, and a grid score at SRResNet's level. Three CPU recipes
have traded about 0.05-0.07 of that ratio per dB of Set5 given up, where the goals need about 0.12.

This script asks what the same trade costs for two changes that no GAN makes, both applied to the shipped
``srresnet_x4``'s uint8 output before it is scored:

- **grain**: white Gaussian noise of ``sigma`` grey levels on luma (one draw per image, fixed seed), the
  cheapest detail a Laplacian can see: its energy is spread evenly over frequencies, and the Laplacian
  weights the finest ones most;
- **unsharp**: ``out + a * (out - gaussian(out, 1 px))``, amplifying the detail SRResNet already has.

and, as the yardstick a GAN could at best reach, **misplaced real detail**: ``out + a * roll(HR - out)``, texture
with exactly the statistics of what SRResNet misses and no correlation with the truth. Then two diagnostics of
the shipped GAN: where the energy of its change (GAN - SRResNet) sits across octave bands, against the missing
detail (HR - SRResNet), and ESRGAN's network interpolation between the two weight files.

Beside the Laplacian ratio it prints a band ratio: the same SR-over-HR energy ratio in a difference of
Gaussians (sigma 1 and 2 px, a band around 1/8-1/4 cycles per pixel, the octave just above what a x4 LR
image can hold). It is not a library metric; it is here to show which measure separates grain from
texture, for whoever revises the goal.

    python benchmarks/detail_bound.py     # output: benchmarks/detail_bound.txt (needs ../shared/datasets)
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from srgan_lib.data import load_eval_set
from srgan_lib.plumbing.evaluate import Upscaler, bicubic_upscaler, evaluate, model_upscaler
from srgan_lib.plumbing.diagnostics import high_frequency_ratio
from srgan_lib.plumbing.weights import load_generator

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


def luma(img: np.ndarray) -> np.ndarray:
    """The same luma as high_frequency_ratio: channel mean, in [0, 1]."""
    return img[..., :3].astype(np.float64).mean(axis=2) / 255.0


def band_ratio(sr: np.ndarray, hr: np.ndarray, crop: int = 4) -> float:
    """Energy of a difference-of-Gaussians band (sigma 1 and 2 px) of luma, SR over HR."""
    def energy(img: np.ndarray) -> float:
        y = luma(img)
        band = gaussian_filter(y, 1.0) - gaussian_filter(y, 2.0)
        return float(np.mean(band[crop:-crop, crop:-crop] ** 2))
    return energy(sr) / max(energy(hr), 1e-12)


Change = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (sr float64, lr, hr) -> changed sr


def grain(sigma: float) -> Change:
    def add(sr: np.ndarray, lr: np.ndarray, hr: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(lr.tobytes()))  # the same draw for the same image
        return sr + rng.normal(0.0, sigma, sr.shape[:2])[..., None]
    return add


def unsharp(amount: float) -> Change:
    return lambda sr, lr, hr: sr + amount * (sr - gaussian_filter(sr, (1.0, 1.0, 0.0)))


def misplaced_detail(amount: float) -> Change:
    """``amount`` x the detail SR misses (HR - SR), rolled by (17, 11) px: its statistics, none of its positions."""
    return lambda sr, lr, hr: sr + amount * np.roll(hr.astype(np.float64) - sr, (17, 11), axis=(0, 1))


Outputs = dict[str, list[np.ndarray]]  # set name -> uint8 SR images, in the set's order


def outputs(up: Upscaler, sets: dict) -> Outputs:
    """``up`` run once over every image of every set."""
    return {name: [up(lr) for _, lr, _ in pairs] for name, pairs in sets.items()}


def changed(base: Outputs, change: Change, sets: dict) -> Outputs:
    """``change`` applied to ``base``'s outputs, rounded and clipped to uint8 as a saved image would be."""
    return {name: [np.clip(np.rint(change(sr.astype(np.float64), lr, hr)), 0, 255).astype(np.uint8)
                   for sr, (_, lr, hr) in zip(base[name], pairs)] for name, pairs in sets.items()}


def octave_shares(x: np.ndarray) -> np.ndarray:
    """Energy of ``x`` in octave bands (differences of Gaussians at 0.7, 1.4, 2.8, 5.6 px, finest first, then the
    rest), as shares of the total."""
    out, prev = [], x
    for sigma in (0.7, 1.4, 2.8, 5.6):
        low = gaussian_filter(x, sigma)
        out.append(np.mean((prev - low) ** 2))
        prev = low
    out.append(np.mean(prev ** 2))
    return np.array(out) / np.sum(out)


def scores(outs: Outputs, sets: dict) -> tuple[float, float, float, float, float]:
    """Set5 PSNR/grid, Set14 grid, Laplacian and band ratio of precomputed outputs (paper flavour)."""
    rows = {}
    for name, pairs in sets.items():
        it = iter(outs[name])  # evaluate asks for the images in the set's order
        rows[name] = evaluate({"x": lambda lr: next(it)}, {name: pairs}, flavours=("paper",))[0]
    s14 = list(zip(outs["Set14"], (hr for _, _, hr in sets["Set14"])))
    return (rows["Set5"]["psnr"], rows["Set5"]["grid"], rows["Set14"]["grid"],
            float(np.mean([high_frequency_ratio(sr, hr) for sr, hr in s14])),
            float(np.mean([band_ratio(sr, hr) for sr, hr in s14])))


def row(name: str, s: tuple[float, float, float, float, float]) -> None:
    print(f"{name:38s} {s[0]:8.2f} {s[1]:6.2f} {s[2]:6.2f} {s[3]:11.3f} {s[4]:10.3f}", flush=True)


def main() -> None:
    if not (SHARED / "Set14").is_dir():
        raise SystemExit(f"{SHARED}: the maintainers' Set5 and Set14 are needed (this is a maintainer benchmark)")
    torch.set_num_threads(2)
    sets = {name: load_eval_set(SHARED / name) for name in ("Set5", "Set14")}
    gan = load_generator("srgan_mse_x4").eval()
    base = outputs(model_upscaler(load_generator("srresnet_x4").eval()), sets)
    gan_out = outputs(model_upscaler(gan), sets)
    results: dict[str, Outputs] = {"bicubic": outputs(bicubic_upscaler(4), sets), "srresnet_x4": base,
                                   "srgan_mse_x4 (shipped GAN)": gan_out}
    for sigma in (1.0, 2.0, 2.5, 3.0):
        results[f"srresnet_x4 + grain sigma {sigma:g}"] = changed(base, grain(sigma), sets)
    for amount in (0.5, 1.0):
        results[f"srresnet_x4 + unsharp {amount:g}"] = changed(base, unsharp(amount), sets)
    for amount in (0.25, 0.33):
        results[f"srresnet_x4 + misplaced detail {amount:g}"] = changed(base, misplaced_detail(amount), sets)

    print(f"torch {torch.__version__}; Set5 PSNR and grid in the paper flavour; Set14 ratios are per-image means")
    print(f"{'':38s} {'Set5 dB':>8s} {'grid5':>6s} {'grid14':>6s} {'Set14 Lapl.':>11s} {'Set14 band':>10s}")
    for name, outs in results.items():
        row(name, scores(outs, sets))

    missing, change = [], []
    for sr, gsr, (_, _, hr) in zip(base["Set14"], gan_out["Set14"], sets["Set14"]):
        a, b, h = (luma(img)[8:-8, 8:-8] for img in (sr, gsr, hr))
        missing.append(octave_shares(h - a))
        change.append(octave_shares(b - a))
    print("\nSet14, energy shares by octave (DoG 0.7 / 1.4 / 2.8 / 5.6 px, finest first, then the rest; mean of images):")
    print("  missing detail, HR - srresnet_x4:      " + " ".join(f"{v:.2f}" for v in np.mean(missing, axis=0)))
    print("  the GAN's change, srgan_mse - srresnet: " + " ".join(f"{v:.2f}" for v in np.mean(change, axis=0)))

    print("\nnetwork interpolation (ESRGAN section 3.4), weights (1 - alpha) srresnet_x4 + alpha srgan_mse_x4:")
    start, end = load_generator("srresnet_x4").state_dict(), gan.state_dict()
    for alpha in (0.5, 1.5):
        g = load_generator("srresnet_x4")
        g.load_state_dict({k: torch.lerp(v.float(), end[k].float(), alpha).to(v.dtype) if v.is_floating_point()
                           else end[k] for k, v in start.items()})
        row(f"alpha {alpha:g}", scores(outputs(model_upscaler(g.eval()), sets), sets))


if __name__ == "__main__":
    main()
