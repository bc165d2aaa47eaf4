"""Does keeping the adversarial term off the LR's band make the GAN's detail cheaper? (issue 15, item 5)

benchmarks/detail_bound.txt found the shipped SRGAN-MSE's change to SRResNet much coarser than the detail SRResNet
misses, so it pays in PSNR for structure the LR image already determines. Two changes to the generator step
aim at that, both with a Gaussian blur of sigma 1.5 HR pixels as the split (its response is one half at the x4
LR's Nyquist frequency):

- **HP** (adversarial gradient high-passed): D judges the very image G made, but G receives
  ``sr - blur(sr) + blur(sr).detach()``'s gradient, i.e. no adversarial push on the low band (the blur is taken
  of D's input window, so within 5 pixels of a window's edge the split differs from one of the whole crop);
- **LB** (low band held harder): ``10 x MSE(blur(sr), blur(hr))`` joins the content loss.

A third, for the hypothesis those runs left (that a frozen upsampler keeps G's detail coarse): G's upsampling
trained, with and without **tile**, a penalty on the error's mean 4 x 4 tile (what diagnostics.grid_artifact scores)
that keeps the 16 pixel-shuffle phases together.

All are written here as a Trainer whose ``train_step`` hook calls the public ``srgan_step`` with D seen through a
high pass (HP) and/or a loss with the extra terms (LB, tile); they are not library options, because they did not pay off (the .txt). Every variant starts from ``srresnet_x4``
with the ``srgan/cpu`` preset (its card gives each choice), in bf16 on a CPU with AMX (``cpu_bf16``, parity with
float32 checked against the shipped run's curve), on Kodak24. Measured: Set5 paper PSNR and grid, Set14 grid,
Set14 Laplacian ratio (issue 15's detail measure) and band ratio (detail_bound.py).

    python benchmarks/gan_bands.py --steps 600 --every 300 [--only NAME ...]   # output: benchmarks/gan_bands.txt
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as TF

from srgan_lib import losses
from srgan_lib.data import PatchDataset, load_eval_set
from srgan_lib.plumbing.evaluate import model_upscaler
from srgan_lib.train import Trainer, preset, srgan_step
from srgan_lib.plumbing.weights import load_generator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detail_bound import SHARED, luma, octave_shares, outputs, scores  # noqa: E402

SIGMA = 1.5


def blur(x: torch.Tensor) -> torch.Tensor:
    return TF.gaussian_blur(x, kernel_size=2 * int(3 * SIGMA) + 1, sigma=SIGMA)


class HighPass(torch.nn.Module):
    """D seen through a high pass: its input's values unchanged, its gradient only through ``x - blur(x)``."""

    def __init__(self, d: torch.nn.Module) -> None:
        super().__init__()
        self.d = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = blur(x)
        return self.d(x - low + low.detach())


class BandLoss:
    """l_SR (``perceptual``) plus LB's ``low_weight x MSE(blur(sr), blur(hr))`` and the ``tile_weight`` penalty."""

    def __init__(self, perceptual: losses.PerceptualLoss, low_weight: float, tile_weight: float) -> None:
        self.perceptual, self.low_weight, self.tile_weight = perceptual, low_weight, tile_weight

    def __call__(self, sr: torch.Tensor, hr: torch.Tensor, logits: torch.Tensor) -> losses.LossParts:
        parts = self.perceptual(sr, hr, logits)
        total = parts.total.float()
        if self.low_weight:
            total = total + self.low_weight * torch.nn.functional.mse_loss(blur(sr).float(), blur(hr).float())
        if self.tile_weight:
            total = total + self.tile_weight * tile_energy(sr.float() - hr.float())
        return dataclasses.replace(parts, total=total)


class BandTrainer(Trainer):
    """The library's SRGAN step (train.srgan_step) with HP and/or LB, through the train_step hook."""

    high_pass = False
    low_weight = 0.0
    tile_weight = 0.0  # x the mean square of the error's average 4 x 4 tile minus its mean (diagnostics.grid_artifact)

    def train_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        e = self.engine
        d = HighPass(self.D) if self.high_pass else self.D
        return srgan_step(self.G, d, self.opt_g, self.opt_d, lr, hr,
                          BandLoss(self.perceptual, self.low_weight, self.tile_weight), autocast=e.autocast,
                          scalers=(e.scalers["g"], e.scalers["d"]), window=self.d_window(), train_g=self.g_trains())


