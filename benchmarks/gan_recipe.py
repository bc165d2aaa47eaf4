"""Which short SRGAN-MSE recipe keeps the generator above bicubic without a grid? (issue 15, item 3)

Every variant starts G from the shipped SRResNet (section 3.2), trains through the engine (one D pass over
real + fakes, benchmarks/d_passes.txt) on Kodak24 for the same steps and batches, and is measured every
``--every`` steps on Set5 ("paper" PSNR, the grid score of diagnostics.grid_artifact and the high-frequency
ratio of diagnostics.high_frequency_ratio). Variants change one thing at a time against the cpu preset:

- ``preset``: ``srgan/cpu`` as shipped (lr 1e-4, step_half, warm-up 100, G's BN in training mode);
- ``freeze_bn``: G's batch norm keeps the SRResNet's statistics (trained on 96 x 96 crops; these are 64 x 64);
- ``freeze_bn + lr_d/10``: also the discriminator at a tenth of G's learning rate;
- ``freeze_bn + constant lr``: no drop to 1e-5 at half-time;
- ``freeze_bn + lr_d/10 + EMA``: also validate G's exponential moving average (``ema_decay``; 0.99 here, a
  window of about 100 steps that suits a 300-step run; 0.999 would still be three-quarters the start at step 300);
- ``freeze_bn + lr_d/10 + D head start``: D trains alone for the first 100 steps (``d_head_start``);
- ``crop 96 + lr_d/10``: G's batch norm trains, on crops of the size its statistics were made on (96 x 96,
  2.25x the pixels per step) instead of being frozen.

    python benchmarks/gan_recipe.py [--steps 300] [--every 50] [--only NAME ...]   # output: benchmarks/gan_recipe.txt
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from srgan_lib.data import PatchDataset, load_eval_set
from srgan_lib.plumbing.evaluate import bicubic_upscaler, evaluate, model_upscaler
from srgan_lib.plumbing.diagnostics import high_frequency_ratio
from srgan_lib.train import Trainer, preset

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
VARIANTS = {
    "preset": {},
    "freeze_bn": dict(freeze_bn=True),
    "freeze_bn + lr_d/10": dict(freeze_bn=True, lr_d=1e-5),
    "freeze_bn + constant lr": dict(freeze_bn=True, schedule="constant"),
    "freeze_bn + lr_d/10 + EMA": dict(freeze_bn=True, lr_d=1e-5, ema_decay=0.99),
    "freeze_bn + lr_d/10 + D head start": dict(freeze_bn=True, lr_d=1e-5, d_head_start=100),
    "crop 96 + lr_d/10": dict(lr_d=1e-5, crop=96),
    "adv x10 + freeze_bn + lr_d/10 + EMA": dict(adversarial_weight=1e-2, freeze_bn=True, lr_d=1e-5, ema_decay=0.99),
    "adv x10 + freeze_bn + lr_d/10 + EMA + D shift": dict(adversarial_weight=1e-2, freeze_bn=True, lr_d=1e-5,
                                                          ema_decay=0.99, d_shift=3),
    "freeze_bn + lr_d/10 + EMA + D shift": dict(freeze_bn=True, lr_d=1e-5, ema_decay=0.99, d_shift=3),
    "adv x10 + freeze_bn + lr_d/10 + EMA + D shift + frozen upsampling": dict(
        adversarial_weight=1e-2, freeze_bn=True, lr_d=1e-5, ema_decay=0.99, d_shift=3, freeze_upsampling=True),
}


def measure(g: torch.nn.Module, set5) -> tuple[float, float, float]:
    """Set5: mean PSNR (paper flavour), mean grid score, mean high-frequency ratio."""
    g.eval()
    up = model_upscaler(g)
    row = evaluate({"G": up}, {"Set5": set5}, flavours=("paper",))[0]
    hf = float(np.mean([high_frequency_ratio(up(lr), hr) for _, lr, hr in set5]))
    return row["psnr"], row["grid"], hf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS), help="run these variants only")
    args = ap.parse_args()
    if not (SHARED / "Kodak24").is_dir():
        raise SystemExit(f"{SHARED}: the maintainers' Kodak24 and Set5 are needed (this is a maintainer benchmark)")
    set5 = load_eval_set(SHARED / "Set5")
    bic = evaluate({"bicubic": bicubic_upscaler(4)}, {"Set5": set5}, flavours=("paper",))[0]
    print(f"SRGAN-MSE recipes from srresnet_x4: {args.steps} steps of batch {args.batch} x {args.crop}x{args.crop} on "
          f"Kodak24, one D pass; Set5 paper PSNR / grid (grey levels) / HF ratio every {args.every} steps; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"bicubic: {bic['psnr']:.2f} dB, grid {bic['grid']:.2f}")
    table = {}
    t0 = time.perf_counter()
    for name, change in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        change = {"crop": args.crop, **change}
        config = preset("srgan", "cpu", steps=args.steps, batch_size=args.batch,
                        init_generator="srresnet_x4", log_every=args.every, val_every=10**9,
                        ckpt_every=10**9, collapse_window=0, **change)
        train = PatchDataset.from_folder(SHARED / "Kodak24", crop=config.crop, seed=0)
        rows = []
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer = Trainer(config, train, tmp, device="cpu", progress=False, resume=False)
            rows.append((0, *measure(trainer.eval_generator, set5), float("nan")))
            for stop in range(args.every, args.steps + 1, args.every):
                history = trainer.fit(steps=stop)
                acc = [h["d_acc"] for h in history if "d_acc" in h][-1]
                rows.append((stop, *measure(trainer.eval_generator, set5), acc))
                print(f"  {name:24s} step {stop:4d}  Set5 {rows[-1][1]:.2f} dB  grid {rows[-1][2]:.2f}  "
                      f"HF {rows[-1][3]:.3f}  D acc {acc:.2f}", flush=True)
        table[name] = rows
    print(f"\nsummary ({time.perf_counter() - t0:.0f} s): Set5 PSNR dB / grid / HF ratio at each step "
          f"(start: srresnet_x4)")
    steps = [r[0] for r in next(iter(table.values()))]
    print(f"{'variant':26s}" + "".join(f"{'step ' + str(s):>22s}" for s in steps))
    for name, rows in table.items():
        print(f"{name:26s}" + "".join(f"{r[1]:>9.2f}/{r[2]:4.2f}/{r[3]:5.3f}" for r in rows))


if __name__ == "__main__":
    main()
