"""Training on the CPU in bf16 autocast (``cpu_bf16=True``) against float32: speed and what the run reaches (issue 18).

On a CPU with AMX (``runtime.cpu_has_native_bf16``) oneDNN runs bf16 convolutions on matrix units, so a training step
is much faster; whether the lower precision costs quality is measured here, not assumed. Two runs of the ``srresnet``
``cpu`` preset from the same random start (same seed, same batches), one per precision, interleaved in blocks of
``--every`` steps so that a neighbour on a shared machine slows both alike; after each block both generators are
validated on Set5 (mean PSNR, "standard" flavour, float32 evaluation of both).

    python benchmarks/cpu_bf16_training.py [--steps 600] [--every 200] [--data DIR]   # output: cpu_bf16_training.txt

``--data``: HR training images (default: Kodak24 from the data roots, else the two bundled photographs).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from srgan_lib.data import PatchDataset, load_eval_set, to_val_pairs
from srgan_lib.plumbing.download import DatasetNotFound, find_dataset
from srgan_lib.plumbing.runtime import cpu_has_native_bf16
from srgan_lib.plumbing.samples import TRAINING_SAMPLES, load_sample
from srgan_lib.train import Trainer, preset


def validate_float32(trainer: Trainer, val: list) -> float:
    """Set5 PSNR of the trainer's generator evaluated in float32 whatever it trains in: both runs scored alike."""
    dtype, trainer.engine.amp_dtype = trainer.engine.amp_dtype, None
    trainer.val_pairs = val
    try:
        return trainer.validate()["val_psnr"]
    finally:
        trainer.engine.amp_dtype, trainer.val_pairs = dtype, []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--every", type=int, default=200)
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    if not cpu_has_native_bf16():
        print("this CPU has no AMX: cpu_bf16 would train in float32 here; nothing to compare")
        return
    try:
        folder = Path(args.data) if args.data else find_dataset("Kodak24")
        train_set = PatchDataset.from_folder(folder, crop=64, seed=0)
        source = f"{len(train_set.images)} images of {folder.name}"
    except DatasetNotFound:
        train_set = PatchDataset([load_sample(n) for n in TRAINING_SAMPLES], crop=64, seed=0)
        source = f"the bundled {', '.join(TRAINING_SAMPLES)}"
    val = to_val_pairs(load_eval_set("Set5"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; srresnet/cpu preset from a random start, "
          f"{args.steps} steps of batch 16 x 64x64 from {source}; Set5 PSNR (standard flavour) every {args.every}")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, bf16 in (("float32", False), ("bf16 (cpu_bf16)", True)):
            config = preset("srresnet", "cpu", steps=args.steps, cpu_bf16=bf16, val_every=10**9, ckpt_every=10**9,
                            log_every=args.every, seed=0)
            runs[name] = Trainer(config, train_set, Path(tmp) / name.split()[0], progress=False)
            print(f"  {name}: {runs[name].engine.precision}")
        seconds = {n: 0.0 for n in runs}
        for step in range(args.every, args.steps + 1, args.every):
            row = []
            for name, trainer in runs.items():
                t = time.perf_counter()
                trainer.fit(step)
                seconds[name] += time.perf_counter() - t
                row.append(f"{name} {validate_float32(trainer, val):.2f} dB ({seconds[name] / step:.3f} s/step)")
            print(f"  step {step:5d}: " + "   ".join(row), flush=True)
    losses = {n: np.mean([h["loss"] for h in t.history if "loss" in h][-3:]) for n, t in runs.items()}
    print("  last logged losses: " + ", ".join(f"{n} {v:.5f}" for n, v in losses.items()))


if __name__ == "__main__":
    main()