def tile_energy(err: torch.Tensor, period: int = 4) -> torch.Tensor:
    """Mean square of the error's average ``period x period`` tile minus its mean, per image and channel: the
    periodic part of the error that diagnostics.grid_artifact scores (its square, in model units)."""
    n, c, h, w = err.shape
    tiles = err.reshape(n, c, h // period, period, w // period, period).mean(dim=(2, 4))  # (N, C, p, p)
    return (tiles - tiles.mean(dim=(2, 3), keepdim=True)).pow(2).mean()


def band_trainer(high_pass: bool, low_weight: float, tile_weight: float = 0.0) -> type[Trainer]:
    return type("BandTrainer", (BandTrainer,), {"high_pass": high_pass, "low_weight": low_weight,
                                                "tile_weight": tile_weight})


VARIANTS: dict[str, tuple[type[Trainer], dict]] = {
    "preset": (Trainer, {}),
    "HP": (band_trainer(True, 0.0), {}),
    "HP, upsampling trained": (band_trainer(True, 0.0), dict(freeze_upsampling=False)),
    "HP, weight 1e-2": (band_trainer(True, 0.0), dict(adversarial_weight=1e-2)),
    "weight 1e-2": (Trainer, dict(adversarial_weight=1e-2)),
    "LB, weight 1e-2": (band_trainer(False, 10.0), dict(adversarial_weight=1e-2)),
    "HP + LB, weight 1e-2": (band_trainer(True, 10.0), dict(adversarial_weight=1e-2)),
    "HP + LB, weight 3e-2": (band_trainer(True, 10.0), dict(adversarial_weight=3e-2)),
    "weight 1e-2, upsampling trained": (Trainer, dict(adversarial_weight=1e-2, freeze_upsampling=False)),
    "weight 1e-2, upsampling trained, tile 1e2": (band_trainer(False, 0.0, 1e2),
                                                  dict(adversarial_weight=1e-2, freeze_upsampling=False)),
    "weight 1e-2, upsampling trained, tile 1e3": (band_trainer(False, 0.0, 1e3),
                                                  dict(adversarial_weight=1e-2, freeze_upsampling=False)),
}


def measure(g: torch.nn.Module, sets: dict, start: list[np.ndarray]) -> dict[str, float]:
    """Set5 PSNR/grid, Set14 grid, Laplacian and band ratio; ``oct14``: Set14 octave shares of (G - start)."""
    outs = outputs(model_upscaler(g.eval()), sets)
    set5, grid5, grid14, lapl14, band14 = scores(outs, sets)
    shares = np.mean([octave_shares(luma(s)[8:-8, 8:-8] - luma(b)[8:-8, 8:-8]) for s, b in zip(outs["Set14"], start)],
                     axis=0)
    return dict(set5=set5, grid5=grid5, grid14=grid14, lapl14=lapl14, band14=band14,
                oct14=[round(float(v), 2) for v in shares])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--every", type=int, default=300)
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS))
    args = ap.parse_args()
    if not (SHARED / "Kodak24").is_dir():
        raise SystemExit(f"{SHARED}: the maintainers' Kodak24, Set5 and Set14 are needed (a maintainer benchmark)")
    sets = {name: load_eval_set(SHARED / name) for name in ("Set5", "Set14")}
    start = outputs(model_upscaler(load_generator("srresnet_x4").eval()), sets)["Set14"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; srgan/cpu preset from srresnet_x4, "
          f"cpu_bf16, {args.steps} steps, measured every {args.every}")
    for name, (cls, change) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        config = preset("srgan", "cpu", steps=args.steps, init_generator="srresnet_x4", log_every=args.every,
                        val_every=10**9, ckpt_every=10**9, collapse_window=0, cpu_bf16=True, **change)
        train = PatchDataset.from_folder(SHARED / "Kodak24", crop=config.crop, seed=0)
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer = cls(config, train, tmp, device="cpu", progress=False, resume=False)
            t0 = time.time()
            for stop in range(args.every, args.steps + 1, args.every):
                history = trainer.fit(steps=stop)
                acc = [h["d_acc"] for h in history if "d_acc" in h][-1]
                m = measure(trainer.eval_generator, sets, start)
                print(json.dumps({"variant": name, "step": stop, "d_acc": round(acc, 3), "sec": round(time.time() - t0),
                                  **{k: v if isinstance(v, list) else round(v, 3) for k, v in m.items()}}),
                      flush=True)


if __name__ == "__main__":
    main()
